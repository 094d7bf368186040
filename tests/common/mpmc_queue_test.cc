#include "common/mpmc_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace tracewire::common {
namespace {

TEST(MpmcQueue, CapacityIsExactEvenWhenNotAPowerOfTwo) {
  MpmcQueue<int> q(5);
  EXPECT_EQ(q.capacity(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(q.TryPush(i)) << i;
  EXPECT_FALSE(q.TryPush(5));
  int v;
  for (int lap = 0; lap < 3; ++lap) {  // wraps around several times
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(q.TryPop(&v));
      EXPECT_EQ(v, lap * 5 + i);
    }
    EXPECT_FALSE(q.TryPop(&v));
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(q.TryPush((lap + 1) * 5 + i));
    EXPECT_FALSE(q.TryPush(-1));
  }
  EXPECT_EQ(q.pushed(), 20u);
  EXPECT_EQ(q.popped(), 15u);
  EXPECT_EQ(q.SizeApprox(), 5u);
}

// A claimed cell holds poppers back until it is filled; the claim counts
// against the capacity at once, and cells after it wait behind it.
TEST(MpmcQueue, AClaimedCellHoldsPoppersBackUntilFilled) {
  MpmcQueue<int> q(3);
  size_t first, second;
  ASSERT_TRUE(q.TryClaim(&first));
  EXPECT_TRUE(q.TryPush(7, &second));  // behind the claim
  EXPECT_EQ(first, 0u);
  EXPECT_EQ(second, 1u);
  int out[3];
  int v;
  EXPECT_FALSE(q.TryPop(&v));
  EXPECT_EQ(q.TryPopBatch(out, 3), 0u);
  size_t third;
  ASSERT_TRUE(q.TryClaim(&third));
  size_t none;
  EXPECT_FALSE(q.TryClaim(&none));  // full: three claimed or pushed
  q.Fill(first, 5);
  EXPECT_EQ(q.TryPopBatch(out, 3), 2u);  // up to the unfilled third
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[1], 7);
  q.Fill(third, 9);
  ASSERT_TRUE(q.TryPop(&v));
  EXPECT_EQ(v, 9);
  EXPECT_EQ(q.pushed(), 3u);
}

TEST(MpmcQueue, TooSmallCapacityIsTwo) {
  MpmcQueue<int> q(1);
  EXPECT_EQ(q.capacity(), 2u);
  EXPECT_TRUE(q.TryPush(1));
  EXPECT_TRUE(q.TryPush(2));
  EXPECT_FALSE(q.TryPush(3));
}

TEST(MpmcQueue, PushPositionsAreDistinctAcrossThreads) {
  MpmcQueue<int> q(1000);
  std::vector<std::atomic<int>> seen(3000);
  std::vector<std::thread> producers;
  for (int t = 0; t < 3; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        size_t pos;
        while (!q.TryPush(t * 1000 + i, &pos)) std::this_thread::yield();
        seen[pos].fetch_add(1);
      }
    });
  }
  std::vector<int> got;
  while (got.size() < 3000) {
    int v;
    if (q.TryPop(&v)) got.push_back(v);
  }
  for (auto& p : producers) p.join();
  for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
  std::sort(got.begin(), got.end());
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(got[i], i);
  EXPECT_EQ(q.pushed(), 3000u);
}

TEST(MpmcQueue, BatchPopTakesWhatIsThereInOrderAcrossTheWrap) {
  MpmcQueue<int> q(5);
  int out[8];
  EXPECT_EQ(q.TryPopBatch(out, 8), 0u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.TryPush(i));
  ASSERT_EQ(q.TryPopBatch(out, 2), 2u);  // at most `max`
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 1);
  for (int i = 3; i < 7; ++i) ASSERT_TRUE(q.TryPush(i));  // wraps: positions 3..6
  EXPECT_FALSE(q.TryPush(7));                             // 5 held: full
  ASSERT_EQ(q.TryPopBatch(out, 8), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], 2 + i);
  EXPECT_EQ(q.popped(), 7u);
  EXPECT_EQ(q.SizeApprox(), 0u);
  EXPECT_TRUE(q.TryPush(7));  // every cell freed
}

// Producers and two consumers, one popping singly and one in batches:
// every value comes out exactly once.
TEST(MpmcQueue, BatchAndSinglePopsShareTheQueue) {
  constexpr int kPerProducer = 20000;
  MpmcQueue<int> q(64);
  std::vector<std::thread> producers;
  for (int t = 0; t < 2; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerProducer; ++i) {
        while (!q.TryPush(t * kPerProducer + i)) std::this_thread::yield();
      }
    });
  }
  std::vector<std::atomic<int>> seen(2 * kPerProducer);
  std::atomic<int> total{0};
  auto consume = [&](bool batch) {
    int buf[16];
    while (total.load() < 2 * kPerProducer) {
      size_t n = 0;
      if (batch) {
        n = q.TryPopBatch(buf, 16);
      } else if (q.TryPop(&buf[0])) {
        n = 1;
      }
      for (size_t i = 0; i < n; ++i) seen[buf[i]].fetch_add(1);
      total.fetch_add(static_cast<int>(n));
      if (n == 0) std::this_thread::yield();
    }
  };
  std::thread single(consume, false), batched(consume, true);
  for (auto& p : producers) p.join();
  single.join();
  batched.join();
  for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
}

}  // namespace
}  // namespace tracewire::common
