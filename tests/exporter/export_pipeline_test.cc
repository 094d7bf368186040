// The exporter's engine against a real gRPC server whose answers are
// scripted, with an injected clock: retry counts and delays are checked
// without sleeping.

#include "exporter/export_pipeline.h"

#include <gtest/gtest.h>

#include "exporter/grpc_transport.h"
#include "testing/held_port.h"
#include "testing/scripted_receiver.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"
#include "wire/otlp_split.h"

namespace tracewire::exporter {
namespace {

using ::grpc::StatusCode;
using testing::Reply;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  OtlpExporterOptions Options() {
    OtlpExporterOptions o;
    o.endpoint = server_.endpoint();
    o.max_in_flight = 1;
    o.retry.jitter = 0;  // exact delays
    o.breaker.enabled = false;
    return o;
  }

  void Make(const OtlpExporterOptions& o) {
    auto t = GrpcTransport::Create(o);
    ASSERT_TRUE(t.ok()) << t.status();
    pipeline_ = std::make_unique<ExportPipeline>(o, std::move(*t), &clock_);
    ASSERT_TRUE(pipeline_->Start().ok());
  }

  PipelineRequest Spans(int n, uint64_t seed) {
    PipelineRequest r;
    r.signal = wire::Signal::kTraces;
    r.bytes = tools::MakeStandardSpansRequest(n, seed);
    r.items = r.units = n;
    return r;
  }

  void Flush() { ASSERT_TRUE(pipeline_->ForceFlush(absl::Now() + absl::Seconds(20)).ok()); }

  testing::ScriptedReceiver server_;
  common::FakeClock clock_;
  const testing::TempDir tmp_{"tw-pipeline"};  // Outlives pipeline_, which spills in it.
  std::unique_ptr<ExportPipeline> pipeline_;
};

TEST_F(PipelineTest, RetriesUnavailableWithExponentialBackoff) {
  Make(Options());
  server_.Script({{StatusCode::UNAVAILABLE}, {StatusCode::UNAVAILABLE}, {StatusCode::UNAVAILABLE}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(3, 1)).ok());
  Flush();
  EXPECT_EQ(server_.call_count(), 4u);
  EXPECT_EQ(clock_.sleeps(),
            (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(2), absl::Seconds(4)}));
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.exported_items, 3);
  EXPECT_EQ(s.retries, 3);
  EXPECT_EQ(s.failed_attempts["UNAVAILABLE"], 3);
  EXPECT_EQ(s.dropped_total(), 0);
  // One export operation, retries included, under its final code.
  ASSERT_EQ(s.operation_durations.size(), 1u);
  const SelfHistogram& ok = s.operation_durations["OK"];
  EXPECT_EQ(ok.count, 1);
  EXPECT_EQ(ok.bucket_counts.size(), ok.bounds.size() + 1);
  EXPECT_GT(ok.sum, 0);
  EXPECT_EQ(ok.min, ok.max);
}

TEST_F(PipelineTest, AnOperationThatGivesUpIsTimedUnderItsLastCode) {
  OtlpExporterOptions o = Options();
  o.retry.enabled = false;
  Make(o);
  server_.Script({{StatusCode::UNAVAILABLE}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 1)).ok());
  Flush();
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 2)).ok());
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 3)).ok());
  Flush();
  ExporterStats s = pipeline_->Stats();
  ASSERT_EQ(s.operation_durations.count("UNAVAILABLE"), 1u);
  EXPECT_EQ(s.operation_durations["UNAVAILABLE"].count, 1);
  EXPECT_EQ(s.operation_durations["OK"].count, 2);
  int64_t in_buckets = 0;
  for (int64_t n : s.operation_durations["OK"].bucket_counts) in_buckets += n;
  EXPECT_EQ(in_buckets, 2);
  EXPECT_LE(s.operation_durations["OK"].min, s.operation_durations["OK"].max);
}

TEST_F(PipelineTest, BackoffIsCappedAndJittered) {
  OtlpExporterOptions o = Options();
  o.retry.jitter = 0.2;
  o.retry.max_backoff = absl::Seconds(3);
  Make(o);
  server_.Script(std::vector<Reply>(5, Reply{StatusCode::UNAVAILABLE}));
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 1)).ok());
  Flush();
  const auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 5u);
  const double base[] = {1, 2, 3, 3, 3};
  for (int i = 0; i < 5; ++i) {
    EXPECT_GE(sleeps[i], absl::Seconds(base[i] * 0.8)) << i;
    EXPECT_LE(sleeps[i], absl::Seconds(base[i] * 1.2)) << i;
  }
}

TEST_F(PipelineTest, EveryRetryableCodeIsRetried) {
  Make(Options());
  for (StatusCode c : {StatusCode::CANCELLED, StatusCode::DEADLINE_EXCEEDED, StatusCode::ABORTED,
                       StatusCode::OUT_OF_RANGE, StatusCode::UNAVAILABLE, StatusCode::DATA_LOSS}) {
    const size_t before = server_.call_count();
    server_.Script({{c}});
    ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 2)).ok());
    Flush();
    EXPECT_EQ(server_.call_count(), before + 2) << "code " << c;
  }
  EXPECT_EQ(pipeline_->Stats().exported_items, 6);
  EXPECT_EQ(pipeline_->Stats().dropped_total(), 0);
}

TEST_F(PipelineTest, NonRetryableCodesDropAtOnce) {
  Make(Options());
  for (StatusCode c :
       {StatusCode::INVALID_ARGUMENT, StatusCode::UNAUTHENTICATED, StatusCode::PERMISSION_DENIED,
        StatusCode::NOT_FOUND, StatusCode::UNIMPLEMENTED, StatusCode::INTERNAL}) {
    const size_t before = server_.call_count();
    server_.Script({{c}});
    ASSERT_TRUE(pipeline_->Enqueue(Spans(2, 3)).ok());
    Flush();
    EXPECT_EQ(server_.call_count(), before + 1) << "code " << c;
  }
  EXPECT_TRUE(clock_.sleeps().empty());
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.dropped_items["non_retryable"], 12);
  EXPECT_EQ(s.exported_items, 0);
}

TEST_F(PipelineTest, RetryInfoDelayOverridesBackoff) {
  Make(Options());
  server_.Script({{StatusCode::UNAVAILABLE, absl::Milliseconds(7500)},
                  {StatusCode::RESOURCE_EXHAUSTED, absl::Seconds(3)}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(4, 4)).ok());
  Flush();
  EXPECT_EQ(server_.call_count(), 3u);
  EXPECT_EQ(clock_.sleeps(),
            (std::vector<absl::Duration>{absl::Milliseconds(7500), absl::Seconds(3)}));
  EXPECT_EQ(pipeline_->Stats().exported_items, 4);
}

TEST_F(PipelineTest, ResourceExhaustedWithoutRetryInfoSplitsInHalves) {
  Make(Options());
  // The whole request, then its first half, are refused as too large.
  server_.Script({{StatusCode::RESOURCE_EXHAUSTED}, {StatusCode::RESOURCE_EXHAUSTED}});
  PipelineRequest req = Spans(8, 5);
  const std::string original = req.bytes;
  ASSERT_TRUE(pipeline_->Enqueue(std::move(req)).ok());
  Flush();
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 5u);  // 8, 4 (refused), 2, 2, 4
  std::vector<int64_t> sizes;
  for (const auto& c : calls) {
    sizes.push_back(wire::CountRequestItems(wire::Signal::kTraces, c.bytes)->items);
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{8, 4, 2, 2, 4}));
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_EQ(pipeline_->Stats().exported_items, 8);
}

TEST_F(PipelineTest, SingleItemTooLargeIsDroppedAndCounted) {
  Make(Options());
  server_.Script({{StatusCode::RESOURCE_EXHAUSTED}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 6)).ok());
  Flush();
  EXPECT_EQ(server_.call_count(), 1u);
  EXPECT_EQ(pipeline_->Stats().dropped_items["too_large"], 1);
}

TEST_F(PipelineTest, PartialSuccessIsNotRetried) {
  Make(Options());
  server_.Script({{StatusCode::OK, std::nullopt, 2, "two spans were bad"}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(5, 7)).ok());
  Flush();
  EXPECT_EQ(server_.call_count(), 1u);
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.exported_items, 3);
  EXPECT_EQ(s.dropped_items["rejected"], 2);
}

TEST_F(PipelineTest, GivesUpAfterMaxElapsed) {
  OtlpExporterOptions o = Options();
  o.retry.max_elapsed = absl::Seconds(10);
  Make(o);
  server_.Script(std::vector<Reply>(50, Reply{StatusCode::UNAVAILABLE}));
  ASSERT_TRUE(pipeline_->Enqueue(Spans(3, 8)).ok());
  Flush();
  // 1 + 2 + 4 = 7 s fit in 10 s; the next wait (8 s) would not.
  EXPECT_EQ(clock_.sleeps().size(), 3u);
  EXPECT_EQ(server_.call_count(), 4u);
  EXPECT_EQ(pipeline_->Stats().dropped_items["retries_exhausted"], 3);
}

TEST_F(PipelineTest, LargeRequestsAreSplitBeforeSending) {
  OtlpExporterOptions o = Options();
  o.max_request_bytes = 8 * 1024;
  Make(o);
  PipelineRequest req = Spans(100, 9);
  ASSERT_GT(req.bytes.size(), 30000u);
  ASSERT_TRUE(pipeline_->Enqueue(std::move(req)).ok());
  Flush();
  int64_t spans = 0;
  for (const auto& c : server_.calls()) {
    EXPECT_LE(c.bytes.size(), 8u * 1024);
    spans += wire::CountRequestItems(wire::Signal::kTraces, c.bytes)->items;
  }
  EXPECT_GE(server_.call_count(), 4u);
  EXPECT_EQ(spans, 100);
  EXPECT_EQ(pipeline_->Stats().exported_items, 100);
}

TEST_F(PipelineTest, FullQueueDropsAndCounts) {
  OtlpExporterOptions o = Options();
  o.max_queue_items = 10;
  Make(o);
  server_.Script({{StatusCode::OK, std::nullopt, 0, "", absl::Milliseconds(300)}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(5, 1)).ok());  // taken by the worker (slow reply)
  // Wait until the worker holds it, so the queue is empty again.
  for (int i = 0; i < 200 && pipeline_->Stats().in_flight == 0; ++i)
    absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(pipeline_->Enqueue(Spans(6, 2)).ok());
  ASSERT_TRUE(pipeline_->Enqueue(Spans(4, 3)).ok());  // 10 queued: full
  absl::Status st = pipeline_->Enqueue(Spans(1, 4));
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  Flush();
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.dropped_items["queue_full"], 1);
  EXPECT_EQ(s.exported_items, 15);
}

TEST_F(PipelineTest, BreakerOpensSpillsAndReplaysInOrder) {
  OtlpExporterOptions o = Options();
  o.retry.enabled = false;
  o.breaker.enabled = true;
  o.breaker.consecutive_failures = 2;
  o.breaker.half_open_probes = 1;
  o.breaker.cool_down = absl::Seconds(30);
  ASSERT_TRUE(tmp_.ok());
  o.breaker.spill_dir = tmp_.path() + "/spill";
  Make(o);
  server_.Script({{StatusCode::UNAVAILABLE}, {StatusCode::UNAVAILABLE}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 1)).ok());
  Flush();
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 2)).ok());
  Flush();
  EXPECT_EQ(pipeline_->breaker().state(), CircuitBreaker::State::kOpen);
  PipelineRequest r3 = Spans(3, 3), r4 = Spans(4, 4);
  const std::string b3 = r3.bytes, b4 = r4.bytes;
  ASSERT_TRUE(pipeline_->Enqueue(std::move(r3)).ok());
  ASSERT_TRUE(pipeline_->Enqueue(std::move(r4)).ok());
  Flush();
  EXPECT_EQ(server_.call_count(), 2u) << "nothing is sent while open";
  EXPECT_EQ(pipeline_->Stats().spilled_items, 7);
  EXPECT_GT(pipeline_->Stats().spill_bytes, 0);

  clock_.Advance(absl::Seconds(31));  // cool-down over: the next export is a probe
  ASSERT_TRUE(pipeline_->Enqueue(Spans(5, 5)).ok());
  for (int i = 0; i < 400 && server_.call_count() < 5; ++i) absl::SleepFor(absl::Milliseconds(10));
  // The receiver logs a call before it answers: wait for the last answer to be counted too.
  for (int i = 0; i < 400 && pipeline_->Stats().exported_items < 12; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(pipeline_->breaker().state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(calls[3].bytes, b3);  // replayed in order
  EXPECT_EQ(calls[4].bytes, b4);
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.replayed_items, 7);
  EXPECT_EQ(s.exported_items, 12);
  EXPECT_EQ(s.dropped_items["retries_exhausted"], 2);
  EXPECT_EQ(s.breaker_transitions, 3);  // closed -> open -> half-open -> closed
}

TEST_F(PipelineTest, BreakerWithoutSpillDropsAndCounts) {
  OtlpExporterOptions o = Options();
  o.retry.enabled = false;
  o.breaker.enabled = true;
  o.breaker.consecutive_failures = 1;
  Make(o);
  server_.Script({{StatusCode::UNAVAILABLE}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(1, 1)).ok());
  Flush();
  ASSERT_TRUE(pipeline_->Enqueue(Spans(6, 2)).ok());
  Flush();
  EXPECT_EQ(server_.call_count(), 1u);
  EXPECT_EQ(pipeline_->Stats().dropped_items["breaker_open"], 6);
}

TEST(ExportPipelineShutdown, UnreachableEndpointReturnsByTheDeadline) {
  const testing::HeldPort refusing;  // nothing listens there
  ASSERT_TRUE(refusing.ok());
  OtlpExporterOptions o;
  o.endpoint = "http://" + refusing.address();
  o.timeout = absl::Seconds(30);
  auto t = GrpcTransport::Create(o);
  ASSERT_TRUE(t.ok());
  ExportPipeline p(o, std::move(*t), common::RealClock::Get());
  ASSERT_TRUE(p.Start().ok());
  for (int i = 0; i < 10; ++i) {
    PipelineRequest r{wire::Signal::kTraces, tools::MakeStandardSpansRequest(2, i), 2, 2};
    ASSERT_TRUE(p.Enqueue(std::move(r)).ok());
  }
  absl::Status st = p.Shutdown(absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  ExporterStats s = p.Stats();
  EXPECT_EQ(s.exported_items, 0);
  EXPECT_EQ(s.dropped_total(), 20) << "every item is accounted for";
  EXPECT_EQ(s.queued_items, 0);
  EXPECT_FALSE(p.Enqueue({wire::Signal::kTraces, "", 0, 0}).ok());
}

}  // namespace
}  // namespace tracewire::exporter

namespace tracewire::exporter {
namespace {

TEST(ExportPipelineShutdown, BackoffWaitsEndAtOnce) {
  testing::ScriptedReceiver server;
  ASSERT_TRUE(server.Start());
  server.Script(std::vector<testing::Reply>(10, testing::Reply{::grpc::StatusCode::UNAVAILABLE}));
  OtlpExporterOptions o;
  o.endpoint = server.endpoint();
  o.retry.initial_backoff = absl::Seconds(60);  // far longer than the shutdown deadline
  o.retry.max_backoff = absl::Seconds(60);
  auto t = GrpcTransport::Create(o);
  ASSERT_TRUE(t.ok());
  ExportPipeline p(o, std::move(*t), common::RealClock::Get());
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.Enqueue({wire::Signal::kTraces, tools::MakeStandardSpansRequest(3, 1), 3, 3}).ok());
  for (int i = 0; i < 500 && server.call_count() == 0; ++i) absl::SleepFor(absl::Milliseconds(10));
  // The 60 s wait ends when the shutdown begins: a second attempt goes out at
  // once; the wait after it ends at the shutdown deadline.
  EXPECT_EQ(p.Shutdown(absl::Now() + absl::Seconds(2)).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server.call_count(), 2u);
  EXPECT_EQ(p.Stats().dropped_items["shutdown"], 3);
}

}  // namespace
}  // namespace tracewire::exporter
