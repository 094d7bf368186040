// The SDK's own telemetry through the metrics SDK (tracewire/self_telemetry.h):
// the batch processors' counts, drops and queue, the exporters' points, the
// summing of several components, and providers that go away.

#include "tracewire/self_telemetry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "sdk/metrics/metrics_test_util.h"
#include "testing/scripted_receiver.h"
#include "tracewire/otlp_exporter.h"
#include "tracewire/span_exporter.h"

namespace tracewire::testing {
namespace {

// Exports nothing; can hang until released; reports one point of its own.
class StubSpanExporter : public SpanExporter {
 public:
  absl::Status Export(std::span<const SpanRef> spans) override {
    if (hang_) release_.WaitForNotification();
    exported_.fetch_add(static_cast<int64_t>(spans.size()));
    return absl::OkStatus();
  }
  std::vector<SelfMetricPoint> SelfMetrics() const override {
    return {{"otel.sdk.exporter.span.exported",
             "{span}",
             {{"otel.component.type", "stub_span_exporter"}},
             static_cast<double>(exported_.load()),
             true}};
  }
  bool hang_ = false;
  absl::Notification release_;

 private:
  std::atomic<int64_t> exported_{0};
};

// The value of the point of `name` whose attributes include `key`=`value`
// (or, with an empty key, that has no error.type); -1 when absent.
int64_t Value(const ResourceMetrics& rm, std::string_view name, std::string_view key = {},
              std::string_view value = {}) {
  const MetricData* m = FindMetric(rm, name);
  if (m == nullptr) return -1;
  const auto* sum = std::get_if<Sum>(&m->data);
  if (sum == nullptr) return -1;
  for (const auto& p : sum->data_points) {
    const bool match = key.empty() ? AttrString(p.attributes, "error.type").empty()
                                   : AttrString(p.attributes, key) == value;
    if (match) return std::get<int64_t>(p.value);
  }
  return -1;
}

struct Spans {
  StubSpanExporter* exporter = nullptr;
  BatchSpanProcessor* processor = nullptr;
  std::shared_ptr<TracerProvider> provider;
};

Spans MakeSpans(BatchSpanProcessorOptions o = {}) {
  Spans s;
  auto exporter = std::make_unique<StubSpanExporter>();
  s.exporter = exporter.get();
  auto processor = BatchSpanProcessor::Create(std::move(exporter), o);
  s.processor = processor.get();
  TracerProviderOptions to;
  to.processors.push_back(std::move(processor));
  s.provider = std::shared_ptr<TracerProvider>(std::move(*TracerProvider::Create(std::move(to))));
  return s;
}

TEST(SdkSelfMetrics, SpanProcessorAndExporterCounts) {
  ManualProvider m = MakeManualProvider();
  Spans s = MakeSpans();
  EnableSdkSelfMetrics(*m.provider, s.provider, {});
  Tracer* tracer = s.provider->GetTracer("t");
  for (int i = 0; i < 10; ++i) tracer->StartSpan("s").End();
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  ResourceMetrics rm = CollectOrDie(m.reader);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.processed"), 10);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.processed", "error.type", "queue_full"), 0);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.queue.size"), 0);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.queue.capacity"), 2048);
  EXPECT_EQ(Value(rm, "otel.sdk.exporter.span.exported"), 10);
  const MetricData* processed = FindMetric(rm, "otel.sdk.processor.span.processed");
  ASSERT_NE(processed, nullptr);
  EXPECT_TRUE(std::get<Sum>(processed->data).is_monotonic);
  EXPECT_EQ(processed->unit, "{span}");
  EXPECT_FALSE(
      std::get<Sum>(FindMetric(rm, "otel.sdk.processor.span.queue.size")->data).is_monotonic);
  // The point carries the component's type.
  const auto& p = std::get<Sum>(processed->data).data_points[0];
  EXPECT_EQ(AttrString(p.attributes, "otel.component.type"), "batching_span_processor");
}

// Decides by the span's name: "drop", "record" (RECORD_ONLY), else sampled.
class ByNameSampler final : public Sampler {
 public:
  SamplingResult ShouldSample(const SpanContext&, const TraceId&, std::string_view name, SpanKind,
                              const Attributes&) const override {
    SamplingResult r;
    r.decision = name == "drop"     ? SamplingDecision::kDrop
                 : name == "record" ? SamplingDecision::kRecordOnly
                                    : SamplingDecision::kRecordAndSample;
    return r;
  }
  std::string Description() const override { return "ByName"; }
};

// otel.sdk.span.started by sampling result, and otel.sdk.span.live: spans
// started on one thread and ended on another count once each.
TEST(SdkSelfMetrics, SpansStartedAndLiveBySamplingResult) {
  ManualProvider m = MakeManualProvider();
  TracerProviderOptions to;
  to.sampler = std::make_shared<ByNameSampler>();
  auto provider =
      std::shared_ptr<TracerProvider>(std::move(*TracerProvider::Create(std::move(to))));
  EnableSdkSelfMetrics(*m.provider, provider, {});
  Tracer* tracer = provider->GetTracer("t");
  std::vector<Span> open;
  for (int i = 0; i < 3; ++i) tracer->StartSpan("drop").End();
  for (int i = 0; i < 4; ++i) open.push_back(tracer->StartSpan("record"));
  std::thread other([&] {
    for (int i = 0; i < 5; ++i) open.push_back(tracer->StartSpan("sampled"));
    tracer->StartSpan("sampled").End();
  });
  other.join();
  const auto result = "otel.span.sampling_result";
  ResourceMetrics rm = CollectOrDie(m.reader);
  EXPECT_EQ(Value(rm, "otel.sdk.span.started", result, "DROP"), 3);
  EXPECT_EQ(Value(rm, "otel.sdk.span.started", result, "RECORD_ONLY"), 4);
  EXPECT_EQ(Value(rm, "otel.sdk.span.started", result, "RECORD_AND_SAMPLE"), 6);
  EXPECT_EQ(Value(rm, "otel.sdk.span.live", result, "RECORD_ONLY"), 4);
  EXPECT_EQ(Value(rm, "otel.sdk.span.live", result, "RECORD_AND_SAMPLE"), 5);
  EXPECT_TRUE(std::get<Sum>(FindMetric(rm, "otel.sdk.span.started")->data).is_monotonic);
  EXPECT_FALSE(std::get<Sum>(FindMetric(rm, "otel.sdk.span.live")->data).is_monotonic);
  // Ended here, on another thread than the one that started them.
  open[0].End();
  open[5].End();
  open[6].End();
  rm = CollectOrDie(m.reader);
  EXPECT_EQ(Value(rm, "otel.sdk.span.live", result, "RECORD_ONLY"), 3);
  EXPECT_EQ(Value(rm, "otel.sdk.span.live", result, "RECORD_AND_SAMPLE"), 3);
  EXPECT_EQ(Value(rm, "otel.sdk.span.started", result, "RECORD_AND_SAMPLE"), 6);
  for (Span& sp : open) sp.End();
  rm = CollectOrDie(m.reader);
  EXPECT_EQ(Value(rm, "otel.sdk.span.live", result, "RECORD_ONLY"), 0);
  EXPECT_EQ(Value(rm, "otel.sdk.span.live", result, "RECORD_AND_SAMPLE"), 0);
}

// otel.span.parent.origin on otel.sdk.span.started: none, local, remote.
TEST(SdkSelfMetrics, SpansStartedByParentOrigin) {
  ManualProvider m = MakeManualProvider();
  auto provider = std::shared_ptr<TracerProvider>(std::move(*TracerProvider::Create({})));
  EnableSdkSelfMetrics(*m.provider, provider, {});
  Tracer* tracer = provider->GetTracer("t");
  Span root = tracer->StartSpan("root");
  StartSpanOptions local;
  local.parent = Context().WithSpanContext(root.GetContext());
  for (int i = 0; i < 2; ++i) tracer->StartSpan("child", local).End();
  SpanContext remote_parent = root.GetContext();
  remote_parent.is_remote = true;
  StartSpanOptions remote;
  remote.parent = Context().WithSpanContext(remote_parent);
  for (int i = 0; i < 3; ++i) tracer->StartSpan("server", remote).End();
  root.End();
  ResourceMetrics rm = CollectOrDie(m.reader);
  const auto origin = "otel.span.parent.origin";
  EXPECT_EQ(Value(rm, "otel.sdk.span.started", origin, "none"), 1);
  EXPECT_EQ(Value(rm, "otel.sdk.span.started", origin, "local"), 2);
  EXPECT_EQ(Value(rm, "otel.sdk.span.started", origin, "remote"), 3);
  for (const auto& p : std::get<Sum>(FindMetric(rm, "otel.sdk.span.started")->data).data_points) {
    EXPECT_EQ(AttrString(p.attributes, "otel.span.sampling_result"), "RECORD_AND_SAMPLE");
  }
}

TEST(SdkSelfMetrics, DropsOfAFullQueueAreCounted) {
  ManualProvider m = MakeManualProvider();
  BatchSpanProcessorOptions o;
  o.max_queue_size = 4;
  o.max_export_batch_size = 2;
  o.ending_threads_export = BatchSpanProcessorOptions::EndingThreadsExport::kNever;
  o.export_when_full = false;
  Spans s = MakeSpans(o);
  s.exporter->hang_ = true;  // the worker blocks in its first export
  EnableSdkSelfMetrics(*m.provider, s.provider, {});
  Tracer* tracer = s.provider->GetTracer("t");
  for (int i = 0; i < 100; ++i) tracer->StartSpan("s").End();
  const BatchSpanProcessorStats stats = s.processor->Stats();
  ASSERT_GT(stats.dropped_queue_full, 0);
  ResourceMetrics rm = CollectOrDie(m.reader);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.processed", "error.type", "queue_full"),
            stats.dropped_queue_full);
  EXPECT_GT(Value(rm, "otel.sdk.processor.span.queue.size"), 0);
  s.exporter->release_.Notify();
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  rm = CollectOrDie(m.reader);
  // Every ended span is exported or counted as dropped.
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.processed") +
                Value(rm, "otel.sdk.processor.span.processed", "error.type", "queue_full"),
            100);
}

TEST(SdkSelfMetrics, LogProcessorBesideTheSpanProcessor) {
  ManualProvider m = MakeManualProvider();
  auto exporter = std::make_unique<InMemoryLogRecordExporter>();
  auto processor = BatchLogRecordProcessor::Create(std::move(exporter));
  ASSERT_TRUE(processor.ok());
  LoggerProviderOptions lo;
  lo.processors.push_back(std::move(*processor));
  std::shared_ptr<LoggerProvider> logs(std::move(*LoggerProvider::Create(std::move(lo))));
  Spans a = MakeSpans();
  EnableSdkSelfMetrics(*m.provider, a.provider, logs);
  for (int i = 0; i < 3; ++i) logs->GetLogger("l")->Emit(SeverityNumber::kInfo, "x");
  for (int i = 0; i < 4; ++i) a.provider->GetTracer("t")->StartSpan("s").End();
  ASSERT_TRUE(logs->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_TRUE(a.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  ResourceMetrics rm = CollectOrDie(m.reader);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.log.processed"), 3);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.log.processed", "error.type", "queue_full"), 0);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.log.queue.capacity"), 2048);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.processed"), 4);
}

TEST(SdkSelfMetrics, TwoProcessorsOfOneProviderAreSummed) {
  ManualProvider m = MakeManualProvider();
  TracerProviderOptions to;
  StubSpanExporter* exporters[2];
  for (auto*& e : exporters) {
    auto exporter = std::make_unique<StubSpanExporter>();
    e = exporter.get();
    to.processors.push_back(BatchSpanProcessor::Create(std::move(exporter)));
  }
  std::shared_ptr<TracerProvider> traces(std::move(*TracerProvider::Create(std::move(to))));
  EnableSdkSelfMetrics(*m.provider, traces, {});
  for (int i = 0; i < 5; ++i) traces->GetTracer("t")->StartSpan("s").End();
  ASSERT_TRUE(traces->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  ResourceMetrics rm = CollectOrDie(m.reader);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.processed"), 10);
  EXPECT_EQ(Value(rm, "otel.sdk.processor.span.queue.capacity"), 2 * 2048);
  EXPECT_EQ(Value(rm, "otel.sdk.exporter.span.exported"), 10);
}

TEST(SdkSelfMetrics, AProviderThatIsGoneReportsNothing) {
  ManualProvider m = MakeManualProvider();
  Spans s = MakeSpans();
  EnableSdkSelfMetrics(*m.provider, s.provider, {});
  s.provider->GetTracer("t")->StartSpan("s").End();
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(Value(CollectOrDie(m.reader), "otel.sdk.processor.span.processed"), 1);
  s.provider.reset();  // destroyed: the weak reference expires
  EXPECT_EQ(Value(CollectOrDie(m.reader), "otel.sdk.processor.span.processed"), -1);
}

// Every name the SDK's components report is in the catalog, so none is lost.
TEST(SdkSelfMetrics, EveryReportedNameIsAnInstrument) {
  ExporterStats es;
  es.dropped_items["queue_full"] = 1;
  es.failed_attempts["UNAVAILABLE"] = 1;
  es.operation_durations["OK"] = SelfHistogram{{1}, {1, 0}, 1, 0.5, 0.5, 0.5};
  std::vector<SelfMetricPoint> points;
  for (ExportSignal sig : {ExportSignal::kTraces, ExportSignal::kMetrics, ExportSignal::kLogs}) {
    auto more = ExporterSelfMetrics(sig, es);
    points.insert(points.end(), more.begin(), more.end());
  }
  auto spans = BatchSpanProcessorSelfMetrics({});
  points.insert(points.end(), spans.begin(), spans.end());
  auto logs = LogRecordProcessorSelfMetrics({});
  points.insert(points.end(), logs.begin(), logs.end());

  // A processor that reports every one of them.
  class AllNames : public SpanProcessor {
   public:
    explicit AllNames(std::vector<SelfMetricPoint> p) : points_(std::move(p)) {}
    void OnEnd(SpanRef) override {}
    absl::Status ForceFlush(absl::Time) override { return absl::OkStatus(); }
    absl::Status Shutdown(absl::Time) override { return absl::OkStatus(); }
    std::vector<SelfMetricPoint> SelfMetrics() const override { return points_; }

   private:
    std::vector<SelfMetricPoint> points_;
  };
  ManualProvider m = MakeManualProvider();
  TracerProviderOptions to;
  to.processors.push_back(std::make_unique<AllNames>(points));
  std::shared_ptr<TracerProvider> traces(std::move(*TracerProvider::Create(std::move(to))));
  EnableSdkSelfMetrics(*m.provider, traces, {});
  ResourceMetrics all = CollectOrDie(m.reader);
  for (const SelfMetricPoint& p : points) {
    EXPECT_NE(FindMetric(all, p.name), nullptr) << p.name << " is not reported";
  }
}

// A real OTLP exporter's operations, one histogram observation each, under
// the semantic conventions' name and integer status code.
TEST(SdkSelfMetrics, ExportOperationDurationIsAHistogramOfARealExporter) {
  ScriptedReceiver receiver;
  ASSERT_TRUE(receiver.Start());
  OtlpExporterOptions eo;
  eo.endpoint = receiver.endpoint();
  auto exporter = MakeOtlpSpanExporter(eo);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  TracerProviderOptions to;
  to.processors.push_back(BatchSpanProcessor::Create(std::move(*exporter), {}));
  std::shared_ptr<TracerProvider> traces(std::move(*TracerProvider::Create(std::move(to))));
  ManualProvider m = MakeManualProvider();
  EnableSdkSelfMetrics(*m.provider, traces, {});
  for (int batch = 0; batch < 3; ++batch) {
    traces->GetTracer("t")->StartSpan("s").End();
    ASSERT_TRUE(traces->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  }
  ASSERT_EQ(receiver.call_count(), 3u);
  ResourceMetrics rm = CollectOrDie(m.reader);
  const MetricData* d = FindMetric(rm, "otel.sdk.exporter.operation.duration");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->unit, "s");
  const auto& h = std::get<tracewire::Histogram>(d->data);
  ASSERT_EQ(h.data_points.size(), 1u);
  const HistogramDataPoint& p = h.data_points[0];
  EXPECT_EQ(p.count, 3u);
  EXPECT_GT(p.sum, 0);
  EXPECT_EQ(p.explicit_bounds.size() + 1, p.bucket_counts.size());
  EXPECT_TRUE(AttrString(p.attributes, "error.type").empty());
  EXPECT_EQ(AttrString(p.attributes, "otel.component.type"), "otlp_grpc_span_exporter");
  bool int_code = false;
  for (const auto& kv : p.attributes) {
    if (kv.key == "rpc.grpc.status_code") {
      const auto* v = std::get_if<int64_t>(&kv.value.value);
      int_code = v != nullptr && *v == 0;
    }
  }
  EXPECT_TRUE(int_code) << "rpc.grpc.status_code is the integer 0";
  ASSERT_TRUE(traces->Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace tracewire::testing
