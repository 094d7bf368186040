#pragma once
// IdGenerator: where a TracerProvider takes new trace and span ids
// (TracerProviderOptions::id_generator). The default gives random ids.
//
// Thread safety: implementations must be thread-safe: every thread that
// starts a span calls them, concurrently. MakeRandomIdGenerator's is.

#include <memory>

#include "tracewire/export.h"
#include "tracewire/telemetry_data.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual TraceId NewTraceId() = 0;
  virtual SpanId NewSpanId() = 0;
};

// Random ids from a per-thread xoshiro generator, seeded from the OS.
std::unique_ptr<IdGenerator> MakeRandomIdGenerator();

TRACEWIRE_END_API

}  // namespace tracewire
