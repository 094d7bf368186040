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

// 2023-11-14T22:13:20Z: the default base_time_unix_nano, so that the same
// seed gives the same bytes.
inline constexpr uint64_t kSyntheticBaseTime = 1700000000000000000ull;

struct SyntheticOptions {
  uint64_t seed = 1;
  int invalid_items = 0;  // items made invalid on purpose (bad ids, no metric data)
  // The time of the first item; later items follow it by a fixed step.
  uint64_t base_time_unix_nano = kSyntheticBaseTime;
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

// The time from one item to the next in a request, from base_time_unix_nano.
inline constexpr int64_t kSyntheticSpanStepNs = 1000000;       // spans start 1 ms apart
inline constexpr int64_t kSyntheticMetricStepNs = 1000000000;  // metric points 1 s apart
inline constexpr int64_t kSyntheticLogStepNs = 1000;           // log records 1 us apart

// Data points in a MakeMetricsRequest of `metrics` metrics.
inline int64_t DataPointsPerMetric() { return 2; }

// An ExportTraceServiceRequest of `spans` standard spans (WORKLOAD.md), each a
// new root with a new trace id.
std::string MakeStandardSpansRequest(int spans, uint64_t seed);

}  // namespace tracewire::tools
