#include "receiver/daemon.h"

#include "absl/time/clock.h"
#include "pipeline/debug_writer.h"
#include "pipeline/file_writer.h"
#include "pipeline/null_sink.h"
#include "pipeline/queued_sink.h"

namespace tracewire::receiver {

absl::StatusOr<std::unique_ptr<pipeline::Sink>> MakeSink(const DaemonConfig& c,
                                                         common::ReceiverMetrics* metrics) {
  if (c.sink == "none") return std::make_unique<pipeline::NullSink>();
  pipeline::QueueOptions q;
  q.max_batches = c.queue_max_batches;
  q.max_bytes = c.queue_max_mib << 20;
  std::unique_ptr<pipeline::BatchWriter> writer;
  if (c.sink == "debug") {
    writer = std::make_unique<pipeline::DebugWriter>();
  } else if (c.sink == "file") {
    pipeline::FileWriterOptions f;
    f.dir = c.file_dir;
    f.rotate_bytes = c.file_rotate_mib << 20;
    f.max_rotated_files = static_cast<int>(c.file_max_files);
    f.fsync = c.file_fsync == "batch"      ? pipeline::FsyncPolicy::kBatch
              : c.file_fsync == "interval" ? pipeline::FsyncPolicy::kInterval
                                           : pipeline::FsyncPolicy::kNone;
    f.fsync_interval = absl::Milliseconds(c.file_fsync_interval_ms);
    writer = std::make_unique<pipeline::FileWriter>(f);
  } else {
    return absl::InvalidArgumentError("sink.type: unknown sink '" + c.sink + "'");
  }
  return std::make_unique<pipeline::QueuedSink>(std::move(writer), q,
                                                &metrics->sink_dropped_items);
}

Daemon::Daemon(DaemonConfig config) : config_(std::move(config)) {}

Daemon::~Daemon() { (void)Shutdown(absl::Now() + absl::Seconds(config_.shutdown_timeout_s)); }

absl::Status Daemon::Start() {
  absl::Status st = config_.Validate();
  if (!st.ok()) return st;
  absl::StatusOr<std::unique_ptr<pipeline::Sink>> sink = MakeSink(config_, &metrics_);
  if (!sink.ok()) return sink.status();
  sink_ = std::move(*sink);
  st = sink_->Start();
  if (!st.ok()) return st;
  pipeline::Sink* s = sink_.get();
  metrics_.queue_items = [s] { return s->QueuedBatches(); };
  metrics_.queue_bytes = [s] { return s->QueuedBytes(); };
  metrics_.queue_capacity_bytes = [s] { return s->CapacityBytes(); };

  ReceiverOptions ro;
  ro.listen = config_.listen;
  ro.max_request_bytes = config_.max_request_mib << 20;
  ro.tls_cert_file = config_.tls_cert_file;
  ro.tls_key_file = config_.tls_key_file;
  ro.tls_client_ca_file = config_.tls_client_ca_file;
  ro.bearer_tokens = config_.bearer_tokens;
  ro.api_keys = config_.api_keys;
  ro.retry_after = absl::Milliseconds(config_.retry_after_ms);
  receiver_ = std::make_unique<OtlpReceiver>(ro, sink_.get(), &metrics_);
  st = receiver_->Start();
  if (!st.ok()) return st;

  if (!config_.metrics_listen.empty()) {
    metrics_server_ = std::make_unique<MetricsServer>(config_.metrics_listen, &metrics_);
    st = metrics_server_->Start();
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status Daemon::Shutdown(absl::Time deadline) {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  absl::Status result;
  if (receiver_) result.Update(receiver_->Shutdown(deadline));
  if (sink_) result.Update(sink_->Shutdown(deadline));
  if (metrics_server_) metrics_server_->Shutdown();
  return result;
}

}  // namespace tracewire::receiver
