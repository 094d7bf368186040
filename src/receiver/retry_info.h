#pragma once
// Builds a grpc::Status carrying a google.rpc.RetryInfo detail, the OTLP
// specification's way to tell a client when to retry (throttling), and reads
// the delay back out of one. Thread-safe.

#include <optional>

#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace tracewire::receiver {

::grpc::Status StatusWithRetryInfo(::grpc::StatusCode code, const std::string& message,
                                   absl::Duration retry_delay);

// The RetryInfo delay in `status`'s details, if it has one.
std::optional<absl::Duration> RetryDelayOf(const ::grpc::Status& status);

}  // namespace tracewire::receiver
