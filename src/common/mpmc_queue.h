#pragma once
// A bounded lock-free multi-producer multi-consumer queue (Dmitry Vyukov's
// design): each cell carries a sequence number that tells producers and
// consumers whose turn it is. The capacity is exact (at least 2): a queue
// made for 2000 holds 2000, so a caller's limit needs no counter of its own.
// No allocation after construction.
//
// Thread-safe; T must be cheap to move (pointers).

#include <atomic>
#include <cstddef>
#include <memory>

namespace tracewire::common {

template <typename T>
class MpmcQueue {
 public:
  // Capacities below 2 are raised to 2 (the sequence numbers need two cells).
  explicit MpmcQueue(size_t capacity)
      : cap_(capacity < 2 ? 2 : capacity), pow2_((cap_ & (cap_ - 1)) == 0) {
    cells_ = std::make_unique<Cell[]>(cap_);
    for (size_t i = 0; i < cap_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  size_t capacity() const { return cap_; }

  bool TryPush(T v) {
    size_t pos;
    return TryPush(std::move(v), &pos);
  }

  // Also tells the position the value took: pushes before it, ever.
  bool TryPush(T v, size_t* pushed_at) {
    if (!TryClaim(pushed_at)) return false;
    Fill(*pushed_at, std::move(v));
    return true;
  }

  // TryPush in two steps: TryClaim takes the next cell (false: full) and
  // tells its position; Fill(pos, v) then publishes the value there. Until
  // it does, poppers stop at that cell (as at a producer preempted inside
  // TryPush). A producer that has the value to write yet claims first, so
  // that the claim's atomic operation does not wait for those writes.
  bool TryClaim(size_t* claimed) {
    size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[Index(pos)];
      // acquire: see the consumer's release of this cell before reusing it.
      const size_t seq = c.seq.load(std::memory_order_acquire);
      const intptr_t dif = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          *claimed = pos;
          return true;
        }
      } else if (dif < 0) {
        return false;  // full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }
  void Fill(size_t pos, T v) {
    Cell& c = cells_[Index(pos)];
    c.value = std::move(v);
    c.seq.store(pos + 1, std::memory_order_release);  // publish the value
    // The cells a few pushes on were last written by a consumer (on another
    // core): ask for their line now, for writing.
    __builtin_prefetch(&cells_[Index(pos + kPrefetchAhead)], 1);
  }

  bool TryPop(T* out) {
    size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[Index(pos)];
      const size_t seq = c.seq.load(std::memory_order_acquire);  // see the value
      const intptr_t dif = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos + 1);
      if (dif == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          *out = std::move(c.value);
          c.seq.store(pos + cap_, std::memory_order_release);  // free the cell
          return true;
        }
      } else if (dif < 0) {
        return false;  // empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // Pops up to `max` values into out[0..n) and returns n: one claim of the
  // head for all of them (a consumer taking batches pays one atomic
  // read-modify-write, not one per value). Takes only values already
  // published, in order; stops at the first position not yet filled.
  size_t TryPopBatch(T* out, size_t max) {
    size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      size_t n = 0;
      while (n < max) {
        const size_t seq = cells_[Index(pos + n)].seq.load(std::memory_order_acquire);
        if (seq != pos + n + 1) break;  // not yet filled (or another lap)
        ++n;
      }
      if (n == 0) {
        const size_t now = head_.load(std::memory_order_relaxed);
        if (now == pos) return 0;  // empty, or the next value is not yet published
        pos = now;
        continue;
      }
      // The cells seen filled stay filled until a consumer claims them,
      // which needs this head: claiming it claims all n.
      if (head_.compare_exchange_weak(pos, pos + n, std::memory_order_relaxed)) {
        for (size_t i = 0; i < n; ++i) {
          Cell& c = cells_[Index(pos + i)];
          out[i] = std::move(c.value);
          c.seq.store(pos + i + cap_, std::memory_order_release);  // free the cell
        }
        return n;
      }
    }
  }

  // Values popped, ever.
  size_t popped() const { return head_.load(std::memory_order_relaxed); }

  // Values pushed (positions claimed), ever. A position claimed is published
  // moments later: a consumer that waits for `pushed()` values gets them.
  size_t pushed() const { return tail_.load(std::memory_order_acquire); }

  // Approximate when other threads are pushing or popping.
  size_t SizeApprox() const {
    const size_t t = tail_.load(std::memory_order_relaxed);
    const size_t h = head_.load(std::memory_order_relaxed);
    return t >= h ? t - h : 0;
  }

 private:
  size_t Index(size_t pos) const { return pow2_ ? pos & (cap_ - 1) : pos % cap_; }
  static constexpr size_t kPrefetchAhead = 8;  // cells: two lines of 16-byte cells

  struct Cell {
    std::atomic<size_t> seq;
    T value;
  };
  const size_t cap_;
  const bool pow2_;  // a mask instead of a division
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<size_t> tail_{0};
  alignas(64) std::atomic<size_t> head_{0};
};

}  // namespace tracewire::common
