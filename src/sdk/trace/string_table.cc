#include "sdk/trace/string_table.h"

#include <cstring>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/fork_handlers.h"

namespace tracewire::sdk {

std::string_view* StringTable::strings_ = nullptr;

struct StringTableState {
  static void Publish(std::string_view* strings) { StringTable::strings_ = strings; }
};

namespace {

// The shared table. Ids index `strings`, which is allocated whole once and
// written only under `mu` before an id is handed out.
struct Table {
  absl::Mutex mu;
  absl::flat_hash_map<std::string_view, uint32_t> ids ABSL_GUARDED_BY(mu);
  std::unique_ptr<std::string_view[]> strings{new std::string_view[StringTable::kMaxStrings]};
  uint32_t count ABSL_GUARDED_BY(mu) = 0;  // ids 1..count are taken
  size_t bytes ABSL_GUARDED_BY(mu) = 0;
  std::atomic<bool> full{false};  // relaxed: only spares a lookup that would fail

  Table() {
    StringTableState::Publish(strings.get());
    // No thread may hold `mu` in a child of fork().
    common::RegisterForkHandler({[this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Lock(); },
                                 [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Unlock(); },
                                 [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Unlock(); },
                                 nullptr});
  }

  uint32_t Lookup(std::string_view s) {
    absl::MutexLock l(&mu);
    if (auto it = ids.find(s); it != ids.end()) return it->second;
    if (count + 1 >= StringTable::kMaxStrings || bytes + s.size() > StringTable::kMaxBytes) {
      full.store(true, std::memory_order_relaxed);
      return 0;
    }
    char* copy = new char[s.size() + 1];  // lives as long as the process
    std::memcpy(copy, s.data(), s.size());
    copy[s.size()] = '\0';
    const uint32_t id = ++count;
    bytes += s.size();
    strings[id] = std::string_view(copy, s.size());
    ids.emplace(strings[id], id);
    return id;
  }
};

Table& TheTable() {
  static Table* t = new Table();  // never destroyed: spans may end during exit
  return *t;
}

// The per-thread cache: direct-mapped by address and length.
struct CacheEntry {
  const char* ptr = nullptr;
  uint32_t len = 0;
  uint32_t id = 0;
  std::string_view interned;
};
constexpr size_t kCacheSize = 256;
thread_local CacheEntry cache[kCacheSize];

bool SameBytes(const char* p, const char* q, size_t n) {
  if (n <= 16 && n >= 8) {
    uint64_t a, b, c, d;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, q, 8);
    std::memcpy(&c, p + n - 8, 8);
    std::memcpy(&d, q + n - 8, 8);
    return a == b && c == d;
  }
  return std::memcmp(p, q, n) == 0;
}

}  // namespace

uint32_t StringTable::Intern(std::string_view s) {
  if (s.size() > kMaxLength) return 0;
  const uintptr_t a = reinterpret_cast<uintptr_t>(s.data());
  CacheEntry& e = cache[((a >> 3) ^ (a >> 11) ^ (s.size() * 0x9e37)) & (kCacheSize - 1)];
  if (e.ptr == s.data() && e.len == s.size() && SameBytes(e.interned.data(), s.data(), s.size())) {
    return e.id;
  }
  Table& t = TheTable();
  // A full table takes nothing more; strings it holds that miss the cache
  // are stored as bytes (no lock on the span path once the table is full).
  if (t.full.load(std::memory_order_relaxed)) return 0;
  const uint32_t id = t.Lookup(s);
  if (id != 0) e = {s.data(), static_cast<uint32_t>(s.size()), id, t.strings[id]};
  return id;
}


}  // namespace tracewire::sdk
