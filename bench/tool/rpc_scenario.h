#pragma once
// The "rpc overhead" scenario of shared/bench/WORKLOAD.md for tracewire-bench:
// a gRPC unary echo (100-byte payload) driven by a closed-loop client with
// 32 calls in flight, untraced or through tracewire's interceptors, both
// sides exporting their spans to a tracewired (sink none) on this machine.

#include <string>

namespace tracewire::bench {

struct RpcArgs {
  std::string tracing = "off";  // off | always | ratio (ParentBased(TraceIdRatioBased(0.1)))
  double seconds = 10;          // measured window
  double warmup_seconds = 2;
  int in_flight = 32;
  int payload_bytes = 100;
  std::string tracewired;       // path of tracewired (default: next to tracewire-bench)
};

// Runs the server in a forked child (so that each side's CPU is its own),
// tracewired as a third process, and the client here. Prints progress lines
// and ends with: requests_per_s= p50_us= p99_us= client_cpu_us_per_req=
// server_cpu_us_per_req= receiver_cpu_us_per_req= spans_exported=
// spans_dropped=.
int RunRpcScenario(const RpcArgs& args);

}  // namespace tracewire::bench
