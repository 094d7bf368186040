#pragma once
// Small text and file helpers shared across tracewire. Pure functions or
// plain file reads: thread-safe.

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tracewire::common {

// Decodes %XX escapes (either case of hex digit). False when a '%' is not
// followed by two hex digits; *out is then unspecified.
bool PercentDecode(std::string_view in, std::string* out);

// Reads a whole file. InvalidArgument "WHAT: cannot read 'PATH'" on failure.
[[nodiscard]] absl::Status ReadWholeFile(const std::string& what, const std::string& path,
                                         std::string* out);

}  // namespace tracewire::common
