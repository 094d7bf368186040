#pragma once
// EndingThreadLayer<T>: the layer of BatchEngine (batch_engine.h) that the
// span processor uses, on top of the plain core: the queue striped by
// thread, and the export of full batches on the threads that offer records
// (for spans: the threads that end them) while the process leaves no core
// spare. Usable by any processor: BatchEngine<T, EndingThreadLayer<T>>.
//
// Striping. Threads offering records push into different stripes (as far as
// there are enough), so they do not fight over one tail (two threads on one
// tail cost a fifth of their rate). A power of two of stripes (a mask picks
// one), at most 4 and at most one per core; they share max_queue_size
// between them, exactly. A thread whose stripe is full pushes into another,
// so that one thread alone sees the whole queue, and the queue is full when
// all stripes are.
//
// Ending-thread export (mode, EndingThreadOptions):
//   kWhenCoresBusy: while the process leaves less than kBusyBelow of a core
//     spare, until it leaves more than kIdleAbove (the worker measures it
//     every kLookEvery while records arrive: common::SpareCoresMeter). Then
//     no core is idle for the worker: waking it takes a core from an
//     offering thread, costs two context switches, and moves the queue's
//     cache lines between cores. While a core is idle, the worker uses it
//     and offering threads pay nothing for the export.
//   kAlways / kNever.
// An offering thread's level check (every check_mask + 1 pushes of its
// stripe) that finds a batch queued exports it from here, from its own
// stripe first (its cells are in this core's cache); it adds up the other
// stripes' levels every fourth look only (their tails are other cores'
// lines). It takes the batch out of the queue first (in hand) and then
// export_mu, with a try-lock, for the export alone; it never waits for the
// lock. When another thread holds it, the batch waits in the stripe
// (`pending`, counted in_hand) for that stripe's next look, or for the
// worker. (A thread stalled while it holds the lock, as a VM stalls busy
// threads for 0.1-10 ms dozens of times a second, would otherwise make the
// other threads drop once the queue filled.)
//
// The worker's side: at each look (every kLookEvery) it measures the cores,
// and, while the ending threads export, takes a full batch that none of them
// took since its last look (the thread that filled it stopped before its
// next look), or the stripes' pending batches; it takes over at the high
// water mark. A flush and the final drain export the pending batches too.
//
// Where a record can be (batch_engine.h's states): a stripe's cells are
// "queued"; a stripe's pending batch is "in a batch in hand"; then it is
// "waiting for the exporter" like any batch. The invariant is the core's.
//
// Thread safety: as BatchEngine. A stripe's batch buffer is used only by the
// thread that holds its helper_busy flag.

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/mpmc_queue.h"
#include "common/spare_cores.h"
#include "sdk/batch/batch_engine.h"

namespace tracewire::sdk {

enum class EndingThreadsExport { kWhenCoresBusy, kNever, kAlways };

// Test seam: makes kWhenCoresBusy layers read the spare cores from `read`
// instead of measuring them; nullptr measures again. Thread-safe.
inline std::atomic<double (*)()>& SpareCoresForTest() {
  static std::atomic<double (*)()> read{nullptr};
  return read;
}

template <typename T>
class EndingThreadLayer {
  struct Stripe;

 public:
  struct Slot {
    Stripe* stripe;
    size_t pos;
  };
  using Seen = typename PlainLayer<T>::Seen;

  struct Options {
    // The mode in effect (the processor decides it from its options and its
    // exporter: kWhenCoresBusy and kAlways only for an ExportFn that never
    // blocks).
    EndingThreadsExport mode = EndingThreadsExport::kNever;
  };

  EndingThreadLayer(const BatchEngineOptions& o, const Options& lo)
      : mode_(lo.mode),
        capacity_(o.max_queue_size),
        batch_size_(static_cast<int64_t>(o.max_export_batch_size)),
        stripe_count_(StripeCount(o.max_queue_size)),
        check_mask_(PlainLayer<T>::CheckEvery(o.max_queue_size / stripe_count_) - 1),
        stripes_(new Stripe[stripe_count_]) {
    MakeQueues();
    ending_.store(mode_ == EndingThreadsExport::kAlways, std::memory_order_relaxed);
  }

  // ---- The queue ----

  bool TryClaim(Slot* s) {
    Stripe* mine = &MyStripe();
    if (mine->queue->TryClaim(&s->pos)) {
      s->stripe = mine;
      return true;
    }
    for (size_t i = 0; i < stripe_count_; ++i) {
      if (&stripes_[i] != mine && stripes_[i].queue->TryClaim(&s->pos)) {
        s->stripe = &stripes_[i];
        return true;
      }
    }
    return false;
  }
  void Fill(const Slot& s, T&& r) { s.stripe->queue->Fill(s.pos, std::move(r)); }
  static size_t Position(const Slot& s) { return s.pos; }
  // Takes up to `max` records out of the stripes, from `*cursor` on.
  size_t Pop(T* out, size_t max, size_t* cursor) {
    size_t got = 0;
    *cursor &= stripe_count_ - 1;
    for (size_t tries = 0; tries < stripe_count_ && got < max; ++tries) {
      auto& q = *stripes_[*cursor].queue;
      for (size_t n; got < max && (n = q.TryPopBatch(out + got, max - got)) != 0;) got += n;
      if (got < max) *cursor = (*cursor + 1) & (stripe_count_ - 1);
    }
    return got;
  }
  size_t pushed() const {
    size_t n = 0;
    for (size_t i = 0; i < stripe_count_; ++i) n += stripes_[i].queue->pushed();
    return n;
  }
  size_t popped() const {
    size_t n = 0;
    for (size_t i = 0; i < stripe_count_; ++i) n += stripes_[i].queue->popped();
    return n;
  }
  size_t size() const {
    size_t n = 0;
    for (size_t i = 0; i < stripe_count_; ++i) n += stripes_[i].queue->SizeApprox();
    return n;
  }
  size_t capacity() const { return capacity_; }
  size_t check_mask() const { return check_mask_; }

  // ---- Offering threads ----

  // Relaxed: a late look only moves one batch to the other thread.
  bool ending() const { return ending_.load(std::memory_order_relaxed); }

  // A level check while ending threads export: exports up to a few batches
  // from the slot's stripe while it holds one (with a batch smaller than
  // the look's interval, one a look would fall behind). True: done here
  // (exported, or it is not this push's turn to add up the stripes).
  template <typename C>
  bool AfterPushExport(C& core, const Slot& s, size_t pos) {
    bool exported = false;
    for (int i = 0; i < 4 && static_cast<int64_t>(s.stripe->queue->SizeApprox()) >= batch_size_ &&
                    ExportHere(core, s);
         ++i) {
      exported = true;
    }
    if (exported) return true;
    const size_t every_fourth = 4 * (check_mask_ + 1) - 1;
    return (pos & every_fourth) != every_fourth;
  }

  // Exports one batch from here, taking from the slot's stripe first, or
  // the stripe's pending batch. False when it exported nothing.
  template <typename C>
  bool ExportHere(C& core, const Slot& s) {
    Stripe* where = s.stripe;
    // Another thread is exporting from this stripe's buffer: it takes the batch.
    if (where->helper_busy.exchange(true, std::memory_order_acquire)) return false;
    std::vector<T>& b = where->batch;
    if (b.empty()) {
      size_t cursor = static_cast<size_t>(where - stripes_.get());
      const int64_t got = core.PopBatch(&b, batch_size_, &cursor);
      if (got == 0) {
        where->helper_busy.store(false, std::memory_order_release);
        return false;
      }
      pending_.fetch_add(got, std::memory_order_relaxed);
    }
    const auto n = static_cast<int64_t>(b.size());
    bool exported = false;
    if (core.export_mu.TryLock()) {
      if (core.exporter_closed) {
        core.DropInHand(&b);  // (records queued as the engine shut down)
      } else {
        core.ExportLocked(&b);
        exported = true;
      }
      core.export_mu.Unlock();
      core.Release(&b);
      pending_.fetch_sub(n, std::memory_order_relaxed);
      if (exported) core.exported_on_ending_threads.fetch_add(n, std::memory_order_relaxed);
      core.Released(n);
    }
    where->helper_busy.store(false, std::memory_order_release);
    return exported;
  }

  // ---- The worker ----

  int64_t pending() const { return pending_.load(std::memory_order_relaxed); }

  // The look, if it is time: measures the cores (kWhenCoresBusy) and tells
  // whether the worker should take the full batch the ending threads left
  // (kLeftBatch), or their pending batches only (kPending).
  template <typename C>
  Seen Look(C& core, absl::Time now) ABSL_NO_THREAD_SAFETY_ANALYSIS /* core.mu held */ {
    if (now < next_look_) return Seen::kNothing;
    if (next_look_ == absl::InfinitePast()) {  // the first look starts the interval
      next_look_ = now + kLookEvery;
      (void)meter_.Read();
      return Seen::kNothing;
    }
    next_look_ = now + kLookEvery;
    if (mode_ == EndingThreadsExport::kWhenCoresBusy) {
      double (*for_test)() = SpareCoresForTest().load();
      const double spare = for_test != nullptr ? for_test() : meter_.Read();
      if (spare < kBusyBelow) ending_.store(true, std::memory_order_relaxed);
      if (spare > kIdleAbove) ending_.store(false, std::memory_order_relaxed);
    }
    const int64_t d = core.done();
    const bool left = ending() && static_cast<int64_t>(size()) >= batch_size_ && d == done_at_look_;
    done_at_look_ = d;
    if (left) return Seen::kLeftBatch;
    return pending() > 0 ? Seen::kPending : Seen::kNothing;
  }
  absl::Time next_look() const { return next_look_; }

  // Exports the stripes' pending batches (waiting for a stripe whose buffer
  // an ending thread is using); after the final drain, drops them.
  template <typename C>
  void ExportPending(C& core) {
    for (size_t i = 0; i < stripe_count_ && pending() > 0; ++i) {
      Stripe& s = stripes_[i];
      while (s.helper_busy.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
      const auto n = static_cast<int64_t>(s.batch.size());
      if (n != 0) {
        {
          absl::MutexLock l(&core.export_mu);
          if (core.exporter_closed) {
            core.DropInHand(&s.batch);
          } else {
            core.ExportLocked(&s.batch);
          }
        }
        core.Release(&s.batch);
        pending_.fetch_sub(n, std::memory_order_relaxed);
        core.Released(n);
      }
      s.helper_busy.store(false, std::memory_order_release);
    }
  }

  // A child process after fork(): new stripes; a parent's pending batches
  // are forgotten (the parent's to release), and the cores measured afresh.
  void ResetAfterFork() {
    for (size_t i = 0; i < stripe_count_; ++i) {
      for (T& r : stripes_[i].batch) new (&r) T();  // forgotten, not released
      stripes_[i].batch.clear();
      stripes_[i].helper_busy.store(false, std::memory_order_relaxed);
    }
    MakeQueues();
    pending_.store(0, std::memory_order_relaxed);
    ending_.store(mode_ == EndingThreadsExport::kAlways, std::memory_order_relaxed);
    meter_ = common::SpareCoresMeter();
    next_look_ = absl::InfinitePast();
    done_at_look_ = 0;
  }

  // While records arrive, the worker looks every kLookEvery; the thresholds
  // (in cores) at which the ending threads start exporting and stop again
  // (between the two: as before; one thread ending spans on two cores, with
  // the worker exporting, leaves about 0.7 spare, two leave none).
  static constexpr absl::Duration kLookEvery = absl::Milliseconds(100);
  static constexpr double kBusyBelow = 0.25;
  static constexpr double kIdleAbove = 0.75;

 private:
  struct alignas(64) Stripe {
    std::optional<common::MpmcQueue<T>> queue;
    // An ending thread's batch (ExportHere), used while helper_busy is held;
    // a batch whose export found the exporter busy waits here (pending).
    std::atomic<bool> helper_busy{false};
    std::vector<T> batch;
  };

  static size_t StripeCount(size_t max_queue_size) {
    size_t n = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
    while (n > 1 && (n & (n - 1)) != 0) --n;
    while (n > 1 && n > max_queue_size) n /= 2;
    return n;
  }
  void MakeQueues() {
    const size_t per = capacity_ / stripe_count_;
    const size_t extra = capacity_ % stripe_count_;
    for (size_t i = 0; i < stripe_count_; ++i) stripes_[i].queue.emplace(per + (i < extra ? 1 : 0));
  }
  // A thread keeps to one stripe, and threads are spread over the stripes
  // in the order they first offer a record.
  Stripe& MyStripe() {
    static std::atomic<uint32_t> threads_seen{0};
    thread_local uint32_t index = 0;  // 0: not yet numbered
    if (index == 0) [[unlikely]]
      index = threads_seen.fetch_add(1, std::memory_order_relaxed) + 1;
    return stripes_[index & (stripe_count_ - 1)];
  }

  const EndingThreadsExport mode_;
  const size_t capacity_;
  const int64_t batch_size_;
  const size_t stripe_count_;
  const size_t check_mask_;  // a level check after pushes at (pos & mask) == mask
  const std::unique_ptr<Stripe[]> stripes_;
  // Records in the stripes' pending batches: in hand, not yet exported.
  alignas(64) std::atomic<int64_t> pending_{0};
  // Whether the ending threads export: always or never as the mode says,
  // else set by the worker's look.
  std::atomic<bool> ending_{false};
  // The worker's (under the core's mu).
  common::SpareCoresMeter meter_;
  absl::Time next_look_ = absl::InfinitePast();
  int64_t done_at_look_ = 0;
};

}  // namespace tracewire::sdk
