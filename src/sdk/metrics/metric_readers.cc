// MetricReader, the periodic exporting reader and the in-memory exporter.

#include <thread>

#include "absl/synchronization/notification.h"
#include "sdk/metrics/meter_provider_state.h"
#include "tracewire/metric_reader.h"

namespace tracewire {

int64_t ResourceMetrics::DataPointCount() const {
  int64_t n = 0;
  for (const ScopeMetrics& sm : scope_metrics) {
    for (const MetricData& m : sm.metrics) {
      std::visit([&](const auto& d) { n += static_cast<int64_t>(d.data_points.size()); }, m.data);
    }
  }
  return n;
}

MetricReader::~MetricReader() = default;

absl::StatusOr<ResourceMetrics> MetricReader::Collect() {
  sdk::MetricCollector* c;
  {
    absl::MutexLock l(&mu_);
    if (shut_down_) return absl::FailedPreconditionError("metric reader is shut down");
    c = collector_;
  }
  if (c == nullptr) {
    return absl::FailedPreconditionError("metric reader is not registered with a MeterProvider");
  }
  return c->Collect();
}

absl::Status MetricReader::Shutdown(absl::Time) {
  absl::MutexLock l(&mu_);
  if (shut_down_) return absl::FailedPreconditionError("metric reader already shut down");
  shut_down_ = true;
  return absl::OkStatus();
}

// ---- In-memory exporter ------------------------------------------------

absl::Status InMemoryMetricExporter::Export(const ResourceMetrics& metrics) {
  absl::MutexLock l(&mu_);
  exports_.push_back(metrics);
  return absl::OkStatus();
}

std::vector<ResourceMetrics> InMemoryMetricExporter::exports() const {
  absl::MutexLock l(&mu_);
  return exports_;
}

bool InMemoryMetricExporter::WaitForExports(size_t n, absl::Time deadline) const {
  absl::MutexLock l(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return exports_.size() >= n; };
  return mu_.AwaitWithDeadline(absl::Condition(&enough), deadline);
}

absl::Status InMemoryMetricExporter::Shutdown(absl::Time) {
  absl::MutexLock l(&mu_);
  shut_down_ = true;
  return absl::OkStatus();
}

bool InMemoryMetricExporter::shut_down() const {
  absl::MutexLock l(&mu_);
  return shut_down_;
}

// ---- Periodic exporting reader -----------------------------------------

namespace sdk {

// Shared by the reader and its thread, so that a thread still inside a hung
// exporter at Shutdown's deadline can be detached safely: after the export
// returns it touches only this state. (It collects through the reader only
// while not stopped, under mu.)
class PeriodicReaderState {
 public:
  PeriodicReaderState(std::unique_ptr<MetricExporter> exporter, PeriodicReaderOptions options)
      : exporter_(std::move(exporter)), options_(options) {}

  void Run(MetricReader* reader) {
    absl::Time next = absl::Now() + options_.export_interval;
    while (true) {
      uint64_t flush_gen;
      {
        absl::MutexLock l(&mu_);
        auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || flush_requested_ > flush_done_;
        };
        mu_.AwaitWithDeadline(absl::Condition(&woken), next);
        if (stop_) break;
        flush_gen = flush_requested_;
      }
      ExportOnce(reader);
      next = absl::Now() + options_.export_interval;
      absl::MutexLock l(&mu_);
      flush_done_ = std::max(flush_done_, flush_gen);
    }
    // The last export, then the exporter's shutdown.
    ExportOnce(reader);
    absl::Time deadline;
    {
      absl::MutexLock l(&mu_);
      deadline = shutdown_deadline_;
    }
    exporter_->Shutdown(deadline).IgnoreError();  // reported through the exports counter
    done_.Notify();
  }

  void ExportOnce(MetricReader* reader) {
    {
      absl::MutexLock l(&mu_);
      if (detached_) return;  // the reader may be gone
      in_reader_ = true;
    }
    absl::StatusOr<ResourceMetrics> m = reader->Collect();
    {
      absl::MutexLock l(&mu_);
      in_reader_ = false;
    }
    if (!m.ok()) return;
    const absl::Status st = exporter_->Export(*m);
    exports_.fetch_add(1, std::memory_order_relaxed);
    if (!st.ok()) failed_.fetch_add(1, std::memory_order_relaxed);
  }

  absl::Status ForceFlush(absl::Time deadline) {
    absl::MutexLock l(&mu_);
    if (stop_) return absl::FailedPreconditionError("metric reader is shut down");
    if (!started_) return absl::FailedPreconditionError("metric reader is not registered");
    const uint64_t want = ++flush_requested_;
    auto flushed = [this, want]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return flush_done_ >= want || stop_; };
    if (!mu_.AwaitWithDeadline(absl::Condition(&flushed), deadline)) {
      return absl::DeadlineExceededError("metric reader: flush did not finish by the deadline");
    }
    return absl::OkStatus();
  }

  void StartThread(MetricReader* reader, std::shared_ptr<PeriodicReaderState> self) {
    {
      absl::MutexLock l(&mu_);
      started_ = true;
    }
    thread_ = std::thread([self, reader] { self->Run(reader); });
  }

  // Returns after the thread ended or at the deadline (then it waits only
  // for a collection in progress, which runs no exporter code).
  absl::Status Stop(absl::Time deadline) {
    std::thread* thread = &thread_;
    {
      absl::MutexLock l(&mu_);
      if (stop_) return absl::FailedPreconditionError("metric reader already shut down");
      stop_ = true;
      shutdown_deadline_ = deadline;
    }
    if (!thread->joinable()) return exporter_->Shutdown(deadline);
    if (done_.WaitForNotificationWithDeadline(deadline)) {
      thread->join();
      return absl::OkStatus();
    }
    {
      absl::MutexLock l(&mu_);
      detached_ = true;
      auto out = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !in_reader_; };
      mu_.Await(absl::Condition(&out));
    }
    thread->detach();  // it holds the state; see the class comment
    return absl::DeadlineExceededError(
        "metric reader: the last export did not finish by the shutdown deadline");
  }

  std::unique_ptr<MetricExporter> exporter_;
  const PeriodicReaderOptions options_;
  std::atomic<int64_t> exports_{0};  // counters: relaxed
  std::atomic<int64_t> failed_{0};

 private:
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool detached_ ABSL_GUARDED_BY(mu_) = false;   // Stop gave up waiting
  bool in_reader_ ABSL_GUARDED_BY(mu_) = false;  // collecting through the reader
  std::thread thread_;                           // started once, joined or detached by Stop
  uint64_t flush_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t flush_done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time shutdown_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Notification done_;
};

}  // namespace sdk

std::unique_ptr<PeriodicExportingMetricReader> PeriodicExportingMetricReader::Create(
    std::unique_ptr<MetricExporter> exporter, PeriodicReaderOptions options) {
  if (exporter == nullptr) return nullptr;
  if (options.export_interval <= absl::ZeroDuration()) options.export_interval = absl::Seconds(60);
  return std::unique_ptr<PeriodicExportingMetricReader>(
      new PeriodicExportingMetricReader(std::move(exporter), options));
}

PeriodicExportingMetricReader::PeriodicExportingMetricReader(
    std::unique_ptr<MetricExporter> exporter, PeriodicReaderOptions options)
    : MetricReader(options.temporality),
      state_(std::make_shared<sdk::PeriodicReaderState>(std::move(exporter), options)) {}

PeriodicExportingMetricReader::~PeriodicExportingMetricReader() {
  Shutdown(absl::Now() + absl::Seconds(5)).IgnoreError();  // idempotent
}

void PeriodicExportingMetricReader::OnRegistered() { state_->StartThread(this, state_); }

absl::Status PeriodicExportingMetricReader::ForceFlush(absl::Time deadline) {
  absl::Status st = state_->ForceFlush(deadline);
  if (!st.ok()) return st;
  return state_->exporter_->ForceFlush(deadline);
}

absl::Status PeriodicExportingMetricReader::Shutdown(absl::Time deadline) {
  absl::Status st = state_->Stop(deadline);
  // The base marks the reader shut down after the last collection.
  absl::Status base = MetricReader::Shutdown(deadline);
  return st.ok() ? base : st;
}

int64_t PeriodicExportingMetricReader::exports() const {
  return state_->exports_.load(std::memory_order_relaxed);
}
std::vector<SelfMetricPoint> PeriodicExportingMetricReader::SelfMetrics() const {
  return state_->exporter_->SelfMetrics();
}

int64_t PeriodicExportingMetricReader::failed_exports() const {
  return state_->failed_.load(std::memory_order_relaxed);
}

}  // namespace tracewire
