#pragma once
// One self-observability data point, named as the OpenTelemetry semantic
// conventions for SDK self-observability say (otel.sdk.*), plus the seed
// documents' grpc.client.* names. Ready for the metrics SDK to export.
// Thread safety: a value type, thread-compatible.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tracewire/export.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

// A cumulative explicit-bucket histogram: what a component has measured
// since it began.
struct SelfHistogram {
  std::vector<double> bounds;          // ascending; bucket i is (bounds[i-1], bounds[i]]
  std::vector<int64_t> bucket_counts;  // bounds.size() + 1
  int64_t count = 0;
  double sum = 0;
  double min = 0;  // meaningful when count > 0
  double max = 0;
};

struct SelfMetricPoint {
  std::string name;
  std::string unit;
  std::map<std::string, std::string> attributes;
  double value = 0;
  bool monotonic = true;                   // a counter; false: a gauge / up-down counter
  std::optional<SelfHistogram> histogram;  // set: a histogram point (value unused)
};

TRACEWIRE_END_API

}  // namespace tracewire
