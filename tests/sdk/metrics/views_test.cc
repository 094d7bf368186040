// Views: selection (wildcard name, kind, meter name), rename, description,
// attribute-key allow list, aggregation and boundaries change, drop.

#include <gtest/gtest.h>

#include "sdk/metrics/metrics_test_util.h"
#include "tracewire/metrics.h"

namespace tracewire {
namespace {

using testing::AttrString;
using testing::CollectOrDie;
using testing::FindMetric;
using testing::MakeManualProvider;

TEST(MetricViews, RenameAndDescription) {
  MeterProviderOptions o;
  o.views.push_back({{.name = "http.requests"}, {.name = "requests", .description = "renamed"}});
  auto p = MakeManualProvider(std::move(o));
  p.meter->CreateInt64Counter("http.requests", "", "original").Add(1);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  EXPECT_EQ(FindMetric(rm, "http.requests"), nullptr);
  const MetricData* m = FindMetric(rm, "requests");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->description, "renamed");
}

TEST(MetricViews, AttributeKeyAllowListMergesSeries) {
  MeterProviderOptions o;
  o.views.push_back({{.name = "c"}, {.attribute_keys = std::vector<std::string>{"route"}}});
  auto p = MakeManualProvider(std::move(o));
  auto c = p.meter->CreateInt64Counter("c");
  c.Add(1, {{"route", "/a"}, {"user", "1"}});
  c.Add(2, {{"route", "/a"}, {"user", "2"}});
  const AttributeSet s{{"user", "3"}, {"route", "/a"}};
  c.Add(4, s);
  c.Add(8, {{"route", "/b"}});
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& points = std::get<Sum>(FindMetric(rm, "c")->data).data_points;
  ASSERT_EQ(points.size(), 2u);
  for (const auto& pt : points) {
    ASSERT_EQ(pt.attributes.size(), 1u);
    EXPECT_EQ(std::get<int64_t>(pt.value), AttrString(pt.attributes, "route") == "/a" ? 7 : 8);
  }
}

TEST(MetricViews, AggregationAndBoundariesChange) {
  MeterProviderOptions o;
  o.views.push_back({{.name = "latency"}, {.boundaries = {1, 2}}});
  o.views.push_back({{.name = "size"}, {.aggregation = AggregationKind::kSum}});
  o.views.push_back({{.name = "last"}, {.aggregation = AggregationKind::kLastValue}});
  o.views.push_back(
      {{.name = "expo"}, {.aggregation = AggregationKind::kBase2ExponentialHistogram}});
  auto p = MakeManualProvider(std::move(o));
  auto lat = p.meter->CreateDoubleHistogram("latency");
  for (double v : {0.5, 1.0, 1.5, 3.0}) lat.Record(v);
  auto size = p.meter->CreateInt64Histogram("size");
  size.Record(3);
  size.Record(4);
  auto last = p.meter->CreateInt64Counter("last");
  last.Add(3);
  last.Add(9);
  p.meter->CreateDoubleHistogram("expo").Record(2.0);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& h = std::get<tracewire::Histogram>(FindMetric(rm, "latency")->data).data_points[0];
  EXPECT_EQ(h.explicit_bounds, (std::vector<double>{1, 2}));
  EXPECT_EQ(h.bucket_counts, (std::vector<uint64_t>{2, 1, 1}));
  const Sum& s = std::get<Sum>(FindMetric(rm, "size")->data);
  EXPECT_TRUE(s.is_monotonic);
  EXPECT_EQ(std::get<int64_t>(s.data_points[0].value), 7);
  EXPECT_EQ(std::get<int64_t>(
                std::get<tracewire::Gauge>(FindMetric(rm, "last")->data).data_points[0].value),
            9);
  EXPECT_EQ(std::get<ExponentialHistogram>(FindMetric(rm, "expo")->data).data_points[0].count, 1u);
}

TEST(MetricViews, DropAndSelectionByWildcardKindAndMeter) {
  MeterProviderOptions o;
  o.views.push_back({{.name = "debug.*"}, {.aggregation = AggregationKind::kDrop}});
  o.views.push_back({{.kind = InstrumentKind::kGauge}, {.aggregation = AggregationKind::kDrop}});
  o.views.push_back({{.meter_name = "noisy"}, {.aggregation = AggregationKind::kDrop}});
  auto p = MakeManualProvider(std::move(o));
  p.meter->CreateInt64Counter("debug.a").Add(1);
  p.meter->CreateInt64Counter("debug.b").Add(1);
  p.meter->CreateInt64Counter("kept").Add(1);
  p.meter->CreateInt64Gauge("g").Record(1);
  p.provider->GetMeter("noisy")->CreateInt64Counter("n").Add(1);
  const ResourceMetrics rm = CollectOrDie(p.reader);
  EXPECT_EQ(FindMetric(rm, "debug.a"), nullptr);
  EXPECT_EQ(FindMetric(rm, "debug.b"), nullptr);
  EXPECT_EQ(FindMetric(rm, "g"), nullptr);
  EXPECT_EQ(FindMetric(rm, "n"), nullptr);
  EXPECT_NE(FindMetric(rm, "kept"), nullptr);
}

TEST(MetricViews, TwoViewsMakeTwoStreams) {
  MeterProviderOptions o;
  o.views.push_back({{.name = "c"}, {.name = "c.a"}});
  o.views.push_back({{.name = "c"}, {.name = "c.b", .attribute_keys = std::vector<std::string>{}}});
  auto p = MakeManualProvider(std::move(o));
  auto c = p.meter->CreateInt64Counter("c");
  c.Add(1, {{"x", 1}});
  c.Add(1, {{"x", 2}});
  const ResourceMetrics rm = CollectOrDie(p.reader);
  EXPECT_EQ(std::get<Sum>(FindMetric(rm, "c.a")->data).data_points.size(), 2u);
  const auto& b = std::get<Sum>(FindMetric(rm, "c.b")->data).data_points;
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(b[0].attributes.empty());
  EXPECT_EQ(std::get<int64_t>(b[0].value), 2);
}

TEST(MetricViews, ViewCardinalityLimit) {
  MeterProviderOptions o;
  o.views.push_back({{.name = "c"}, {.cardinality_limit = 2}});
  auto p = MakeManualProvider(std::move(o));
  auto c = p.meter->CreateInt64Counter("c");
  for (int i = 0; i < 5; ++i) c.Add(1, {{"i", i}});
  const ResourceMetrics rm = CollectOrDie(p.reader);
  const auto& pts = std::get<Sum>(FindMetric(rm, "c")->data).data_points;
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(AttrString(pts[1].attributes, "otel.metric.overflow"), "true");
  EXPECT_EQ(std::get<int64_t>(pts[1].value), 4);
}

TEST(MetricViews, BadViewsAreRefused) {
  {
    MeterProviderOptions o;
    o.views.push_back({{.name = "http.*"}, {.name = "x"}});
    EXPECT_EQ(MeterProvider::Create(std::move(o)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    MeterProviderOptions o;
    o.views.push_back({{.name = "h"}, {.boundaries = {5, 1}}});
    EXPECT_EQ(MeterProvider::Create(std::move(o)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    MeterProviderOptions o;
    o.views.push_back({{.name = "h"}, {.max_scale = 21}});
    EXPECT_EQ(MeterProvider::Create(std::move(o)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tracewire
