#include "sdk/trace/string_table.h"

#include <link.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "absl/base/attributes.h"
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

// The read-only segments of the main program: string literals live there,
// and their bytes cannot change while the process runs (the program is never
// unmapped). A cache hit on such an address needs no byte compare.
struct ReadOnlyRanges {
  uintptr_t lo[4] = {}, hi[4] = {};
  int n = 0;
  ReadOnlyRanges() {
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
          auto* self = static_cast<ReadOnlyRanges*>(data);
          for (int i = 0; i < info->dlpi_phnum && self->n < 4; ++i) {
            const ElfW(Phdr)& ph = info->dlpi_phdr[i];
            if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W)) continue;
            self->lo[self->n] = info->dlpi_addr + ph.p_vaddr;
            self->hi[self->n] = self->lo[self->n] + ph.p_memsz;
            ++self->n;
          }
          return 1;  // the first object is the main program
        },
        this);
  }
  bool Contains(const char* p, size_t len) const {
    const auto a = reinterpret_cast<uintptr_t>(p);
    for (int i = 0; i < n; ++i) {
      if (a >= lo[i] && a + len <= hi[i]) return true;
    }
    return false;
  }
};

const ReadOnlyRanges& ProgramReadOnly() {
  static const ReadOnlyRanges* r = new ReadOnlyRanges();
  return *r;
}

// The per-thread cache: direct-mapped by address and length.
struct CacheEntry {
  const char* ptr = nullptr;
  uint32_t len = 0;
  uint32_t id = 0;
  bool immutable = false;  // ptr is in the program's read-only segments
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

namespace {

// The cache missed: the shared table, then the cache entry.
ABSL_ATTRIBUTE_NOINLINE uint32_t InternSlow(std::string_view s, CacheEntry& e) {
  Table& t = TheTable();
  // A full table takes nothing more; strings it holds that miss the cache
  // are stored as bytes (no lock on the span path once the table is full).
  if (t.full.load(std::memory_order_relaxed)) return 0;
  const uint32_t id = t.Lookup(s);
  if (id != 0) {
    e = {s.data(), static_cast<uint32_t>(s.size()), id,
         ProgramReadOnly().Contains(s.data(), s.size()), t.strings[id]};
  }
  return id;
}

// The cache entry is for this address and length, but the bytes there may
// have changed since.
ABSL_ATTRIBUTE_NOINLINE uint32_t CompareOrSlow(std::string_view s, CacheEntry& e) {
  if (SameBytes(e.interned.data(), s.data(), s.size())) return e.id;
  return InternSlow(s, e);
}

}  // namespace

uint32_t StringTable::Intern(std::string_view s, bool* immutable) {
  *immutable = false;
  if (s.empty() || s.size() > kMaxLength) return 0;  // "" is stored as bytes
  const uintptr_t a = reinterpret_cast<uintptr_t>(s.data());
  CacheEntry& e = cache[((a >> 3) ^ (a >> 11) ^ (s.size() * 0x9e37)) & (kCacheSize - 1)];
  if (e.ptr == s.data() && e.len == s.size()) {
    if (e.immutable) {
      *immutable = true;
      return e.id;
    }
    return CompareOrSlow(s, e);
  }
  const uint32_t id = InternSlow(s, e);
  *immutable = id != 0 && e.immutable;
  return id;
}

}  // namespace tracewire::sdk
