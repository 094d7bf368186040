#pragma once
// SpanContext: the part of a span that crosses process boundaries (W3C Trace
// Context): trace id, span id, trace flags, trace state, and whether it came
// from a remote parent. A value type: thread-compatible.

#include <cstdint>
#include <string>

#include "tracewire/telemetry_data.h"

namespace tracewire {

inline constexpr uint8_t kTraceFlagSampled = 0x01;

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t trace_flags = 0;
  std::string trace_state;  // W3C tracestate header value, as validated
  bool is_remote = false;

  // Valid when neither id is all zero.
  bool IsValid() const {
    bool t = false, s = false;
    for (uint8_t b : trace_id) t |= b != 0;
    for (uint8_t b : span_id) s |= b != 0;
    return t && s;
  }
  bool IsSampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
  bool operator==(const SpanContext&) const = default;
};

}  // namespace tracewire
