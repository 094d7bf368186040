#include "exporter/circuit_breaker.h"

#include <gtest/gtest.h>

#include "exporter/spill_buffer.h"
#include "testing/test_env.h"
#include "tracewire/otlp_exporter.h"

namespace tracewire::exporter {
namespace {

using State = CircuitBreaker::State;

CircuitBreakerOptions Opts() {
  CircuitBreakerOptions o;
  o.consecutive_failures = 3;
  o.window_requests = 10;
  o.failure_ratio = 0.5;
  o.window = absl::Seconds(10);
  o.cool_down = absl::Seconds(30);
  o.half_open_probes = 2;
  return o;
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailures) {
  common::FakeClock clock;
  CircuitBreaker b(Opts(), &clock);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.Allow());
    b.Record(false);
  }
  b.Record(true);  // resets the run
  for (int i = 0; i < 2; ++i) b.Record(false);
  EXPECT_EQ(b.state(), State::kClosed);
  b.Record(false);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_FALSE(b.Allow());
}

TEST(CircuitBreaker, OpensOnFailureRatioOverTheWindow) {
  common::FakeClock clock;
  CircuitBreaker b(Opts(), &clock);
  // Alternating: never 3 in a row, but half of 10 fail.
  for (int i = 0; i < 9; ++i) {
    b.Record(i % 2 == 1);
    clock.Advance(absl::Milliseconds(100));
  }
  EXPECT_EQ(b.state(), State::kClosed);
  b.Record(false);
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST(CircuitBreaker, OldResultsLeaveTheWindow) {
  common::FakeClock clock;
  CircuitBreaker b(Opts(), &clock);
  for (int i = 0; i < 8; ++i) b.Record(i % 2 == 1);
  clock.Advance(absl::Seconds(11));  // those 8 are now outside the window
  b.Record(false);
  b.Record(true);
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreaker, HalfOpenProbesThenClosesOrReopens) {
  common::FakeClock clock;
  CircuitBreaker b(Opts(), &clock);
  for (int i = 0; i < 3; ++i) b.Record(false);
  ASSERT_EQ(b.state(), State::kOpen);
  clock.Advance(absl::Seconds(29));
  EXPECT_FALSE(b.Allow());
  clock.Advance(absl::Seconds(2));
  EXPECT_TRUE(b.Allow());  // probe 1
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_TRUE(b.Allow());   // probe 2
  EXPECT_FALSE(b.Allow());  // no more probes at once
  b.Record(true);
  b.Record(false);  // a failed probe opens it again
  EXPECT_EQ(b.state(), State::kOpen);
  clock.Advance(absl::Seconds(31));
  ASSERT_TRUE(b.Allow());
  ASSERT_TRUE(b.Allow());
  b.Record(true);
  b.Record(true);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.Allow());
  EXPECT_EQ(b.transitions(), 5);
}

TEST(SpillBuffer, KeepsOrderBoundsSizeAndSurvivesReopen) {
  const testing::TempDir tmp("tw-spillbuf");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  {
    SpillBuffer s(dir, 100, /*fsync=*/true);
    ASSERT_TRUE(s.Open().ok());
    ASSERT_TRUE(s.Put({wire::Signal::kLogs, "first", 1, 1}).ok());
    ASSERT_TRUE(s.Put({wire::Signal::kTraces, "second", 2, 2}).ok());
    EXPECT_EQ(s.Put({wire::Signal::kTraces, std::string(80, 'x'), 9, 9}).code(),
              absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(s.count(), 2);
  }
  SpillBuffer again(dir, 100, false);  // a new process finds the files
  ASSERT_TRUE(again.Open().ok());
  EXPECT_EQ(again.count(), 2);
  auto a = again.Take();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->bytes, "first");
  EXPECT_EQ(a->signal, wire::Signal::kLogs);
  EXPECT_EQ(a->items, 1);
  auto b = again.Take();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->bytes, "second");
  EXPECT_EQ(b->items, 2);
  EXPECT_FALSE(again.Take().has_value());
  EXPECT_EQ(again.size_bytes(), 0);
}

}  // namespace
}  // namespace tracewire::exporter

namespace tracewire {
namespace {

TEST(ExporterSelfMetrics, SemanticConventionNames) {
  ExporterStats s;
  s.exported_items = 10;
  s.dropped_items["queue_full"] = 2;
  s.failed_attempts["UNAVAILABLE"] = 3;
  s.request_duration_count = 4;
  s.operation_durations["OK"] = SelfHistogram{{0.5}, {2, 1}, 3, 1.25, 0.125, 0.75};
  s.operation_durations["UNAVAILABLE"] = SelfHistogram{{0.5}, {1, 0}, 1, 0.25, 0.25, 0.25};
  s.breaker_state = "closed";
  auto points = ExporterSelfMetrics(ExportSignal::kTraces, s);
  auto find = [&](const std::string& name, const std::string& k = "",
                  const std::string& v = "") -> const SelfMetricPoint* {
    for (const auto& p : points) {
      if (p.name == name && (k.empty() || (p.attributes.count(k) && p.attributes.at(k) == v))) {
        return &p;
      }
    }
    return nullptr;
  };
  ASSERT_TRUE(find("otel.sdk.exporter.span.exported"));
  EXPECT_EQ(find("otel.sdk.exporter.span.exported")->value, 10);
  ASSERT_TRUE(find("otel.sdk.exporter.span.exported", "error.type", "queue_full"));
  EXPECT_EQ(find("otel.sdk.exporter.span.exported", "error.type", "queue_full")->value, 2);
  ASSERT_TRUE(find("grpc.client.errors.total", "rpc.grpc.status_code", "UNAVAILABLE"));
  EXPECT_EQ(find("grpc.client.requests.total")->value, 4);
  EXPECT_TRUE(find("otel.sdk.exporter.span.inflight"));
  // The operation duration: a histogram per final code; error.type on failures only.
  const SelfMetricPoint* ok =
      find("otel.sdk.exporter.operation.duration", "rpc.grpc.status_code", "0");
  ASSERT_TRUE(ok);
  ASSERT_TRUE(ok->histogram.has_value());
  EXPECT_EQ(ok->histogram->count, 3);
  EXPECT_EQ(ok->attributes.count("error.type"), 0u);
  EXPECT_EQ(ok->unit, "s");
  const SelfMetricPoint* failed =
      find("otel.sdk.exporter.operation.duration", "rpc.grpc.status_code", "14");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->attributes.at("error.type"), "UNAVAILABLE");
  auto logs = ExporterSelfMetrics(ExportSignal::kLogs, s);
  EXPECT_EQ(logs[0].name, "otel.sdk.exporter.log.exported");
}

}  // namespace
}  // namespace tracewire
