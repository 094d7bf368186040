#include "common/spare_cores.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace tracewire::common {
namespace {

TEST(SpareCores, CoresLessTheCpuTimeOverTheWallTime) {
  EXPECT_DOUBLE_EQ(SpareCoresMeter::Spare(500'000'000, 1'000'000'000, 2), 1.5);
  EXPECT_DOUBLE_EQ(SpareCoresMeter::Spare(1'800'000'000, 1'000'000'000, 2), 0.2);
  EXPECT_DOUBLE_EQ(SpareCoresMeter::Spare(0, 1'000'000'000, 4), 4.0);
  // Clamped: CPU time read a little later than the wall clock.
  EXPECT_DOUBLE_EQ(SpareCoresMeter::Spare(2'100'000'000, 1'000'000'000, 2), 0.0);
  EXPECT_DOUBLE_EQ(SpareCoresMeter::Spare(-5, 1'000'000'000, 2), 2.0);
  // Too short an interval to tell: all spare.
  EXPECT_DOUBLE_EQ(SpareCoresMeter::Spare(900, 900, 2), 2.0);
}

TEST(SpareCores, ReadsThisProcesssUse) {
  SpareCoresMeter m;
  ASSERT_GE(m.cores(), 1);
  // Sleeping, the process uses next to nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GT(m.Read(), m.cores() - 0.5);
  // Another of its threads spinning, it uses some of a core (the process's
  // time is counted, not this thread's).
  std::thread spin([] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
    while (std::chrono::steady_clock::now() < end) {
    }
  });
  spin.join();
  const double spare = m.Read();
  EXPECT_LT(spare, m.cores());
  EXPECT_GE(spare, 0.0);
}

}  // namespace
}  // namespace tracewire::common
