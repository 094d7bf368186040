#include <cstdio>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/fork_handlers.h"
#include "common/mpmc_queue.h"
#include "sdk/trace/provider_state.h"

namespace tracewire {

// The processor's state lives in a shared Impl so that a worker stuck in a
// hung exporter past the shutdown deadline can be left to finish on its own
// without touching freed memory.
struct BatchSpanProcessor::Impl {
  Impl(std::unique_ptr<SpanExporter> e, BatchSpanProcessorOptions o)
      : exporter(std::move(e)), options(o), queue(static_cast<size_t>(o.max_queue_size)) {}

  const std::unique_ptr<SpanExporter> exporter;
  const BatchSpanProcessorOptions options;
  common::MpmcQueue<sdk::RecordedSpan*> queue;  // owns one reference per span
  // Statistics and hand-off counters; relaxed unless noted.
  std::atomic<int64_t> size{0};  // spans in the queue (the limit is exact)
  std::atomic<int64_t> enqueued{0}, done{0}, dropped{0}, failed{0}, processed{0};
  std::atomic<bool> closed{false};  // shut down: OnEnd drops (release/acquire)

  absl::Mutex mu;
  absl::CondVar wake;  // to the worker: a batch is ready, a flush, or stop
  absl::CondVar progress;  // from the worker: `done` advanced
  int64_t flush_target ABSL_GUARDED_BY(mu) = 0;
  bool stop ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;

  // Exports up to one batch; returns how many spans it took.
  int64_t ExportBatch(std::vector<SpanRef>* batch) {
    batch->clear();
    sdk::RecordedSpan* s;
    while (static_cast<int64_t>(batch->size()) < options.max_export_batch_size &&
           queue.TryPop(&s)) {
      size.fetch_sub(1, std::memory_order_relaxed);
      SpanRef ref(s);  // adopt the queue's reference ...
      s->refs.fetch_sub(1, std::memory_order_relaxed);  // ... which SpanRef(s) counted again
      batch->push_back(std::move(ref));
    }
    if (batch->empty()) return 0;
    const int64_t n = static_cast<int64_t>(batch->size());
    absl::Status st = exporter->Export(std::span<const SpanRef>(*batch));
    if (!st.ok()) failed.fetch_add(n, std::memory_order_relaxed);
    processed.fetch_add(n, std::memory_order_relaxed);
    batch->clear();  // releases the spans to their pool
    return n;
  }

  void Run() {
    std::vector<SpanRef> batch;
    batch.reserve(static_cast<size_t>(options.max_export_batch_size));
    for (;;) {
      bool stopping;
      {
        absl::MutexLock l(&mu);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
          return stop || flush_target > done.load(std::memory_order_relaxed) ||
                 size.load(std::memory_order_relaxed) >= options.max_export_batch_size;
        };
        const absl::Time until = absl::Now() + options.schedule_delay;
        while (!ready() && wake.WaitWithDeadline(&mu, until) == false) {
        }
        stopping = stop;
      }
      // Export whole batches while there are any; otherwise what is there.
      do {
        const int64_t n = ExportBatch(&batch);
        {
          absl::MutexLock l(&mu);
          done.fetch_add(n, std::memory_order_relaxed);
          progress.SignalAll();
        }
        if (n == 0) break;
      } while (size.load(std::memory_order_relaxed) >= options.max_export_batch_size ||
               stopping || FlushPending());
      if (stopping) {
        absl::MutexLock l(&mu);
        finished = true;
        progress.SignalAll();
        return;
      }
    }
  }

  // fork(): the child inherits the queue but not the worker. It drops the
  // parent's spans (the parent exports them) and starts a worker of its own.
  int fork_id = 0;

  void ChildAfterFork(const std::shared_ptr<Impl>& self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    sdk::RecordedSpan* s;
    int64_t n = 0;
    while (queue.TryPop(&s)) {
      s->refs.fetch_sub(1, std::memory_order_relaxed);  // the queue's reference
      ++n;
    }
    size.store(0, std::memory_order_relaxed);
    enqueued.store(0, std::memory_order_relaxed);
    done.store(0, std::memory_order_relaxed);
    processed.store(0, std::memory_order_relaxed);
    dropped.store(0, std::memory_order_relaxed);
    failed.store(0, std::memory_order_relaxed);
    flush_target = 0;
    const bool was_stopped = stop;
    mu.Unlock();  // taken in prepare
    if (!was_stopped) std::thread([self] { self->Run(); }).detach();
  }

  bool FlushPending() {
    absl::MutexLock l(&mu);
    return flush_target > done.load(std::memory_order_relaxed) &&
           size.load(std::memory_order_relaxed) > 0;
  }
};

std::unique_ptr<BatchSpanProcessor> BatchSpanProcessor::Create(
    std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options) {
  options.max_queue_size = std::max<int64_t>(1, options.max_queue_size);
  options.max_export_batch_size =
      std::clamp<int64_t>(options.max_export_batch_size, 1, options.max_queue_size);
  auto impl = std::make_shared<Impl>(std::move(exporter), options);
  std::thread([impl] { impl->Run(); }).detach();  // Lifetime: shares impl; ends at Shutdown.
  std::weak_ptr<Impl> weak = impl;
  Impl* raw = impl.get();
  impl->fork_id = common::RegisterForkHandler(
      {[raw]() ABSL_NO_THREAD_SAFETY_ANALYSIS { raw->mu.Lock(); },
       [raw]() ABSL_NO_THREAD_SAFETY_ANALYSIS { raw->mu.Unlock(); },
       [raw, weak] {
         if (auto self = weak.lock()) raw->ChildAfterFork(self);
       }});
  return std::unique_ptr<BatchSpanProcessor>(new BatchSpanProcessor(impl));
}

BatchSpanProcessor::~BatchSpanProcessor() {
  common::UnregisterForkHandler(impl_->fork_id);
  (void)Shutdown(absl::Now() + absl::Seconds(5));
}

void BatchSpanProcessor::OnEnd(SpanRef span) {
  Impl& m = *impl_;
  if (!(span.data().flags & kTraceFlagSampled)) return;  // recorded only: not exported
  if (m.closed.load(std::memory_order_acquire)) {
    m.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Reserve a slot first, so the queue never holds more than max_queue_size.
  const int64_t n = m.size.fetch_add(1, std::memory_order_relaxed) + 1;
  sdk::RecordedSpan* s = span.get();
  if (n > m.options.max_queue_size || !m.queue.TryPush(s)) {
    m.size.fetch_sub(1, std::memory_order_relaxed);
    m.dropped.fetch_add(1, std::memory_order_relaxed);
    return;  // `span` releases its reference
  }
  s->refs.fetch_add(1, std::memory_order_relaxed);  // the queue's reference
  m.enqueued.fetch_add(1, std::memory_order_relaxed);
  if (n % m.options.max_export_batch_size == 0) {  // Wake the worker once per batch.
    absl::MutexLock l(&m.mu);
    m.wake.Signal();
  }
}

absl::Status BatchSpanProcessor::ForceFlush(absl::Time deadline) {
  Impl& m = *impl_;
  {
  absl::MutexLock l(&m.mu);
  if (m.finished) return absl::OkStatus();
  // Everything handed over before this call, including a batch in export now.
  const int64_t target = m.enqueued.load(std::memory_order_relaxed);
  m.flush_target = std::max(m.flush_target, target);
  m.wake.Signal();
  while (m.done.load(std::memory_order_relaxed) < target && !m.finished) {
    if (m.progress.WaitWithDeadline(&m.mu, deadline)) {
      if (m.done.load(std::memory_order_relaxed) < target) {
        return absl::DeadlineExceededError("ForceFlush deadline passed");
      }
    }
  }
  }
  // Then the exporter's own buffers (the OTLP exporter queues requests).
  return m.exporter->ForceFlush(deadline);
}

absl::Status BatchSpanProcessor::Shutdown(absl::Time deadline) {
  Impl& m = *impl_;
  {
    absl::MutexLock l(&m.mu);
    if (m.stop) return absl::OkStatus();
    m.stop = true;
    m.closed.store(true, std::memory_order_release);
    m.wake.Signal();
    while (!m.finished) {
      if (m.progress.WaitWithDeadline(&m.mu, deadline) && !m.finished) {
        return absl::DeadlineExceededError(
            "BatchSpanProcessor shutdown deadline passed; the exporter is still busy");
      }
    }
  }
  return m.exporter->Shutdown(deadline);
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

BatchSpanProcessorStats BatchSpanProcessor::Stats() const {
  const Impl& m = *impl_;
  BatchSpanProcessorStats s;
  s.processed = m.processed.load(std::memory_order_relaxed);
  s.dropped_queue_full = m.dropped.load(std::memory_order_relaxed);
  s.export_failures = m.failed.load(std::memory_order_relaxed);
  s.queue_size = m.size.load(std::memory_order_relaxed);
  s.queue_capacity = m.options.max_queue_size;
  return s;
}

}  // namespace tracewire
