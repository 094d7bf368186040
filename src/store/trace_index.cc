#include "store/trace_index.h"

#include <algorithm>
#include <cstring>

namespace tracewire::store {

std::vector<std::pair<int, std::string>> EncodeRun(std::vector<IndexEntry>* entries) {
  std::sort(entries->begin(), entries->end(), [](const IndexEntry& a, const IndexEntry& b) {
    return a.key != b.key ? a.key < b.key : a.block < b.block;
  });
  std::vector<std::pair<int, std::string>> parts;
  for (const IndexEntry& e : *entries) {
    const int part = PartOf(e.key);
    if (parts.empty() || parts.back().first != part) parts.emplace_back(part, std::string());
    std::string& blob = parts.back().second;
    blob.append(reinterpret_cast<const char*>(&e.key), 8);
    blob.append(reinterpret_cast<const char*>(&e.block), 8);
  }
  return parts;
}

void FindInPart(std::string_view part_blob, uint64_t key, std::vector<int64_t>* blocks) {
  const size_t n = part_blob.size() / 16;
  auto key_at = [&](size_t i) {
    uint64_t k;
    std::memcpy(&k, part_blob.data() + 16 * i, 8);
    return k;
  };
  size_t lo = 0, hi = n;  // first entry with key >= `key`
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (key_at(mid) < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (size_t i = lo; i < n && key_at(i) == key; ++i) {
    int64_t block;
    std::memcpy(&block, part_blob.data() + 16 * i + 8, 8);
    blocks->push_back(block);
  }
}

bool KeysContain(std::string_view keys_blob, uint64_t key) {
  const size_t n = keys_blob.size() / 8;
  for (size_t i = 0; i < n; ++i) {
    uint64_t k;
    std::memcpy(&k, keys_blob.data() + 8 * i, 8);
    if (k == key) return true;
  }
  return false;
}

}  // namespace tracewire::store
