#pragma once
// BatchEngine<T, Layer>: the one batching engine of the batch processors,
// spans and logs (and any later signal). Generic over the record type T: a
// cheap-to-move owning handle (SpanRef, std::unique_ptr, ...). Destroying a
// T releases its record (or options.release does, a batch at a time); the
// engine never looks inside one.
//
// It is built in two layers:
//
//  1. The plain core (this file, with PlainLayer): a bounded lock-free queue,
//     one worker thread that exports batches, ForceFlush and Shutdown with
//     deadlines that always return, and an injected clock for the schedule
//     delay. An Offer that finds the queue full may export a batch itself
//     (offer_exports_when_full: backpressure instead of a drop).
//  2. The ending-thread layer (ending_thread_export.h, EndingThreadLayer):
//     the queue striped by thread, and the export of full batches on the
//     threads that offer records while the process leaves no core spare.
//     The span processor uses it; any processor may.
//
// A layer is a type with the queue and the hooks the core calls (see
// PlainLayer for the list); the core calls them without a virtual call, so
// the plain layer's hooks compile to nothing.
//
// Where a record can be, and who moves it on:
//
//   Offer ──► queued ──(the worker, an offering thread)──► in a batch in hand
//     │       (the layer's queue)                          (popped; the
//     │                                                    layer's pending
//     │                                                    batches are here)
//     │                                                          │
//     │                                   waiting for the exporter (inside
//     │                                   ExportFn, under export_mu)
//     │                                                          ├─► exported (OK)
//     └─► dropped: queue_full (no free cell)                     └─► dropped: export_failed
//         or shutdown (Offer after Shutdown)
//   queued or in hand at the final drain, after the shutdown deadline
//   (or once the exporter is closed) ──► dropped: shutdown
//
// Invariant, at every quiescent point (no Offer, flush or export running):
//   ended = exported + dropped_queue_full + dropped_export_failed + dropped_shutdown
//           + queued + in_hand + in_export
// where ended counts every Offer (and every TryClaim that got a cell).
// Stats() reads each counter on its own, so while records move the sum can
// be off by those in motion; it is exact once they stop
// (tests/sdk/batch/batch_engine_test.cc checks it as a property, for both
// layers).
//
// The worker wakes for a flush, for shutdown, when the schedule delay has
// passed on the injected clock, and when a batch's worth is queued. Who
// tells it that a batch is queued depends on how fast records arrive:
// while it waits for a signal (records arrive slowly), every push looks at
// the queue's level and the push that finds a batch queued signals (and
// marks the worker signalled); while records arrive fast enough to fill a
// batch within kMaxPoll, the worker polls instead: it sleeps until two
// batches should be queued (`polling`), and pushes look at the level every
// check_mask + 1 pushes only, for the high water mark (3/4 of the queue),
// where they signal and yield their core once. A signal per batch costs the
// offering thread a futex wake (several µs on a VM), and the kernel tends
// to run the woken worker on the offering thread's core.
//
// The fast path and the invariant that makes it safe, in one place: a push
// is one compare-and-swap on a tail (TryClaim), a store and a release of the
// cell (Fill), then, at most every check_mask + 1 pushes while `polling` is
// set, a read of the level. A queued batch is not left waiting for the
// schedule delay: before it waits for a signal the worker clears `polling`
// (seq_cst), fences, and reads the queue's tail once more; a push moves the
// tail (a locked instruction on x86, a full fence) before it reads
// `polling`. So either the push sees `polling` clear and looks (and
// signals), or the worker's last read sees the push. (Where the
// compare-and-swap is not a fence, a push may skip its look; the next push
// or the worker's timer then takes the batch.) While `polling` is set the
// worker wakes on its own timer, at most kMaxPoll later, and a push past
// the high water mark signals regardless.
//
// On a timed wake, a flush or shutdown the worker also exports the last,
// partial batch. A flush waits until every record queued before it was
// asked for has left the exporter and been released (`released` counts
// them, whoever exported them).
//
// Thread safety: thread-safe. Offer (and TryClaim + Fill) takes no lock
// except to signal the worker (at most once per batch); it never blocks on a
// non-full queue, and on a full one waits only while records keep leaving
// the exporter (backpressure, at most full_queue_patience without
// progress). ExportFn is called by one thread at a time (export_mu): the
// worker, an offering thread, or a layer's thread. ForceFlush and Shutdown
// may be called from any threads; each returns by its deadline (a deadline
// on the real clock, absl::Now()), even while ExportFn hangs: the worker
// shares the state through a shared_ptr and is detached (design.md,
// "Exceptions to STYLE.md"), and a worker stuck in ExportFn past the
// shutdown deadline drops what is still queued once it returns.
//
// The clock: the schedule delay and the arrival rate are measured on
// options.clock. With a common::FakeClock a test advances the time and
// calls WakeForTest(); the worker then reads the clock again, and
// Stats().worker_passes tells the test that it did, so tests wait on events
// and never sleep.
//
// fork(): with options.fork_safe, a child process gets a working engine
// without the parent's records (the parent exports them) and a worker of
// its own.

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
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
#include "common/fork_handlers.h"
#include "common/mpmc_queue.h"

namespace tracewire::sdk {

struct BatchEngineOptions {
  size_t max_queue_size = 2048;
  size_t max_export_batch_size = 512;
  absl::Duration schedule_delay = absl::Seconds(1);
  // Measures the schedule delay and the arrival rate; not owned, must
  // outlive the engine (and its worker). Deadlines of ForceFlush and
  // Shutdown are real time.
  common::Clock* clock = common::RealClock::Get();
  std::string thread_name = "tw-batch";  // 15 characters at most
  // An Offer that finds the queue full while no export runs exports a batch
  // itself (ExportFn then runs on the offering thread, still one call at a
  // time), and queues its record instead of dropping it; while an export
  // runs it yields and tries again (full_queue_patience). For an ExportFn
  // that never blocks (it queues, or discards): the worker may be off its
  // core (a busy or shared machine, more threads than cores) for longer
  // than the queue lasts at full speed.
  bool offer_exports_when_full = false;
  // With offer_exports_when_full: an Offer that finds the queue full while
  // another thread exports yields and tries again; it drops once no record
  // has left the exporter for this long (the export is stuck, not busy).
  absl::Duration full_queue_patience = absl::Milliseconds(50);
  // Tests only: no worker thread. Nothing is exported except by offering
  // threads (offer_exports_when_full) and by Shutdown, which drains on the
  // calling thread; ForceFlush waits for its deadline.
  bool start_worker = true;
  // Registers fork handlers (common/fork_handlers.h): see the header.
  bool fork_safe = false;
};

struct BatchEngineStats {
  int64_t ended = 0;  // every Offer (and TryClaim that got a cell)
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
  // that found the queue full (offer_exports_when_full).
  int64_t exported_by_offering_threads = 0;
  // Of `exported` and `dropped_export_failed`: exported by offering threads
  // that found a batch queued (the ending-thread layer).
  int64_t exported_on_ending_threads = 0;
  // Of `dropped_queue_full`: the Offer found another thread in the exporter
  // (offer_exports_when_full could not make room).
  int64_t dropped_export_busy = 0;

  int64_t dropped() const { return dropped_queue_full + dropped_export_failed + dropped_shutdown; }
  int64_t held() const { return queued + in_hand + in_export; }
};

// The plain core's layer: one MpmcQueue, and hooks that do nothing. A layer
// provides, for BatchEngine<T, Layer>::Core (`C` below):
//   Slot                          where a claimed cell is
//   Options                       the layer's own options
//   Layer(const BatchEngineOptions&, const Options&)  (options validated)
//   bool TryClaim(Slot*)          a cell, lock-free; false: all full
//   void Fill(const Slot&, T&&)   publishes the record in it
//   size_t Position(const Slot&)  pushes before it, in its queue (a power
//                                 of two of them is a level check)
//   size_t Pop(T* out, size_t max, size_t* cursor)  up to max, in order
//   size_t pushed(), popped(), size(), capacity(), check_mask()
//   bool ending()                 whether offering threads export batches
//   bool AfterPushExport(C&, const Slot&, size_t pos)
//                                 at a level check: exported here (or it is
//                                 not this push's turn to look): true
//   bool ExportHere(C&, const Slot&)  at a level check that found a batch
//   int64_t pending()             records in the layer's batches in hand
//   Seen Look(C&, absl::Time now) the worker's periodic look (REQUIRES mu)
//   absl::Time next_look()        when it looks next
//   void ExportPending(C&)        the worker exports the layer's batches
//   void ResetAfterFork()         a child's fresh queues and buffers
template <typename T>
class PlainLayer {
 public:
  struct Slot {
    size_t pos;
  };
  enum class Seen { kNothing, kLeftBatch, kPending };
  struct Options {};

  PlainLayer(const BatchEngineOptions& o, const Options& /*unused*/)
      : capacity_(o.max_queue_size),
        check_mask_(CheckEvery(o.max_queue_size) - 1),
        queue_(std::in_place, o.max_queue_size) {}

  bool TryClaim(Slot* s) { return queue_->TryClaim(&s->pos); }
  void Fill(const Slot& s, T&& r) { queue_->Fill(s.pos, std::move(r)); }
  static size_t Position(const Slot& s) { return s.pos; }
  size_t Pop(T* out, size_t max, size_t* /*cursor*/) { return queue_->TryPopBatch(out, max); }
  size_t pushed() const { return queue_->pushed(); }
  size_t popped() const { return queue_->popped(); }
  size_t size() const { return queue_->SizeApprox(); }
  size_t capacity() const { return queue_->capacity(); }
  size_t check_mask() const { return check_mask_; }

  static constexpr bool ending() { return false; }
  template <typename C>
  bool AfterPushExport(C&, const Slot&, size_t) {
    return false;
  }
  template <typename C>
  bool ExportHere(C&, const Slot&) {
    return false;
  }
  static constexpr int64_t pending() { return 0; }
  template <typename C>
  Seen Look(C&, absl::Time) {
    return Seen::kNothing;
  }
  static absl::Time next_look() { return absl::InfiniteFuture(); }
  template <typename C>
  void ExportPending(C&) {}
  void ResetAfterFork() { queue_.emplace(capacity_); }

  // How often (in pushes, a power of two) a polled push looks at the
  // queue's level: about an eighth of the queue, at most 32.
  static size_t CheckEvery(size_t per_queue) {
    const size_t want = std::clamp<size_t>(per_queue / 8, 1, 32);
    size_t n = 1;
    while (n * 2 <= want) n *= 2;
    return n;
  }

 private:
  const size_t capacity_;
  const size_t check_mask_;
  std::optional<common::MpmcQueue<T>> queue_;
};

template <typename T, typename Layer = PlainLayer<T>>
class BatchEngine {
 public:
  // Called with a batch, by one thread at a time; the records are released
  // after it returns. Not OK: the batch is counted in dropped_export_failed.
  using ExportFn = std::function<absl::Status(std::span<T>)>;
  // Releases a batch the exporter is done with and empties the vector (by
  // default: clear(), each record destroyed). Called outside export_mu.
  using ReleaseFn = std::function<void(std::vector<T>*)>;
  using Slot = typename Layer::Slot;

  // Starts the worker thread. REQUIRES: max_queue_size >= 2,
  // 1 <= max_export_batch_size <= max_queue_size (callers validate options).
  static std::unique_ptr<BatchEngine> Create(BatchEngineOptions options, ExportFn export_fn,
                                             ReleaseFn release = nullptr,
                                             typename Layer::Options layer_options = {}) {
    auto core = std::make_shared<Core>(std::move(options), std::move(export_fn), std::move(release),
                                       layer_options);
    if (core->options.start_worker) StartWorker(core);
    if (core->options.fork_safe) {
      std::weak_ptr<Core> weak = core;
      Core* raw = core.get();
      core->fork_id =
          common::RegisterForkHandler({[raw]() ABSL_NO_THREAD_SAFETY_ANALYSIS { raw->mu.Lock(); },
                                       [raw]() ABSL_NO_THREAD_SAFETY_ANALYSIS { raw->mu.Unlock(); },
                                       [raw, weak] {
                                         if (auto self = weak.lock()) raw->ChildAfterFork();
                                       },
                                       [raw, weak] {
                                         if (auto self = weak.lock()) {
                                           bool stopped;
                                           {
                                             absl::MutexLock l(&raw->mu);
                                             stopped = raw->stop;
                                           }
                                           if (!stopped && raw->options.start_worker)
                                             StartWorker(self);
                                         }
                                       }});
    }
    return std::unique_ptr<BatchEngine>(new BatchEngine(std::move(core)));
  }

  ~BatchEngine() {
    if (core_->options.fork_safe) common::UnregisterForkHandler(core_->fork_id);
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
    Slot slot;
    if (!c.layer.TryClaim(&slot)) [[unlikely]] {
      if (!c.ClaimWhenFull(&slot)) return false;  // counted
    }
    c.layer.Fill(slot, std::move(record));
    c.AfterPush(slot);
    return true;
  }

  // Offer in two steps, for a producer that can claim before it has the
  // record (Span::End claims, then seals the span, then fills): TryClaim
  // takes a cell (false: the queue is full or shut down; nothing counted,
  // Offer then decides), Fill publishes the record there. Between the two
  // the worker stops at that cell.
  bool TryClaim(Slot* slot) {
    Core& c = *core_;
    if (c.stop_requested.load(std::memory_order_acquire)) return false;
    return c.layer.TryClaim(slot);
  }
  void Fill(const Slot& slot, T&& record) {
    Core& c = *core_;
    c.layer.Fill(slot, std::move(record));
    c.AfterPush(slot);
  }

  // Waits until every record queued before the call has left the exporter
  // (exported or failed). DeadlineExceeded when the deadline passes first;
  // FailedPrecondition after Shutdown.
  [[nodiscard]] absl::Status ForceFlush(absl::Time deadline) {
    Core& c = *core_;
    absl::MutexLock l(&c.mu);
    if (c.stop) return absl::FailedPreconditionError("the batch processor is shut down");
    // Everything handed over before this call, including a batch in export now.
    const auto target = static_cast<int64_t>(c.layer.pushed());
    c.flush_target = std::max(c.flush_target, target);
    c.wake.Signal();
    while (c.released < target && !c.finished) {
      if (c.progress.WaitWithDeadline(&c.mu, deadline) && c.released < target && !c.finished) {
        return absl::DeadlineExceededError("batch processor flush: deadline passed");
      }
    }
    return absl::OkStatus();
  }

  // Exports what is queued, by the deadline, then stops the worker. Offers
  // after it drop (shutdown). A second call waits for the first's drain, by
  // its own deadline.
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline) {
    Core& c = *core_;
    absl::MutexLock l(&c.mu);
    if (!c.stop) {
      c.stop = true;
      c.shutdown_deadline = deadline;
      // release: Offers that see it drop; see Offer.
      c.stop_requested.store(true, std::memory_order_release);
      c.wake.Signal();
      if (!c.options.start_worker) {  // tests: drain here, as the worker would
        c.mu.Unlock();
        c.Run();
        c.mu.Lock();
      }
    }
    while (!c.finished) {
      if (c.progress.WaitWithDeadline(&c.mu, deadline) && !c.finished) {
        return absl::DeadlineExceededError(
            absl::StrCat("batch processor shutdown: deadline passed with ",
                         c.in_export.load(std::memory_order_relaxed), " records in an export"));
      }
    }
    return absl::OkStatus();
  }

  BatchEngineStats Stats() const {
    const Core& c = *core_;
    BatchEngineStats s;
    s.exported = c.exported.load(std::memory_order_relaxed);
    s.dropped_export_failed = c.dropped_export_failed.load(std::memory_order_relaxed);
    s.dropped_shutdown = c.dropped_shutdown_at_offer.load(std::memory_order_relaxed) +
                         c.dropped_shutdown_at_drain.load(std::memory_order_relaxed);
    s.dropped_queue_full = c.dropped_queue_full.load(std::memory_order_relaxed);
    s.dropped_export_busy = c.dropped_export_busy.load(std::memory_order_relaxed);
    s.in_hand = c.in_hand.load(std::memory_order_relaxed);
    s.in_export = c.in_export.load(std::memory_order_relaxed);
    const size_t pushed = c.layer.pushed();
    const size_t popped = c.layer.popped();
    s.queued = pushed >= popped ? static_cast<int64_t>(pushed - popped) : 0;
    s.ended = static_cast<int64_t>(pushed) + s.dropped_queue_full +
              c.dropped_shutdown_at_offer.load(std::memory_order_relaxed);
    s.queue_capacity = static_cast<int64_t>(c.layer.capacity());
    s.export_calls = c.export_calls.load(std::memory_order_relaxed);
    s.worker_passes = c.worker_passes.load(std::memory_order_relaxed);
    s.exported_by_offering_threads = c.exported_by_offering_threads.load(std::memory_order_relaxed);
    s.exported_on_ending_threads = c.exported_on_ending_threads.load(std::memory_order_relaxed);
    return s;
  }

  // Whether the worker has stopped for good (Shutdown's drain is over).
  bool WorkerDone() const { return core_->worker_done.load(std::memory_order_acquire); }

  // Makes the worker read the clock again (a test advanced a FakeClock).
  void WakeForTest() {
    absl::MutexLock l(&core_->mu);
    core_->wake_for_test = true;
    core_->wake.Signal();
  }

  // The core's state, shared with the worker thread. The layer's hooks get
  // it; nothing else should.
  struct Core {
    Core(BatchEngineOptions o, ExportFn fn, ReleaseFn rel, const typename Layer::Options& lo)
        : options(Validated(std::move(o))),
          export_fn(std::move(fn)),
          release(std::move(rel)),
          batch_size(static_cast<int64_t>(options.max_export_batch_size)),
          high_water(std::max(batch_size, static_cast<int64_t>(options.max_queue_size) * 3 / 4)),
          poll_target(std::min(high_water, 2 * batch_size)),
          layer(options, lo),
          next_due(options.clock->Now() + options.schedule_delay) {}

    static BatchEngineOptions Validated(BatchEngineOptions o) {
      o.max_queue_size = std::max<size_t>(o.max_queue_size, 2);
      o.max_export_batch_size = std::clamp<size_t>(o.max_export_batch_size, 1, o.max_queue_size);
      return o;
    }

    ~Core() {
      // What is still queued (pushed after the final drain) is released.
      std::vector<T> rest;
      size_t cursor = 0;
      for (int i = 0; i < 1 << 20; ++i) {
        rest.resize(options.max_export_batch_size);
        const size_t n = layer.Pop(rest.data(), rest.size(), &cursor);
        rest.clear();
        if (n == 0) break;
      }
    }

    // Records that have left the exporter (or were dropped at the drain):
    // the progress that ClaimWhenFull's patience and the layer's look watch.
    int64_t done() const {
      return exported.load(std::memory_order_relaxed) +
             dropped_export_failed.load(std::memory_order_relaxed) +
             dropped_shutdown_at_drain.load(std::memory_order_relaxed);
    }

    // ---- The offering side ----

    // After a push: looks at the queue's level at every push while the
    // worker waits for a signal; every check_mask + 1 pushes (of the
    // slot's queue) while it polls or has been signalled.
    void AfterPush(const Slot& slot) {
      const size_t pos = Layer::Position(slot);
      const size_t mask = layer.check_mask();
      if ((pos & mask) == mask || !polling.load(std::memory_order_relaxed)) CheckLevel(pos, slot);
    }

    // A level check: the layer may export here (ending threads); else wakes
    // the worker when a batch is queued, unless it polls, and at the high
    // water mark in any case. Past the high water mark the offering thread
    // also yields its core once: on a machine whose cores all run offering
    // threads, the woken worker otherwise waits for the scheduler's wake-up
    // granularity (milliseconds) while the queue overflows.
    void CheckLevel(size_t pos, const Slot& slot) {
      if (layer.ending() && layer.AfterPushExport(*this, slot, pos)) return;
      const auto out = static_cast<int64_t>(layer.size());
      if (out < batch_size) return;
      if (layer.ending() && layer.ExportHere(*this, slot)) return;
      std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with `polling`
      if (!polling.load(std::memory_order_relaxed) || out >= high_water) {
        {
          absl::MutexLock l(&mu);
          // Signalled: the pushes after this one need not signal again, nor
          // look at the level more often, until the worker waits again (it
          // sets `polling` under `mu` before each wait).
          polling.store(true, std::memory_order_relaxed);
          wake.Signal();
        }
        if (out >= high_water) sched_yield();
      }
    }

    // Offer found the queue full. With offer_exports_when_full: exports a
    // batch here when no export runs, then claims a cell; while another
    // thread exports it yields its core (then sleeps a little, leaving the
    // cores to that thread) and tries again, as long as records keep
    // leaving the exporter (full_queue_patience). Counts the drop.
    bool ClaimWhenFull(Slot* slot) {
      enum class Helped { kExported, kExporterBusy, kNothing };
      Helped helped = Helped::kNothing;
      absl::Time give_up = absl::InfinitePast();
      int64_t seen_done = 0;
      for (int round = 0;; ++round) {
        helped = Helped::kNothing;
        if (options.offer_exports_when_full) {
          // acquire: as in Offer; no export once the final drain may run.
          if (stop_requested.load(std::memory_order_acquire)) break;
          if (export_mu.TryLock()) {
            // A batch of this thread's own: it is released after the lock
            // is let go of, while another thread may take the lock.
            std::vector<T> batch;
            size_t cursor = 0;
            int64_t n = 0;
            if (!exporter_closed) {
              n = PopBatch(&batch, batch_size, &cursor);
              if (n != 0) ExportLocked(&batch);
            }
            export_mu.Unlock();
            if (n != 0) {
              Release(&batch);
              exported_by_offering_threads.fetch_add(n, std::memory_order_relaxed);
              Released(n);
              helped = Helped::kExported;
            }
          } else {
            helped = Helped::kExporterBusy;
          }
        }
        if (layer.TryClaim(slot)) return true;
        if (!options.offer_exports_when_full) break;
        // Exported: room was made (others may have taken it). Else the
        // cells are claimed by threads still filling them, or batches wait
        // in the layer; both move on without this thread.
        if (helped == Helped::kExported) continue;
        if ((round & 15) == 0) {  // the clock, every 16 rounds
          const absl::Time now = absl::Now();
          const int64_t d = done();
          if (round == 0 || d != seen_done) {
            seen_done = d;
            give_up = now + options.full_queue_patience;
          } else if (now >= give_up) {
            break;
          }
        }
        if (round < 256) {
          std::this_thread::yield();
        } else {
          absl::SleepFor(absl::Microseconds(20));
        }
      }
      if (helped == Helped::kExporterBusy) {
        dropped_export_busy.fetch_add(1, std::memory_order_relaxed);
      }
      // Wakes the worker every 64th drop.
      if (dropped_queue_full.fetch_add(1, std::memory_order_relaxed) % 64 == 0) {
        absl::MutexLock l(&mu);
        wake.Signal();
      }
      return false;
    }

    // ---- Moving batches (the worker, offering threads, the layer) ----

    // Takes up to `max` records out of the queue into *batch (which the
    // last Release emptied): they are in hand. Returns how many.
    int64_t PopBatch(std::vector<T>* batch, int64_t max, size_t* cursor) {
      batch->resize(static_cast<size_t>(max));
      const size_t n = layer.Pop(batch->data(), static_cast<size_t>(max), cursor);
      batch->resize(n);
      if (n != 0) in_hand.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
      return static_cast<int64_t>(n);
    }

    // Hands a batch in hand to the exporter and counts the outcome. The
    // records stay in *batch, to Release after export_mu is let go of
    // (releasing 512 records takes longer than exporting them to an
    // exporter that queues).
    void ExportLocked(std::vector<T>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(export_mu) {
      const auto n = static_cast<int64_t>(batch->size());
      // Each move is one add, so a Stats() between them sees the batch in
      // one place or another, or, for an instant, in neither.
      in_export.fetch_add(n, std::memory_order_relaxed);
      in_hand.fetch_sub(n, std::memory_order_relaxed);
      absl::Status st = export_fn(std::span<T>(*batch));
      export_calls.fetch_add(1, std::memory_order_relaxed);
      (st.ok() ? exported : dropped_export_failed).fetch_add(n, std::memory_order_relaxed);
      in_export.fetch_sub(n, std::memory_order_relaxed);
    }

    // A batch in hand that will not be exported (the exporter is closed).
    void DropInHand(std::vector<T>* batch) {
      const auto n = static_cast<int64_t>(batch->size());
      dropped_shutdown_at_drain.fetch_add(n, std::memory_order_relaxed);
      in_hand.fetch_sub(n, std::memory_order_relaxed);
    }

    void Release(std::vector<T>* batch) {
      if (release) {
        release(batch);
      } else {
        batch->clear();
      }
    }

    // Tells ForceFlush that n records left the exporter (or were dropped
    // in hand) and were released.
    void Released(int64_t n) {
      absl::MutexLock l(&mu);
      released += n;
      progress.SignalAll();
    }

    // The worker's: exports up to one batch; returns how many records it took.
    int64_t ExportBatch() {
      const int64_t n = PopBatch(&worker_batch, batch_size, &worker_cursor);
      if (n == 0) return 0;
      {
        absl::MutexLock l(&export_mu);
        if (exporter_closed) {
          DropInHand(&worker_batch);
        } else {
          ExportLocked(&worker_batch);
        }
      }
      Release(&worker_batch);
      Released(n);
      return n;
    }

    // ---- The worker ----

    // Whether there is work: `want` records queued, a flush (of records
    // still queued or in the layer's hands) or stop.
    bool Ready(int64_t want) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      const auto queued = static_cast<int64_t>(layer.size());
      return stop || (flush_target > released && (queued > 0 || layer.pending() > 0)) ||
             queued >= want;
    }
    bool FlushPending() {
      absl::MutexLock l(&mu);
      return flush_target > released && layer.size() > 0;
    }

    // Waits until a batch is full (two while polling), a flush or stop is
    // asked, the schedule delay has passed (*timed), or a test woke it.
    // Returns whether to export from the queue; false when only the layer's
    // pending batches are to be exported.
    bool WaitForWork(bool* timed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      // (While the ending threads export, the worker takes over at the
      // high water mark only.)
      int64_t want = layer.ending() ? high_water : batch_size;
      for (;;) {
        const absl::Time now = options.clock->Now();
        const auto seen = layer.Look(*this, now);
        *timed = now >= next_due;
        if (seen == Layer::Seen::kLeftBatch || Ready(want) || *timed) return true;
        if (seen == Layer::Seen::kPending) return false;
        if (wake_for_test) {
          wake_for_test = false;
          return true;
        }
        // When will two batches be full at the rate records arrived since
        // the last wait? (Waking per batch, twice as often, cost 2 threads
        // on 2 cores 7 % of their rate: a timed wake preempts one of them.)
        const auto pushed_now = static_cast<int64_t>(layer.pushed());
        const double seconds = absl::ToDoubleSeconds(now - last_wait);
        const double rate = seconds > 0 ? (pushed_now - pushed_at_last_wait) / seconds : 0;
        last_wait = now;
        pushed_at_last_wait = pushed_now;
        absl::Time until = next_due;
        bool poll;
        if (layer.ending()) {
          // The ending threads export. Wake for the schedule delay, a
          // flush, the high water mark (they could not keep up; with
          // `polling` set, pushes signal only there), and the next look.
          until = std::min(until, layer.next_look());
          poll = true;
          want = high_water;
        } else {
          if (rate > 0) {
            const int64_t missing = poll_target - static_cast<int64_t>(layer.size());
            const absl::Duration fill = absl::Seconds(static_cast<double>(missing) / rate);
            if (fill < kMaxPoll) until = std::min(next_due, now + std::max(fill, kMinPoll));
          }
          poll = until < next_due;
          want = poll ? poll_target : batch_size;
        }
        polling.store(poll, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);  // then read the queue's tail
        // Look again after clearing the flag: a push that filled the batch
        // before it saw the flag cleared did not signal.
        if (!poll && Ready(want)) return true;
        wake.WaitWithTimeout(&mu, std::max(until - now, absl::Microseconds(1)));
      }
    }

    void Run() {
      if (options.start_worker) {
        // Timed sleeps are short while records arrive fast; ask the kernel
        // not to stretch them (the default slack is 50 µs).
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
        pthread_setname_np(pthread_self(), options.thread_name.substr(0, 15).c_str());
      }
      {
        absl::MutexLock l(&mu);
        last_wait = options.clock->Now();
      }
      for (;;) {
        bool stopping, timed, export_queue;
        absl::Time shutdown_at;
        {
          absl::MutexLock l(&mu);
          export_queue = WaitForWork(&timed);
          stopping = stop;
          shutdown_at = shutdown_deadline;
          if (timed) next_due = options.clock->Now() + options.schedule_delay;
        }
        worker_passes.fetch_add(1, std::memory_order_relaxed);
        // Whole batches while there are any; the partial one on a timed
        // wake, a flush or shutdown.
        bool partial = timed || stopping;
        while (export_queue) {
          // (Shutdown may have been asked for during this pass's exports.)
          if (PastShutdownDeadline()) break;
          const auto queued = static_cast<int64_t>(layer.size());
          if (queued == 0 || (queued < batch_size && !partial && !FlushPending())) break;
          if (ExportBatch() == 0) {
            // A cell claimed but not yet filled (its producer was
            // preempted) holds the rest back: let the producer run.
            std::this_thread::yield();
            break;
          }
        }
        if (layer.pending() > 0 && !PastShutdownDeadline()) layer.ExportPending(*this);
        if (stopping) {
          Drain(shutdown_at);
          return;
        }
      }
    }

    bool PastShutdownDeadline() {
      if (!stop_requested.load(std::memory_order_acquire)) return false;
      absl::MutexLock l(&mu);
      return absl::Now() >= shutdown_deadline;
    }

    // The final drain: also the records whose producers had claimed a cell
    // but not filled it yet (preempted there), by the deadline; then no
    // export after, and what is left is dropped (shutdown).
    void Drain(absl::Time shutdown_at) {
      const auto target = static_cast<int64_t>(layer.pushed());
      for (int idle = 0; static_cast<int64_t>(layer.popped()) < target && idle < 1000 &&
                         absl::Now() < shutdown_at;) {
        if (ExportBatch() == 0) {
          ++idle;
          std::this_thread::yield();
        } else {
          idle = 0;
        }
      }
      if (absl::Now() < shutdown_at) layer.ExportPending(*this);
      {
        absl::MutexLock l(&export_mu);
        exporter_closed = true;  // no export after this point
      }
      layer.ExportPending(*this);  // what is left is dropped: the exporter is closed
      for (int i = 0; i < 1 << 20 && PopBatch(&worker_batch, batch_size, &worker_cursor) != 0;
           ++i) {
        const auto n = static_cast<int64_t>(worker_batch.size());
        DropInHand(&worker_batch);  // past the deadline, or pushed after the drain began
        Release(&worker_batch);
        Released(n);
      }
      worker_done.store(true, std::memory_order_release);
      absl::MutexLock l(&mu);
      finished = true;
      progress.SignalAll();
    }

    // fork(): the child inherits the queue but not the worker. It drops the
    // parent's records (the parent exports them) and starts a worker of its
    // own (RestartAfterFork). `mu` was taken in prepare.
    void ChildAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      // A parent's thread may have been between claiming a cell and filling
      // it, or exporting: the records behind those are the parent's (as the
      // inherited stacks of its threads are); the child lets them go
      // without releasing them, and starts with new queues.
      for (T& r : worker_batch) new (&r) T();  // forgotten, not released
      worker_batch.clear();
      layer.ResetAfterFork();
      for (auto* a :
           {&exported, &dropped_queue_full, &dropped_export_failed, &dropped_shutdown_at_offer,
            &dropped_shutdown_at_drain, &in_hand, &in_export, &export_calls,
            &exported_by_offering_threads, &exported_on_ending_threads, &dropped_export_busy}) {
        a->store(0, std::memory_order_relaxed);
      }
      flush_target = 0;
      released = 0;
      last_wait = options.clock->Now();
      pushed_at_last_wait = 0;
      polling.store(false, std::memory_order_seq_cst);
      // The parent's threads that waited on these (the worker, a flushing
      // caller) are queued in them but do not exist here, and a Signal
      // could pick one of them. Start both afresh (nothing to release).
      new (&wake) absl::CondVar();
      new (&progress) absl::CondVar();
      new (&export_mu) absl::Mutex();
      mu.Unlock();
    }

    static constexpr absl::Duration kMinPoll = absl::Microseconds(20);
    static constexpr absl::Duration kMaxPoll = absl::Milliseconds(2);

    const BatchEngineOptions options;
    const ExportFn export_fn;
    const ReleaseFn release;
    const int64_t batch_size;
    const int64_t high_water;   // a push always wakes the worker at this size
    const int64_t poll_target;  // a polling worker wakes at this size
    Layer layer;
    int fork_id = 0;

    // Counters: relaxed, each read on its own by Stats().
    alignas(64) std::atomic<int64_t> exported{0};
    std::atomic<int64_t> dropped_export_failed{0};
    std::atomic<int64_t> dropped_shutdown_at_drain{0};
    std::atomic<int64_t> in_hand{0};
    std::atomic<int64_t> in_export{0};
    std::atomic<int64_t> export_calls{0};
    std::atomic<int64_t> worker_passes{0};
    std::atomic<int64_t> exported_by_offering_threads{0};
    std::atomic<int64_t> exported_on_ending_threads{0};
    alignas(64) std::atomic<int64_t> dropped_queue_full{0};
    std::atomic<int64_t> dropped_shutdown_at_offer{0};
    std::atomic<int64_t> dropped_export_busy{0};
    // Set once, under mu (see Offer for its memory order).
    std::atomic<bool> stop_requested{false};
    // The worker has exported for the last time (release/acquire).
    std::atomic<bool> worker_done{false};
    // seq_cst, with fences: pairs with the queue's tail (CheckLevel,
    // WaitForWork).
    alignas(64) std::atomic<bool> polling{false};

    // Held around each ExportFn call (one at a time): by the worker, by an
    // offering thread (offer_exports_when_full, try-locked) or by the layer
    // (try-locked). Held for the export only; never taken with mu held.
    absl::Mutex export_mu ABSL_ACQUIRED_BEFORE(mu);
    bool exporter_closed ABSL_GUARDED_BY(export_mu) = false;  // the final drain is over
    // The worker's batch in hand (only the worker uses it).
    std::vector<T> worker_batch;
    size_t worker_cursor = 0;

    absl::Mutex mu;
    absl::CondVar wake;      // to the worker: a batch is ready, a flush, or stop
    absl::CondVar progress;  // from the worker and exporters: `released` advanced
    int64_t flush_target ABSL_GUARDED_BY(mu) = 0;
    // Records released after they left the exporter or were dropped in
    // hand: what ForceFlush waits for (the pushes made before it).
    int64_t released ABSL_GUARDED_BY(mu) = 0;
    bool stop ABSL_GUARDED_BY(mu) = false;
    bool finished ABSL_GUARDED_BY(mu) = false;
    bool wake_for_test ABSL_GUARDED_BY(mu) = false;
    absl::Time shutdown_deadline ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
    absl::Time next_due ABSL_GUARDED_BY(mu);  // the schedule delay's end, on the clock
    absl::Time last_wait ABSL_GUARDED_BY(mu);
    int64_t pushed_at_last_wait ABSL_GUARDED_BY(mu) = 0;
  };

 private:
  static void StartWorker(const std::shared_ptr<Core>& core) {
    std::thread([core] { core->Run(); }).detach();  // shares the core; ends at Shutdown
  }

  explicit BatchEngine(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

}  // namespace tracewire::sdk
