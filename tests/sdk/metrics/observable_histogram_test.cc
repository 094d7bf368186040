// The SDK-internal observable histogram (sdk::MeterAccess): a component's
// cumulative histogram reported cumulative, or as the difference from the
// previous collection under delta temporality.

#include <gtest/gtest.h>

#include "sdk/metrics/meter_provider_state.h"
#include "sdk/metrics/metrics_test_util.h"

namespace tracewire::testing {
namespace {

const HistogramDataPoint* OnlyPoint(const ResourceMetrics& rm) {
  const MetricData* m = FindMetric(rm, "component.duration");
  if (m == nullptr) return nullptr;
  const auto& h = std::get<tracewire::Histogram>(m->data);
  return h.data_points.size() == 1 ? &h.data_points[0] : nullptr;
}

struct Observed {
  SelfHistogram h{{1, 10}, {0, 0, 0}, 0, 0, 0, 0};
  void Add(double v) {
    h.bucket_counts[v <= 1 ? 0 : v <= 10 ? 1 : 2]++;
    h.min = h.count == 0 ? v : std::min(h.min, v);
    h.max = h.count == 0 ? v : std::max(h.max, v);
    h.count++;
    h.sum += v;
  }
};

ManualProvider WithHistogram(TemporalityPreference t, Observed* observed) {
  ManualProvider m = MakeManualProvider({}, t);
  sdk::MeterAccess::CreateObservableHistogram(
      *m.meter, "component.duration",
      [observed](ObserverResult& r) {
        sdk::ObservableInstrument::DeliverHistogram(r, observed->h, {{"component", AnyValue{"a"}}});
      },
      "s");
  return m;
}

TEST(ObservableHistogram, CumulativeReportsWhatTheComponentHolds) {
  Observed o;
  ManualProvider m = WithHistogram(TemporalityPreference::kCumulative, &o);
  o.Add(0.5);
  o.Add(5);
  ResourceMetrics first = CollectOrDie(m.reader);
  const HistogramDataPoint* p = OnlyPoint(first);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->explicit_bounds, (std::vector<double>{1, 10}));
  EXPECT_EQ(p->bucket_counts, (std::vector<uint64_t>{1, 1, 0}));
  EXPECT_EQ(p->count, 2u);
  EXPECT_EQ(p->sum, 5.5);
  EXPECT_EQ(p->min, 0.5);
  EXPECT_EQ(p->max, 5);
  EXPECT_EQ(AttrString(p->attributes, "component"), "a");
  EXPECT_EQ(std::get<tracewire::Histogram>(FindMetric(first, "component.duration")->data)
                .aggregation_temporality,
            AggregationTemporality::kCumulative);
  o.Add(20);
  ResourceMetrics rm1 = CollectOrDie(m.reader);
  p = OnlyPoint(rm1);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->bucket_counts, (std::vector<uint64_t>{1, 1, 1}));
  EXPECT_EQ(p->count, 3u);
  EXPECT_EQ(p->max, 20);
}

TEST(ObservableHistogram, DeltaReportsTheDifferenceFromTheLastCollection) {
  Observed o;
  ManualProvider m = WithHistogram(TemporalityPreference::kDelta, &o);
  o.Add(0.5);
  o.Add(5);
  ResourceMetrics rm2 = CollectOrDie(m.reader);
  const HistogramDataPoint* p = OnlyPoint(rm2);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->count, 2u);
  EXPECT_EQ(p->min, 0.5);  // the first interval is the whole history
  o.Add(20);
  o.Add(7);
  ResourceMetrics second = CollectOrDie(m.reader);
  p = OnlyPoint(second);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->bucket_counts, (std::vector<uint64_t>{0, 1, 1}));
  EXPECT_EQ(p->count, 2u);
  EXPECT_EQ(p->sum, 27);
  EXPECT_FALSE(p->min.has_value());  // unknown from two cumulative histograms
  EXPECT_EQ(std::get<tracewire::Histogram>(FindMetric(second, "component.duration")->data)
                .aggregation_temporality,
            AggregationTemporality::kDelta);
  ResourceMetrics rm3 = CollectOrDie(m.reader);
  p = OnlyPoint(rm3);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->count, 0u);  // nothing new
  // A component that started over is reported whole.
  o = Observed();
  o.Add(3);
  ResourceMetrics rm4 = CollectOrDie(m.reader);
  p = OnlyPoint(rm4);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->count, 1u);
  EXPECT_EQ(p->bucket_counts, (std::vector<uint64_t>{0, 1, 0}));
}

TEST(ObservableHistogram, TwoComponentsOfTheSameAttributesAreMerged) {
  ManualProvider m = MakeManualProvider();
  Observed a, b;
  a.Add(0.5);
  b.Add(50);
  b.Add(2);
  sdk::MeterAccess::CreateObservableHistogram(
      *m.meter, "component.duration",
      [&](ObserverResult& r) {
        sdk::ObservableInstrument::DeliverHistogram(r, a.h, {});
        sdk::ObservableInstrument::DeliverHistogram(r, b.h, {});
      },
      "s");
  ResourceMetrics rm5 = CollectOrDie(m.reader);
  const HistogramDataPoint* p = OnlyPoint(rm5);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->bucket_counts, (std::vector<uint64_t>{1, 1, 1}));
  EXPECT_EQ(p->count, 3u);
  EXPECT_EQ(p->min, 0.5);
  EXPECT_EQ(p->max, 50);
}

}  // namespace
}  // namespace tracewire::testing
