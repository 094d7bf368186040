#include "common/admission.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tracewire::common {
namespace {

TEST(AdmissionBudget, AdmitsUpToTheLimitAndReleasesWithTheLastHolder) {
  AdmissionBudget budget(100);
  auto a = budget.TryAdmit(60);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(budget.TryAdmit(41), nullptr);  // 101 > 100
  EXPECT_EQ(budget.refused(), 1);
  auto b = budget.TryAdmit(40);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(budget.used(), 100);
  auto copy = a;  // a queued copy keeps the bytes counted
  a.reset();
  EXPECT_EQ(budget.used(), 100);
  copy.reset();
  EXPECT_EQ(budget.used(), 40);
  b.reset();
  EXPECT_EQ(budget.used(), 0);
  EXPECT_EQ(budget.peak(), 100);
}

TEST(AdmissionBudget, AddCountsCopiesPastTheLimitAndBlocksNewRequests) {
  AdmissionBudget budget(100);
  auto a = budget.TryAdmit(50);
  a->Add(70);  // the inflated copy: never refused
  EXPECT_EQ(budget.used(), 120);
  EXPECT_EQ(budget.TryAdmit(1), nullptr);
  a.reset();
  EXPECT_EQ(budget.used(), 0);
  EXPECT_NE(budget.TryAdmit(100), nullptr);
}

TEST(AdmissionBudget, ZeroLimitCountsWithoutRefusing) {
  AdmissionBudget budget(0);
  auto a = budget.TryAdmit(1 << 30);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(budget.used(), 1 << 30);
  EXPECT_EQ(budget.refused(), 0);
}

TEST(AdmissionBudget, ConcurrentAdmissionsNeverPassTheLimit) {
  AdmissionBudget budget(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        auto ticket = budget.TryAdmit(7);
        if (ticket) EXPECT_LE(budget.used(), 1000);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(budget.used(), 0);
  EXPECT_LE(budget.peak(), 1000);
}

}  // namespace
}  // namespace tracewire::common
