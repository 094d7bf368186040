#include "tracewire/sampler.h"

#include <gtest/gtest.h>

namespace tracewire {
namespace {

TraceId IdWithLow(uint64_t low) {
  TraceId id{};
  id[0] = 1;
  for (int i = 0; i < 8; ++i) id[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  return id;
}

SamplingDecision Decide(const Sampler& s, const SpanContext& parent, const TraceId& id) {
  return s.ShouldSample(parent, id, "op", SpanKind::kInternal, {}).decision;
}

constexpr auto kSample = SamplingDecision::kRecordAndSample;
constexpr auto kDrop = SamplingDecision::kDrop;

TEST(Sampler, AlwaysOnAndOff) {
  EXPECT_EQ(Decide(*MakeAlwaysOnSampler(), {}, IdWithLow(5)), kSample);
  EXPECT_EQ(Decide(*MakeAlwaysOffSampler(), {}, IdWithLow(5)), kDrop);
  EXPECT_EQ(MakeAlwaysOnSampler()->Description(), "AlwaysOnSampler");
}

TEST(Sampler, TraceIdRatioBoundaries) {
  auto half = MakeTraceIdRatioSampler(0.5);
  EXPECT_EQ(Decide(*half, {}, IdWithLow(0)), kSample);
  EXPECT_EQ(Decide(*half, {}, IdWithLow(0x7FFFFFFFFFFFFFFFull)), kSample);
  EXPECT_EQ(Decide(*half, {}, IdWithLow(0x8000000000000000ull)), kDrop);
  EXPECT_EQ(Decide(*half, {}, IdWithLow(UINT64_MAX)), kDrop);
  EXPECT_EQ(Decide(*MakeTraceIdRatioSampler(0), {}, IdWithLow(0)), kDrop);
  EXPECT_EQ(Decide(*MakeTraceIdRatioSampler(1), {}, IdWithLow(UINT64_MAX)), kSample);
  EXPECT_EQ(Decide(*MakeTraceIdRatioSampler(7), {}, IdWithLow(UINT64_MAX)), kSample);  // clamped
  EXPECT_EQ(Decide(*MakeTraceIdRatioSampler(-1), {}, IdWithLow(0)), kDrop);
}

TEST(Sampler, TraceIdRatioIsCloseToTheRatio) {
  auto s = MakeTraceIdRatioSampler(0.1);
  int sampled = 0;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sampled += Decide(*s, {}, IdWithLow(x)) == kSample;
  }
  EXPECT_NEAR(sampled / 100000.0, 0.1, 0.005);
}

SpanContext Parent(bool sampled, bool remote) {
  SpanContext p;
  p.trace_id = IdWithLow(42);
  p.span_id[7] = 1;
  p.trace_flags = sampled ? kTraceFlagSampled : 0;
  p.is_remote = remote;
  return p;
}

TEST(Sampler, ParentBasedUsesTheDelegateForEachCase) {
  ParentBasedOptions o;
  o.remote_parent_sampled = MakeAlwaysOffSampler();      // inverted on purpose
  o.remote_parent_not_sampled = MakeAlwaysOnSampler();
  o.local_parent_sampled = MakeAlwaysOffSampler();
  o.local_parent_not_sampled = MakeAlwaysOnSampler();
  auto s = MakeParentBasedSampler(MakeAlwaysOffSampler(), o);
  EXPECT_EQ(Decide(*s, {}, IdWithLow(1)), kDrop);  // root
  EXPECT_EQ(Decide(*s, Parent(true, true), IdWithLow(1)), kDrop);
  EXPECT_EQ(Decide(*s, Parent(false, true), IdWithLow(1)), kSample);
  EXPECT_EQ(Decide(*s, Parent(true, false), IdWithLow(1)), kDrop);
  EXPECT_EQ(Decide(*s, Parent(false, false), IdWithLow(1)), kSample);
  auto d = MakeParentBasedSampler(MakeTraceIdRatioSampler(0.1));
  EXPECT_EQ(Decide(*d, Parent(true, true), IdWithLow(UINT64_MAX)), kSample);  // follows parent
  EXPECT_EQ(Decide(*d, Parent(false, false), IdWithLow(0)), kDrop);
  EXPECT_EQ(Decide(*d, {}, IdWithLow(UINT64_MAX)), kDrop);  // root: ratio
}

TEST(Sampler, FromEnvValues) {
  auto s = MakeSamplerFromEnvValues("parentbased_traceidratio", "0.1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Description().rfind("ParentBased{root=TraceIdRatioBased{0.100000}", 0), 0u)
      << (*s)->Description();
  EXPECT_EQ((*MakeSamplerFromEnvValues("", ""))->Description().rfind("ParentBased{root=AlwaysOn", 0),
            0u);
  EXPECT_EQ((*MakeSamplerFromEnvValues("always_off", ""))->Description(), "AlwaysOffSampler");
  auto bad = MakeSamplerFromEnvValues("traceidratio", "1.5");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("OTEL_TRACES_SAMPLER_ARG: '1.5'"),
            std::string::npos);
  auto unknown = MakeSamplerFromEnvValues("jaeger_remote", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(std::string(unknown.status().message()).find("'jaeger_remote'"), std::string::npos);
}

}  // namespace
}  // namespace tracewire
