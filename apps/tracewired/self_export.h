#pragma once
// SelfExport: tracewired's own counters (what /metrics serves) exported over
// OTLP through the metrics SDK (`telemetry.otlp_endpoint`).
//
// One mechanism, not two: each family of the Prometheus exposition
// (ReceiverMetrics::RenderPrometheus, the sink and queue families included)
// becomes an observable instrument of the same name, a counter or an
// up-down counter after its TYPE line, whose callback reads the current
// exposition. So a family added to /metrics is exported too, with the same
// name and labels (as attributes). Families that first appear after Start
// (none do today) would be missed.
//
// Invariants: the callbacks read `metrics` only; Shutdown ends the reader's
// thread by the deadline (a last export first) and is called before
// `metrics` goes away. Thread-safe as the MeterProvider is.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/self_metrics.h"
#include "tracewire/metrics.h"

namespace tracewire::apps {

class SelfExport {
 public:
  // Exports to `endpoint` (OTLP/gRPC, e.g. http://127.0.0.1:4317) every
  // `interval`, with service.name=tracewired.
  static absl::StatusOr<std::unique_ptr<SelfExport>> Start(const common::ReceiverMetrics* metrics,
                                                           const std::string& endpoint,
                                                           absl::Duration interval);
  absl::Status Shutdown(absl::Time deadline);

 private:
  std::unique_ptr<MeterProvider> provider_;
};

}  // namespace tracewire::apps
