#pragma once
// SpanCounters: one provider's started spans, by sampling result and parent
// origin, and its ended spans, by sampling result, for otel.sdk.span.started
// and otel.sdk.span.live (self_telemetry.h).
//
// Invariants:
//   - Each thread counts into a slot of its own (per provider), with a
//     relaxed load and store: no atomic read-modify-write and no lock on
//     the span path, no cache line shared with another counting thread.
//   - A thread finds its slot through a one-entry thread_local cache keyed by
//     the provider's id, which no other provider ever has (ids are never
//     reused, so a provider at a freed one's address cannot hit a stale
//     slot). A miss (the thread's first span, or a span of another provider
//     than its last one) takes the mutex and finds or allocates the slot:
//     a thread that alternates between two providers pays it at each switch.
//   - Slots live as long as the provider: a thread's counts outlive it.
//   - Totals() sums the slots; each slot is read whole-word (relaxed), so a
//     total is at most a few spans behind the threads counting meanwhile.
//
// Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tracewire::sdk {

class SpanCounters {
 public:
  enum Sampling : int { kDrop, kRecordOnly, kSampled };
  enum ParentOrigin : int { kNoParent, kLocalParent, kRemoteParent };
  enum Counter : int {
    // kStarted + 3 * Sampling + ParentOrigin: nine counters.
    kStarted = 0,
    kEndedRecordOnly = 9,
    kEndedSampled,
    kCounterCount
  };
  static constexpr Counter Started(Sampling s, ParentOrigin o) {
    return static_cast<Counter>(kStarted + 3 * s + o);
  }

  SpanCounters();

  void Add(Counter c) {
    Slot* s = cache_.id == id_ ? cache_.slot : SlotOfThisThread();
    std::atomic<int64_t>& v = s->v[c];
    v.store(v.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::array<int64_t, kCounterCount> Totals() const;

 private:
  struct alignas(64) Slot {
    std::thread::id owner;
    std::array<std::atomic<int64_t>, kCounterCount> v{};
  };
  struct Cache {
    uint64_t id = 0;  // 0: none
    Slot* slot = nullptr;
  };
  Slot* SlotOfThisThread();

  static constinit thread_local Cache cache_;
  const uint64_t id_;  // unique in the process, never 0
  mutable absl::Mutex mu_;
  std::deque<Slot> slots_ ABSL_GUARDED_BY(mu_);  // a deque: slots never move
};

}  // namespace tracewire::sdk
