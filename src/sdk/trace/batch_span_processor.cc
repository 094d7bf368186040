#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <new>
#include <optional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/fork_handlers.h"
#include "common/mpmc_queue.h"
#include "common/spare_cores.h"
#include "sdk/trace/batch_span_processor_internal.h"
#include "sdk/trace/provider_state.h"
#include "sdk/trace/span_ref_access.h"
#include "tracewire/span_exporter.h"

namespace tracewire {

namespace batch_span_processor_internal {
namespace {
std::atomic<double (*)()> spare_cores_for_test{nullptr};
}  // namespace
void SetSpareCoresForTest(double (*read)()) { spare_cores_for_test.store(read); }
}  // namespace batch_span_processor_internal

// The processor's state lives in a shared Impl so that a worker stuck in a
// hung exporter past the shutdown deadline can be left to finish on its own
// without touching freed memory.
struct BatchSpanProcessor::Impl {
  Impl(std::unique_ptr<SpanExporter> e, BatchSpanProcessorOptions o)
      : exporter(std::move(e)),
        options(o),
        mode(ModeInEffect(*exporter, o)),
        high_water(std::max(o.max_export_batch_size, o.max_queue_size * 3 / 4)),
        poll_target(std::min(high_water, 2 * o.max_export_batch_size)),
        stripe_count(StripeCount(o.max_queue_size)),
        check_mask(CheckEvery(o.max_queue_size, stripe_count) - 1),
        stripes(new Stripe[stripe_count]) {
    MakeQueues();
    ending_export.store(mode == Mode::kAlways, std::memory_order_relaxed);
  }

  using Mode = BatchSpanProcessorOptions::EndingThreadsExport;
  // The ending-thread export mode in effect: kNever without export_when_full,
  // and kWhenCoresBusy only for an exporter that never blocks.
  static Mode ModeInEffect(const SpanExporter& e, const BatchSpanProcessorOptions& o) {
    if (!o.export_when_full) return Mode::kNever;
    if (o.ending_threads_export == Mode::kWhenCoresBusy && !e.ExportNeverBlocks()) {
      return Mode::kNever;
    }
    return o.ending_threads_export;
  }

  // The queue is striped: threads ending spans push into different stripes
  // (as far as there are enough), so they do not fight over one tail (two
  // threads on one tail cost a fifth of their rate). The stripes share
  // max_queue_size between them; a thread whose stripe is full pushes into
  // another, so that one thread alone sees the whole queue, and the queue is
  // full when all stripes are. A power of two of them (a mask picks one), at
  // most 4 and at most one per core.
  static size_t StripeCount(int64_t max_queue_size) {
    size_t n = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
    while (n > 1 && (n & (n - 1)) != 0) --n;
    while (n > 1 && static_cast<int64_t>(n) > max_queue_size) n /= 2;
    return n;
  }
  // How often (in pushes to a stripe, a power of two) OnEnd looks at the
  // queue's level: about an eighth of a stripe, at most 32.
  static int64_t CheckEvery(int64_t max_queue_size, size_t stripes) {
    const int64_t want =
        std::clamp<int64_t>(max_queue_size / (8 * static_cast<int64_t>(stripes)), 1, 32);
    int64_t n = 1;
    while (n * 2 <= want) n *= 2;
    return n;
  }
  void MakeQueues() {
    const auto per = static_cast<size_t>(options.max_queue_size) / stripe_count;
    const auto extra = static_cast<size_t>(options.max_queue_size) % stripe_count;
    for (size_t i = 0; i < stripe_count; ++i) stripes[i].queue.emplace(per + (i < extra ? 1 : 0));
  }
  struct Buffers {
    std::vector<SpanRef> batch;
    std::vector<sdk::RecordedSpan*> raw;  // room for a batch
    size_t next_stripe = 0;
  };
  struct alignas(64) Stripe {
    std::optional<common::MpmcQueue<sdk::RecordedSpan*>> queue;  // one reference per span
    // An ending thread's batch (ExportHere), used while helper_busy is held.
    // A batch taken out of the queue whose export found the exporter busy
    // waits here (`pending`) for the next look of a thread ending spans into
    // this stripe, or for the worker.
    std::atomic<bool> helper_busy{false};
    Buffers helper;
  };

  const std::unique_ptr<SpanExporter> exporter;
  const BatchSpanProcessorOptions options;
  const Mode mode;            // ending_threads_export, in effect
  const int64_t high_water;   // OnEnd always wakes the worker at this size
  const int64_t poll_target;  // a polling worker wakes at this size
  const size_t stripe_count;
  const uint64_t check_mask;        // OnEnd looks at the level after pushes at (pos & mask) == mask
  std::atomic<bool> closed{false};  // shut down: OnEnd drops (release/acquire)
  // The worker has exported for the last time. A span that OnEnd queued
  // after that (it passed the `closed` check first) is counted as dropped.
  std::atomic<bool> worker_done{false};
  const std::unique_ptr<Stripe[]> stripes;
  // Statistics and hand-off counters; relaxed unless noted. `done` counts
  // like Pushed(): spans exported since the start.
  alignas(64) std::atomic<int64_t> done{0}, dropped{0}, failed{0}, processed{0};

  // A thread keeps to one stripe, and threads are spread over the stripes
  // in the order they first end a span.
  Stripe& MyStripe() {
    static std::atomic<uint32_t> threads_seen{0};
    thread_local uint32_t index = 0;  // 0: not yet numbered
    if (index == 0) [[unlikely]]
      index = threads_seen.fetch_add(1, std::memory_order_relaxed) + 1;
    return stripes[index & (stripe_count - 1)];
  }
  int64_t QueueSize() const {
    size_t n = 0;
    for (size_t i = 0; i < stripe_count; ++i) n += stripes[i].queue->SizeApprox();
    return static_cast<int64_t>(n);
  }
  int64_t Popped() const {
    size_t n = 0;
    for (size_t i = 0; i < stripe_count; ++i) n += stripes[i].queue->popped();
    return static_cast<int64_t>(n);
  }
  int64_t Pushed() const {
    size_t n = 0;
    for (size_t i = 0; i < stripe_count; ++i) n += stripes[i].queue->pushed();
    return static_cast<int64_t>(n);
  }
  // Takes up to `max` spans out of the stripes, from `*next` on.
  size_t PopSpans(sdk::RecordedSpan** out, size_t max, size_t* next) {
    size_t got = 0;
    for (size_t tries = 0; tries < stripe_count && got < max; ++tries) {
      auto& q = *stripes[*next].queue;
      for (size_t n; got < max && (n = q.TryPopBatch(out + got, max - got)) != 0;) got += n;
      if (got < max) *next = (*next + 1) & (stripe_count - 1);
    }
    return got;
  }

  absl::Mutex mu;
  absl::CondVar wake;      // to the worker: a batch is ready, a flush, or stop
  absl::CondVar progress;  // from the worker: `done` advanced
  int64_t flush_target ABSL_GUARDED_BY(mu) = 0;
  bool stop ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;

  // Claims a cell in this thread's stripe, or another's (*where tells which);
  // false when all are full. Fill it with the stripe's queue->Fill(*pos, r).
  bool Claim(Stripe* mine, Stripe** where, size_t* pos) {
    if (mine->queue->TryClaim(pos)) {
      *where = mine;
      return true;
    }
    for (size_t i = 0; i < stripe_count; ++i) {
      if (&stripes[i] != mine && stripes[i].queue->TryClaim(pos)) {
        *where = &stripes[i];
        return true;
      }
    }
    return false;
  }
  // Queues `r` (in this thread's stripe, or another); returns the stripe it
  // went to, nullptr when all are full.
  Stripe* Push(Stripe* mine, sdk::RecordedSpan* r, size_t* pos) {
    Stripe* where;
    if (!Claim(mine, &where, pos)) return nullptr;
    where->queue->Fill(*pos, r);
    return where;
  }

  // After a push at `pos` (OnEnd, Fill), looks at the queue's level: after
  // every push while the worker waits for a signal (spans arrive slowly: the
  // check costs little then, and a batch is exported the moment it is full);
  // every check_mask + 1 pushes of a stripe while it polls or has been
  // signalled (the check is for the high water mark).
  void AfterPush(size_t pos, Stripe* where) {
    if ((pos & check_mask) == check_mask || !polling.load(std::memory_order_relaxed)) {
      CheckLevel(pos, where);
    }
  }

  // Called after a push into `where` (see AfterPush for which): when a batch
  // is queued and the ending threads export (the cores are busy), exports it
  // from here, from `where` first, unless another thread is exporting. Else
  // wakes the worker when a batch is queued, unless it is polling, and at
  // the high water mark in any case.
  //
  // Past the high water mark the ending thread also yields its CPU once: on
  // a machine whose cores all run threads ending spans, the woken worker
  // otherwise waits for the scheduler's wake-up granularity (milliseconds)
  // while the queue overflows. (2 threads on 2 cores: drops went from 7-15 %
  // to 0.1-0.4 %.) Where a core is idle, the yield returns at once.
  //
  // While the ending threads export, each looks at its own stripe first (its
  // lines are in this core's cache) and adds up the others' levels at every
  // fourth look only: the other stripes' tails are lines of other cores, and
  // fetching them at each look cost 2 threads ~3 ns a span.
  void CheckLevel(size_t pos, Stripe* where) {
    const bool ending = ending_export.load(std::memory_order_relaxed);
    if (ending) {
      // (A few batches at most: with a batch smaller than the look's
      // interval, one a look would fall behind.)
      bool exported = false;
      for (int i = 0;
           i < 4 &&
           static_cast<int64_t>(where->queue->SizeApprox()) >= options.max_export_batch_size &&
           ExportHere(where);
           ++i) {
        exported = true;
      }
      if (exported) return;
      const size_t every_fourth = 4 * (check_mask + 1) - 1;
      if ((pos & every_fourth) != every_fourth) return;
    }
    const int64_t out = QueueSize();
    if (out < options.max_export_batch_size) return;
    if (ending && ExportHere(where)) return;
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

  // The exporter is called by one thread at a time, holding export_mu: the
  // worker, or a thread ending a span that found the queue full
  // (export_when_full). The worker holds it only while Export runs, so that
  // such a thread finds it free whenever the worker is not exporting.
  absl::Mutex export_mu ABSL_ACQUIRED_BEFORE(mu);
  bool exporter_closed ABSL_GUARDED_BY(export_mu) = false;  // the worker has ended
  Buffers worker_buffers;                                   // the worker's
  Buffers helper_buffers ABSL_GUARDED_BY(export_mu);        // the ending threads'
  alignas(64) std::atomic<int64_t> exported_when_full{0};
  std::atomic<int64_t> dropped_export_busy{0};         // of `dropped` (Stats)
  std::atomic<int64_t> exported_on_ending_threads{0};  // (Stats)
  // Spans in the stripes' pending batches (ExportHere): out of the queue,
  // not yet exported. Counted with the queue's size.
  std::atomic<int64_t> pending{0};
  // Whether the ending threads export the batches (ending_threads_export):
  // always or never as the options say, else set by the worker from its
  // meter. Relaxed: a late look only moves one batch to the other thread.
  std::atomic<bool> ending_export{false};

  // Takes up to one batch out of the queue into b->batch.
  int64_t TakeBatch(Buffers* b) {
    if (b->raw.empty()) b->raw.resize(static_cast<size_t>(options.max_export_batch_size));
    b->batch.clear();
    const size_t got = PopSpans(b->raw.data(), static_cast<size_t>(options.max_export_batch_size),
                                &b->next_stripe);
    for (size_t i = 0; i < got; ++i) {
      b->batch.push_back(sdk::SpanRefAccess::Adopt(b->raw[i]));  // the queue's reference
    }
    return static_cast<int64_t>(got);
  }
  void ExportLocked(std::vector<SpanRef>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(export_mu) {
    const auto n = static_cast<int64_t>(batch->size());
    absl::Status st = exporter->Export(std::span<const SpanRef>(*batch));
    if (!st.ok()) failed.fetch_add(n, std::memory_order_relaxed);
    processed.fetch_add(n, std::memory_order_relaxed);
  }
  // The worker's: exports up to one batch; returns how many spans it took.
  int64_t ExportBatch() {
    Buffers& b = worker_buffers;
    const int64_t n = TakeBatch(&b);
    if (n != 0) ExportAndRelease(&b.batch);
    Exported(n);
    return n;
  }
  // The worker's export of a batch it holds: waits for the exporter, then
  // frees the records (after letting go of the lock).
  void ExportAndRelease(std::vector<SpanRef>* batch) {
    {
      absl::MutexLock l(&export_mu);
      ExportLocked(batch);
    }
    sdk::ReleaseAll(batch);
  }
  // Counts n spans as done for ForceFlush.
  void Exported(int64_t n) {
    absl::MutexLock l(&mu);
    done.fetch_add(n, std::memory_order_relaxed);
    progress.SignalAll();
  }

  // A thread that ended a span (into `where`) found a batch queued while
  // the cores are busy: exports one, taking from `where` first (its cells
  // are in this core's cache), or the stripe's pending batch. False when it
  // exported nothing.
  //
  // The exporter lock is held for the export only: the batch is taken out
  // of the queue before (and kept in the stripe, pending, when another
  // thread is exporting), and released after. A thread stalled while it
  // holds the lock (this VM stalls a busy thread for 0.1-10 ms dozens of
  // times a second) makes the other threads drop once the queue fills.
  bool ExportHere(Stripe* where) {
    // Another thread is exporting from this stripe's buffers: it takes the batch.
    if (where->helper_busy.exchange(true, std::memory_order_acquire)) return false;
    Buffers& b = where->helper;
    if (b.batch.empty()) {
      b.next_stripe = static_cast<size_t>(where - stripes.get());
      const int64_t got = TakeBatch(&b);
      if (got == 0) {
        where->helper_busy.store(false, std::memory_order_release);
        return false;
      }
      pending.fetch_add(got, std::memory_order_relaxed);
    }
    const auto n = static_cast<int64_t>(b.batch.size());
    bool taken = false, closed_now = false;
    if (export_mu.TryLock()) {
      taken = true;
      if (exporter_closed) {
        closed_now = true;  // (spans queued as the processor shut down)
      } else {
        ExportLocked(&b.batch);
      }
      export_mu.Unlock();
    }
    if (taken) {
      sdk::ReleaseAll(&b.batch);
      pending.fetch_sub(n, std::memory_order_relaxed);
      if (closed_now) dropped.fetch_add(n, std::memory_order_relaxed);
    }
    where->helper_busy.store(false, std::memory_order_release);
    if (!taken || closed_now) return false;
    exported_on_ending_threads.fetch_add(n, std::memory_order_relaxed);
    Exported(n);
    return true;
  }

  // The worker's: exports the stripes' pending batches (waiting for a
  // stripe whose buffers an ending thread is using).
  void ExportPending() {
    for (size_t i = 0; i < stripe_count && pending.load(std::memory_order_relaxed) > 0; ++i) {
      Stripe& s = stripes[i];
      while (s.helper_busy.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
      const auto n = static_cast<int64_t>(s.helper.batch.size());
      if (n != 0) {
        ExportAndRelease(&s.helper.batch);
        pending.fetch_sub(n, std::memory_order_relaxed);
        Exported(n);
      }
      s.helper_busy.store(false, std::memory_order_release);
    }
  }

  // OnEnd found the queue full. When no export is running, exports a batch
  // from this thread (making room) and returns true; otherwise false at once.
  enum class Helped { kExported, kExporterBusy, kNothing };
  Helped ExportWhenFull() {
    if (!options.export_when_full) return Helped::kNothing;
    if (!export_mu.TryLock()) return Helped::kExporterBusy;
    int64_t n = 0;
    if (!exporter_closed && (n = TakeBatch(&helper_buffers)) != 0) {
      ExportLocked(&helper_buffers.batch);
      sdk::ReleaseAll(&helper_buffers.batch);
    }
    export_mu.Unlock();
    if (n == 0) return Helped::kNothing;
    exported_when_full.fetch_add(n, std::memory_order_relaxed);
    Exported(n);
    return Helped::kExported;
  }

  // Counts a span OnEnd could not queue; wakes the worker every 64th time.
  void Drop() {
    if (dropped.fetch_add(1, std::memory_order_relaxed) % 64 == 0) {
      absl::MutexLock l(&mu);
      wake.Signal();
    }
  }

  // The worker is woken by its own timer while spans arrive fast, and by
  // OnEnd's signal when they arrive slowly. A signal per batch costs the
  // ending thread a futex wake (several µs on a VM), and the kernel then tends
  // to run the woken worker on the ending thread's core. So while the arrival
  // rate would fill a batch within kMaxPoll, the worker sleeps until two
  // batches (poll_target) should be full and sets `polling`, and OnEnd signals only at the high
  // water mark; otherwise it sleeps until the schedule delay and OnEnd wakes it
  // when a batch is full.
  static constexpr absl::Duration kMinPoll = absl::Microseconds(20);
  static constexpr absl::Duration kMaxPoll = absl::Milliseconds(2);
  // While spans arrive, the worker looks every kLookEvery: it measures the
  // cores the process leaves spare (kWhenCoresBusy), with the thresholds (in
  // cores) at which the ending threads start exporting and stop again
  // (between the two: as before; one thread ending spans on two cores, with
  // the worker exporting, leaves about 0.7 spare, two leave none); and while
  // the ending threads export, it takes a full batch that none of them took
  // since its last look (the thread that filled it stopped before its next
  // look at the level).
  static constexpr absl::Duration kLookEvery = absl::Milliseconds(100);
  static constexpr double kBusyBelow = 0.25;
  static constexpr double kIdleAbove = 0.75;
  common::SpareCoresMeter meter ABSL_GUARDED_BY(mu);
  absl::Time next_look ABSL_GUARDED_BY(mu);
  int64_t done_at_look ABSL_GUARDED_BY(mu) = 0;

  // The look, if it is time: whether the worker should take the full batch
  // the ending threads left (kLeftBatch), or their pending batches
  // (ExportHere) only.
  enum class Seen { kNothing, kLeftBatch, kPending };
  Seen Look(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (now < next_look) return Seen::kNothing;
    next_look = now + kLookEvery;
    if (mode == Mode::kWhenCoresBusy) {
      double (*for_test)() = batch_span_processor_internal::spare_cores_for_test.load();
      const double spare = for_test != nullptr ? for_test() : meter.Read();
      if (spare < kBusyBelow) ending_export.store(true, std::memory_order_relaxed);
      if (spare > kIdleAbove) ending_export.store(false, std::memory_order_relaxed);
    }
    const int64_t d = done.load(std::memory_order_relaxed);
    const bool left = ending_export.load(std::memory_order_relaxed) &&
                      QueueSize() >= options.max_export_batch_size && d == done_at_look;
    done_at_look = d;
    if (left) return Seen::kLeftBatch;
    return pending.load(std::memory_order_relaxed) > 0 ? Seen::kPending : Seen::kNothing;
  }
  // seq_cst, with fences: pairs with the queue's tail (OnEnd, WaitForWork).
  std::atomic<bool> polling{false};
  absl::Time last_look ABSL_GUARDED_BY(mu);
  int64_t last_enqueued ABSL_GUARDED_BY(mu) = 0;

  // Whether there is work: `want` spans queued, a flush (of spans still in
  // the queue: those an ending thread is exporting are counted done when it
  // is through) or stop.
  bool Ready(int64_t want) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const int64_t queued = QueueSize();
    return stop ||
           (flush_target > done.load(std::memory_order_relaxed) &&
            (queued > 0 || pending.load(std::memory_order_relaxed) > 0)) ||
           queued >= want;
  }

  // Waits until a batch is full (two while polling), a flush or stop is
  // asked, or the schedule delay has passed: then true. False when a look
  // found only pending batches (ExportHere) to export.
  bool WaitForWork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const absl::Time delay_end = absl::Now() + options.schedule_delay;
    // (While the ending threads export, the worker takes over at the high
    // water mark only.)
    int64_t want =
        ending_export.load(std::memory_order_relaxed) ? high_water : options.max_export_batch_size;
    for (;;) {
      const absl::Time now = absl::Now();
      const Seen seen = Look(now);
      if (seen == Seen::kLeftBatch || Ready(want) || now >= delay_end) return true;
      if (seen == Seen::kPending) return false;
      // When will two batches be full at the rate spans arrived since the
      // last look? (Waking per batch, twice as often, cost 2 threads on 2
      // cores 7 % of their rate: a timed wake preempts one of them.)
      const int64_t enqueued_now = Pushed();
      const double seconds = absl::ToDoubleSeconds(now - last_look);
      const double rate = seconds > 0 ? (enqueued_now - last_enqueued) / seconds : 0;
      last_look = now;
      last_enqueued = enqueued_now;
      absl::Time until = delay_end;
      bool poll;
      if (ending_export.load(std::memory_order_relaxed)) {
        // The ending threads export. Wake for the schedule delay, a flush,
        // the high water mark (they could not keep up; with `polling` set,
        // OnEnd signals only there), and for the next look.
        until = std::min(until, next_look);
        poll = true;
        want = high_water;
      } else {
        if (rate > 0) {
          const int64_t missing = poll_target - QueueSize();
          const absl::Duration fill = absl::Seconds(static_cast<double>(missing) / rate);
          if (fill < kMaxPoll) until = std::min(delay_end, now + std::max(fill, kMinPoll));
        }
        poll = until < delay_end;
        want = poll ? poll_target : options.max_export_batch_size;
      }
      polling.store(poll, std::memory_order_seq_cst);
      std::atomic_thread_fence(std::memory_order_seq_cst);  // then read the queue's tail
      // Look again after clearing the flag: a span that filled the batch
      // before OnEnd saw the flag cleared did not signal.
      if (!poll && Ready(want)) return true;
      wake.WaitWithDeadline(&mu, until);
    }
  }

  void Run() {
    // Timed sleeps are short while spans arrive fast; ask the kernel not to
    // stretch them (the default slack is 50 µs).
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    pthread_setname_np(pthread_self(), "tw-batch-span");  // 15 characters at most
    {
      absl::MutexLock l(&mu);
      last_look = absl::Now();
      next_look = last_look + kLookEvery;
      (void)meter.Read();  // the first interval starts now
    }
    for (;;) {
      bool stopping, export_queue;
      {
        absl::MutexLock l(&mu);
        export_queue = WaitForWork();
        stopping = stop;
      }
      // Export whole batches while there are any; otherwise what is there.
      while (export_queue) {
        const int64_t n = ExportBatch();
        if (n == 0) {
          // A slot claimed but not yet filled (its producer was preempted)
          // can hold a flush back: let the producer run.
          std::this_thread::yield();
          break;
        }
        export_queue = QueueSize() >= options.max_export_batch_size || stopping || FlushPending();
      }
      if (pending.load(std::memory_order_relaxed) > 0) ExportPending();
      if (stopping) {
        // Also the spans whose producers had claimed a cell but not filled
        // it yet (preempted there): they were queued before the stop.
        const int64_t target = Pushed();
        for (int idle = 0; Popped() < target && idle < 1000;) {
          if (ExportBatch() == 0) {
            ++idle;
            std::this_thread::yield();
          } else {
            idle = 0;
          }
        }
        ExportPending();
        {
          absl::MutexLock l(&export_mu);  // no export after this one
          exporter_closed = true;
        }
        worker_done.store(true, std::memory_order_release);
        absl::MutexLock l(&mu);
        finished = true;
        progress.SignalAll();
        return;
      }
    }
  }

  // Lets go of the spans left in the queue (drops the queue's references).
  void ReleaseQueued() {
    sdk::RecordedSpan* s;
    size_t next = 0;
    while (PopSpans(&s, 1, &next) == 1) (void)sdk::SpanRefAccess::Adopt(s);
  }
  ~Impl() { ReleaseQueued(); }

  // fork(): the child inherits the queue but not the worker. It drops the
  // parent's spans (the parent exports them) and starts a worker of its own.
  int fork_id = 0;

  void ChildAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ReleaseQueued();
    // A parent's thread may have been between claiming a cell and filling
    // (or freeing) it: the child starts with new queues. (Records behind
    // such a cell are the parent's; the child lets them go.)
    MakeQueues();
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
    // A parent's thread may have been exporting: its batch is the parent's
    // to release (as the inherited stacks of its threads are).
    new (&export_mu) absl::Mutex();
    for (Buffers* b : {&worker_buffers, &helper_buffers}) {
      for (SpanRef& r : b->batch) (void)sdk::SpanRefAccess::Release(r);
      b->batch.clear();
    }
    for (size_t i = 0; i < stripe_count; ++i) {  // (the same for an ending thread's)
      for (SpanRef& r : stripes[i].helper.batch) (void)sdk::SpanRefAccess::Release(r);
      stripes[i].helper.batch.clear();
      stripes[i].helper_busy.store(false, std::memory_order_relaxed);
    }
    pending.store(0, std::memory_order_relaxed);
    exported_when_full.store(0, std::memory_order_relaxed);
    exported_on_ending_threads.store(0, std::memory_order_relaxed);
    dropped_export_busy.store(0, std::memory_order_relaxed);
    // The child has its own threads: measure afresh.
    ending_export.store(mode == Mode::kAlways, std::memory_order_relaxed);
    meter = common::SpareCoresMeter();
    next_look = last_look + kLookEvery;
    done_at_look = done.load(std::memory_order_relaxed);
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
    return flush_target > done.load(std::memory_order_relaxed) && QueueSize() > 0;
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
  impl->fork_id =
      common::RegisterForkHandler({[raw]() ABSL_NO_THREAD_SAFETY_ANALYSIS { raw->mu.Lock(); },
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
  // Recorded only: not exported.
  if (!(sdk::SpanRefAccess::Get(span)->flags & kTraceFlagSampled)) return;
  if (m.closed.load(std::memory_order_acquire)) {
    m.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Impl::Stripe& st = m.MyStripe();
  size_t pos;
  Impl::Stripe* where;
  // This thread's stripe, else another; all full: export a batch from here
  // if no export runs, else drop and count (`span` lets go; Drop() wakes
  // the worker).
  if ((where = m.Push(&st, sdk::SpanRefAccess::Get(span), &pos)) == nullptr) [[unlikely]] {
    // Push again even if this thread did not export (another may be taking
    // a batch out just now), and export again if other threads took the
    // room this one made. While another thread exports, yield (then sleep a
    // little, leaving the cores to it) and try again, as long as spans keep
    // being exported (export_when_full_patience).
    bool queued = false;
    Impl::Helped helped = Impl::Helped::kNothing;
    absl::Time give_up = absl::InfinitePast();
    int64_t seen_done = 0;
    for (int round = 0; !queued; ++round) {
      helped = m.ExportWhenFull();
      queued = (where = m.Push(&st, sdk::SpanRefAccess::Get(span), &pos)) != nullptr;
      if (queued || !m.options.export_when_full) break;
      // Exported: room was made (others may have taken it). Nothing to take:
      // the cells are claimed by threads still filling them, or batches wait
      // in the stripes (pending); both move on without this thread.
      if (helped == Impl::Helped::kExported) continue;
      if (m.closed.load(std::memory_order_acquire)) break;
      if ((round & 15) == 0) {  // the clock, every 16 rounds
        const absl::Time now = absl::Now();
        const int64_t done = m.done.load(std::memory_order_relaxed);
        if (round == 0 || done != seen_done) {
          seen_done = done;
          give_up = now + m.options.export_when_full_patience;
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
    if (!queued) {
      if (helped == Impl::Helped::kExporterBusy) {
        m.dropped_export_busy.fetch_add(1, std::memory_order_relaxed);
      }
      m.Drop();
      return;
    }
  }
  (void)sdk::SpanRefAccess::Release(span);  // the queue holds it now
  m.AfterPush(pos, where);
}

namespace sdk {

bool BatchSpanProcessorAccess::TryClaim(BatchSpanProcessor& processor, Claim* claim) {
  BatchSpanProcessor::Impl& m = *processor.impl_;
  if (m.closed.load(std::memory_order_acquire)) return false;
  BatchSpanProcessor::Impl::Stripe* where;
  if (!m.Claim(&m.MyStripe(), &where, &claim->pos)) return false;
  claim->stripe = where;
  return true;
}

void BatchSpanProcessorAccess::Fill(BatchSpanProcessor& processor, const Claim& claim,
                                    RecordedSpan* record) {
  using Stripe = BatchSpanProcessor::Impl::Stripe;
  BatchSpanProcessor::Impl& m = *processor.impl_;
  static_cast<Stripe*>(claim.stripe)->queue->Fill(claim.pos, record);
  m.AfterPush(claim.pos, static_cast<Stripe*>(claim.stripe));
}

}  // namespace sdk

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
  bool first;
  {
    absl::MutexLock l(&m.mu);
    // A second caller waits for the first one's drain too (and leaves the
    // exporter's shutdown to it).
    first = !m.stop;
    if (first) {
      m.stop = true;
      m.closed.store(true, std::memory_order_release);
      m.wake.Signal();
    }
    while (!m.finished) {
      if (m.progress.WaitWithDeadline(&m.mu, deadline) && !m.finished) {
        return absl::DeadlineExceededError(
            "BatchSpanProcessor shutdown deadline passed; the exporter is still busy");
      }
    }
  }
  return first ? m.exporter->Shutdown(deadline) : absl::OkStatus();
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
  const Impl& m = *impl_;
  BatchSpanProcessorStats s;
  s.processed = m.processed.load(std::memory_order_relaxed);
  s.dropped_queue_full = m.dropped.load(std::memory_order_relaxed);
  s.queue_size = m.QueueSize() + m.pending.load(std::memory_order_relaxed);
  if (m.worker_done.load(std::memory_order_acquire)) s.dropped_queue_full += s.queue_size;
  s.export_failures = m.failed.load(std::memory_order_relaxed);
  s.exported_when_full = m.exported_when_full.load(std::memory_order_relaxed);
  s.dropped_export_busy = m.dropped_export_busy.load(std::memory_order_relaxed);
  s.exported_on_ending_threads = m.exported_on_ending_threads.load(std::memory_order_relaxed);
  s.queue_capacity = m.options.max_queue_size;
  return s;
}

}  // namespace tracewire
