#include "receiver/daemon.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exporter/tls_material.h"
#include "pipeline/debug_writer.h"
#include "pipeline/file_writer.h"
#include "pipeline/forward_sink.h"
#include "pipeline/forward_writer.h"
#include "pipeline/null_sink.h"
#include "pipeline/persistent_queue.h"
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
  family("tracewire_forward_tls_reloads", "counter",
         "Checks that found rotated client TLS files, by result (failed: the channel stays).");
  absl::StrAppend(&out, "tracewire_forward_tls_reloads{result=\"ok\"} ", s.tls_reloads, "\n");
  absl::StrAppend(&out, "tracewire_forward_tls_reloads{result=\"failed\"} ", s.tls_reload_failures,
                  "\n");
  return out;
}

std::string RenderQueueStats(
    const std::vector<std::pair<std::string, pipeline::PersistentQueueStats>>& queues) {
  std::string out;
  auto family = [&out](const char* name, const char* type, const char* help) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  };
  auto each = [&](const char* name, auto value) {
    for (const auto& [sink, s] : queues) {
      absl::StrAppend(&out, name, "{sink=\"", sink, "\"} ", value(s), "\n");
    }
  };
  using S = pipeline::PersistentQueueStats;
  family("tracewire_queue_requests", "gauge",
         "Requests in the persistent queue's log, not yet taken by the sink.");
  each("tracewire_queue_requests", [](const S& s) { return s.wal.pending_records; });
  family("tracewire_queue_bytes", "gauge", "Bytes of those requests in the log.");
  each("tracewire_queue_bytes", [](const S& s) { return s.wal.pending_bytes; });
  family("tracewire_queue_segments", "gauge", "Segment files of the log.");
  each("tracewire_queue_segments", [](const S& s) { return s.wal.segments; });
  family("tracewire_queue_replayed_records", "counter",
         "Requests found in the log at start and handed to the sink again.");
  each("tracewire_queue_replayed_records", [](const S& s) { return s.wal.recovered_records; });
  family("tracewire_queue_discarded_records", "counter",
         "Records discarded at start: torn (cut off the end of the log) or corrupt (moved "
         "aside).");
  for (const auto& [sink, s] : queues) {
    absl::StrAppend(&out, "tracewire_queue_discarded_records{sink=\"", sink, "\",reason=\"torn\"} ",
                    s.wal.torn_records, "\n");
    absl::StrAppend(&out, "tracewire_queue_discarded_records{sink=\"", sink,
                    "\",reason=\"corrupt\"} ", s.wal.corrupt_records, "\n");
  }
  family("tracewire_queue_corrupt_segments", "counter",
         "Segments, or their tails, moved aside as *.corrupt at start.");
  each("tracewire_queue_corrupt_segments", [](const S& s) { return s.wal.corrupt_segments; });
  family("tracewire_queue_delivered_records", "counter", "Requests the sink took from the log.");
  each("tracewire_queue_delivered_records", [](const S& s) { return s.delivered_records; });
  family("tracewire_queue_retries", "counter", "Sink writes that were retries.");
  each("tracewire_queue_retries", [](const S& s) { return s.retries; });
  family("tracewire_queue_fsyncs", "counter", "fdatasync calls on the log's segments.");
  each("tracewire_queue_fsyncs", [](const S& s) { return s.wal.syncs; });
  return out;
}

namespace {

// The persistent queues of a daemon, for /metrics.
using QueueList = std::vector<std::pair<std::string, const pipeline::PersistentQueue*>>;

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
  bool HasRoom() const override {
    for (const auto& s : sinks_) {
      if (!s->HasRoom()) return false;
    }
    return true;
  }
  absl::Status Offer(pipeline::Batch&& batch) override {
    absl::Status result;
    for (size_t i = 0; i < sinks_.size(); ++i) {
      pipeline::Batch copy;
      if (i + 1 < sinks_.size()) {
        copy.signal = batch.signal;
        copy.items = batch.items;
        if (sinks_[i]->KeepsBytes()) copy.bytes = batch.bytes;
        if (batch.admission != nullptr) {
          batch.admission->Add(static_cast<int64_t>(copy.bytes.size()));
          copy.admission = batch.admission;
        }
      } else {
        copy = std::move(batch);
      }
      result.Update(sinks_[i]->Offer(std::move(copy)));
    }
    return result;
  }
  void OfferAsync(pipeline::Batch&& batch, OfferDone done) override {
    // Answered once every sink answered, with the first error if any.
    struct Pending {
      absl::Mutex mu;
      size_t left ABSL_GUARDED_BY(mu);
      absl::Status result ABSL_GUARDED_BY(mu);
      OfferDone done;
    };
    auto p = std::make_shared<Pending>();
    {
      absl::MutexLock l(&p->mu);
      p->left = sinks_.size();
    }
    p->done = std::move(done);
    for (size_t i = 0; i < sinks_.size(); ++i) {
      pipeline::Batch copy;
      if (i + 1 < sinks_.size()) {
        copy.signal = batch.signal;
        copy.items = batch.items;
        if (sinks_[i]->KeepsBytes()) copy.bytes = batch.bytes;
        if (batch.admission != nullptr) {
          batch.admission->Add(static_cast<int64_t>(copy.bytes.size()));
          copy.admission = batch.admission;
        }
      } else {
        copy = std::move(batch);
      }
      sinks_[i]->OfferAsync(std::move(copy), [p](absl::Status st) {
        absl::Status result;
        {
          absl::MutexLock l(&p->mu);
          p->result.Update(st);
          if (--p->left > 0) return;
          result = p->result;
        }
        std::move(p->done)(result);
      });
    }
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

pipeline::FsyncPolicy ParseFsync(const std::string& s) {
  return s == "batch"      ? pipeline::FsyncPolicy::kBatch
         : s == "interval" ? pipeline::FsyncPolicy::kInterval
                           : pipeline::FsyncPolicy::kNone;
}

absl::StatusOr<std::unique_ptr<pipeline::Sink>> MakeOneSink(const std::string& type,
                                                            const DaemonConfig& c,
                                                            common::ReceiverMetrics* metrics,
                                                            QueueList* queues) {
  if (type == "none") return std::make_unique<pipeline::NullSink>();
  const bool persistent = c.QueuePersistent(type);
  pipeline::PersistentQueueOptions pq;
  if (persistent) {
    pq.wal.dir = c.QueueDir(type);
    pq.wal.fsync = ParseFsync(c.queue_fsync);
    pq.wal.fsync_interval = absl::Milliseconds(c.queue_fsync_interval_ms);
    pq.wal.max_bytes = c.queue_max_mib << 20;
    pq.wal.segment_bytes = std::clamp<int64_t>(pq.wal.max_bytes / 8, 1 << 20, 64 << 20);
  }
  auto make_persistent = [&](std::unique_ptr<pipeline::BatchWriter> w) {
    auto q =
        std::make_unique<pipeline::PersistentQueue>(std::move(w), pq, &metrics->sink_dropped_items);
    queues->emplace_back(type, q.get());
    return std::unique_ptr<pipeline::Sink>(std::move(q));
  };
  if (type == "forward" && persistent) {
    auto w = pipeline::ForwardWriter::Create(c.ForwardOptions());
    if (!w.ok()) return w.status();
    pipeline::ForwardWriter* fw = w->get();
    metrics->extra_text = [fs = fw] { return RenderForwardStats(fs->Stats()); };
    pq.workers = static_cast<int>(c.forward_max_in_flight);
    pq.ack_after_flush = false;  // the next hop's OK is the taking
    pq.retry_initial = absl::Milliseconds(c.forward_retry_initial_ms);
    pq.retry_max = absl::Milliseconds(c.forward_retry_max_ms);
    return make_persistent(std::move(*w));
  }
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
    f.encoders = static_cast<int>(c.file_encoders);
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
  if (persistent) return make_persistent(std::move(writer));
  return std::make_unique<pipeline::QueuedSink>(std::move(writer), q, &metrics->sink_dropped_items);
}

}  // namespace

absl::StatusOr<std::unique_ptr<pipeline::Sink>> MakeSink(const DaemonConfig& c,
                                                         common::ReceiverMetrics* metrics) {
  const std::vector<std::string> types = c.SinkTypes();
  QueueList queues;
  std::vector<std::unique_ptr<pipeline::Sink>> sinks;
  for (const std::string& t : types) {
    absl::StatusOr<std::unique_ptr<pipeline::Sink>> s = MakeOneSink(t, c, metrics, &queues);
    if (!s.ok()) return s.status();
    sinks.push_back(std::move(*s));
  }
  if (!queues.empty()) {
    // The queues live as long as the sink, which outlives the metrics server.
    auto forward = std::move(metrics->extra_text);
    metrics->extra_text = [queues, forward] {
      std::vector<std::pair<std::string, pipeline::PersistentQueueStats>> stats;
      for (const auto& [type, q] : queues) stats.emplace_back(type, q->Stats());
      std::string out = RenderQueueStats(stats);
      if (forward) out += forward();
      return out;
    };
  }
  if (sinks.size() == 1) return std::move(sinks[0]);
  return std::make_unique<FanoutSink>(std::move(sinks));
}

Daemon::Daemon(DaemonConfig config)
    : config_(std::move(config)), admission_(config_.max_inflight_mib << 20) {}

Daemon::~Daemon() { (void)Shutdown(absl::Now() + absl::Seconds(config_.shutdown_timeout_s)); }

absl::Status Daemon::Start() {
  absl::Status st = config_.Validate();
  if (!st.ok()) return st;
  // Up first, so that "starting" can be seen while a persistent queue
  // replays.
  if (!config_.health_listen.empty()) {
    health_server_ =
        std::make_unique<MetricsServer>(config_.health_listen, &metrics_, /*health_only=*/true);
    st = health_server_->Start();
    if (!st.ok()) return st;
  }
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
  ro.tls_reload_interval = absl::Seconds(config_.tls_reload_interval_s);
  ro.bearer_tokens = config_.bearer_tokens;
  ro.api_keys = config_.api_keys;
  ro.retry_after = absl::Milliseconds(config_.retry_after_ms);
  ro.admission = &admission_;
  ro.max_concurrent_streams = static_cast<int>(config_.max_concurrent_streams);
  common::AdmissionBudget* budget = &admission_;
  metrics_.admission_used_bytes = [budget] { return budget->used(); };
  metrics_.admission_limit_bytes = [budget] { return budget->limit(); };
  metrics_.admission_refused = [budget] { return budget->refused(); };
  receiver_ = std::make_unique<OtlpReceiver>(ro, sink_.get(), &metrics_);
  st = receiver_->Start();
  if (!st.ok()) return st;

  if (const std::string http_listen = config_.HttpListen(); !http_listen.empty()) {
    http_auth_ = std::make_unique<Authenticator>(config_.bearer_tokens, config_.api_keys);
    http_handler_ = std::make_unique<ExportHandler>(
        ExportHandlerOptions{ro.max_request_bytes, ro.retry_after, ro.admission, /*http=*/true},
        http_auth_.get(), sink_.get(), &metrics_);
    HttpReceiverOptions ho;
    ho.listen = http_listen;
    ho.max_request_bytes = ro.max_request_bytes;
    ho.tls = receiver_->tls();  // the same files, rotated together
    ho.cors_allowed_origins = config_.http_cors_allowed_origins;
    ho.cors_allowed_headers = config_.http_cors_allowed_headers;
    http_receiver_ = std::make_unique<HttpReceiver>(ho, http_handler_.get());
    st = http_receiver_->Start();
    if (!st.ok()) return st;
  }

  if (!config_.metrics_listen.empty()) {
    metrics_server_ = std::make_unique<MetricsServer>(config_.metrics_listen, &metrics_);
    st = metrics_server_->Start();
    if (!st.ok()) return st;
  }
  metrics_.serving_since_unix_s.store(absl::ToUnixSeconds(absl::Now()), std::memory_order_relaxed);
  metrics_.lifecycle.store(common::ReceiverMetrics::kServing, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Daemon::ReloadTls() {
  exporter::RequestTlsReload();  // the forward sink's, at its next export
  return receiver_ ? receiver_->ReloadTls() : absl::OkStatus();
}

absl::Status Daemon::Shutdown(absl::Time deadline) {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  metrics_.lifecycle.store(common::ReceiverMetrics::kDraining, std::memory_order_release);
  absl::Status result;
  if (receiver_) result.Update(receiver_->Shutdown(deadline));
  if (http_receiver_) http_receiver_->Shutdown();
  if (sink_) result.Update(sink_->Shutdown(deadline));
  if (metrics_server_) metrics_server_->Shutdown();
  if (health_server_) health_server_->Shutdown();
  return result;
}

}  // namespace tracewire::receiver
