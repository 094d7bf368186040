#pragma once
// WallNanos(): the time of day in nanoseconds since the Unix epoch, cheaply,
// for the timestamps of spans (three a span).
//
// On this kind of machine a kernel clock read (vDSO clock_gettime) costs
// ~25 ns and absl's clock ~30 ns in the span path; the CPU's time-stamp
// counter costs ~10 ns. So when the kernel itself keeps time with the TSC
// (its clocksource is "tsc": the counter is invariant and in step across
// cores), WallNanos converts a TSC read with a rate and an anchor taken from
// the kernel's CLOCK_REALTIME, and re-anchors every second so that it follows
// the kernel's clock (NTP slewing included): small differences are slewed
// out over the next second, so the time never steps back; a difference over
// 1 ms (the clock was set) is stepped to. Elsewhere it is clock_gettime.
//
// Thread-safe and lock-free for readers (a seqlock over the anchor); one
// reader at a time re-anchors.

#include <atomic>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace tracewire::common {

inline uint64_t WallNanos();

// Whether WallNanos converts TSC reads (false: it reads the kernel's clock).
bool WallClockUsesTsc();

// The arithmetic of the conversion, apart from the clocks, so that tests can
// drive it with made-up readings. Thread-compatible.
class TscTimeline {
 public:
  // The first paired reading of both clocks.
  TscTimeline(uint64_t tsc, uint64_t ns) : first_tsc_(tsc), first_ns_(ns) {}

  struct Anchor {
    uint64_t tsc = 0;
    uint64_t ns = 0;
    uint64_t ns_per_tsc_q32 = 0;  // 0: not calibrated yet
    uint64_t refresh_after = 0;   // TSC ticks after `tsc`
  };

  // A paired reading (tsc, kernel time): returns the anchor to use from now
  // on. Until 5 ms have passed since the first reading there is no rate yet
  // (ns_per_tsc_q32 == 0: read the kernel's clock).
  Anchor Update(uint64_t tsc, uint64_t ns);

  // The time at `tsc` by `a` (a calibrated anchor).
  static uint64_t Convert(const Anchor& a, uint64_t tsc) {
    const int64_t d = static_cast<int64_t>(tsc - a.tsc);
    if (d <= 0) return a.ns;  // another core's counter read a hair earlier
    return a.ns +
           static_cast<uint64_t>((static_cast<unsigned __int128>(d) * a.ns_per_tsc_q32) >> 32);
  }

  static constexpr uint64_t kCalibrateNs = 5'000'000;    // the first rate's span
  static constexpr uint64_t kRefreshNs = 1'000'000'000;  // the longest re-anchor interval
  static constexpr uint64_t kStepNs = 1'000'000;         // larger differences are stepped

 private:
  uint64_t first_tsc_, first_ns_;  // the calibration's start
  Anchor anchor_;
  uint64_t last_tsc_ = 0, last_ns_ = 0;  // the last paired reading
  uint64_t base_rate_ = 0;               // the kernel's rate, from readings without a step between
  uint64_t interval_ns_ = kCalibrateNs;  // doubles up to kRefreshNs
};

// ---- Implementation details: the readers' side, inline --------------------

namespace wall_clock_internal {

// The anchor readers convert with, under a seqlock: `seq` is odd while the
// one updater writes. refresh_after == 0 sends every reader to Slow().
struct alignas(64) Shared {
  std::atomic<uint32_t> seq{0};
  std::atomic<uint64_t> tsc{0}, ns{0}, rate{0}, refresh_after{0};
};
extern Shared shared;

// No anchor yet, or it is due for renewal.
uint64_t Slow(const TscTimeline::Anchor& seen);
// CLOCK_REALTIME from the kernel.
uint64_t KernelNanos();
// Where the updater reads the kernel's clocksource from (tests: a file of
// their own). The string must outlive its use.
void SetClocksourcePathForTest(const char* path);

inline uint64_t ReadTsc() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

}  // namespace wall_clock_internal

inline uint64_t WallNanos() {
  using namespace wall_clock_internal;
  TscTimeline::Anchor a;
  uint32_t s;
  do {
    s = shared.seq.load(std::memory_order_acquire);
    // The updater is writing (it may have been preempted there, or this is
    // a signal handler that interrupted it): do not wait for it.
    if ((s & 1) != 0) [[unlikely]]
      return KernelNanos();
    a.tsc = shared.tsc.load(std::memory_order_relaxed);
    a.ns = shared.ns.load(std::memory_order_relaxed);
    a.ns_per_tsc_q32 = shared.rate.load(std::memory_order_relaxed);
    a.refresh_after = shared.refresh_after.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
  } while (s != shared.seq.load(std::memory_order_relaxed));
  if (a.refresh_after == 0) [[unlikely]]
    return Slow(a);
  const uint64_t now = ReadTsc();
  const int64_t d = static_cast<int64_t>(now - a.tsc);
  // Due for a re-anchor; or the counter went back further than two cores'
  // counters can differ (it was reset, as after a suspend): re-anchor too.
  if (d >= static_cast<int64_t>(a.refresh_after) || d < -(int64_t{1} << 20)) [[unlikely]] {
    return Slow(a);
  }
  return TscTimeline::Convert(a, now);
}

}  // namespace tracewire::common
