#include <sys/prctl.h>

#include <cstdio>
#include <new>
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
      : exporter(std::move(e)),
        options(o),
        queue(static_cast<size_t>(o.max_queue_size)),
        high_water(std::max(o.max_export_batch_size, o.max_queue_size * 3 / 4)) {}

  const std::unique_ptr<SpanExporter> exporter;
  const BatchSpanProcessorOptions options;
  // Owns one reference per span. Its capacity is max_queue_size exactly, and
  // its push and pop counts are the processor's: OnEnd touches no shared
  // counter of its own (two threads ending spans would fight over its line).
  common::MpmcQueue<sdk::RecordedSpan*> queue;
  const int64_t high_water;  // OnEnd always wakes the worker at this size
  // Statistics and hand-off counters; relaxed unless noted. `done` counts
  // like queue.pushed(): spans exported since the start.
  std::atomic<int64_t> done{0}, dropped{0}, failed{0}, processed{0};

  int64_t QueueSize() const { return static_cast<int64_t>(queue.SizeApprox()); }
  int64_t Pushed() const { return static_cast<int64_t>(queue.pushed()); }
  std::atomic<bool> closed{false};  // shut down: OnEnd drops (release/acquire)

  absl::Mutex mu;
  absl::CondVar wake;  // to the worker: a batch is ready, a flush, or stop
  absl::CondVar progress;  // from the worker: `done` advanced
  int64_t flush_target ABSL_GUARDED_BY(mu) = 0;
  bool stop ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;

  // Exports up to one batch; returns how many spans it took.
  // `raw` has room for a batch.
  int64_t ExportBatch(std::vector<SpanRef>* batch, std::vector<sdk::RecordedSpan*>* raw) {
    batch->clear();
    const size_t max = static_cast<size_t>(options.max_export_batch_size);
    size_t got = 0;
    while (got < max) {
      const size_t n = queue.TryPopBatch(raw->data() + got, max - got);
      if (n == 0) break;
      got += n;
    }
    if (got == 0) return 0;
    for (size_t i = 0; i < got; ++i) {
      batch->push_back(SpanRef::Adopt((*raw)[i]));  // the queue's reference
    }
    const int64_t n = static_cast<int64_t>(batch->size());
    absl::Status st = exporter->Export(std::span<const SpanRef>(*batch));
    if (!st.ok()) failed.fetch_add(n, std::memory_order_relaxed);
    processed.fetch_add(n, std::memory_order_relaxed);
    sdk::ReleaseAll(batch);  // frees the records
    return n;
  }

  // The worker is woken by its own timer while spans arrive fast, and by
  // OnEnd's signal when they arrive slowly. A signal per batch costs the
  // ending thread a futex wake (several µs on a VM), and the kernel then tends
  // to run the woken worker on the ending thread's core. So while the arrival
  // rate would fill a batch within kMaxPoll, the worker sleeps until the batch
  // should be full and sets `polling`, and OnEnd signals only at the high
  // water mark; otherwise it sleeps until the schedule delay and OnEnd wakes it
  // when a batch is full.
  static constexpr absl::Duration kMinPoll = absl::Microseconds(20);
  static constexpr absl::Duration kMaxPoll = absl::Milliseconds(2);
  // seq_cst, with fences: pairs with the queue's tail (OnEnd, WaitForWork).
  std::atomic<bool> polling{false};
  absl::Time last_look ABSL_GUARDED_BY(mu);
  int64_t last_enqueued ABSL_GUARDED_BY(mu) = 0;

  bool Ready() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return stop || flush_target > done.load(std::memory_order_relaxed) ||
           QueueSize() >= options.max_export_batch_size;
  }

  // Waits until a batch is full, a flush or stop is asked, or the schedule
  // delay has passed.
  void WaitForWork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const absl::Time delay_end = absl::Now() + options.schedule_delay;
    for (;;) {
      if (Ready()) break;
      const absl::Time now = absl::Now();
      if (now >= delay_end) break;
      // When will a batch be full at the rate spans arrived since the last look?
      const int64_t enqueued_now = Pushed();
      const double seconds = absl::ToDoubleSeconds(now - last_look);
      const double rate = seconds > 0 ? (enqueued_now - last_enqueued) / seconds : 0;
      last_look = now;
      last_enqueued = enqueued_now;
      absl::Time until = delay_end;
      if (rate > 0) {
        const int64_t missing =
            options.max_export_batch_size - QueueSize();
        const absl::Duration fill = absl::Seconds(static_cast<double>(missing) / rate);
        if (fill < kMaxPoll) until = std::min(delay_end, now + std::max(fill, kMinPoll));
      }
      const bool poll = until < delay_end;
      polling.store(poll, std::memory_order_seq_cst);
      std::atomic_thread_fence(std::memory_order_seq_cst);  // then read the queue's tail
      // Look again after clearing the flag: a span that filled the batch
      // before OnEnd saw the flag cleared did not signal.
      if (!poll && Ready()) break;
      wake.WaitWithDeadline(&mu, until);
    }
  }

  void Run() {
    // Timed sleeps are short while spans arrive fast; ask the kernel not to
    // stretch them (the default slack is 50 µs).
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    std::vector<SpanRef> batch;
    batch.reserve(static_cast<size_t>(options.max_export_batch_size));
    std::vector<sdk::RecordedSpan*> raw(static_cast<size_t>(options.max_export_batch_size));
    {
      absl::MutexLock l(&mu);
      last_look = absl::Now();
    }
    for (;;) {
      bool stopping;
      {
        absl::MutexLock l(&mu);
        WaitForWork();
        stopping = stop;
      }
      // Export whole batches while there are any; otherwise what is there.
      do {
        const int64_t n = ExportBatch(&batch, &raw);
        {
          absl::MutexLock l(&mu);
          done.fetch_add(n, std::memory_order_relaxed);
          progress.SignalAll();
        }
        if (n == 0) {
          // A slot claimed but not yet filled (its producer was preempted)
          // can hold a flush back: let the producer run.
          std::this_thread::yield();
          break;
        }
      } while (QueueSize() >= options.max_export_batch_size ||
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

  void ChildAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    sdk::RecordedSpan* s;
    while (queue.TryPop(&s)) (void)SpanRef::Adopt(s);  // drops the queue's reference
    done.store(Pushed(), std::memory_order_relaxed);  // nothing left to export
    processed.store(0, std::memory_order_relaxed);
    dropped.store(0, std::memory_order_relaxed);
    failed.store(0, std::memory_order_relaxed);
    flush_target = 0;
    last_enqueued = Pushed();
    last_look = absl::Now();
    polling.store(false, std::memory_order_seq_cst);
    // The parent's threads that waited on these (the worker, a flushing
    // caller) are queued in them but do not exist here, and a Signal could
    // pick one of them. Start both afresh (nothing to release in them).
    new (&wake) absl::CondVar();
    new (&progress) absl::CondVar();
    mu.Unlock();  // taken in prepare
  }

  void RestartAfterFork(const std::shared_ptr<Impl>& self) {
    bool was_stopped;
    {
      absl::MutexLock l(&mu);
      was_stopped = stop;
    }
    if (!was_stopped) std::thread([self] { self->Run(); }).detach();
  }

  bool FlushPending() {
    absl::MutexLock l(&mu);
    return flush_target > done.load(std::memory_order_relaxed) &&
           QueueSize() > 0;
  }
};

std::unique_ptr<BatchSpanProcessor> BatchSpanProcessor::Create(
    std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options) {
  options.max_queue_size = std::max<int64_t>(2, options.max_queue_size);
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
         if (auto self = weak.lock()) raw->ChildAfterFork();
       },
       [raw, weak] {
         if (auto self = weak.lock()) raw->RestartAfterFork(self);
       }});
  return std::unique_ptr<BatchSpanProcessor>(new BatchSpanProcessor(impl));
}

BatchSpanProcessor::~BatchSpanProcessor() {
  common::UnregisterForkHandler(impl_->fork_id);
  (void)Shutdown(absl::Now() + absl::Seconds(5));
}

void BatchSpanProcessor::OnEnd(SpanRef span) {
  Impl& m = *impl_;
  if (!(span.get()->flags & kTraceFlagSampled)) return;  // recorded only: not exported
  if (m.closed.load(std::memory_order_acquire)) {
    m.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  sdk::RecordedSpan* s = span.get();
  size_t pos;
  if (!m.queue.TryPush(s, &pos)) {  // full: the queue holds max_queue_size
    // Make sure the worker knows (a wake-up may have been missed while the
    // level was estimated), every 64th drop.
    if (m.dropped.fetch_add(1, std::memory_order_relaxed) % 64 == 0) {
      absl::MutexLock l(&m.mu);
      m.wake.Signal();
    }
    return;  // `span` releases its reference
  }
  (void)span.release();  // the queue holds it now
  // The queue's size as of this push (the worker may have popped since).
  const size_t popped = m.queue.popped();
  const int64_t n = pos + 1 > popped ? static_cast<int64_t>(pos + 1 - popped) : 0;
  // Wake the worker once per batch unless it is polling; at the high water
  // mark in any case.
  const bool batch_boundary = n > 0 && n % m.options.max_export_batch_size == 0;
  if (!batch_boundary && n != m.high_water) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with `polling`
  if ((batch_boundary && !m.polling.load(std::memory_order_relaxed)) || n == m.high_water) {
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
  const int64_t target = m.Pushed();
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
  s.queue_size = m.QueueSize();
  s.queue_capacity = m.options.max_queue_size;
  return s;
}

}  // namespace tracewire
