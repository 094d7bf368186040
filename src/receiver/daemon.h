#pragma once
// Daemon wires tracewired together from a DaemonConfig: the sink, the OTLP
// receivers in front of it (gRPC, and HTTP unless receiver.http.listen is
// empty) and the metrics endpoint. Start() starts the sink, then the
// receivers, then the metrics endpoint; Shutdown(deadline) stops the
// receivers first (requests in flight finish), then drains the sink.
//
// Thread-safe for the accessors; Start and Shutdown from one thread.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/self_metrics.h"
#include "pipeline/persistent_queue.h"
#include "pipeline/sink.h"
#include "receiver/daemon_config.h"
#include "receiver/http_receiver.h"
#include "receiver/metrics_server.h"
#include "receiver/otlp_receiver.h"
#include "tracewire/otlp_exporter.h"

namespace tracewire::receiver {

// Builds the sink a config names.
absl::StatusOr<std::unique_ptr<pipeline::Sink>> MakeSink(const DaemonConfig& config,
                                                         common::ReceiverMetrics* metrics);

// Prometheus text of a forward sink's exporter statistics.
std::string RenderForwardStats(const ExporterStats& stats);
// Prometheus text of the persistent queues' statistics, by sink type.
std::string RenderQueueStats(
    const std::vector<std::pair<std::string, pipeline::PersistentQueueStats>>& queues);

class Daemon {
 public:
  explicit Daemon(DaemonConfig config);
  ~Daemon();

  [[nodiscard]] absl::Status Start();
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);
  // SIGHUP: the receiver reads its TLS files again now (the error when they
  // are bad: the current certificates stay), and the forward sink's exporter
  // at its next export.
  [[nodiscard]] absl::Status ReloadTls();

  std::string address() const { return receiver_ ? receiver_->address() : ""; }
  int port() const { return receiver_ ? receiver_->port() : 0; }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  int health_port() const { return health_server_ ? health_server_->port() : 0; }
  // OTLP/HTTP's bound port; 0 when it is off.
  int http_port() const { return http_receiver_ ? http_receiver_->port() : 0; }
  std::string http_address() const { return http_receiver_ ? http_receiver_->address() : ""; }
  const common::ReceiverMetrics& metrics() const { return metrics_; }
  pipeline::Sink* sink() { return sink_.get(); }

 private:
  const DaemonConfig config_;
  common::ReceiverMetrics metrics_;
  // Before the sinks and the receiver: their batches hold tickets of it.
  common::AdmissionBudget admission_;
  std::unique_ptr<pipeline::Sink> sink_;
  std::unique_ptr<OtlpReceiver> receiver_;
  // OTLP/HTTP: the same Export path as gRPC's (export_handler.h).
  std::unique_ptr<Authenticator> http_auth_;
  std::unique_ptr<ExportHandler> http_handler_;
  std::unique_ptr<HttpReceiver> http_receiver_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::unique_ptr<MetricsServer> health_server_;  // telemetry.health_listen
  bool stopped_ = false;
};

}  // namespace tracewire::receiver
