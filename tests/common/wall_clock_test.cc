#include "common/wall_clock.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "gtest/gtest.h"

namespace tracewire::common {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kStart = 1'700'000'000'000'000'000ull;  // ns since the epoch

// A made-up machine: the TSC ticks 3 times a nanosecond, from 1e12.
uint64_t Tsc(uint64_t ns_since_start) { return 1'000'000'000'000ull + 3 * ns_since_start; }

TEST(TscTimeline, NoRateBeforeTheCalibrationSpan) {
  TscTimeline t(Tsc(0), kStart);
  EXPECT_EQ(t.Update(Tsc(4 * kMs), kStart + 4 * kMs).ns_per_tsc_q32, 0u);
  const TscTimeline::Anchor a = t.Update(Tsc(5 * kMs), kStart + 5 * kMs);
  ASSERT_NE(a.ns_per_tsc_q32, 0u);
  // A third of a nanosecond per tick, to the precision of the fixed point.
  EXPECT_NEAR(static_cast<double>(a.ns_per_tsc_q32) / 4294967296.0, 1.0 / 3, 1e-9);
  EXPECT_EQ(a.tsc, Tsc(5 * kMs));
  EXPECT_EQ(a.ns, kStart + 5 * kMs);
  // 7 ms later by the TSC reads as 7 ms later (within a nanosecond).
  const uint64_t later = TscTimeline::Convert(a, Tsc(12 * kMs));
  EXPECT_LE(later > kStart + 12 * kMs ? later - (kStart + 12 * kMs) : kStart + 12 * kMs - later,
            1u);
  // The first re-anchor is due after twice the calibration span.
  EXPECT_EQ(a.refresh_after, static_cast<uint64_t>(3 * 2 * TscTimeline::kCalibrateNs));
}

// The counter is reset while calibrating: calibration starts again from
// the reading after the reset, not never (or with a rate from both sides).
TEST(TscTimeline, CalibrationStartsAgainAfterACounterReset) {
  TscTimeline t(Tsc(0), kStart);
  EXPECT_EQ(t.Update(Tsc(2 * kMs), kStart + 2 * kMs).ns_per_tsc_q32, 0u);
  const uint64_t reset = 5000;  // far below Tsc(0)
  EXPECT_EQ(t.Update(reset, kStart + 3 * kMs).ns_per_tsc_q32, 0u);
  EXPECT_EQ(t.Update(reset + 3 * 4 * kMs, kStart + 7 * kMs).ns_per_tsc_q32, 0u);  // 4 ms in
  const TscTimeline::Anchor a = t.Update(reset + 3 * 5 * kMs, kStart + 8 * kMs);
  ASSERT_NE(a.ns_per_tsc_q32, 0u);
  EXPECT_NEAR(static_cast<double>(a.ns_per_tsc_q32) / 4294967296.0, 1.0 / 3, 1e-9);
}

TEST(TscTimeline, ACounterReadBeforeTheAnchorGivesTheAnchorsTime) {
  TscTimeline t(Tsc(0), kStart);
  const TscTimeline::Anchor a = t.Update(Tsc(10 * kMs), kStart + 10 * kMs);
  EXPECT_EQ(TscTimeline::Convert(a, Tsc(10 * kMs) - 100), kStart + 10 * kMs);
}

// The kernel's clock runs 200 ppm faster than the first rate said (NTP
// slewing it, say): each re-anchor slews toward it, the difference shrinks,
// and the converted time never goes back.
TEST(TscTimeline, FollowsTheKernelClockBySlewingWithoutGoingBack) {
  TscTimeline t(Tsc(0), kStart);
  TscTimeline::Anchor a = t.Update(Tsc(5 * kMs), kStart + 5 * kMs);
  uint64_t tsc = Tsc(5 * kMs);
  uint64_t kernel = kStart + 5 * kMs;
  uint64_t last_read = TscTimeline::Convert(a, tsc);
  int64_t last_err = 0;
  for (int i = 0; i < 30; ++i) {
    const uint64_t ticks = a.refresh_after;
    // Read every tenth of the interval: never back.
    for (int k = 1; k <= 10; ++k) {
      const uint64_t r = TscTimeline::Convert(a, tsc + ticks * k / 10);
      EXPECT_GE(r, last_read) << "update " << i;
      last_read = r;
    }
    tsc += ticks;
    kernel += static_cast<uint64_t>(static_cast<double>(ticks) / 3 * 1.0002);
    const uint64_t predicted = TscTimeline::Convert(a, tsc);
    last_err = static_cast<int64_t>(kernel - predicted);
    a = t.Update(tsc, kernel);
    EXPECT_EQ(a.ns, predicted) << "slewed, not stepped";
    EXPECT_GE(TscTimeline::Convert(a, tsc), last_read);
  }
  // Re-anchored every second by now; the remaining difference is tiny.
  // (A second by the kernel's faster clock: 200 ppm fewer ticks.)
  EXPECT_NEAR(static_cast<double>(a.refresh_after), 3 * TscTimeline::kRefreshNs / 1.0002, 1e3);
  EXPECT_LT(last_err < 0 ? -last_err : last_err, 1000) << "ns behind the kernel's clock";
}

TEST(TscTimeline, StepsWhenTheKernelClockIsSet) {
  TscTimeline t(Tsc(0), kStart);
  TscTimeline::Anchor a = t.Update(Tsc(5 * kMs), kStart + 5 * kMs);
  // The clock is set back 10 s.
  const uint64_t tsc = Tsc(20 * kMs);
  const uint64_t kernel = kStart + 20 * kMs - 10'000 * kMs;
  a = t.Update(tsc, kernel);
  EXPECT_EQ(a.ns, kernel);
  EXPECT_NEAR(static_cast<double>(TscTimeline::Convert(a, tsc + 3 * kMs) - kernel),
              static_cast<double>(kMs), 1);
}

// The clock is set forward an hour: the step keeps the rate from before
// (the interval with the step in it would give a rate 3,600 times too
// fast), and the next re-anchor finds nothing to correct: time never runs
// ahead and then back.
TEST(TscTimeline, AForwardStepKeepsTheRate) {
  TscTimeline t(Tsc(0), kStart);
  TscTimeline::Anchor a = t.Update(Tsc(5 * kMs), kStart + 5 * kMs);
  const uint64_t rate = a.ns_per_tsc_q32;
  const uint64_t hour = 3'600'000 * kMs;
  a = t.Update(Tsc(15 * kMs), kStart + 15 * kMs + hour);
  EXPECT_EQ(a.ns, kStart + 15 * kMs + hour);
  EXPECT_EQ(a.ns_per_tsc_q32, rate);
  const uint64_t before = TscTimeline::Convert(a, Tsc(35 * kMs) - 1);
  EXPECT_NEAR(static_cast<double>(static_cast<int64_t>(before - (kStart + 35 * kMs + hour))), 0,
              1000);
  a = t.Update(Tsc(35 * kMs), kStart + 35 * kMs + hour);
  EXPECT_GE(a.ns, before);  // no step back
  EXPECT_NEAR(static_cast<double>(static_cast<int64_t>(a.ns - (kStart + 35 * kMs + hour))), 0,
              1000);
}

// The counter was reset (a suspend, say) while the kernel's clock went on:
// the next re-anchor steps to the kernel's time and keeps the old rate.
TEST(TscTimeline, StepsWhenTheCounterGoesBack) {
  TscTimeline t(Tsc(0), kStart);
  TscTimeline::Anchor a = t.Update(Tsc(5 * kMs), kStart + 5 * kMs);
  const uint64_t rate = a.ns_per_tsc_q32;
  const uint64_t tsc = 1000;  // far below Tsc(0)
  const uint64_t kernel = kStart + 60'000 * kMs;
  a = t.Update(tsc, kernel);
  EXPECT_EQ(a.ns, kernel);
  EXPECT_EQ(a.ns_per_tsc_q32, rate);
  EXPECT_NEAR(static_cast<double>(TscTimeline::Convert(a, tsc + 3 * kMs) - kernel),
              static_cast<double>(kMs), 1);
}

uint64_t Realtime() {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}

// The real clock, whichever way it reads time on this machine: within 100 µs
// of the kernel's CLOCK_REALTIME across calibration and the first re-anchors
// (~50 ms; a rate 1 % off would be 400 µs off by then), and never more than
// a microsecond back.
TEST(WallNanos, AgreesWithTheKernelsClock) {
  const uint64_t until = Realtime() + 50 * kMs;
  uint64_t last = 0;
  int64_t worst = 0, reads = 0;
  for (uint64_t before = Realtime(); before < until; before = Realtime()) {
    const uint64_t w = WallNanos();
    const uint64_t after = Realtime();
    const int64_t off = w < before  ? static_cast<int64_t>(before - w)
                        : w > after ? static_cast<int64_t>(w - after)
                                    : 0;
    worst = std::max(worst, off);
    ASSERT_GE(w + 1000, last) << "went back after " << reads << " reads";
    last = w;
    ++reads;
  }
  EXPECT_LT(worst, 100'000) << "ns off; tsc=" << WallClockUsesTsc();
  EXPECT_GT(reads, 1000);
}

// The kernel may give up the TSC as its clocksource while the process runs:
// WallNanos then reads the kernel's clock. In a child process, so that the
// other tests keep their clock; the clocksource is a file of the test's.
TEST(WallNanos, FollowsTheKernelOffTheTsc) {
  if (!WallClockUsesTsc()) GTEST_SKIP() << "the kernel does not keep time with the TSC here";
  char path[] = "/tmp/tw_clocksource_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "tsc\n", 4), 4);
  close(fd);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    wall_clock_internal::SetClocksourcePathForTest(path);
    // Still the TSC: the child calibrates again (fork handler) and keeps it.
    const uint64_t calibrated = Realtime() + 50 * kMs;
    while (Realtime() < calibrated) (void)WallNanos();
    if (!WallClockUsesTsc()) _exit(10);
    FILE* f = std::fopen(path, "w");
    std::fputs("hpet\n", f);
    std::fclose(f);
    // The next re-anchor (at most a second away) looks again.
    const uint64_t give_up = Realtime() + 3000 * kMs;
    while (WallClockUsesTsc() && Realtime() < give_up) (void)WallNanos();
    if (WallClockUsesTsc()) _exit(11);
    const uint64_t before = Realtime();
    const uint64_t w = WallNanos();
    const uint64_t after = Realtime();
    _exit(w >= before && w <= after ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  unlink(path);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10: lost the TSC too early, 11: kept it, 12: off the kernel";
  EXPECT_TRUE(WallClockUsesTsc());  // this process kept it
}

}  // namespace
}  // namespace tracewire::common
