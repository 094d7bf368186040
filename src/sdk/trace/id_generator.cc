// The default id generator.
//
// Per-thread state (a documented thread_local, the second in tracewire after
// the context stack in propagation/context.cc): every span start takes three
// 64-bit values, and one shared atomic counter made those a contended cache
// line as soon as two threads started spans. Each thread now runs splitmix64
// over its own counter. A thread's counter starts at a random point (a
// splitmix64 step of one draw from the OS per process, see SeedSource), and
// splitmix64 is a bijection of the counter, so a thread never repeats an id;
// two threads collide only as two random 64-bit values do. Ids need
// uniqueness, not secrecy. A forked child would inherit the forking thread's
// counter and repeat the parent's ids, so a fork bumps a generation number
// and each thread (and the seed source) reseeds when it sees a new one.

#include <atomic>
#include <bit>
#include <cstring>
#include <random>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/fork_handlers.h"
#include "sdk/trace/fast_paths.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

// Bumped in a forked child; relaxed: only the child's own threads read it
// after the fork, and the fork itself orders the write before them.
std::atomic<uint64_t> fork_generation{0};

void WatchForks() {
  static const int id = common::RegisterForkHandler(
      {[] {}, [] {}, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); }});
  (void)id;
}

uint64_t SplitMix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Where threads' counters start: one draw from the OS per process (and per
// fork generation), then a splitmix64 step per thread. std::random_device
// per thread cost an open and read of /dev/urandom for every new thread, and
// gRPC's synchronous server creates and ends threads under load (2.5% of its
// CPU in the rpc benchmark).
class SeedSource {
 public:
  uint64_t Next(uint64_t gen) {
    // No lock (a forked child must never find one held): two threads that
    // both see a new generation both draw, and either draw will do.
    if (generation_.load(std::memory_order_acquire) != gen) [[unlikely]] {
      std::random_device rd;
      base_.store((static_cast<uint64_t>(rd()) << 32) ^ rd(), std::memory_order_relaxed);
      generation_.store(gen, std::memory_order_release);
    }
    return SplitMix(base_.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed));
  }

 private:
  std::atomic<uint64_t> generation_{~uint64_t{0}};
  std::atomic<uint64_t> base_{0};
};

SeedSource& Seeds() {
  static SeedSource* seeds = new SeedSource();  // never destroyed: threads may outlive statics
  return *seeds;
}

struct ThreadIdState {
  uint64_t counter = 0;
  uint64_t generation = ~uint64_t{0};  // never seeded yet
  void Seed(uint64_t gen) {
    counter = Seeds().Next(gen);
    generation = gen;
  }
};

// This thread's state, seeded (again after a fork).
inline ThreadIdState& State() {
  // Lives until the thread exits; no other thread reads or writes it.
  thread_local ThreadIdState state;
  const uint64_t gen = fork_generation.load(std::memory_order_relaxed);
  if (state.generation != gen) [[unlikely]]
    state.Seed(gen);
  return state;
}

// splitmix64 of the state's next counter value.
inline uint64_t Next(ThreadIdState& s) {
  uint64_t z = (s.counter += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Big-endian, so an id's bytes read as the number (one byte swap).
void Put(uint64_t v, uint8_t* out) {
  static_assert(std::endian::native == std::endian::little);
  v = __builtin_bswap64(v);
  std::memcpy(out, &v, 8);
}

inline void PutTraceId(ThreadIdState& st, TraceId* id) {
  uint64_t a, b;
  do {
    a = Next(st);
    b = Next(st);
  } while ((a | b) == 0);
#if defined(__SSE2__)
  // One 16-byte store: StartSpan copies the id at once, and a 16-byte load
  // is not forwarded from two 8-byte stores (it waits for them to retire).
  _mm_storeu_si128(reinterpret_cast<__m128i*>(id->data()),
                   _mm_set_epi64x(static_cast<int64_t>(__builtin_bswap64(b)),
                                  static_cast<int64_t>(__builtin_bswap64(a))));
#else
  Put(a, id->data());
  Put(b, id->data() + 8);
#endif
}

inline void PutSpanId(ThreadIdState& st, SpanId* id) {
  uint64_t a;
  do {
    a = Next(st);
  } while (a == 0);
  Put(a, id->data());
}

class RandomIdGenerator : public IdGenerator {
 public:
  RandomIdGenerator() { WatchForks(); }
  TraceId NewTraceId() override {
    TraceId id;
    PutTraceId(State(), &id);
    return id;
  }
  SpanId NewSpanId() override {
    SpanId id;
    PutSpanId(State(), &id);
    return id;
  }
};

}  // namespace

namespace sdk {

bool IsRandomIdGenerator(const IdGenerator& ids) {
  return dynamic_cast<const RandomIdGenerator*>(&ids) != nullptr;
}

void NewRandomIds(TraceId* trace_id, SpanId* span_id) {
  ThreadIdState& st = State();
  if (trace_id != nullptr) PutTraceId(st, trace_id);
  PutSpanId(st, span_id);
}

}  // namespace sdk

std::unique_ptr<IdGenerator> MakeRandomIdGenerator() {
  return std::make_unique<RandomIdGenerator>();
}

}  // namespace tracewire
