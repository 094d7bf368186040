#pragma once
// Structural validation of a protobuf message against an OTLP schema: every
// known length-delimited field that is a message must itself parse, every
// string must be UTF-8 (as proto3 requires), nesting is bounded. Unknown
// fields, and known fields with an unexpected wire type, are skipped as
// libprotobuf does. Pure functions: thread-safe.

#include <string_view>

#include "wire/otlp_schema.h"

namespace tracewire::wire {

// Protobuf's default recursion limit.
inline constexpr int kMaxNestingDepth = 100;

// Returns true if `bytes` parses as `desc`.
bool ValidateMessage(std::string_view bytes, const MessageDesc& desc, int depth = 0);

// Validates one already-read field of a message described by `desc`.
bool ValidateField(const MessageDesc& desc, const Field& f, int depth);

}  // namespace tracewire::wire
