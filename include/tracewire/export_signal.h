#pragma once
// The three OTLP signals an exporter sends: traces, metrics and logs. The
// wire layer, the receiver and the tools use this same type (internally
// spelled wire::Signal), so one signal never needs converting to another.
//
// A plain enum: thread-safe.

#include <cstdint>

#include "tracewire/export.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

enum class ExportSignal : uint8_t { kTraces = 0, kMetrics = 1, kLogs = 2 };

TRACEWIRE_END_API

}  // namespace tracewire
