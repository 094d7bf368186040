#pragma once
// A Span message encoded already, without field tag or length: the SDK
// encodes its span records straight to this (sdk/trace/record_encoder.h), and
// requests wrap these bytes as they are (otlp_encoder.h). Not for users.
//
// A value type (a view of bytes the caller keeps): thread-compatible.

#include <string_view>

namespace tracewire::wire {

struct EncodedSpan {
  std::string_view message;
};

}  // namespace tracewire::wire
