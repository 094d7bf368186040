#pragma once
// The facts of one finished RPC that the rpc metrics need (rpc.server.duration,
// rpc.client.duration, request/response sizes, requests/responses per RPC),
// gathered by the interceptors whether or not the call was sampled.
// RecordRpcCall is where the metrics SDK plugs in: today it records nothing.
//
// Thread safety: a value type; RecordRpcCall is thread-safe.

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
  // Uncompressed bytes; counted only while message events are on (the
  // metrics will need them always: see docs/design.md "gRPC instrumentation").
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
  absl::Duration duration;
};

// TODO(metrics): record rpc.{server,client}.duration (or .call.duration in
// seconds with the newer conventions), request/response sizes and
// requests/responses per RPC here once the metrics SDK exists.
inline void RecordRpcCall(const RpcCallFacts& facts) { (void)facts; }

}  // namespace tracewire::instrumentation
