#pragma once
// OTLP/JSON for the OTLP/HTTP receiver: a request body in the OTLP/JSON
// encoding becomes the protobuf bytes the wire reader validates, and an
// answer becomes JSON again.
//
// OTLP/JSON is the proto3 JSON mapping with the OTLP specification's
// departures: trace and span ids are hex strings (not base64), enums may be
// integers or names, 64-bit integers strings or numbers, field names
// lowerCamelCase or the original ones, and unknown fields are ignored.
// The ids are rewritten to base64 on a parsed tree (nlohmann::json, whose
// 64-bit integers stay exact), then protobuf's JSON parser builds the
// message.
//
// Pure functions: thread-safe.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wire/otlp_signal.h"

namespace tracewire::receiver {

// The Export*ServiceRequest of `signal` in protobuf, or InvalidArgument
// naming what is wrong.
absl::StatusOr<std::string> OtlpJsonToProtobuf(wire::Signal signal, std::string_view json);

// An Export*ServiceResponse (protobuf bytes, empty: nothing to report) as
// OTLP/JSON ("{}" when empty).
std::string ExportResponseToJson(wire::Signal signal, const std::string& response);

// google.rpc.Status{code, message} as JSON.
std::string RpcStatusJson(const absl::Status& status);

}  // namespace tracewire::receiver
