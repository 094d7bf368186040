#pragma once
// SpanContext: the part of a span that crosses process boundaries (W3C Trace
// Context): trace id, span id, trace flags, trace state, and whether it came
// from a remote parent.
//
// Thread safety: a value type, thread-compatible.

#include <cstdint>
#include <cstring>
#include <string>

#include "tracewire/export.h"
#include "tracewire/telemetry_data.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

inline constexpr uint8_t kTraceFlagSampled = 0x01;

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t trace_flags = 0;
  std::string trace_state;  // W3C tracestate header value, as validated
  bool is_remote = false;

  // Valid when neither id is all zero.
  bool IsValid() const {
    uint64_t t0, t1, s;  // word loads: this runs on every span start
    std::memcpy(&t0, trace_id.data(), 8);
    std::memcpy(&t1, trace_id.data() + 8, 8);
    std::memcpy(&s, span_id.data(), 8);
    return (t0 | t1) != 0 && s != 0;
  }
  bool IsSampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
  bool operator==(const SpanContext&) const = default;
};

TRACEWIRE_END_API

}  // namespace tracewire
