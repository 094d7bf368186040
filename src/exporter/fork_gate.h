#pragma once
// ForkGate: where a transport's calls and a fork() meet.
//
// No mutex may be held across fork(): a forked child never touches the
// transport again, and a lock a parent's thread still held would stay in
// abseil's lock-order graph. So calls and the fork meet on two atomics
// (seq_cst, Dekker style): a call counts itself in, then looks at the flag;
// Close() sets the flag, then waits for the count to reach zero.
//
// Invariant: between Close() and Open(), no call is counted in that started
// after Close() returned; the calls in flight when Close() began have ended,
// unless Close's bound passed first (a call is bounded by its deadline; past
// the bound the fork goes on).
//
// Thread-safe.

#include <atomic>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tracewire::exporter {

class ForkGate {
 public:
  // A call counted in, until it goes.
  class [[nodiscard]] Pass {
   public:
    explicit Pass(std::atomic<int>* calls) : calls_(calls) {}
    ~Pass() { calls_->fetch_sub(1, std::memory_order_seq_cst); }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    std::atomic<int>* const calls_;
  };

  // Waits out a fork in progress, then counts the call in.
  Pass Enter() {
    for (;;) {
      calls_.fetch_add(1, std::memory_order_seq_cst);
      if (!closed_.load(std::memory_order_seq_cst)) return Pass(&calls_);
      calls_.fetch_sub(1, std::memory_order_seq_cst);
      while (closed_.load(std::memory_order_seq_cst)) absl::SleepFor(absl::Milliseconds(1));
    }
  }

  // Before fork(): stops new calls, then waits for the calls in flight to
  // end, at most `bound`.
  void Close(absl::Duration bound) {
    closed_.store(true, std::memory_order_seq_cst);
    const absl::Time until = absl::Now() + bound;
    while (calls_.load(std::memory_order_seq_cst) > 0 && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

  // In the parent after fork(): calls start again.
  void Open() { closed_.store(false, std::memory_order_seq_cst); }

 private:
  std::atomic<bool> closed_{false};
  std::atomic<int> calls_{0};
};

}  // namespace tracewire::exporter
