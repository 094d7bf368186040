#pragma once
// Integer environment variables of the SDK's FromEnv functions (span and log
// record limits, batch processor options). Pure functions of the
// environment: thread-safe as getenv is.

#include <cstdint>

#include "absl/status/status.h"

namespace tracewire::sdk {

// Reads an integer variable of at least `min` into *out when set and not
// empty; the error names the variable and the value.
absl::Status ReadEnvInt(const char* name, int64_t* out, int64_t min = 0);

// A limit from `specific`, else `general` (may be ""), else *out unchanged;
// capped at UINT32_MAX.
absl::Status ReadEnvLimit(const char* specific, const char* general, uint32_t* out);

}  // namespace tracewire::sdk
