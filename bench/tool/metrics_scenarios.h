#pragma once
// The metrics scenario of shared/bench/WORKLOAD.md for tracewire-bench:
//   tracewire-bench --scenario metrics --threads N [--instrument counter|histogram]
// A Counter<int64> Add(1) or a Histogram<double> Record(v) (v cycling over
// 0.5, 5, 50, 500 ms) with 3 attributes cycling over 10 prebuilt attribute
// sets, cumulative, a periodic reader exporting every second to an exporter
// that discards (it keeps the totals of the last export). The last line:
//   scenario=metrics instrument= threads= ops= seconds= ns_per_op= ops_per_s=
//   dropped= cpu_s_per_1m= exports= load1=
// ns_per_op is per thread (wall time x threads / calls); dropped is the calls
// made less the calls the final cumulative export counts (0: no lost update).

#include <string>

namespace tracewire::bench {

struct MetricsScenarioArgs {
  int threads = 1;
  double seconds = 10;
  std::string instrument = "counter";  // counter | histogram
};

int RunMetricsScenario(const MetricsScenarioArgs& args);

}  // namespace tracewire::bench
