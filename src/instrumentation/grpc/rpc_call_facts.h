#pragma once
// The facts of one RPC that the rpc metrics need (rpc_metrics.h), gathered by
// the interceptors whether or not the call was sampled.
//
// Thread safety: a value type.

#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "instrumentation/grpc/semconv.h"
#include "tracewire/telemetry_data.h"

namespace tracewire::instrumentation {

struct RpcCallFacts {
  RpcMethodName method;               // views into the call's method name
  SpanKind kind = SpanKind::kServer;  // kServer or kClient
  RpcSemconv semconv = RpcSemconv::kOld;
  int status_code = 0;  // grpc::StatusCode
  int64_t messages_received = 0;
  int64_t messages_sent = 0;
  // Uncompressed bytes of the messages whose size was taken (with message
  // events or metrics on).
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
  absl::Duration duration;
};

}  // namespace tracewire::instrumentation
