// Readers and exporters: the periodic reader through the in-memory exporter,
// ForceFlush and Shutdown; exemplars; the environment variables; the
// Prometheus text.

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/synchronization/notification.h"
#include "sdk/metrics/metrics_test_util.h"
#include "tracewire/metrics.h"
#include "tracewire/span_exporter.h"

namespace tracewire {
namespace {

using testing::CollectOrDie;
using testing::FindMetric;
using testing::MakeManualProvider;

struct PeriodicSetup {
  std::unique_ptr<MeterProvider> provider;
  InMemoryMetricExporter* exporter = nullptr;
  PeriodicExportingMetricReader* reader = nullptr;
};

PeriodicSetup MakePeriodic(absl::Duration interval) {
  PeriodicSetup s;
  auto exporter = std::make_unique<InMemoryMetricExporter>();
  s.exporter = exporter.get();
  auto reader =
      PeriodicExportingMetricReader::Create(std::move(exporter), {.export_interval = interval});
  s.reader = reader.get();
  MeterProviderOptions o;
  o.resource.attributes = {{"service.name", "periodic"}};
  o.readers.push_back(std::move(reader));
  s.provider = std::move(*MeterProvider::Create(std::move(o)));
  return s;
}

TEST(PeriodicExportingMetricReader, ExportsEveryInterval) {
  PeriodicSetup s = MakePeriodic(absl::Milliseconds(5));
  auto c = s.provider->GetMeter("m")->CreateInt64Counter("c");
  c.Add(3);
  ASSERT_TRUE(s.exporter->WaitForExports(3, absl::Now() + absl::Seconds(30)));
  const auto exports = s.exporter->exports();
  const MetricData* m = FindMetric(exports.back(), "c");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(std::get<int64_t>(std::get<Sum>(m->data).data_points[0].value), 3);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  // The reader counts an export after the exporter returns: read its
  // counts once Shutdown has joined it.
  EXPECT_GE(s.reader->exports(), 3);
  EXPECT_EQ(s.reader->failed_exports(), 0);
  EXPECT_TRUE(s.exporter->shut_down());
}

TEST(PeriodicExportingMetricReader, ForceFlushExportsAtOnceAndShutdownExportsLast) {
  PeriodicSetup s = MakePeriodic(absl::Hours(1));
  auto c = s.provider->GetMeter("m")->CreateInt64Counter("c");
  c.Add(1);
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_EQ(s.exporter->exports().size(), 1u);
  c.Add(1);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  const auto exports = s.exporter->exports();
  ASSERT_EQ(exports.size(), 2u);
  EXPECT_EQ(
      std::get<int64_t>(std::get<Sum>(FindMetric(exports[1], "c")->data).data_points[0].value), 2);
  EXPECT_EQ(s.provider->ForceFlush(absl::Now() + absl::Seconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
}

// An exporter that blocks until released: Shutdown still returns by its deadline.
class BlockingExporter : public MetricExporter {
 public:
  absl::Status Export(const ResourceMetrics&) override {
    entered_.Notify();
    release_->WaitForNotification();
    return absl::OkStatus();
  }
  absl::Notification entered_;
  std::shared_ptr<absl::Notification> release_ = std::make_shared<absl::Notification>();
};

TEST(PeriodicExportingMetricReader, ShutdownReturnsByItsDeadlineWithAHungExporter) {
  auto exporter = std::make_unique<BlockingExporter>();
  BlockingExporter* e = exporter.get();
  auto release = e->release_;
  auto reader = PeriodicExportingMetricReader::Create(std::move(exporter),
                                                      {.export_interval = absl::Milliseconds(1)});
  MeterProviderOptions o;
  o.readers.push_back(std::move(reader));
  auto provider = std::move(*MeterProvider::Create(std::move(o)));
  e->entered_.WaitForNotification();
  const absl::Status st = provider->Shutdown(absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  provider.reset();
  release->Notify();  // the detached thread finishes on its own state
}

TEST(MetricExemplars, TraceBasedTakesTheCurrentSampledSpan) {
  TracerProviderOptions to;
  to.processors.push_back(MakeSimpleSpanProcessor(MakeNoopSpanExporter()));
  auto tracer_provider = std::move(*TracerProvider::Create(std::move(to)));
  Tracer* tracer = tracer_provider->GetTracer("t");
  auto p = MakeManualProvider();
  auto c = p.meter->CreateInt64Counter("c");
  auto h = p.meter->CreateDoubleHistogram("h");
  c.Add(1, {{"outside", true}});  // no span: no exemplar
  SpanContext sc;
  {
    ScopedSpan span(*tracer, "work");
    sc = span->GetContext();
    c.Add(2, {{"inside", true}});
    h.Record(3.5);
  }
  const ResourceMetrics rm = CollectOrDie(p.reader);
  for (const auto& pt : std::get<Sum>(FindMetric(rm, "c")->data).data_points) {
    if (testing::AttrString(pt.attributes, "inside") == "true") {
      ASSERT_EQ(pt.exemplars.size(), 1u);
      EXPECT_EQ(*pt.exemplars[0].trace_id, sc.trace_id);
      EXPECT_EQ(*pt.exemplars[0].span_id, sc.span_id);
      EXPECT_EQ(std::get<int64_t>(pt.exemplars[0].value), 2);
      EXPECT_GT(pt.exemplars[0].time_unix_nano, 0u);
    } else {
      EXPECT_TRUE(pt.exemplars.empty());
    }
  }
  const auto& hp = std::get<tracewire::Histogram>(FindMetric(rm, "h")->data).data_points[0];
  ASSERT_EQ(hp.exemplars.size(), 1u);
  EXPECT_EQ(std::get<double>(hp.exemplars[0].value), 3.5);
  EXPECT_EQ(*hp.exemplars[0].span_id, sc.span_id);
}

TEST(MetricExemplars, UnsampledSpanAndAlwaysOff) {
  // An unsampled current context: trace_based takes none; always_on does.
  SpanContext sc;
  sc.trace_id[0] = 1;
  sc.span_id[0] = 2;
  sc.trace_flags = 0;
  for (ExemplarFilter f :
       {ExemplarFilter::kTraceBased, ExemplarFilter::kAlwaysOn, ExemplarFilter::kAlwaysOff}) {
    MeterProviderOptions o;
    o.exemplar_filter = f;
    auto p = MakeManualProvider(std::move(o));
    auto c = p.meter->CreateInt64Counter("c");
    {
      auto scope = Context().WithSpanContext(sc).Attach();
      c.Add(1);
    }
    const ResourceMetrics rm = CollectOrDie(p.reader);
    const auto& pt = std::get<Sum>(FindMetric(rm, "c")->data).data_points[0];
    EXPECT_EQ(pt.exemplars.size(), f == ExemplarFilter::kAlwaysOn ? 1u : 0u) << static_cast<int>(f);
  }
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(MetricsEnv, GoodValues) {
  ScopedEnv a("OTEL_METRICS_EXEMPLAR_FILTER", "always_off");
  ScopedEnv b("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
              "base2_exponential_bucket_histogram");
  ScopedEnv c("OTEL_METRIC_EXPORT_INTERVAL", "1500");
  ScopedEnv d("OTEL_METRIC_EXPORT_TIMEOUT", "700");
  ScopedEnv e("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "LowMemory");
  auto o = MeterProviderOptions::FromEnv();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->exemplar_filter, ExemplarFilter::kAlwaysOff);
  EXPECT_EQ(o->default_histogram_aggregation, AggregationKind::kBase2ExponentialHistogram);
  auto r = PeriodicReaderOptions::FromEnv();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->export_interval, absl::Milliseconds(1500));
  EXPECT_EQ(r->export_timeout, absl::Milliseconds(700));
  EXPECT_EQ(r->temporality, TemporalityPreference::kLowMemory);
}

TEST(MetricsEnv, Defaults) {
  auto o = MeterProviderOptions::FromEnv();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->exemplar_filter, ExemplarFilter::kTraceBased);
  EXPECT_EQ(o->default_histogram_aggregation, AggregationKind::kExplicitBucketHistogram);
  EXPECT_EQ(o->cardinality_limit, 2000u);
  auto r = PeriodicReaderOptions::FromEnv();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->export_interval, absl::Seconds(60));
  EXPECT_EQ(r->export_timeout, absl::Seconds(30));
  EXPECT_EQ(r->temporality, TemporalityPreference::kCumulative);
}

TEST(MetricsEnv, BadValuesNameTheVariable) {
  const std::pair<const char*, const char*> cases[] = {
      {"OTEL_METRICS_EXEMPLAR_FILTER", "sometimes"},
      {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "summary"},
      {"OTEL_METRIC_EXPORT_INTERVAL", "-5"},
      {"OTEL_METRIC_EXPORT_TIMEOUT", "soon"},
      {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "both"},
  };
  for (const auto& [name, value] : cases) {
    ScopedEnv env(name, value);
    absl::Status st = MeterProviderOptions::FromEnv().status();
    if (st.ok()) st = PeriodicReaderOptions::FromEnv().status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_NE(st.message().find(name), std::string::npos) << st;
    EXPECT_NE(st.message().find(value), std::string::npos) << st;
  }
}

TEST(PrometheusText, CountersGaugesAndHistograms) {
  MeterProviderOptions o;
  o.resource.attributes = {{"service.name", "shop"}};
  auto p = MakeManualProvider(std::move(o));
  p.meter->CreateInt64Counter("http.server.requests", "{request}", "Requests.")
      .Add(7, {{"http.route", "/a\"b"}});
  p.meter->CreateDoubleHistogram("rpc.duration", "ms", "", {1, 10}).Record(5);
  p.meter->CreateInt64UpDownCounter("queue.size").Add(-2);
  p.meter->CreateDoubleGauge("cpu.ratio", "1").Record(0.5);
  const std::string text = FormatPrometheusText(CollectOrDie(p.reader));
  EXPECT_NE(text.find("# HELP http_server_requests_total Requests.\n"
                      "# TYPE http_server_requests_total counter\n"
                      "http_server_requests_total{job=\"shop\",http_route=\"/a\\\"b\"} 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE rpc_duration_milliseconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rpc_duration_milliseconds_bucket{job=\"shop\",le=\"1\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rpc_duration_milliseconds_bucket{job=\"shop\",le=\"10\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("rpc_duration_milliseconds_bucket{job=\"shop\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("rpc_duration_milliseconds_sum{job=\"shop\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("rpc_duration_milliseconds_count{job=\"shop\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE queue_size gauge\nqueue_size{job=\"shop\"} -2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("cpu_ratio{job=\"shop\"} 0.5\n"), std::string::npos) << text;
}

TEST(ConsoleMetricExporter, WritesOneLinePerPoint) {
  auto p = MakeManualProvider();
  p.meter->CreateInt64Counter("c").Add(4, {{"k", "v"}});
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto e = MakeConsoleMetricExporter(f);
  ASSERT_TRUE(e->Export(CollectOrDie(p.reader)).ok());
  std::rewind(f);
  char buf[256] = {};
  ASSERT_NE(std::fgets(buf, sizeof(buf), f), nullptr);
  EXPECT_EQ(std::string(buf), "test.meter c sum{k=v} 4\n");
  std::fclose(f);
}

}  // namespace
}  // namespace tracewire
