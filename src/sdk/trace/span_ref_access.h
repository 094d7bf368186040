#pragma once
// The SDK's access to the record behind a SpanRef (trace.h keeps it private):
// processors that queue raw record pointers, and the encoders that read
// records directly. Not for users.
//
// Stateless; each function is as thread-safe as the SpanRef it is given.

#include <utility>

#include "tracewire/trace.h"

namespace tracewire::sdk {

struct RecordedSpan;

struct SpanRefAccess {
  static RecordedSpan* Get(const SpanRef& ref) { return ref.s_; }
  // Gives up `ref`'s reference without dropping it: the caller now holds it.
  [[nodiscard]] static RecordedSpan* Release(SpanRef& ref) {
    return std::exchange(ref.s_, nullptr);
  }
  // Takes over a reference the caller holds, without adding one.
  static SpanRef Adopt(RecordedSpan* record) {
    SpanRef r;
    r.s_ = record;
    return r;
  }
};

}  // namespace tracewire::sdk
