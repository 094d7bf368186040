// BatchSpanProcessor: sdk::BatchEngine with the ending-thread layer
// (src/sdk/batch/ending_thread_export.h), over SpanRef. Where a span can be,
// the invariant that accounts for every one, and the fast path's reasoning
// are in the engine's headers; this file maps the public options and
// statistics onto it.

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "sdk/trace/batch_span_processor_internal.h"
#include "sdk/trace/span_record.h"
#include "sdk/trace/span_ref_access.h"
#include "tracewire/span_exporter.h"

namespace tracewire {

namespace batch_span_processor_internal {
void SetSpareCoresForTest(double (*read)()) { sdk::SpareCoresForTest().store(read); }
}  // namespace batch_span_processor_internal

struct BatchSpanProcessor::Impl {
  // Shared with the engine's worker, which may outlive the processor when
  // an export hangs past the shutdown deadline.
  std::shared_ptr<SpanExporter> exporter;
  BatchSpanProcessorOptions options;
  std::unique_ptr<sdk::SpanBatchEngine> engine;
  std::atomic<bool> shut_down{false};  // Shutdown ran once (release/acquire)
};

namespace {

using Mode = BatchSpanProcessorOptions::EndingThreadsExport;

// The ending-thread export mode in effect: kNever without export_when_full,
// and kWhenCoresBusy only for an exporter that never blocks.
sdk::EndingThreadsExport ModeInEffect(const SpanExporter& e, const BatchSpanProcessorOptions& o) {
  if (!o.export_when_full) return sdk::EndingThreadsExport::kNever;
  switch (o.ending_threads_export) {
    case Mode::kWhenCoresBusy:
      return e.ExportNeverBlocks() ? sdk::EndingThreadsExport::kWhenCoresBusy
                                   : sdk::EndingThreadsExport::kNever;
    case Mode::kAlways:
      return sdk::EndingThreadsExport::kAlways;
    case Mode::kNever:
      break;
  }
  return sdk::EndingThreadsExport::kNever;
}

// The live batch processors (BatchSpanProcessorAccess::AsBatch).
absl::Mutex registry_mu(absl::kConstInit);
absl::flat_hash_set<const SpanProcessor*>& Registry() ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu) {
  static auto* live = new absl::flat_hash_set<const SpanProcessor*>();
  return *live;
}

}  // namespace

std::unique_ptr<BatchSpanProcessor> BatchSpanProcessor::Create(
    std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options) {
  options.max_queue_size = std::max<int64_t>(2, options.max_queue_size);
  options.max_export_batch_size =
      std::clamp<int64_t>(options.max_export_batch_size, 1, options.max_queue_size);
  auto impl = std::make_shared<Impl>();
  impl->exporter = std::move(exporter);
  impl->options = options;
  sdk::BatchEngineOptions eo;
  eo.max_queue_size = static_cast<size_t>(options.max_queue_size);
  eo.max_export_batch_size = static_cast<size_t>(options.max_export_batch_size);
  eo.schedule_delay = options.schedule_delay;
  eo.thread_name = "tw-batch-span";
  // A thread that ends a span and finds the queue full exports a batch
  // itself (export_when_full); the exporter's ExportNeverBlocks() governs
  // only the ending threads' export of full batches (ModeInEffect).
  eo.offer_exports_when_full = options.export_when_full;
  eo.full_queue_patience = options.export_when_full_patience;
  eo.fork_safe = true;
  sdk::EndingThreadLayer<SpanRef>::Options lo;
  lo.mode = ModeInEffect(*impl->exporter, options);
  impl->engine = sdk::SpanBatchEngine::Create(
      eo,
      [exp = impl->exporter](std::span<SpanRef> batch) {
        return exp->Export(std::span<const SpanRef>(batch.data(), batch.size()));
      },
      // Frees the records without reading them unless their chunk is shared.
      [](std::vector<SpanRef>* batch) { sdk::ReleaseAll(batch); }, lo);
  auto p = std::unique_ptr<BatchSpanProcessor>(new BatchSpanProcessor(std::move(impl)));
  absl::MutexLock l(&registry_mu);
  Registry().insert(p.get());
  return p;
}

BatchSpanProcessor::~BatchSpanProcessor() {
  {
    absl::MutexLock l(&registry_mu);
    Registry().erase(this);
  }
  if (!impl_->shut_down.load(std::memory_order_acquire)) {
    Shutdown(absl::Now() + absl::Seconds(5)).IgnoreError();  // misses are counted as drops
  }
}

void BatchSpanProcessor::OnEnd(SpanRef span) {
  // Recorded only: not exported.
  if (!(sdk::SpanRefAccess::Get(span)->flags & kTraceFlagSampled)) return;
  (void)impl_->engine->Offer(span);  // a drop is counted by the engine; `span` lets go
}

namespace sdk {

BatchSpanProcessor* BatchSpanProcessorAccess::AsBatch(SpanProcessor* processor) {
  absl::MutexLock l(&registry_mu);
  // Only BatchSpanProcessor::Create puts a processor there (the class
  // cannot be derived from: its constructor is private).
  return Registry().contains(processor) ? static_cast<BatchSpanProcessor*>(processor) : nullptr;
}

bool BatchSpanProcessorAccess::TryClaim(BatchSpanProcessor& processor, Claim* claim) {
  return processor.impl_->engine->TryClaim(claim);
}

void BatchSpanProcessorAccess::Fill(BatchSpanProcessor& processor, const Claim& claim,
                                    RecordedSpan* record) {
  processor.impl_->engine->Fill(claim, SpanRefAccess::Adopt(record));
}

}  // namespace sdk

absl::Status BatchSpanProcessor::ForceFlush(absl::Time deadline) {
  absl::Status st = impl_->engine->ForceFlush(deadline);
  if (absl::IsFailedPrecondition(st)) return absl::OkStatus();  // shut down: nothing queued
  if (!st.ok()) return st;
  // Then the exporter's own buffers (the OTLP exporter queues requests).
  return impl_->exporter->ForceFlush(deadline);
}

absl::Status BatchSpanProcessor::Shutdown(absl::Time deadline) {
  // A second caller waits for the first one's drain too (and leaves the
  // exporter's shutdown to it).
  const bool first = !impl_->shut_down.exchange(true, std::memory_order_acq_rel);
  absl::Status st = impl_->engine->Shutdown(deadline);
  if (!st.ok()) {
    return absl::DeadlineExceededError(
        "BatchSpanProcessor shutdown deadline passed; the exporter is still busy");
  }
  // The exporter is shut down only once its last Export returned.
  return first ? impl_->exporter->Shutdown(deadline) : absl::OkStatus();
}

std::vector<SelfMetricPoint> BatchSpanProcessorSelfMetrics(const BatchSpanProcessorStats& s) {
  const std::map<std::string, std::string> base = {
      {"otel.component.type", "batching_span_processor"}};
  auto with_error = [&base](const char* e) {
    auto m = base;
    m["error.type"] = e;
    return m;
  };
  return {
      {"otel.sdk.processor.span.processed", "{span}", base, static_cast<double>(s.processed)},
      {"otel.sdk.processor.span.processed", "{span}", with_error("queue_full"),
       static_cast<double>(s.dropped_queue_full)},
      {"otel.sdk.processor.span.queue.size", "{span}", base, static_cast<double>(s.queue_size),
       false},
      {"otel.sdk.processor.span.queue.capacity", "{span}", base,
       static_cast<double>(s.queue_capacity), false},
  };
}

std::vector<SelfMetricPoint> BatchSpanProcessor::SelfMetrics() const {
  std::vector<SelfMetricPoint> out = BatchSpanProcessorSelfMetrics(Stats());
  std::vector<SelfMetricPoint> more = impl_->exporter->SelfMetrics();
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  return out;
}

BatchSpanProcessorStats BatchSpanProcessor::Stats() const {
  const sdk::BatchEngineStats e = impl_->engine->Stats();
  BatchSpanProcessorStats s;
  s.processed = e.exported + e.dropped_export_failed;
  s.export_failures = e.dropped_export_failed;
  // Spans refused at shutdown, or dropped by the final drain, are counted
  // with those the full queue refused (one error.type, as before).
  s.dropped_queue_full = e.dropped_queue_full + e.dropped_shutdown;
  // Queued, and taken out by an ending thread that waits for the exporter.
  s.queue_size = e.queued + e.in_hand;
  // Queued after the final drain (their OnEnd passed the shutdown check
  // first): never exported.
  if (impl_->engine->WorkerDone()) s.dropped_queue_full += s.queue_size;
  s.exported_when_full = e.exported_by_offering_threads;
  s.exported_on_ending_threads = e.exported_on_ending_threads;
  s.dropped_export_busy = e.dropped_export_busy;
  s.queue_capacity = e.queue_capacity;
  return s;
}

}  // namespace tracewire
