#pragma once
// BatchEngine<T>: the batching core shared by the batch processors (logs
// today; spans are to move onto it). A bounded queue, one worker thread that
// exports batches, and ForceFlush and Shutdown with deadlines that always
// return. Generic over the record type T: a cheap-to-move owning handle
// (std::unique_ptr, SpanRef, ...). Destroying a T releases its record; the
// engine never looks inside one.
//
// Where a record can be, and who moves it on:
//
//   Offer ──► queued ──(worker pops)──► in a batch in hand ──► waiting for the
//     │       (the MpmcQueue)             (the worker's vector)   exporter (inside
//     │                                                          ExportFn)
//     │                                                              │
//     └─► dropped: queue_full (no free cell)                         ├─► exported (OK)
//         or shutdown (Offer after Shutdown)                         └─► dropped: export_failed
//   queued at the final drain, after the shutdown deadline ──► dropped: shutdown
//
// Invariant, at every quiescent point (no Offer, flush or export running):
//   ended = exported + dropped_queue_full + dropped_export_failed + dropped_shutdown
//           + queued + in_hand + in_export
// where ended counts every Offer. Stats() reads each counter on its own, so
// while records move the sum can be off by those in motion; it is exact once
// they stop (tests/sdk/batch/batch_engine_test.cc checks it as a property).
//
// Layers: the plain core is the queue, the worker and the flush/shutdown
// protocol below. One optional layer sits on top of it
// (offer_exports_when_full): an Offer that finds the queue full helps
// rather than drops. When no export runs it takes a batch itself (queued ->
// in hand -> waiting for the exporter, on the offering thread) and then
// queues its record; while another thread exports, it yields its core and
// tries again, and drops only once no record has left the queue for
// full_queue_patience (the export is stuck, not just slow or preempted).
// ExportFn runs under export_mu either way, so one call at a time and the
// counters above stay one set.
//
// The worker wakes when a batch's worth was pushed since the last wake (the
// producer whose push completes it signals), when the schedule delay has
// passed on the injected clock, for a flush and for shutdown. It exports
// what is queued in batches of at most max_export_batch_size; on a timed wake,
// a flush or shutdown it also exports the last, partial batch. A flush exports
// at least every record queued before it was asked for.
//
// Thread safety: thread-safe. Offer takes no lock except once per
// max_export_batch_size pushes (to wake the worker) and try-locks on a full
// queue (offer_exports_when_full); it never blocks on a non-full queue, and
// on a full one waits only while records keep leaving it (backpressure, at
// most full_queue_patience without progress). ExportFn is called by one
// thread at a time: the worker, or an offering thread. ForceFlush and
// Shutdown may be called from any threads; each returns by its deadline (a
// deadline on the real clock, absl::Now()), even while ExportFn hangs: the
// worker shares the state through a shared_ptr and is detached (design.md,
// "Exceptions to STYLE.md"), and a worker stuck in ExportFn past the
// shutdown deadline drops what is still queued once it returns.
//
// The clock: the schedule delay is measured on options.clock. With a
// common::FakeClock a test advances the time and calls WakeForTest(); the
// worker then reads the clock again, and Stats().worker_passes tells the test
// that it did, so tests wait on events and never sleep.

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mpmc_queue.h"

namespace tracewire::sdk {

struct BatchEngineOptions {
  size_t max_queue_size = 2048;
  size_t max_export_batch_size = 512;
  absl::Duration schedule_delay = absl::Seconds(1);
  // Measures the schedule delay; not owned, must outlive the engine (and its
  // worker). Deadlines of ForceFlush and Shutdown are real time.
  common::Clock* clock = common::RealClock::Get();
  std::string thread_name = "tw-batch";  // 15 characters at most
  // The one layer on top of the plain core: an Offer that finds the queue
  // full while no export runs exports a batch itself (ExportFn then runs on
  // the offering thread, still one call at a time), and queues its record
  // instead of dropping it; while an export runs it yields and tries again
  // (full_queue_patience). For an ExportFn that never blocks (it queues, or
  // discards): the worker may be off its core (a busy or shared machine, more
  // threads than cores) for longer than the queue lasts at full speed.
  bool offer_exports_when_full = false;
  // With offer_exports_when_full: an Offer that finds the queue full while
  // another thread exports yields and tries again; it drops once no record
  // has left the queue for this long (the export is stuck, not just busy).
  absl::Duration full_queue_patience = absl::Milliseconds(50);
  // Tests only: no worker thread. Nothing is exported except by offering
  // threads (offer_exports_when_full) and by Shutdown, which drains on the
  // calling thread; ForceFlush waits for its deadline.
  bool start_worker = true;
};

struct BatchEngineStats {
  int64_t ended = 0;  // every Offer
  int64_t exported = 0;
  int64_t dropped_queue_full = 0;
  int64_t dropped_export_failed = 0;
  int64_t dropped_shutdown = 0;
  int64_t queued = 0;
  int64_t in_hand = 0;    // popped, not yet handed to the exporter
  int64_t in_export = 0;  // handed to the exporter, which has not returned
  int64_t queue_capacity = 0;
  int64_t export_calls = 0;
  int64_t worker_passes = 0;  // times the worker woke and looked at the queue
  // Of `exported` and `dropped_export_failed`: exported by offering threads
  // (offer_exports_when_full).
  int64_t exported_by_offering_threads = 0;

  int64_t dropped() const { return dropped_queue_full + dropped_export_failed + dropped_shutdown; }
  int64_t held() const { return queued + in_hand + in_export; }
};

template <typename T>
class BatchEngine {
 public:
  // Called by the worker with a batch; the records are destroyed after it
  // returns. Not OK: the batch is counted in dropped_export_failed.
  using ExportFn = std::function<absl::Status(std::span<T>)>;

  // Starts the worker thread. REQUIRES: max_queue_size >= 2,
  // 1 <= max_export_batch_size <= max_queue_size (callers validate options).
  static std::unique_ptr<BatchEngine> Create(BatchEngineOptions options, ExportFn export_fn) {
    auto core = std::make_shared<Core>(std::move(options), std::move(export_fn));
    if (core->options.start_worker) {
      std::thread([core] {
        pthread_setname_np(pthread_self(), core->options.thread_name.substr(0, 15).c_str());
        core->Run();
      }).detach();
    }
    return std::unique_ptr<BatchEngine>(new BatchEngine(std::move(core)));
  }

  ~BatchEngine() {
    if (!core_->stop_requested.load(std::memory_order_acquire)) {
      (void)Shutdown(absl::Now() + absl::Seconds(5));  // best effort; counted as drops if missed
    }
  }

  // Queues the record, or drops it and counts why: the record stays with the
  // caller (who destroys it) and false is returned. On a full queue see
  // offer_exports_when_full.
  bool Offer(T& record) {
    Core& c = *core_;
    // acquire: pairs with Shutdown's release; a push racing with the final
    // drain stays counted as queued (held), and the engine's destructor
    // releases it.
    if (c.stop_requested.load(std::memory_order_acquire)) {
      c.dropped_shutdown_at_offer.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    size_t pos;
    if (!c.queue.TryClaim(&pos) && !c.ExportWhenFull(&pos)) {
      c.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    c.queue.Fill(pos, std::move(record));
    if (c.CompletesBatch(pos)) c.Wake();
    return true;
  }

  // Waits until every record queued before the call has left the exporter
  // (exported or failed). DeadlineExceeded when the deadline passes first;
  // FailedPrecondition after Shutdown.
  [[nodiscard]] absl::Status ForceFlush(absl::Time deadline) {
    Core& c = *core_;
    absl::MutexLock l(&c.mu);
    if (c.stop_requested.load(std::memory_order_relaxed)) {
      return absl::FailedPreconditionError("the batch processor is shut down");
    }
    const int64_t ticket = ++c.flush_requested;
    c.cv.SignalAll();
    while (c.flush_done < ticket && !c.worker_done) {
      if (c.cv.WaitWithDeadline(&c.mu, deadline) && absl::Now() >= deadline) break;
    }
    if (c.flush_done >= ticket || c.worker_done) return absl::OkStatus();
    return absl::DeadlineExceededError("batch processor flush: deadline passed");
  }

  // Exports what is queued, by the deadline, then stops the worker. Offers
  // after it drop (shutdown). A second call waits for the first's drain, by
  // its own deadline.
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline) {
    Core& c = *core_;
    absl::MutexLock l(&c.mu);
    if (!c.stop_requested.load(std::memory_order_relaxed)) {
      c.shutdown_deadline = deadline;
      // release: Offers that see it drop; see Offer.
      c.stop_requested.store(true, std::memory_order_release);
      c.cv.SignalAll();
      if (!c.options.start_worker) {  // tests: drain here, as the worker would
        c.mu.Unlock();
        c.Run();
        c.mu.Lock();
      }
    }
    while (!c.worker_done) {
      if (c.cv.WaitWithDeadline(&c.mu, deadline) && absl::Now() >= deadline) break;
    }
    if (c.worker_done) return absl::OkStatus();
    return absl::DeadlineExceededError(
        absl::StrCat("batch processor shutdown: deadline passed with ",
                     c.in_export.load(std::memory_order_relaxed), " records in an export"));
  }

  BatchEngineStats Stats() const {
    const Core& c = *core_;
    BatchEngineStats s;
    s.exported = c.exported.load(std::memory_order_relaxed);
    s.dropped_export_failed = c.dropped_export_failed.load(std::memory_order_relaxed);
    s.dropped_shutdown = c.dropped_shutdown_at_offer.load(std::memory_order_relaxed) +
                         c.dropped_shutdown_at_drain.load(std::memory_order_relaxed);
    s.dropped_queue_full = c.dropped_queue_full.load(std::memory_order_relaxed);
    s.in_hand = c.in_hand.load(std::memory_order_relaxed);
    s.in_export = c.in_export.load(std::memory_order_relaxed);
    const size_t pushed = c.queue.pushed();
    const size_t popped = c.queue.popped();
    s.queued = pushed >= popped ? static_cast<int64_t>(pushed - popped) : 0;
    s.ended = static_cast<int64_t>(pushed) + s.dropped_queue_full +
              c.dropped_shutdown_at_offer.load(std::memory_order_relaxed);
    s.queue_capacity = static_cast<int64_t>(c.queue.capacity());
    s.export_calls = c.export_calls.load(std::memory_order_relaxed);
    s.worker_passes = c.worker_passes.load(std::memory_order_relaxed);
    s.exported_by_offering_threads = c.exported_by_offering_threads.load(std::memory_order_relaxed);
    return s;
  }

  // Makes the worker read the clock again (a test advanced a FakeClock).
  void WakeForTest() { core_->Wake(); }

 private:
  struct Core {
    Core(BatchEngineOptions o, ExportFn fn)
        : options(std::move(o)),
          export_fn(std::move(fn)),
          queue(options.max_queue_size),
          first_due(options.clock->Now() + options.schedule_delay) {
      options.max_export_batch_size =
          std::clamp<size_t>(options.max_export_batch_size, 1, queue.capacity());
    }

    void Wake() {
      absl::MutexLock l(&mu);
      wake = true;
      cv.Signal();
    }

    // The worker: waits for a reason, exports, repeats until shut down.
    void Run() {
      std::vector<T> done;  // records exported, to release
      absl::Time next_due = first_due;
      for (;;) {
        int64_t flush_ticket;
        bool stopping, timed, flushing;
        absl::Time shutdown_at;
        {
          absl::MutexLock l(&mu);
          for (;;) {
            stopping = stop_requested.load(std::memory_order_relaxed);
            timed = options.clock->Now() >= next_due;
            flushing = flush_requested > flush_done;
            if (stopping || wake || timed || flushing) break;
            // The real wait is bounded by the delay left on the clock; a
            // FakeClock's tests wake the worker instead.
            cv.WaitWithTimeout(&mu,
                               std::max(next_due - options.clock->Now(), absl::Milliseconds(1)));
          }
          wake = false;
          flush_ticket = flush_requested;
          shutdown_at = shutdown_deadline;
        }
        worker_passes.fetch_add(1, std::memory_order_relaxed);
        const bool all = stopping || timed || flushing;
        // Every record pushed before this pass, and no more: bounded, even
        // while producers keep pushing.
        size_t left = queue.pushed() - queue.popped();
        for (int stalls = 0; left > 0 && stalls < kMaxStalls;) {
          if (!all && left < options.max_export_batch_size) break;
          if (stopping && absl::Now() >= shutdown_at) break;
          size_t n;
          {
            absl::MutexLock l(&export_mu);
            n = ExportOne(std::min(left, options.max_export_batch_size), &done);
          }
          done.clear();  // releases the records, outside export_mu
          if (n == 0) {  // a producer claimed the next cell and is filling it
            ++stalls;
            std::this_thread::yield();
            continue;
          }
          left -= std::min(left, n);
        }
        if (all) next_due = options.clock->Now() + options.schedule_delay;
        if (stopping) {
          {
            absl::MutexLock l(&export_mu);
            DropQueued();  // past the deadline, or pushed after the drain began
          }
          absl::MutexLock l(&mu);
          worker_done = true;
          flush_done = flush_requested;
          cv.SignalAll();
          return;
        }
        absl::MutexLock l(&mu);
        flush_done = std::max(flush_done, flush_ticket);
        cv.SignalAll();
      }
    }

    // Pops up to `max` records and exports them; returns how many (0: none
    // ready).
    // The exported records are moved to *done, for the caller to release once
    // it has let go of export_mu (releasing 512 records takes longer than
    // exporting them to an exporter that queues).
    size_t ExportOne(size_t max, std::vector<T>* done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(export_mu) {
      batch.resize(max);
      const size_t n = queue.TryPopBatch(batch.data(), max);
      batch.resize(n);
      if (n == 0) return 0;
      in_hand.store(static_cast<int64_t>(n), std::memory_order_relaxed);
      // Each move is one store, so a Stats() between them sees the batch in
      // one place or another, or, for an instant, in neither.
      in_export.store(static_cast<int64_t>(n), std::memory_order_relaxed);
      in_hand.store(0, std::memory_order_relaxed);
      absl::Status st = export_fn(std::span<T>(batch));
      export_calls.fetch_add(1, std::memory_order_relaxed);
      done->clear();
      done->swap(batch);
      (st.ok() ? exported : dropped_export_failed)
          .fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
      in_export.store(0, std::memory_order_relaxed);
      return n;
    }

    // Whether a push at `pos` completes a batch's worth (the worker's wake).
    bool CompletesBatch(size_t pos) const {
      const size_t b = options.max_export_batch_size;
      return ((b & (b - 1)) == 0 ? ((pos + 1) & (b - 1)) : ((pos + 1) % b)) == 0;
    }

    // Offer's full queue (offer_exports_when_full): exports a batch here if
    // no export runs, then claims a cell. While another thread exports, it
    // yields its core (to that thread, or to the worker) and tries again; it
    // drops the record once the queue has not moved (no record popped) for
    // full_queue_patience.
    bool ExportWhenFull(size_t* pos) {
      if (!options.offer_exports_when_full) return false;
      absl::Time give_up = absl::InfinitePast();
      size_t seen_popped = 0;
      for (int round = 0;; ++round) {
        // acquire: as in Offer; no export once the final drain may run.
        if (stop_requested.load(std::memory_order_acquire)) return false;
        if (export_mu.TryLock()) {
          std::vector<T> done;
          const size_t n = ExportOne(options.max_export_batch_size, &done);
          export_mu.Unlock();
          done.clear();
          if (n > 0) {
            exported_by_offering_threads.fetch_add(static_cast<int64_t>(n),
                                                   std::memory_order_relaxed);
          }
        }
        if (queue.TryClaim(pos)) return true;
        // The clock is read every 16 rounds only.
        if ((round & 15) == 0) {
          const absl::Time now = absl::Now();
          const size_t popped = queue.popped();
          if (round == 0 || popped != seen_popped) {
            seen_popped = popped;
            give_up = now + options.full_queue_patience;
          } else if (now >= give_up) {
            return false;
          }
        }
        // Yield at first; then sleep a little, so that many waiting threads
        // leave the cores to the one exporting (it may be off its core).
        if (round < 256) {
          std::this_thread::yield();
        } else {
          absl::SleepFor(absl::Microseconds(20));
        }
      }
    }

    static constexpr int kMaxStalls = 10000;

    void DropQueued() ABSL_EXCLUSIVE_LOCKS_REQUIRED(export_mu) {
      for (int i = 0; i < 1 << 20; ++i) {  // bounded: the queue is
        batch.resize(options.max_export_batch_size);
        const size_t n = queue.TryPopBatch(batch.data(), batch.size());
        batch.clear();
        if (n == 0) break;
        dropped_shutdown_at_drain.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
      }
    }

    BatchEngineOptions options;
    const ExportFn export_fn;
    common::MpmcQueue<T> queue;
    // Create's time plus the delay: the worker thread may start later.
    const absl::Time first_due;

    // Counters: relaxed, each read on its own by Stats().
    std::atomic<int64_t> exported{0};
    std::atomic<int64_t> dropped_queue_full{0};
    std::atomic<int64_t> dropped_export_failed{0};
    std::atomic<int64_t> dropped_shutdown_at_offer{0};
    std::atomic<int64_t> dropped_shutdown_at_drain{0};
    std::atomic<int64_t> in_hand{0};
    std::atomic<int64_t> in_export{0};
    std::atomic<int64_t> export_calls{0};
    std::atomic<int64_t> worker_passes{0};
    std::atomic<int64_t> exported_by_offering_threads{0};
    // Set once, under mu (see Offer for its memory order).
    std::atomic<bool> stop_requested{false};

    // Held around each ExportFn call (one at a time): by the worker, or tried
    // by an Offer (offer_exports_when_full). Never taken with mu held.
    absl::Mutex export_mu;
    std::vector<T> batch ABSL_GUARDED_BY(export_mu);  // the batch in hand

    absl::Mutex mu;
    absl::CondVar cv;
    bool wake ABSL_GUARDED_BY(mu) = false;
    int64_t flush_requested ABSL_GUARDED_BY(mu) = 0;
    int64_t flush_done ABSL_GUARDED_BY(mu) = 0;
    bool worker_done ABSL_GUARDED_BY(mu) = false;
    absl::Time shutdown_deadline ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
  };

  explicit BatchEngine(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

}  // namespace tracewire::sdk
