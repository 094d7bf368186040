#pragma once
// The exporter- and SDK-side scenarios of shared/bench/WORKLOAD.md for
// tracewire-bench: encode, send, sdk, export and memory. Each prints progress lines
// and ends with one line of key=value figures.

#include <cstdint>
#include <string>

namespace tracewire::bench {

struct ScenarioArgs {
  std::string endpoint;       // HOST:PORT of a receiver (send, export)
  int threads = 1;            // application threads (sdk, export)
  double seconds = 10;        // how long to run
  bool gzip = false;          // compression (send, export)
  int64_t queue_size = 2048;  // batch processor queue (sdk, export)
  int64_t batch_size = 512;   // batch processor batch (sdk, export)
  double rate = 0;            // spans/s offered per thread (export; 0: full speed)
  bool prebuilt = false;      // send: prebuilt bytes instead of encoding each request
  // Batch processor's ending_threads_export (sdk, export): auto, never, always.
  std::string ending_threads_export = "auto";
};

int RunEncodeScenario(const ScenarioArgs& args);
int RunSendScenario(const ScenarioArgs& args);
int RunSdkScenario(const ScenarioArgs& args);
int RunExportScenario(const ScenarioArgs& args);
int RunMemoryScenario(const ScenarioArgs& args);

}  // namespace tracewire::bench
