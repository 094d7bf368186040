#include "sdk/trace/span_counters.h"

namespace tracewire::sdk {
namespace {
std::atomic<uint64_t> next_id{1};
}  // namespace

// Documented thread_local (span_counters.h): the slot last used by this thread.
constinit thread_local SpanCounters::Cache SpanCounters::cache_;

SpanCounters::SpanCounters() : id_(next_id.fetch_add(1, std::memory_order_relaxed)) {}

SpanCounters::Slot* SpanCounters::SlotOfThisThread() {
  const std::thread::id me = std::this_thread::get_id();
  absl::MutexLock lock(&mu_);
  Slot* slot = nullptr;
  for (Slot& s : slots_) {
    if (s.owner == me) {
      slot = &s;
      break;
    }
  }
  if (slot == nullptr) {
    slot = &slots_.emplace_back();
    slot->owner = me;
  }
  cache_ = Cache{id_, slot};
  return slot;
}

std::array<int64_t, SpanCounters::kCounterCount> SpanCounters::Totals() const {
  std::array<int64_t, kCounterCount> out{};
  absl::MutexLock lock(&mu_);
  for (const Slot& s : slots_) {
    for (int i = 0; i < kCounterCount; ++i) out[i] += s.v[i].load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace tracewire::sdk
