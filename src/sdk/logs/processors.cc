// SimpleLogRecordProcessor and BatchLogRecordProcessor (on sdk::BatchEngine).

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sdk/batch/batch_engine.h"
#include "sdk/logs/batch_log_record_processor_access.h"
#include "tracewire/logs.h"

namespace tracewire {

void SimpleLogRecordProcessor::OnEmit(UniqueLogRecord record) {
  absl::MutexLock l(&mu_);
  ++stats_.ended;
  if (shut_down_) {
    ++stats_.dropped_shutdown;
    return;
  }
  absl::Status st = exporter_->Export(std::span<const UniqueLogRecord>(&record, 1));
  ++(st.ok() ? stats_.exported : stats_.dropped_export_failed);
}

absl::Status SimpleLogRecordProcessor::ForceFlush(absl::Time deadline) {
  absl::MutexLock l(&mu_);
  if (shut_down_) return absl::OkStatus();
  return exporter_->ForceFlush(deadline);
}

absl::Status SimpleLogRecordProcessor::Shutdown(absl::Time deadline) {
  absl::MutexLock l(&mu_);
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  return exporter_->Shutdown(deadline);
}

LogRecordProcessorStats SimpleLogRecordProcessor::Stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

struct BatchLogRecordProcessor::Impl {
  // The exporter is shared with the engine's worker, which may outlive the
  // processor when an export hangs past the shutdown deadline.
  std::shared_ptr<LogRecordExporter> exporter;
  BatchLogRecordProcessorOptions options;
  std::unique_ptr<sdk::BatchEngine<UniqueLogRecord>> engine;
  std::atomic<bool> shut_down{false};  // Shutdown ran once (release/acquire)
};

absl::StatusOr<std::unique_ptr<BatchLogRecordProcessor>> BatchLogRecordProcessor::Create(
    std::unique_ptr<LogRecordExporter> exporter, BatchLogRecordProcessorOptions options) {
  return sdk::BatchLogRecordProcessorAccess::Create(std::move(exporter), options,
                                                    common::RealClock::Get());
}

namespace sdk {

absl::StatusOr<std::unique_ptr<BatchLogRecordProcessor>> BatchLogRecordProcessorAccess::Create(
    std::unique_ptr<LogRecordExporter> exporter, BatchLogRecordProcessorOptions options,
    common::Clock* clock) {
  using Impl = BatchLogRecordProcessor::Impl;
  if (exporter == nullptr) return absl::InvalidArgumentError("batch log processor: null exporter");
  if (options.max_queue_size < 2 || options.max_export_batch_size < 1 ||
      options.max_export_batch_size > options.max_queue_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch log processor: max_queue_size (", options.max_queue_size,
                     ") must be at least 2 and max_export_batch_size (",
                     options.max_export_batch_size, ") between 1 and max_queue_size"));
  }
  if (options.schedule_delay < absl::ZeroDuration() ||
      options.export_timeout < absl::ZeroDuration() ||
      options.export_when_full_patience < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "batch log processor: negative schedule delay, timeout or export_when_full_patience");
  }
  auto impl = std::make_unique<Impl>();
  impl->exporter = std::move(exporter);
  impl->options = options;
  sdk::BatchEngineOptions eo;
  eo.max_queue_size = static_cast<size_t>(options.max_queue_size);
  eo.max_export_batch_size = static_cast<size_t>(options.max_export_batch_size);
  eo.schedule_delay = options.schedule_delay;
  eo.thread_name = "tw-batch-log";
  eo.clock = clock;
  eo.offer_exports_when_full = options.export_when_full && impl->exporter->ExportNeverBlocks();
  eo.full_queue_patience = options.export_when_full_patience;
  impl->engine = sdk::BatchEngine<UniqueLogRecord>::Create(
      eo, [exp = impl->exporter](std::span<UniqueLogRecord> batch) {
        return exp->Export(std::span<const UniqueLogRecord>(batch.data(), batch.size()));
      });
  return std::unique_ptr<BatchLogRecordProcessor>(new BatchLogRecordProcessor(std::move(impl)));
}

void BatchLogRecordProcessorAccess::WakeForTest(BatchLogRecordProcessor& p) {
  p.impl_->engine->WakeForTest();
}

int64_t BatchLogRecordProcessorAccess::WorkerPasses(const BatchLogRecordProcessor& p) {
  return p.impl_->engine->Stats().worker_passes;
}

}  // namespace sdk

BatchLogRecordProcessor::BatchLogRecordProcessor(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

BatchLogRecordProcessor::~BatchLogRecordProcessor() {
  if (!impl_->shut_down.load(std::memory_order_acquire)) {
    Shutdown(absl::Now() + absl::Seconds(5)).IgnoreError();  // misses are counted as drops
  }
}

void BatchLogRecordProcessor::OnEmit(UniqueLogRecord record) {
  (void)impl_->engine->Offer(record);  // a drop is counted by the engine; `record` is released
}

absl::Status BatchLogRecordProcessor::ForceFlush(absl::Time deadline) {
  absl::Status st = impl_->engine->ForceFlush(deadline);
  if (absl::IsFailedPrecondition(st)) return absl::OkStatus();  // shut down: nothing queued
  if (!st.ok()) return st;
  return impl_->exporter->ForceFlush(
      std::min(deadline, absl::Now() + impl_->options.export_timeout));
}

absl::Status BatchLogRecordProcessor::Shutdown(absl::Time deadline) {
  if (impl_->shut_down.exchange(true, std::memory_order_acq_rel)) return absl::OkStatus();
  absl::Status st = impl_->engine->Shutdown(deadline);
  // The exporter is shut down only once its last Export returned.
  if (!st.ok()) return st;
  return impl_->exporter->Shutdown(std::min(deadline, absl::Now() + impl_->options.export_timeout));
}

std::vector<SelfMetricPoint> LogRecordProcessorSelfMetrics(const LogRecordProcessorStats& s) {
  const std::map<std::string, std::string> base = {
      {"otel.component.type", "batching_log_processor"}};
  auto with_error = [&base](const char* e) {
    auto m = base;
    m["error.type"] = e;
    return m;
  };
  return {
      {"otel.sdk.processor.log.processed", "{log_record}", base, static_cast<double>(s.exported)},
      {"otel.sdk.processor.log.processed", "{log_record}", with_error("queue_full"),
       static_cast<double>(s.dropped_queue_full)},
      {"otel.sdk.processor.log.processed", "{log_record}", with_error("export_failed"),
       static_cast<double>(s.dropped_export_failed)},
      {"otel.sdk.processor.log.processed", "{log_record}", with_error("shutdown"),
       static_cast<double>(s.dropped_shutdown)},
      {"otel.sdk.processor.log.queue.size", "{log_record}", base, static_cast<double>(s.queue_size),
       false},
      {"otel.sdk.processor.log.queue.capacity", "{log_record}", base,
       static_cast<double>(s.queue_capacity), false},
  };
}

std::vector<SelfMetricPoint> BatchLogRecordProcessor::SelfMetrics() const {
  std::vector<SelfMetricPoint> out = LogRecordProcessorSelfMetrics(Stats());
  std::vector<SelfMetricPoint> more = impl_->exporter->SelfMetrics();
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  return out;
}

LogRecordProcessorStats BatchLogRecordProcessor::Stats() const {
  const sdk::BatchEngineStats e = impl_->engine->Stats();
  LogRecordProcessorStats s;
  s.ended = e.ended;
  s.exported = e.exported;
  s.dropped_queue_full = e.dropped_queue_full;
  s.dropped_export_failed = e.dropped_export_failed;
  s.dropped_shutdown = e.dropped_shutdown;
  s.queue_size = e.held();
  s.queue_capacity = e.queue_capacity;
  s.exported_when_full = e.exported_by_offering_threads;
  return s;
}

}  // namespace tracewire
