#pragma once
// The names of the gRPC status codes 0..16 ("OK", "CANCELLED", ...), as
// gRPC and the semantic conventions spell them. Pure functions: thread-safe.

#include <string_view>

namespace tracewire::common {

inline constexpr int kGrpcCodeCount = 17;

// "UNKNOWN" for a number outside 0..16.
std::string_view GrpcCodeName(int code);
// The number of a code name; 2 (UNKNOWN) for another name.
int GrpcCodeNumber(std::string_view name);

}  // namespace tracewire::common
