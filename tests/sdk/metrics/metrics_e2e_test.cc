// Metrics made by the SDK, collected by the periodic reader, encoded and
// sent over OTLP/gRPC to the real tracewired, arrive field by field (file
// sink).

#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "receiver/daemon.h"
#include "testing/file_sink_daemon.h"
#include "testing/test_env.h"
#include "tracewire/metrics.h"
#include "tracewire/span_exporter.h"

namespace tracewire {
namespace {

TEST(MetricsEndToEnd, EveryKindArrivesFieldByField) {
  const testing::TempDir tmp("tw-metrics-e2e");
  ASSERT_TRUE(tmp.ok());
  receiver::Daemon d(testing::FileSinkConfig(tmp.path()));
  ASSERT_TRUE(d.Start().ok());

  OtlpExporterOptions eo;
  eo.endpoint = "http://" + d.address();
  auto exporter = MakeOtlpMetricExporter(eo);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  MeterProviderOptions po;
  po.resource.attributes = {{"service.name", "metrics-e2e"}};
  po.readers.push_back(PeriodicExportingMetricReader::Create(
      std::move(*exporter), {.export_interval = absl::Hours(1)}));  // exports at shutdown
  auto provider = std::move(*MeterProvider::Create(std::move(po)));
  Meter* meter = provider->GetMeter("e2e.lib", "2.0", "https://opentelemetry.io/schemas/1.24.0",
                                    {{"scope.attr", "x"}});

  TracerProviderOptions to;
  to.processors.push_back(MakeSimpleSpanProcessor(MakeNoopSpanExporter()));
  auto tracer_provider = std::move(*TracerProvider::Create(std::move(to)));
  SpanContext sc;
  auto counter = meter->CreateInt64Counter("requests", "{request}", "Requests served");
  auto hist = meter->CreateDoubleHistogram("latency", "ms", "", {10, 100});
  auto gauge = meter->CreateDoubleGauge("temperature", "Cel");
  meter->CreateInt64ObservableUpDownCounter("queue.depth",
                                            [](ObserverResult& r) { r.Observe(int64_t{-4}); });
  {
    ScopedSpan span(*tracer_provider->GetTracer("t"), "work");
    sc = span->GetContext();
    counter.Add(5, {{"http.route", "/users"}, {"ok", true}});
  }
  hist.Record(5);
  hist.Record(10);
  hist.Record(500);
  gauge.Record(21.5, {{"room", "a"}});
  ASSERT_TRUE(provider->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(10)).ok());

  const auto lines = testing::ReadJsonLines(tmp.path() + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(testing::CountItems(lines, "metrics"), 4);
  const auto& rm = lines[0]["resourceMetrics"][0];
  bool svc = false;
  for (const auto& a : rm["resource"]["attributes"]) {
    svc |= a["key"] == "service.name" && a["value"]["stringValue"] == "metrics-e2e";
  }
  EXPECT_TRUE(svc);
  const auto& sm = rm["scopeMetrics"][0];
  EXPECT_EQ(sm["scope"]["name"], "e2e.lib");
  EXPECT_EQ(sm["scope"]["version"], "2.0");
  EXPECT_EQ(sm["scope"]["attributes"][0]["key"], "scope.attr");
  EXPECT_EQ(sm["schemaUrl"], "https://opentelemetry.io/schemas/1.24.0");
  auto hex = [](const auto& id) {
    std::string s;
    for (uint8_t b : id) absl::StrAppendFormat(&s, "%02x", b);
    return s;
  };
  int seen = 0;
  for (const auto& m : sm["metrics"]) {
    const std::string name = m["name"];
    if (name == "requests") {
      ++seen;
      EXPECT_EQ(m["unit"], "{request}");
      EXPECT_EQ(m["description"], "Requests served");
      const auto& s = m["sum"];
      EXPECT_EQ(s["aggregationTemporality"], 2);
      EXPECT_EQ(s["isMonotonic"], true);
      const auto& p = s["dataPoints"][0];
      EXPECT_EQ(p["asInt"], "5");
      EXPECT_EQ(p["attributes"].size(), 2u);
      EXPECT_EQ(p["attributes"][0]["key"], "http.route");  // sorted by key
      EXPECT_EQ(p["attributes"][0]["value"]["stringValue"], "/users");
      EXPECT_EQ(p["attributes"][1]["value"]["boolValue"], true);
      EXPECT_LE(std::stoull(p["startTimeUnixNano"].get<std::string>()),
                std::stoull(p["timeUnixNano"].get<std::string>()));
      ASSERT_EQ(p["exemplars"].size(), 1u);
      EXPECT_EQ(p["exemplars"][0]["traceId"], hex(sc.trace_id));
      EXPECT_EQ(p["exemplars"][0]["spanId"], hex(sc.span_id));
      EXPECT_EQ(p["exemplars"][0]["asInt"], "5");
    } else if (name == "latency") {
      ++seen;
      EXPECT_EQ(m["unit"], "ms");
      const auto& h = m["histogram"];
      EXPECT_EQ(h["aggregationTemporality"], 2);
      const auto& p = h["dataPoints"][0];
      EXPECT_EQ(p["count"], "3");
      EXPECT_EQ(p["sum"], 515.0);
      EXPECT_EQ(p["min"], 5.0);
      EXPECT_EQ(p["max"], 500.0);
      EXPECT_EQ(p["bucketCounts"], nlohmann::json({"2", "0", "1"}));
      EXPECT_EQ(p["explicitBounds"], nlohmann::json({10.0, 100.0}));
    } else if (name == "temperature") {
      ++seen;
      const auto& p = m["gauge"]["dataPoints"][0];
      EXPECT_EQ(p["asDouble"], 21.5);
      EXPECT_EQ(p["attributes"][0]["value"]["stringValue"], "a");
    } else if (name == "queue.depth") {
      ++seen;
      EXPECT_FALSE(m["sum"].value("isMonotonic", false));
      EXPECT_EQ(m["sum"]["dataPoints"][0]["asInt"], "-4");
    }
  }
  EXPECT_EQ(seen, 4) << lines[0].dump();
}

}  // namespace
}  // namespace tracewire
