#pragma once
// Inflates a gzip or zlib ("deflate" in gRPC) message with a bound on the
// output, so a small compressed request cannot expand past the request limit.
// Pure function: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tracewire::receiver {

// Returns ResourceExhausted when the output would exceed `max_out`, and
// InvalidArgument when `in` is not a complete gzip or zlib stream; *out is
// then empty. Never holds more than max_out + 1 bytes.
[[nodiscard]] absl::Status Inflate(std::string_view in, int64_t max_out, std::string* out);

// The same for a zstd frame (or several, one after the other).
[[nodiscard]] absl::Status ZstdDecompress(std::string_view in, int64_t max_out, std::string* out);

// True when `b` starts with the gzip magic bytes.
bool IsGzip(std::string_view b);

// True when `b` starts like a gzip (1f 8b) or zlib (78 xx, checksum ok) stream.
bool LooksCompressed(std::string_view b);

}  // namespace tracewire::receiver
