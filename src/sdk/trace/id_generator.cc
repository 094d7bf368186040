#include <atomic>
#include <random>

#include "tracewire/trace.h"

namespace tracewire {
namespace {

// splitmix64 over one shared atomic counter: lock-free, and every call mixes
// a distinct counter value through a bijection, so ids never repeat within a
// generator. Seeded from the OS. Ids need uniqueness, not secrecy.
class RandomIdGenerator : public IdGenerator {
 public:
  RandomIdGenerator() {
    std::random_device rd;
    state_.store((static_cast<uint64_t>(rd()) << 32) ^ rd(), std::memory_order_relaxed);
  }
  TraceId NewTraceId() override {
    TraceId id;
    uint64_t a, b;
    do {
      a = Next();
      b = Next();
    } while ((a | b) == 0);
    Put(a, id.data());
    Put(b, id.data() + 8);
    return id;
  }
  SpanId NewSpanId() override {
    SpanId id;
    uint64_t a;
    do {
      a = Next();
    } while (a == 0);
    Put(a, id.data());
    return id;
  }

 private:
  static void Put(uint64_t v, uint8_t* out) {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  }
  uint64_t Next() {
    // relaxed: only uniqueness of the fetched values matters.
    uint64_t z = state_.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed) +
                 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::atomic<uint64_t> state_{0};
};

}  // namespace

std::unique_ptr<IdGenerator> MakeRandomIdGenerator() {
  return std::make_unique<RandomIdGenerator>();
}

}  // namespace tracewire
