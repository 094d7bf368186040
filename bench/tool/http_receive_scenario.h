#pragma once
// The receive scenario over OTLP/HTTP (http/protobuf): `streams` keep-alive
// connections, each sending the standard 512-span request in a closed loop
// (one request in flight per connection). Thread-compatible: one run at a
// time.

#include <string>

namespace tracewire::bench {

struct HttpReceiveArgs {
  std::string endpoint;  // HOST:PORT of the OTLP/HTTP listener
  int streams = 4;
  int spans_per_request = 512;
  double warmup_seconds = 1;
  double seconds = 5;
  int receiver_pid = 0;
  // none, gzip or zstd (level 3, as the exporter): each request is
  // compressed by its sending thread, so the client's CPU shows the cost.
  std::string compression = "none";
};

// Prints the last line `scenario=receive protocol=http/protobuf spans=...
// spans_per_s=... receiver_cpu_s_per_1m=... client_cpu_s_per_1m=...
// compression=... wire_ratio=...` (wire_ratio: bytes sent over bytes
// before compression); 0 when spans were delivered.
int RunHttpReceiveScenario(const HttpReceiveArgs& a);

}  // namespace tracewire::bench
