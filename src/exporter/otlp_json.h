#pragma once
// OTLP/JSON for the http/json protocol: an encoded Export*ServiceRequest
// rewritten as the JSON the OTLP specification describes (lowerCamelCase
// keys, trace and span ids as hex, 64-bit integers as decimal strings, enums
// as numbers, other bytes as base64), and partial_success read back from a
// JSON answer.
//
// Pure functions over their arguments: thread-safe.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "wire/otlp_signal.h"

namespace tracewire::exporter {

// Appends the JSON of `request` (binary protobuf) to *out. InvalidArgument
// when the bytes are not a well-formed message.
absl::Status OtlpRequestToJson(wire::Signal signal, const std::string& request, std::string* out);

// Reads partialSuccess.{rejectedSpans,rejectedDataPoints,rejectedLogRecords}
// and errorMessage from an Export*ServiceResponse in JSON; leaves the
// outputs as they are when absent.
void ParseJsonPartialSuccess(const std::string& body, int64_t* rejected, std::string* message);

}  // namespace tracewire::exporter
