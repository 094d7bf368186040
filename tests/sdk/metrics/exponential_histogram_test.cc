#include "sdk/metrics/exponential_histogram.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracewire::sdk::metrics {
namespace {

using ::testing::ElementsAre;

ExponentialHistogramDataPoint Filled(const ExponentialHistogramState& s) {
  ExponentialHistogramDataPoint p;
  s.Fill(&p);
  return p;
}

// base^index < v <= base^(index + 1) at `scale`, computed in long double,
// independently of IndexOf's arithmetic.
bool InBucket(double v, int32_t index, int scale) {
  const long double lower = std::pow(2.0L, std::ldexp(static_cast<long double>(index), -scale));
  const long double upper = std::pow(2.0L, std::ldexp(static_cast<long double>(index) + 1, -scale));
  const long double x = v;
  const long double slack = 1e-15L * x;  // the bounds are rounded
  return x > lower - slack && x <= upper + slack;
}

TEST(ExponentialHistogram, IndexAtScaleZeroAndBelowFollowsPowersOfTwo) {
  // Scale 0: (2^i, 2^(i+1)]; upper bounds inclusive.
  EXPECT_EQ(ExponentialHistogramState::IndexOf(1.0, 0), -1);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(2.0, 0), 0);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(3.0, 0), 1);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(4.0, 0), 1);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(5.0, 0), 2);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(0.5, 0), -2);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(0.75, 0), -1);
  // Scale -1: (4^i, 4^(i+1)].
  EXPECT_EQ(ExponentialHistogramState::IndexOf(4.0, -1), 0);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(5.0, -1), 1);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(16.0, -1), 1);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(17.0, -1), 2);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(1.0, -1), -1);
  // Subnormal and the largest double.
  EXPECT_EQ(ExponentialHistogramState::IndexOf(std::numeric_limits<double>::denorm_min(), 0),
            -1075);
  EXPECT_EQ(ExponentialHistogramState::IndexOf(std::numeric_limits<double>::max(), 0), 1023);
}

TEST(ExponentialHistogram, PowersOfTwoAreUpperBoundsAtEveryPositiveScale) {
  for (int scale = 1; scale <= 20; ++scale) {
    for (int k : {-20, -1, 0, 1, 7, 100}) {
      const double v = std::ldexp(1.0, k);
      EXPECT_EQ(ExponentialHistogramState::IndexOf(v, scale),
                static_cast<int32_t>(int64_t{k} * (int64_t{1} << scale) - 1))
          << "2^" << k << " at scale " << scale;
      // The next double up is in the next bucket.
      EXPECT_EQ(ExponentialHistogramState::IndexOf(std::nextafter(v, 1e308), scale),
                static_cast<int32_t>(int64_t{k} * (int64_t{1} << scale)));
    }
  }
}

TEST(ExponentialHistogram, EveryIndexHoldsItsValue) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-300, 300);
  for (int scale = -10; scale <= 20; ++scale) {
    for (int n = 0; n < 200; ++n) {
      const double v = std::exp2(exponent(rng));
      const int32_t index = ExponentialHistogramState::IndexOf(v, scale);
      ASSERT_TRUE(InBucket(v, index, scale)) << v << " index " << index << " scale " << scale;
    }
  }
}

TEST(ExponentialHistogram, OneValueStaysAtMaxScale) {
  ExponentialHistogramState s;
  s.Record(1.0);
  const auto p = Filled(s);
  EXPECT_EQ(p.scale, 20);
  EXPECT_EQ(p.positive.offset, -1);
  EXPECT_THAT(p.positive.bucket_counts, ElementsAre(1));
  EXPECT_EQ(p.count, 1u);
  EXPECT_EQ(*p.sum, 1.0);
  EXPECT_EQ(*p.min, 1.0);
  EXPECT_EQ(*p.max, 1.0);
}

TEST(ExponentialHistogram, RescalesJustEnoughForMaxSize) {
  // As in the specification's examples: 1, 2 and 4 in 4 buckets need scale 0.
  ExponentialHistogramState s(4);
  s.Record(2);
  s.Record(4);
  s.Record(1);
  auto p = Filled(s);
  EXPECT_EQ(p.scale, 0);
  EXPECT_EQ(p.positive.offset, -1);
  EXPECT_THAT(p.positive.bucket_counts, ElementsAre(1, 1, 1));
  // 1..16 cannot fit 4 buckets at scale 0 (indices -1..3): scale -1.
  for (double v : {8.0, 16.0}) s.Record(v);
  p = Filled(s);
  EXPECT_EQ(p.scale, -1);
  EXPECT_EQ(p.positive.offset, -1);  // 1 -> -1; 2, 4 -> 0; 8, 16 -> 1
  EXPECT_THAT(p.positive.bucket_counts, ElementsAre(1, 2, 2));
  EXPECT_EQ(p.count, 5u);
  EXPECT_EQ(*p.sum, 31.0);
}

TEST(ExponentialHistogram, NegativeZeroAndNonFiniteValues) {
  ExponentialHistogramState s(160);
  s.Record(-3);
  s.Record(0);
  s.Record(-0.0);
  s.Record(3);
  s.Record(std::numeric_limits<double>::quiet_NaN());
  s.Record(std::numeric_limits<double>::infinity());
  const auto p = Filled(s);
  EXPECT_EQ(p.zero_count, 2u);
  EXPECT_EQ(p.count, 4u);
  EXPECT_EQ(s.non_finite(), 2u);
  EXPECT_EQ(*p.min, -3.0);
  EXPECT_EQ(*p.max, 3.0);
  EXPECT_EQ(*p.sum, 0.0);
  EXPECT_THAT(p.negative.bucket_counts, ElementsAre(1));
  EXPECT_THAT(p.positive.bucket_counts, ElementsAre(1));
  EXPECT_EQ(p.negative.offset, p.positive.offset);  // both hold |3|
}

TEST(ExponentialHistogram, BothRangesShareTheScale) {
  ExponentialHistogramState s(4);
  s.Record(-1);
  s.Record(-1024);  // forces the negative range down
  s.Record(1.5);
  const auto p = Filled(s);
  EXPECT_LE(p.negative.bucket_counts.size(), 4u);
  EXPECT_TRUE(InBucket(1.5, p.positive.offset, p.scale));
  EXPECT_TRUE(
      InBucket(1024, p.negative.offset + int32_t(p.negative.bucket_counts.size()) - 1, p.scale));
}

// Random values: the invariants of the header hold, and merging two halves
// gives what recording everything in one state gives.
TEST(ExponentialHistogram, RandomValuesKeepTheInvariantsAndMergeLikeOne) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> magnitude(0, 6);
  for (int max_size : {2, 4, 20, 160}) {
    ExponentialHistogramState all(max_size), a(max_size), b(max_size);
    std::vector<double> values;
    for (int i = 0; i < 2000; ++i) {
      double v = magnitude(rng) * ((i % 3 == 0) ? -1 : 1);
      if (i % 97 == 0) v = 0;
      values.push_back(v);
      all.Record(v);
      ((i % 2) ? a : b).Record(v);
    }
    a.Merge(b);
    const auto p = Filled(all);
    const auto m = Filled(a);
    uint64_t in_buckets = p.zero_count;
    for (auto c : p.positive.bucket_counts) in_buckets += c;
    for (auto c : p.negative.bucket_counts) in_buckets += c;
    EXPECT_EQ(in_buckets, p.count);
    EXPECT_EQ(p.count, values.size());
    EXPECT_LE(p.positive.bucket_counts.size(), size_t(max_size));
    EXPECT_LE(p.negative.bucket_counts.size(), size_t(max_size));
    for (const auto* r : {&p.positive, &p.negative}) {
      ASSERT_FALSE(r->bucket_counts.empty());
      EXPECT_NE(r->bucket_counts.front(), 0u);
      EXPECT_NE(r->bucket_counts.back(), 0u);
    }
    for (double v : values) {
      if (v == 0) continue;
      const auto& r = v > 0 ? p.positive : p.negative;
      const int32_t index = ExponentialHistogramState::IndexOf(std::fabs(v), p.scale);
      ASSERT_GE(index, r.offset);
      ASSERT_LT(index - r.offset, int32_t(r.bucket_counts.size()));
    }
    // The merged halves hold the same values: count, sum, min, max, zeros.
    EXPECT_EQ(m.count, p.count);
    EXPECT_NEAR(*m.sum, *p.sum, 1e-12 * std::fabs(*p.sum));  // summed in another order
    EXPECT_EQ(*m.min, *p.min);
    EXPECT_EQ(*m.max, *p.max);
    EXPECT_EQ(m.zero_count, p.zero_count);
    ExponentialHistogramState again(max_size);
    again.Merge(a);
    again.Merge(all);  // every value twice, at the lower scale
    const auto twice = Filled(again);
    EXPECT_EQ(twice.count, 2 * p.count);
    EXPECT_LE(twice.scale, std::min(m.scale, p.scale));
  }
}

TEST(ExponentialHistogram, MergeLowersToTheOtherScaleAndKeepsCounts) {
  ExponentialHistogramState wide(4), narrow(4);
  for (double v : {1.0, 2.0, 4.0, 8.0, 16.0}) wide.Record(v);  // scale -1
  narrow.Record(3);                                            // scale 20
  narrow.Merge(wide);
  const auto p = Filled(narrow);
  EXPECT_EQ(p.scale, -1);
  EXPECT_EQ(p.count, 6u);
  EXPECT_THAT(p.positive.bucket_counts, ElementsAre(1, 3, 2));  // 1 | 2,3,4 | 8,16
}

TEST(ExponentialHistogram, ResetReturnsToMaxScale) {
  ExponentialHistogramState s(4, 10);
  for (double v : {1.0, 1e6, 1e-6}) s.Record(v);
  EXPECT_LT(s.scale(), 10);
  s.Reset();
  const auto p = Filled(s);
  EXPECT_EQ(p.scale, 10);
  EXPECT_EQ(p.count, 0u);
  EXPECT_FALSE(p.min.has_value());
  EXPECT_TRUE(p.positive.bucket_counts.empty());
}

}  // namespace
}  // namespace tracewire::sdk::metrics
