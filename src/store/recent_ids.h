#pragma once
// RecentIds: the store's dedupe window, a fixed-size set of the 64-bit
// fingerprints of recently stored span ids.
//
// A set-associative table: a fingerprint lives in one bucket of 8 slots (one
// cache line) chosen by its bits, and a bucket replaces its oldest slot when
// full. So Insert costs one cache miss whatever the size (a hash set with a
// FIFO ring cost three, 10% of the writer's time), memory is fixed at
// 8 bytes per slot, and a fingerprint stays until 8 newer ones land in its
// bucket: about `capacity` inserts on average, and at least half of that
// for all but ~5% of them.
//
// Invariants: slot value 0 means empty (a fingerprint of 0 is stored as 1);
// Insert(x) after Insert(x) returns false until x is evicted or erased.
//
// Thread-compatible.

#include <cstdint>
#include <memory>

namespace tracewire::store {

class RecentIds {
 public:
  // `capacity` is rounded up to a power of two, at least 8.
  explicit RecentIds(int64_t capacity);

  // False if `fingerprint` is already present; else remembers it.
  bool Insert(uint64_t fingerprint);
  // Forgets `fingerprint` if present.
  void Erase(uint64_t fingerprint);

 private:
  static constexpr int kWays = 8;
  struct alignas(64) Bucket {
    uint64_t slot[kWays];
  };
  uint64_t* Find(Bucket& b, uint64_t fp);

  size_t mask_ = 0;  // buckets - 1
  std::unique_ptr<Bucket[]> buckets_;
  std::unique_ptr<uint8_t[]> next_;  // per bucket: the slot to replace next
};

}  // namespace tracewire::store
