#pragma once
// The "rpc overhead" scenario of shared/bench/WORKLOAD.md for tracewire-bench:
// a gRPC unary echo (100-byte payload) driven by a closed-loop client with
// 32 calls in flight, untraced or through tracewire's interceptors, both
// sides exporting their spans to a tracewired (sink none) on this machine.

#include <cstdint>
#include <string>

namespace tracewire::bench {

struct RpcArgs {
  // off | always | ratio (ParentBased(TraceIdRatioBased(0.1))) | interceptors
  // (gRPC interceptors that do nothing, no tracing: the machinery's own cost)
  std::string tracing = "off";
  double seconds = 10;          // measured window
  double warmup_seconds = 2;
  // > 0: instead of a timed window, exactly this many calls (no warm-up),
  // all measured; for instruction counts under callgrind, where the
  // difference between two counts divided by the difference in calls is
  // the cost of one call without the fixed costs of start and shutdown.
  int64_t requests = 0;
  int in_flight = 32;
  int payload_bytes = 100;
  // MAX_POLLERS of gRPC's synchronous server (0: in_flight + 1). gRPC's
  // default, 2, ends a thread whenever more than 2 are idle and starts one
  // when none is: with 32 calls in flight, threads churn every few calls
  // (measured: ×0.6 of the requests/s, twice the server CPU per call).
  int server_pollers = 0;
  // abseil's deadlock detection, on in Debian's build (set before the
  // server is forked, so both sides have it the same).
  bool absl_deadlock_detection = true;
  std::string tracewired;       // path of tracewired (default: next to tracewire-bench)
};

// Runs the server in a forked child (so that each side's CPU is its own),
// tracewired as a third process, and the client here. Prints progress lines
// and ends with: requests_per_s= p50_us= p99_us= client_cpu_us_per_req=
// server_cpu_us_per_req= receiver_cpu_us_per_req= spans_exported=
// spans_dropped=.
int RunRpcScenario(const RpcArgs& args);

}  // namespace tracewire::bench
