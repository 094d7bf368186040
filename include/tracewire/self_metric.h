#pragma once
// One self-observability data point, named as the OpenTelemetry semantic
// conventions for SDK self-observability say (otel.sdk.*), plus the seed
// documents' grpc.client.* names. Ready for the metrics SDK to export.
// Thread safety: a value type, thread-compatible.

#include <map>
#include <string>

#include "tracewire/export.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

struct SelfMetricPoint {
  std::string name;
  std::string unit;
  std::map<std::string, std::string> attributes;
  double value = 0;
  bool monotonic = true;  // a counter; false: a gauge / up-down counter
};

TRACEWIRE_END_API

}  // namespace tracewire
