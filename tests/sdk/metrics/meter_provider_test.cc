// Instruments, aggregations and temporality, read through a manual reader.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "sdk/metrics/metrics_test_util.h"
#include "tracewire/metrics.h"

namespace tracewire {
namespace {

using testing::AttrString;
using testing::CollectOrDie;
using testing::FindMetric;
using testing::MakeManualProvider;

int64_t IntOf(const NumberDataPoint& p) { return std::get<int64_t>(p.value); }
double DoubleOf(const NumberDataPoint& p) { return std::get<double>(p.value); }

// The point of a Sum/Gauge metric whose attribute `key` is `value`.
const NumberDataPoint* PointWith(const std::vector<NumberDataPoint>& points, std::string_view key,
                                 std::string_view value) {
  for (const auto& p : points) {
    if (AttrString(p.attributes, key) == value) return &p;
  }
  return nullptr;
}

TEST(MeterProvider, Int64CounterSumsPerAttributeSet) {
  auto p = MakeManualProvider();
  auto c = p.meter->CreateInt64Counter("requests", "{request}", "Requests served");
  c.Add(1, {{"route", "/a"}, {"code", 200}});
  c.Add(2, {{"code", 200}, {"route", "/a"}});  // another order: the same series
  c.Add(5, {{"route", "/b"}, {"code", 200}});
  const AttributeSet b{{"route", "/b"}, {"code", 200}};
  c.Add(10, b);
  c.Add(-3, {{"route", "/a"}, {"code", 200}});  // a counter refuses a negative increment
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const MetricData* m = FindMetric(rm, "requests");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->unit, "{request}");
  EXPECT_EQ(m->description, "Requests served");
  const Sum& sum = std::get<Sum>(m->data);
  EXPECT_TRUE(sum.is_monotonic);
  EXPECT_EQ(sum.aggregation_temporality, AggregationTemporality::kCumulative);
  ASSERT_EQ(sum.data_points.size(), 2u);
  EXPECT_EQ(IntOf(*PointWith(sum.data_points, "route", "/a")), 3);
  EXPECT_EQ(IntOf(*PointWith(sum.data_points, "route", "/b")), 15);
  EXPECT_EQ(rm.scope_metrics[0].scope.name, "test.meter");
  EXPECT_EQ(rm.scope_metrics[0].scope.version, "1.0");
  EXPECT_EQ(AttrString(rm.resource.attributes, "telemetry.sdk.name"), "tracewire");
}

TEST(MeterProvider, DoubleCounterAndUpDownCounters) {
  auto p = MakeManualProvider();
  auto c = p.meter->CreateDoubleCounter("bytes", "By");
  c.Add(0.5);
  c.Add(0.25);
  c.Add(std::numeric_limits<double>::quiet_NaN());  // refused
  auto ud = p.meter->CreateInt64UpDownCounter("active");
  ud.Add(5);
  ud.Add(-7);
  auto udd = p.meter->CreateDoubleUpDownCounter("level");
  udd.Add(-1.5);
  udd.Add(0);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  EXPECT_DOUBLE_EQ(DoubleOf(std::get<Sum>(FindMetric(rm, "bytes")->data).data_points[0]), 0.75);
  const Sum& active = std::get<Sum>(FindMetric(rm, "active")->data);
  EXPECT_FALSE(active.is_monotonic);
  EXPECT_EQ(IntOf(active.data_points[0]), -2);
  EXPECT_DOUBLE_EQ(DoubleOf(std::get<Sum>(FindMetric(rm, "level")->data).data_points[0]), -1.5);
}

TEST(MeterProvider, HistogramBucketEdgesZeroAndNegative) {
  auto p = MakeManualProvider();
  auto h = p.meter->CreateDoubleHistogram("latency", "ms");
  // Default boundaries 0,5,10,...,10000: buckets (-inf,0], (0,5], (5,10], ...
  for (double v : {-1.0, 0.0, 0.001, 5.0, 5.0001, 10.0, 10000.0, 10000.5}) h.Record(v);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& hp = std::get<tracewire::Histogram>(FindMetric(rm, "latency")->data).data_points;
  ASSERT_EQ(hp.size(), 1u);
  const HistogramDataPoint& d = hp[0];
  EXPECT_EQ(d.explicit_bounds, DefaultHistogramBoundaries());
  ASSERT_EQ(d.bucket_counts.size(), 16u);
  EXPECT_EQ(d.bucket_counts[0], 2u);   // -1, 0
  EXPECT_EQ(d.bucket_counts[1], 2u);   // 0.001, 5
  EXPECT_EQ(d.bucket_counts[2], 2u);   // 5.0001, 10
  EXPECT_EQ(d.bucket_counts[14], 1u);  // 10000
  EXPECT_EQ(d.bucket_counts[15], 1u);  // 10000.5
  EXPECT_EQ(d.count, 8u);
  EXPECT_DOUBLE_EQ(*d.sum, -1 + 0 + 0.001 + 5 + 5.0001 + 10 + 10000 + 10000.5);
  EXPECT_DOUBLE_EQ(*d.min, -1.0);
  EXPECT_DOUBLE_EQ(*d.max, 10000.5);
}

TEST(MeterProvider, HistogramAdvisoryBoundariesAndInt64) {
  auto p = MakeManualProvider();
  auto h = p.meter->CreateInt64Histogram("size", "By", "", {10, 100});
  for (int64_t v : {1, 10, 11, 100, 1000}) h.Record(v);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& d = std::get<tracewire::Histogram>(FindMetric(rm, "size")->data).data_points[0];
  EXPECT_EQ(d.bucket_counts, (std::vector<uint64_t>{2, 2, 1}));
  EXPECT_EQ(*d.sum, 1122);
}

// Advice of no boundaries is one bucket (-inf, +inf); no advice (`{}`) is the
// default boundaries (what the JS SDK does with `explicitBucketBoundaries: []`).
TEST(MeterProvider, HistogramEmptyAdvisoryBoundariesAreOneBucket) {
  auto p = MakeManualProvider();
  auto one = p.meter->CreateDoubleHistogram("one", "By", "", std::vector<double>{});
  auto dflt = p.meter->CreateDoubleHistogram("default", "By", "", {});
  for (double v : {1.0, 2.0, 1e9}) {
    one.Record(v);
    dflt.Record(v);
  }
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& o = std::get<tracewire::Histogram>(FindMetric(rm, "one")->data).data_points[0];
  EXPECT_TRUE(o.explicit_bounds.empty());
  EXPECT_EQ(o.bucket_counts, (std::vector<uint64_t>{3}));
  const auto& d = std::get<tracewire::Histogram>(FindMetric(rm, "default")->data).data_points[0];
  EXPECT_EQ(d.explicit_bounds, DefaultHistogramBoundaries());
  EXPECT_EQ(d.bucket_counts.size(), DefaultHistogramBoundaries().size() + 1);
}

TEST(MeterProvider, GaugeKeepsTheLastValue) {
  auto p = MakeManualProvider();
  auto g = p.meter->CreateInt64Gauge("temperature");
  g.Record(20, {{"room", "a"}});
  g.Record(-3, {{"room", "a"}});
  auto gd = p.meter->CreateDoubleGauge("ratio");
  gd.Record(0.5);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& t = std::get<tracewire::Gauge>(FindMetric(rm, "temperature")->data);
  ASSERT_EQ(t.data_points.size(), 1u);
  EXPECT_EQ(IntOf(t.data_points[0]), -3);
  EXPECT_DOUBLE_EQ(
      DoubleOf(std::get<tracewire::Gauge>(FindMetric(rm, "ratio")->data).data_points[0]), 0.5);
}

TEST(MeterProvider, ObservableInstrumentsReportTheirCallbacks) {
  auto p = MakeManualProvider();
  int64_t total = 0;
  p.meter->CreateInt64ObservableCounter("cpu.ticks", [&](ObserverResult& r) {
    total += 10;
    r.Observe(total, {{"cpu", 0}});
  });
  p.meter->CreateDoubleObservableUpDownCounter("queue.depth",
                                               [](ObserverResult& r) { r.Observe(-2.5); });
  p.meter->CreateDoubleObservableGauge("mem.ratio", [](ObserverResult& r) {
    r.Observe(0.25, {{"kind", "heap"}});
    r.Observe(0.75, {{"kind", "stack"}});
  });
  ResourceMetrics rm = CollectOrDie(p.reader);
  EXPECT_EQ(IntOf(std::get<Sum>(FindMetric(rm, "cpu.ticks")->data).data_points[0]), 10);
  EXPECT_TRUE(std::get<Sum>(FindMetric(rm, "cpu.ticks")->data).is_monotonic);
  EXPECT_DOUBLE_EQ(DoubleOf(std::get<Sum>(FindMetric(rm, "queue.depth")->data).data_points[0]),
                   -2.5);
  const auto& g = std::get<tracewire::Gauge>(FindMetric(rm, "mem.ratio")->data).data_points;
  EXPECT_DOUBLE_EQ(DoubleOf(*PointWith(g, "kind", "stack")), 0.75);
  rm = CollectOrDie(p.reader);
  EXPECT_EQ(IntOf(std::get<Sum>(FindMetric(rm, "cpu.ticks")->data).data_points[0]), 20);
}

TEST(MeterProvider, DeltaAgainstCumulativeOverSeveralCollections) {
  MeterProviderOptions o;
  auto cumulative = std::make_unique<ManualMetricReader>(TemporalityPreference::kCumulative);
  auto delta = std::make_unique<ManualMetricReader>(TemporalityPreference::kDelta);
  MetricReader* cr = cumulative.get();
  MetricReader* dr = delta.get();
  o.readers.push_back(std::move(cumulative));
  o.readers.push_back(std::move(delta));
  auto provider = std::move(*MeterProvider::Create(std::move(o)));
  Meter* meter = provider->GetMeter("m");
  auto c = meter->CreateInt64Counter("c");
  auto ud = meter->CreateInt64UpDownCounter("ud");
  auto h = meter->CreateDoubleHistogram("h");
  int64_t seen = 0;
  meter->CreateInt64ObservableCounter("oc", [&](ObserverResult& r) { r.Observe(seen); });
  const int64_t adds[] = {3, 0, 4};
  int64_t running = 0;
  uint64_t prev_time = 0;
  for (int round = 0; round < 3; ++round) {
    for (int64_t i = 0; i < adds[round]; ++i) {
      c.Add(2, {{"k", "v"}});
      ud.Add(-1);
      h.Record(7, {{"k", "v"}});
    }
    seen += 5 * (round + 1);
    running += adds[round];
    const ResourceMetrics crm = CollectOrDie(cr);
    const ResourceMetrics drm = CollectOrDie(dr);
    const Sum& cs = std::get<Sum>(FindMetric(crm, "c")->data);
    EXPECT_EQ(cs.aggregation_temporality, AggregationTemporality::kCumulative);
    EXPECT_EQ(IntOf(cs.data_points[0]), 2 * running) << round;
    const MetricData* dm = FindMetric(drm, "c");
    if (adds[round] == 0) {
      EXPECT_EQ(dm, nullptr) << "a delta stream reports only series recorded into";
    } else {
      ASSERT_NE(dm, nullptr);
      const Sum& ds = std::get<Sum>(dm->data);
      EXPECT_EQ(ds.aggregation_temporality, AggregationTemporality::kDelta);
      EXPECT_EQ(IntOf(ds.data_points[0]), 2 * adds[round]) << round;
      EXPECT_GE(ds.data_points[0].start_time_unix_nano, prev_time);
      prev_time = ds.data_points[0].time_unix_nano;
      const auto& dh = std::get<tracewire::Histogram>(FindMetric(drm, "h")->data);
      EXPECT_EQ(dh.aggregation_temporality, AggregationTemporality::kDelta);
      EXPECT_EQ(dh.data_points[0].count, static_cast<uint64_t>(adds[round]));
      EXPECT_DOUBLE_EQ(*dh.data_points[0].min, 7);
    }
    // Up-down counters stay cumulative under the delta preference.
    const Sum& dud = std::get<Sum>(FindMetric(drm, "ud")->data);
    EXPECT_EQ(dud.aggregation_temporality, AggregationTemporality::kCumulative);
    EXPECT_EQ(IntOf(dud.data_points[0]), -running);
    EXPECT_EQ(std::get<tracewire::Histogram>(FindMetric(crm, "h")->data).data_points[0].count,
              static_cast<uint64_t>(running));
    // The observable counter: cumulative totals, delta differences.
    EXPECT_EQ(IntOf(std::get<Sum>(FindMetric(crm, "oc")->data).data_points[0]), seen);
    EXPECT_EQ(IntOf(std::get<Sum>(FindMetric(drm, "oc")->data).data_points[0]), 5 * (round + 1));
  }
}

TEST(MeterProvider, TemporalityPreferences) {
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kLowMemory, InstrumentKind::kCounter),
            AggregationTemporality::kDelta);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kLowMemory, InstrumentKind::kObservableCounter),
            AggregationTemporality::kCumulative);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kDelta, InstrumentKind::kObservableCounter),
            AggregationTemporality::kDelta);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kDelta, InstrumentKind::kUpDownCounter),
            AggregationTemporality::kCumulative);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kCumulative, InstrumentKind::kHistogram),
            AggregationTemporality::kCumulative);
}

TEST(MeterProvider, OverflowSeriesPastTheCardinalityLimit) {
  MeterProviderOptions o;
  o.cardinality_limit = 3;  // two series and the overflow series
  auto p = MakeManualProvider(std::move(o));
  auto c = p.meter->CreateInt64Counter("c");
  for (int i = 0; i < 10; ++i) c.Add(1, {{"i", i}});
  c.Add(100, {{"i", 0}});  // an existing series still records into itself
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& points = std::get<Sum>(FindMetric(rm, "c")->data).data_points;
  ASSERT_EQ(points.size(), 3u);
  int64_t total = 0;
  for (const auto& pt : points) total += IntOf(pt);
  EXPECT_EQ(total, 110) << "nothing lost";
  const NumberDataPoint* overflow = PointWith(points, "otel.metric.overflow", "true");
  ASSERT_NE(overflow, nullptr);
  EXPECT_EQ(IntOf(*overflow), 8);
  EXPECT_EQ(rm.overflowed_measurements, 8);
}

TEST(MeterProvider, SameInstrumentTwiceIsOneStream) {
  auto p = MakeManualProvider();
  auto a = p.meter->CreateInt64Counter("dup");
  auto b = p.meter->CreateInt64Counter("dup");
  a.Add(1);
  b.Add(2);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  ASSERT_EQ(rm.scope_metrics[0].metrics.size(), 1u);
  EXPECT_EQ(IntOf(std::get<Sum>(rm.scope_metrics[0].metrics[0].data).data_points[0]), 3);
}

TEST(MeterProvider, ExponentialHistogramByDefaultAggregationOption) {
  MeterProviderOptions o;
  o.default_histogram_aggregation = AggregationKind::kBase2ExponentialHistogram;
  auto p = MakeManualProvider(std::move(o));
  auto h = p.meter->CreateDoubleHistogram("h");
  for (double v : {-4.0, 0.0, 1.0, 2.0, 1024.0}) h.Record(v);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& e = std::get<ExponentialHistogram>(FindMetric(rm, "h")->data);
  ASSERT_EQ(e.data_points.size(), 1u);
  const auto& d = e.data_points[0];
  EXPECT_EQ(d.count, 5u);
  EXPECT_EQ(d.zero_count, 1u);
  EXPECT_DOUBLE_EQ(*d.sum, 1023.0);
  EXPECT_DOUBLE_EQ(*d.min, -4.0);
  EXPECT_DOUBLE_EQ(*d.max, 1024.0);
  uint64_t pos = 0, neg = 0;
  for (uint64_t n : d.positive.bucket_counts) pos += n;
  for (uint64_t n : d.negative.bucket_counts) neg += n;
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(neg, 1u);
  EXPECT_LE(d.positive.bucket_counts.size(), 160u);
  EXPECT_LT(d.scale, 20);  // 1..1024 does not fit 160 buckets at scale 20
}

// N threads x M adds: the cumulative values equal the calls made.
TEST(MeterProvider, ConcurrentRecordingLosesNoUpdate) {
  auto p = MakeManualProvider();
  auto c = p.meter->CreateInt64Counter("c");
  auto d = p.meter->CreateDoubleCounter("d");
  auto h = p.meter->CreateDoubleHistogram("h");
  std::vector<AttributeSet> sets;
  for (int i = 0; i < 10; ++i) sets.push_back(AttributeSet{{"i", i}, {"m", "GET"}});
  constexpr int kThreads = 4;
  constexpr int kAdds = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAdds; ++i) {
        const AttributeSet& s = sets[(i + t) % 10];
        c.Add(1, s);
        d.Add(0.5, {{"i", (i + t) % 10}, {"m", "GET"}});
        h.Record(i % 2 == 0 ? 5.0 : 50.0, s);
      }
    });
  }
  // Collections while recording must not lose anything either.
  for (int i = 0; i < 5; ++i) (void)CollectOrDie(p.reader);
  for (auto& t : threads) t.join();
  const ResourceMetrics rm = CollectOrDie(p.reader);
  int64_t ci = 0;
  double dd = 0;
  uint64_t hc = 0;
  for (const auto& pt : std::get<Sum>(FindMetric(rm, "c")->data).data_points) ci += IntOf(pt);
  for (const auto& pt : std::get<Sum>(FindMetric(rm, "d")->data).data_points) dd += DoubleOf(pt);
  const auto& hp = std::get<tracewire::Histogram>(FindMetric(rm, "h")->data).data_points;
  EXPECT_EQ(hp.size(), 10u);
  double hs = 0;
  for (const auto& pt : hp) {
    hc += pt.count;
    hs += *pt.sum;
  }
  EXPECT_EQ(ci, int64_t{kThreads} * kAdds);
  EXPECT_DOUBLE_EQ(dd, 0.5 * kThreads * kAdds);
  EXPECT_EQ(hc, uint64_t{kThreads} * kAdds);
  EXPECT_DOUBLE_EQ(hs, kThreads * (kAdds / 2) * 55.0);
}

TEST(MeterProvider, NoopProviderRecordsNothing) {
  Meter* m = NoopMeterProvider()->GetMeter("x");
  auto c = m->CreateInt64Counter("c");
  EXPECT_FALSE(c.enabled());
  c.Add(1, {{"a", "b"}});
  auto h = m->CreateDoubleHistogram("h");
  h.Record(1.0);
  EXPECT_FALSE(m->CreateInt64ObservableGauge("g", [](ObserverResult&) {}).enabled());
  EXPECT_TRUE(NoopMeterProvider()->Shutdown(absl::Now()).ok());
  Counter<int64_t> unset;
  unset.Add(5);
}

TEST(MeterProvider, ShutdownEndsCollection) {
  auto p = MakeManualProvider();
  ASSERT_TRUE(p.provider->Shutdown(absl::Now() + absl::Seconds(1)).ok());
  EXPECT_EQ(p.reader->Collect().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.provider->Shutdown(absl::Now() + absl::Seconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  // Instruments made after shutdown are no-ops.
  EXPECT_FALSE(p.meter->CreateInt64Counter("late").enabled());
}

TEST(MeterProvider, UnregisteredReaderCannotCollect) {
  ManualMetricReader r;
  EXPECT_EQ(r.Collect().status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tracewire
