#include "store/recent_ids.h"

#include <algorithm>

namespace tracewire::store {

RecentIds::RecentIds(int64_t capacity) {
  size_t buckets = 1;
  while (buckets * kWays < static_cast<size_t>(std::max<int64_t>(capacity, kWays))) buckets *= 2;
  mask_ = buckets - 1;
  buckets_ = std::make_unique<Bucket[]>(buckets);  // zeroed: every slot empty
  next_ = std::make_unique<uint8_t[]>(buckets);
}

uint64_t* RecentIds::Find(Bucket& b, uint64_t fp) {
  for (uint64_t& s : b.slot) {
    if (s == fp) return &s;
  }
  return nullptr;
}

bool RecentIds::Insert(uint64_t fingerprint) {
  const uint64_t fp = fingerprint == 0 ? 1 : fingerprint;
  // The bucket from the high bits: the slot comparison uses all 64.
  const size_t i = (fp >> 32) & mask_;
  Bucket& b = buckets_[i];
  if (Find(b, fp) != nullptr) return false;
  uint64_t* empty = Find(b, 0);
  if (empty != nullptr) {
    *empty = fp;
  } else {
    b.slot[next_[i]] = fp;
    next_[i] = static_cast<uint8_t>((next_[i] + 1) % kWays);
  }
  return true;
}

void RecentIds::Erase(uint64_t fingerprint) {
  const uint64_t fp = fingerprint == 0 ? 1 : fingerprint;
  uint64_t* s = Find(buckets_[(fp >> 32) & mask_], fp);
  if (s != nullptr) *s = 0;
}

}  // namespace tracewire::store
