#include "receiver/daemon.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pipeline/debug_writer.h"
#include "pipeline/file_writer.h"
#include "pipeline/forward_sink.h"
#include "pipeline/null_sink.h"
#include "pipeline/queued_sink.h"
#include "store/store_writer.h"

namespace tracewire::receiver {

std::string RenderForwardStats(const ExporterStats& s) {
  std::string out;
  auto family = [&out](const char* name, const char* type, const char* help) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  };
  family("tracewire_forward_exported_items", "counter", "Items the next hop acknowledged.");
  absl::StrAppend(&out, "tracewire_forward_exported_items ", s.exported_items, "\n");
  family("tracewire_forward_dropped_items", "counter", "Items dropped, by reason.");
  for (const auto& [reason, n] : s.dropped_items) {
    absl::StrAppend(&out, "tracewire_forward_dropped_items{reason=\"", reason, "\"} ", n, "\n");
  }
  family("tracewire_forward_failed_attempts", "counter", "Failed export attempts, by gRPC code.");
  for (const auto& [code, n] : s.failed_attempts) {
    absl::StrAppend(&out, "tracewire_forward_failed_attempts{code=\"", code, "\"} ", n, "\n");
  }
  family("tracewire_forward_retries", "counter", "Export attempts that were retries.");
  absl::StrAppend(&out, "tracewire_forward_retries ", s.retries, "\n");
  family("tracewire_forward_in_flight", "gauge", "Export requests in flight.");
  absl::StrAppend(&out, "tracewire_forward_in_flight ", s.in_flight, "\n");
  family("tracewire_forward_spill_bytes", "gauge", "Bytes in the on-disk spill buffer.");
  absl::StrAppend(&out, "tracewire_forward_spill_bytes ", s.spill_bytes, "\n");
  family("tracewire_forward_breaker_open", "gauge", "1 while the circuit breaker is not closed.");
  absl::StrAppend(&out, "tracewire_forward_breaker_open ", s.breaker_state == "closed" ? 0 : 1,
                  "\n");
  return out;
}

namespace {

// Hands every request to several sinks, each with its own queue. A request is
// taken when every sink took it; when one refuses, the client retries and the
// sinks that took the first copy see it twice (the store deduplicates).
class FanoutSink : public pipeline::Sink {
 public:
  explicit FanoutSink(std::vector<std::unique_ptr<pipeline::Sink>> sinks)
      : sinks_(std::move(sinks)) {
    for (const auto& s : sinks_) keeps_bytes_ |= s->KeepsBytes();
  }
  absl::Status Start() override {
    for (auto& s : sinks_) {
      absl::Status st = s->Start();
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  absl::Status Offer(pipeline::Batch&& batch) override {
    absl::Status result;
    for (size_t i = 0; i < sinks_.size(); ++i) {
      pipeline::Batch copy;
      if (i + 1 < sinks_.size()) {
        copy.signal = batch.signal;
        copy.items = batch.items;
        if (sinks_[i]->KeepsBytes()) copy.bytes = batch.bytes;
      } else {
        copy = std::move(batch);
      }
      result.Update(sinks_[i]->Offer(std::move(copy)));
    }
    return result;
  }
  absl::Status Shutdown(absl::Time deadline) override {
    absl::Status result;
    for (auto& s : sinks_) result.Update(s->Shutdown(deadline));
    return result;
  }
  bool KeepsBytes() const override { return keeps_bytes_; }
  int64_t QueuedBatches() const override {
    int64_t n = 0;
    for (const auto& s : sinks_) n += s->QueuedBatches();
    return n;
  }
  int64_t QueuedBytes() const override {
    int64_t n = 0;
    for (const auto& s : sinks_) n += s->QueuedBytes();
    return n;
  }
  int64_t CapacityBytes() const override {
    int64_t n = 0;
    for (const auto& s : sinks_) n += s->CapacityBytes();
    return n;
  }

 private:
  std::vector<std::unique_ptr<pipeline::Sink>> sinks_;
  bool keeps_bytes_ = false;
};

absl::StatusOr<std::unique_ptr<pipeline::Sink>> MakeOneSink(const std::string& type,
                                                            const DaemonConfig& c,
                                                            common::ReceiverMetrics* metrics) {
  if (type == "none") return std::make_unique<pipeline::NullSink>();
  if (type == "forward") {
    auto f = pipeline::ForwardSink::Create(c.ForwardOptions());
    if (!f.ok()) return f.status();
    pipeline::ForwardSink* fs = f->get();
    metrics->extra_text = [fs] { return RenderForwardStats(fs->Stats()); };
    return std::unique_ptr<pipeline::Sink>(std::move(*f));
  }
  pipeline::QueueOptions q;
  q.max_batches = c.queue_max_batches;
  q.max_bytes = c.queue_max_mib << 20;
  std::unique_ptr<pipeline::BatchWriter> writer;
  if (type == "debug") {
    writer = std::make_unique<pipeline::DebugWriter>();
  } else if (type == "file") {
    pipeline::FileWriterOptions f;
    f.dir = c.file_dir;
    f.rotate_bytes = c.file_rotate_mib << 20;
    f.max_rotated_files = static_cast<int>(c.file_max_files);
    f.fsync = c.file_fsync == "batch"      ? pipeline::FsyncPolicy::kBatch
              : c.file_fsync == "interval" ? pipeline::FsyncPolicy::kInterval
                                           : pipeline::FsyncPolicy::kNone;
    f.fsync_interval = absl::Milliseconds(c.file_fsync_interval_ms);
    writer = std::make_unique<pipeline::FileWriter>(f);
  } else if (type == "store") {
    store::StoreOptions o;
    o.path = c.store_path;
    o.retention_hours = c.store_retention_hours;
    o.max_mib = c.store_max_mib;
    o.attribute_keys = c.store_attribute_keys;
    writer = std::make_unique<store::StoreWriter>(o);
  } else {
    return absl::InvalidArgumentError("sink.type: unknown sink '" + type + "'");
  }
  return std::make_unique<pipeline::QueuedSink>(std::move(writer), q, &metrics->sink_dropped_items);
}

}  // namespace

absl::StatusOr<std::unique_ptr<pipeline::Sink>> MakeSink(const DaemonConfig& c,
                                                         common::ReceiverMetrics* metrics) {
  const std::vector<std::string> types = c.SinkTypes();
  if (types.size() == 1) return MakeOneSink(types[0], c, metrics);
  std::vector<std::unique_ptr<pipeline::Sink>> sinks;
  for (const std::string& t : types) {
    absl::StatusOr<std::unique_ptr<pipeline::Sink>> s = MakeOneSink(t, c, metrics);
    if (!s.ok()) return s.status();
    sinks.push_back(std::move(*s));
  }
  return std::make_unique<FanoutSink>(std::move(sinks));
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
