#pragma once
// Synthetic OTLP telemetry for the CLI, the benchmarks and the tests: Export
// requests serialized to bytes, covering every kind of value, span, metric
// and log record. Also the standard span of shared/bench/WORKLOAD.md.
//
// Pure functions of their arguments (randomness comes from the seed):
// thread-safe.

#include <cstdint>
#include <string>

namespace tracewire::tools {

struct SyntheticOptions {
  uint64_t seed = 1;
  int invalid_items = 0;  // items made invalid on purpose (bad ids, no metric data)
};

// An ExportTraceServiceRequest of `spans` spans with attributes of every value
// type, events, links, statuses and parent/child relations.
std::string MakeTracesRequest(int spans, const SyntheticOptions& options);
// An ExportMetricsServiceRequest of `metrics` metrics cycling through gauge,
// sum, histogram, exponential histogram and summary, 2 data points each.
std::string MakeMetricsRequest(int metrics, const SyntheticOptions& options);
// An ExportLogsServiceRequest of `records` log records with bodies of every
// value type and trace context.
std::string MakeLogsRequest(int records, const SyntheticOptions& options);

// Data points in a MakeMetricsRequest of `metrics` metrics.
inline int64_t DataPointsPerMetric() { return 2; }

// An ExportTraceServiceRequest of `spans` standard spans (WORKLOAD.md), each a
// new root with a new trace id.
std::string MakeStandardSpansRequest(int spans, uint64_t seed);

}  // namespace tracewire::tools
