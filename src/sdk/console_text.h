#pragma once
// Text of ids and attribute values for the console (stream) exporters of
// spans and log records, so that both print them alike. Pure functions:
// thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>

#include "tracewire/telemetry_data.h"

namespace tracewire::sdk {

// Lowercase hex of `n` bytes.
std::string HexText(const uint8_t* p, size_t n);

// Strings quoted, bytes as 0x-hex, arrays [a, b], maps {k: v}, unset null.
std::string ValueText(const AnyValue& v);

}  // namespace tracewire::sdk
