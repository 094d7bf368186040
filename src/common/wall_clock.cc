#include "common/wall_clock.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "absl/base/attributes.h"
#include "common/fork_handlers.h"

namespace tracewire::common {

TscTimeline::Anchor TscTimeline::Update(uint64_t tsc, uint64_t ns) {
  using u128 = unsigned __int128;
  if (anchor_.ns_per_tsc_q32 == 0) {
    if (tsc <= first_tsc_ || ns < first_ns_) {
      // The counter was reset or the clock set back while calibrating:
      // start again from this reading.
      first_tsc_ = tsc;
      first_ns_ = ns;
      return anchor_;
    }
    if (ns < first_ns_ + kCalibrateNs) return anchor_;
    const uint64_t rate = static_cast<uint64_t>((u128{ns - first_ns_} << 32) / (tsc - first_tsc_));
    anchor_ = {tsc, ns, std::max<uint64_t>(rate, 1), 0};
    base_rate_ = anchor_.ns_per_tsc_q32;
    interval_ns_ = 2 * kCalibrateNs;
  } else {
    const uint64_t predicted = Convert(anchor_, tsc);
    const int64_t err = static_cast<int64_t>(ns - predicted);
    interval_ns_ = std::min(2 * interval_ns_, kRefreshNs);
    if (err > static_cast<int64_t>(kStepNs) || err < -static_cast<int64_t>(kStepNs)) {
      // The clock was set (or the counter reset): step, at the rate from
      // before (a rate over an interval with the step in it would be wrong).
      anchor_ = {tsc, ns, base_rate_, 0};
    } else {
      // The kernel's own rate since the last reading (NTP slewing included).
      uint64_t rate = base_rate_;
      if (tsc > last_tsc_ && ns > last_ns_) {
        rate = std::max<uint64_t>(
            static_cast<uint64_t>((u128{ns - last_ns_} << 32) / (tsc - last_tsc_)), 1);
      }
      base_rate_ = rate;
      // Run at the kernel's rate, plus what makes up `err` by the next
      // re-anchor; never slower than half the rate, so time never goes back.
      const uint64_t ticks = static_cast<uint64_t>((u128{interval_ns_} << 32) / rate);
      const int64_t adjust =
          ticks == 0 ? 0 : static_cast<int64_t>((static_cast<__int128>(err) << 32) / ticks);
      const int64_t slewed = static_cast<int64_t>(rate) + adjust;
      anchor_ = {tsc, predicted,
                 static_cast<uint64_t>(std::max<int64_t>(slewed, static_cast<int64_t>(rate / 2))),
                 0};
    }
  }
  last_tsc_ = tsc;
  last_ns_ = ns;
  anchor_.refresh_after = std::max<uint64_t>(
      static_cast<uint64_t>((u128{interval_ns_} << 32) / anchor_.ns_per_tsc_q32), 1);
  return anchor_;
}

namespace {

// wall_clock_internal::SetClocksourcePathForTest; read by the updater only.
std::atomic<const char*> clocksource_path{
    "/sys/devices/system/clocksource/clocksource0/current_clocksource"};
const char* ClocksourcePath() { return clocksource_path.load(std::memory_order_acquire); }

using wall_clock_internal::KernelNanos;

using wall_clock_internal::ReadTsc;
using wall_clock_internal::shared;

#if defined(__x86_64__)

// The kernel keeps time with the TSC only when it found the counter
// invariant and in step across CPUs. It may give it up later (it found the
// counters apart, or a watchdog saw the TSC drift): the updater looks again
// at every re-anchor (at most once a second once calibrated).
bool KernelUsesTsc() {
  FILE* f = std::fopen(ClocksourcePath(), "r");
  if (f == nullptr) return false;
  char buf[32] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  return n >= 3 && std::strncmp(buf, "tsc", 3) == 0 && (n == 3 || buf[3] == '\n');
}
#else
bool KernelUsesTsc() { return false; }
#endif

// A TSC read paired with a kernel clock read: of three tries, the one the
// two TSC reads around it are closest for.
void PairedReading(uint64_t* tsc, uint64_t* ns) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    const uint64_t t1 = ReadTsc();
    const uint64_t k = KernelNanos();
    const uint64_t t2 = ReadTsc();
    if (t2 - t1 < best) {
      best = t2 - t1;
      *tsc = t1 + (t2 - t1) / 2;
      *ns = k;
    }
  }
}

// Set once by Init(); then read-only.
std::atomic<bool> use_tsc{false};
std::once_flag init_once;
// Set when WallNanos reads the kernel's clock for good (the kernel does not
// use the TSC, or gave it up): Slow then skips call_once (a call into the
// thread library) and goes to the kernel at once.
std::atomic<bool> kernel_clock_only{false};

// The updater's side: one thread at a time holds `updating`.
std::atomic<bool> updating{false};
TscTimeline* timeline = nullptr;        // written only while holding `updating`
std::atomic<uint64_t> calibrate_at{0};  // kernel time at which to try calibrating

void Publish(const TscTimeline::Anchor& a) {
  const uint32_t s = shared.seq.load(std::memory_order_relaxed);
  shared.seq.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  shared.tsc.store(a.tsc, std::memory_order_relaxed);
  shared.ns.store(a.ns, std::memory_order_relaxed);
  shared.rate.store(a.ns_per_tsc_q32, std::memory_order_relaxed);
  shared.refresh_after.store(a.ns_per_tsc_q32 ? a.refresh_after : 0, std::memory_order_relaxed);
  shared.seq.store(s + 2, std::memory_order_release);
}

// In a child of fork(): no thread updates (free `updating`), the seqlock may
// have been left odd mid-write, and the child calibrates afresh.
void Restart() {
  updating.store(false, std::memory_order_relaxed);
  if ((shared.seq.load(std::memory_order_relaxed) & 1) != 0) shared.seq.fetch_add(1);
  Publish({});
  uint64_t tsc = 0, ns = 0;
  PairedReading(&tsc, &ns);
  delete timeline;
  timeline = new TscTimeline(tsc, ns);
  calibrate_at.store(ns + TscTimeline::kCalibrateNs, std::memory_order_relaxed);
}

void Init() {
  if (!KernelUsesTsc()) {
    kernel_clock_only.store(true, std::memory_order_relaxed);
    return;
  }
  uint64_t tsc = 0, ns = 0;
  PairedReading(&tsc, &ns);
  timeline = new TscTimeline(tsc, ns);  // lives as long as the process
  calibrate_at.store(ns + TscTimeline::kCalibrateNs, std::memory_order_relaxed);
  static const int id = RegisterForkHandler({nullptr, nullptr, [] { Restart(); }, nullptr});
  (void)id;
  use_tsc.store(true, std::memory_order_release);
}

}  // namespace

namespace wall_clock_internal {

Shared shared;

void SetClocksourcePathForTest(const char* path) {
  clocksource_path.store(path, std::memory_order_release);
}

uint64_t KernelNanos() {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}

uint64_t Slow(const TscTimeline::Anchor& seen) {
  if (kernel_clock_only.load(std::memory_order_relaxed)) return KernelNanos();
  std::call_once(init_once, Init);
  if (!use_tsc.load(std::memory_order_acquire)) return KernelNanos();
  if (seen.ns_per_tsc_q32 == 0 && KernelNanos() < calibrate_at.load(std::memory_order_relaxed)) {
    return KernelNanos();  // calibrating: no rate yet
  }
  if (updating.exchange(true, std::memory_order_acquire)) {
    // Another thread re-anchors. The old anchor is still good a little past
    // its renewal; not after a long idle or a counter reset.
    const int64_t d = static_cast<int64_t>(ReadTsc() - seen.tsc);
    if (seen.ns_per_tsc_q32 != 0 && d >= 0 &&
        d <= static_cast<int64_t>(seen.refresh_after + seen.refresh_after / 8)) {
      return TscTimeline::Convert(seen, seen.tsc + static_cast<uint64_t>(d));
    }
    return KernelNanos();
  }
  if (!KernelUsesTsc()) {
    // The kernel gave up the TSC: so do we, for good (it does not take it
    // back). Readers see no anchor, come here, and read the kernel's clock.
    use_tsc.store(false, std::memory_order_release);
    kernel_clock_only.store(true, std::memory_order_relaxed);
    Publish({});
    updating.store(false, std::memory_order_release);
    return KernelNanos();
  }
  uint64_t tsc = 0, ns = 0;
  PairedReading(&tsc, &ns);
  const TscTimeline::Anchor a = timeline->Update(tsc, ns);
  // Still calibrating (it started again): read the kernel's clock until then.
  if (a.ns_per_tsc_q32 == 0) {
    calibrate_at.store(ns + TscTimeline::kCalibrateNs, std::memory_order_relaxed);
  }
  Publish(a);
  updating.store(false, std::memory_order_release);
  return a.ns_per_tsc_q32 ? TscTimeline::Convert(a, tsc) : ns;
}

}  // namespace wall_clock_internal

bool WallClockUsesTsc() {
  std::call_once(init_once, Init);
  return use_tsc.load(std::memory_order_acquire);
}

}  // namespace tracewire::common
