// Spans made by the SDK, batched, encoded and sent over OTLP/gRPC to the
// real tracewired, arrive with every field intact (file sink).

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/strings/str_format.h"
#include "receiver/daemon.h"
#include "testing/test_env.h"
#include "tracewire/global.h"
#include "tracewire/sdk.h"
#include "tracewire/span_exporter.h"

namespace tracewire {
namespace {

TEST(SdkEndToEnd, SpansArriveWithEveryFieldIntact) {
  const testing::TempDir tmp("tw-sdk-e2e");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  receiver::DaemonConfig c;
  c.listen = "127.0.0.1:0";
  c.metrics_listen = "";
  c.sink = "file";
  c.file_dir = dir;
  receiver::Daemon d(c);
  ASSERT_TRUE(d.Start().ok());

  OtlpExporterOptions eo;
  eo.endpoint = "http://" + d.address();
  eo.compression = "gzip";
  auto exporter = MakeOtlpSpanExporter(eo);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  TracerProviderOptions po;
  po.resource.attributes = {{"service.name", "e2e"}};
  BatchSpanProcessorOptions bo;
  bo.max_export_batch_size = 3;
  po.processors.push_back(BatchSpanProcessor::Create(std::move(*exporter), bo));
  auto provider = std::move(*TracerProvider::Create(std::move(po)));
  Tracer* tracer = provider->GetTracer("e2e.lib", "2.0");
  SpanContext parent_ctx;
  {
    ScopedSpan parent(*tracer, "parent", {.kind = SpanKind::kServer});
    parent_ctx = parent->GetContext();
    for (int i = 0; i < 5; ++i) {
      Span child = tracer->StartSpan("child-" + std::to_string(i), {.kind = SpanKind::kClient});
      child.SetAttribute("i", int64_t{i});
      child.SetAttribute("ratio", 0.25);
      child.SetAttribute("ok", true);
      child.SetAttribute("tags", AnyValue::Array{AnyValue("a"), AnyValue("b")});
      child.AddEvent("retry", {{"attempt", int64_t{2}}});
      child.SetStatus(StatusCode::kError, "failed " + std::to_string(i));
      child.End();
    }
  }
  ASSERT_TRUE(provider->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(10)).ok());

  const auto lines = testing::ReadJsonLines(dir + "/traces.jsonl");
  EXPECT_EQ(testing::CountItems(lines, "traces"), 6);
  EXPECT_EQ(lines.size(), 2u);  // batches of 3
  auto hex = [](const auto& id) {
    std::string s;
    for (uint8_t b : id) absl::StrAppendFormat(&s, "%02x", b);
    return s;
  };
  int children = 0;
  for (const auto& line : lines) {
    const auto& rs = line["resourceSpans"][0];
    bool svc = false;
    for (const auto& a : rs["resource"]["attributes"]) {
      svc |= a["key"] == "service.name" && a["value"]["stringValue"] == "e2e";
    }
    EXPECT_TRUE(svc);
    EXPECT_EQ(rs["scopeSpans"][0]["scope"]["name"], "e2e.lib");
    EXPECT_EQ(rs["scopeSpans"][0]["scope"]["version"], "2.0");
    for (const auto& s : rs["scopeSpans"][0]["spans"]) {
      EXPECT_EQ(s["traceId"], hex(parent_ctx.trace_id));
      if (s["name"] == "parent") {
        EXPECT_EQ(s["spanId"], hex(parent_ctx.span_id));
        EXPECT_EQ(s["kind"], 2);
        EXPECT_FALSE(s.contains("parentSpanId"));
        continue;
      }
      ++children;
      EXPECT_EQ(s["parentSpanId"], hex(parent_ctx.span_id));
      EXPECT_EQ(s["kind"], 3);
      EXPECT_EQ(s["flags"], 257);
      const std::string n = s["name"].get<std::string>().substr(6);
      EXPECT_EQ(s["attributes"][0]["value"]["intValue"], n);
      EXPECT_EQ(s["attributes"][1]["value"]["doubleValue"], 0.25);
      EXPECT_EQ(s["attributes"][2]["value"]["boolValue"], true);
      EXPECT_EQ(s["attributes"][3]["value"]["arrayValue"]["values"][1]["stringValue"], "b");
      EXPECT_EQ(s["events"][0]["name"], "retry");
      EXPECT_EQ(s["events"][0]["attributes"][0]["value"]["intValue"], "2");
      EXPECT_EQ(s["status"]["code"], 2);
      EXPECT_EQ(s["status"]["message"], "failed " + n);
      EXPECT_LE(std::stoull(s["startTimeUnixNano"].get<std::string>()),
                std::stoull(s["endTimeUnixNano"].get<std::string>()));
    }
  }
  EXPECT_EQ(children, 5);
}

TEST(SdkEndToEnd, InitFromEnvBuildsAWorkingPipeline) {
  const testing::TempDir tmp("tw-sdk-env");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  receiver::DaemonConfig c;
  c.listen = "127.0.0.1:0";
  c.metrics_listen = "";
  c.sink = "file";
  c.file_dir = dir;
  receiver::Daemon d(c);
  ASSERT_TRUE(d.Start().ok());
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ("http://" + d.address()).c_str(), 1);
  setenv("OTEL_SERVICE_NAME", "from-env", 1);
  setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,team=a%20b", 1);
  setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", 1);
  setenv("OTEL_TRACES_SAMPLER_ARG", "1.0", 1);
  setenv("OTEL_BSP_SCHEDULE_DELAY", "50", 1);
  auto sdk = InitFromEnv();
  unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  unsetenv("OTEL_SERVICE_NAME");
  unsetenv("OTEL_RESOURCE_ATTRIBUTES");
  unsetenv("OTEL_TRACES_SAMPLER");
  unsetenv("OTEL_TRACES_SAMPLER_ARG");
  unsetenv("OTEL_BSP_SCHEDULE_DELAY");
  ASSERT_TRUE(sdk.ok()) << sdk.status();
  // All three signals, through the globals InitFromEnv installed.
  std::string span_id;
  {
    ScopedSpan span(*GetTracerProvider()->GetTracer("env"), "hello");
    const SpanId& id = span->GetContext().span_id;
    for (uint8_t b : id) span_id += absl::StrFormat("%02x", b);
    GetMeterProvider()->GetMeter("env")->CreateInt64Counter("env.calls").Add(3);
    GetLoggerProvider()->GetLogger("env")->Emit(SeverityNumber::kWarn, "from env");
  }
  ASSERT_TRUE(sdk->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(GetTracerProvider().get(), NoopTracerProvider());  // the globals are back
  EXPECT_EQ(GetMeterProvider().get(), NoopMeterProvider());
  EXPECT_EQ(GetLoggerProvider().get(), NoopLoggerProvider());
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(10)).ok());
  const auto metrics = testing::ReadJsonLines(dir + "/metrics.jsonl");
  ASSERT_GE(testing::CountItems(metrics, "metrics"), 1);
  // The last export, the one at shutdown: the application's counter and the
  // SDK's own telemetry, which saw the span and the log record exported.
  std::map<std::string, nlohmann::json> by_name;  // "scope/metric"
  for (const auto& sm : metrics.back()["resourceMetrics"][0]["scopeMetrics"]) {
    for (const auto& m : sm["metrics"]) {
      by_name[sm["scope"]["name"].get<std::string>() + "/" + m["name"].get<std::string>()] = m;
    }
  }
  ASSERT_TRUE(by_name.count("env/env.calls"));
  EXPECT_EQ(by_name["env/env.calls"]["sum"]["dataPoints"][0]["asInt"], "3");
  auto self_value = [&](const std::string& name) -> std::string {
    auto it = by_name.find("tracewire.sdk/" + name);
    if (it == by_name.end()) return "missing";
    for (const auto& p : it->second["sum"]["dataPoints"]) {
      bool error = false;
      for (const auto& a : p.value("attributes", nlohmann::json::array())) {
        error = error || a["key"] == "error.type";
      }
      if (!error) return p["asInt"].get<std::string>();
    }
    return "no point";
  };
  EXPECT_EQ(self_value("otel.sdk.exporter.span.exported"), "1");
  EXPECT_EQ(self_value("otel.sdk.processor.log.processed"), "1");
  EXPECT_EQ(self_value("otel.sdk.exporter.log.exported"), "1");
  EXPECT_EQ(self_value("otel.sdk.processor.span.queue.capacity"), "2048");
  const auto logs = testing::ReadJsonLines(dir + "/logs.jsonl");
  ASSERT_EQ(testing::CountItems(logs, "logs"), 1);
  const auto& record = logs[0]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
  EXPECT_EQ(record["body"]["stringValue"], "from env");
  EXPECT_EQ(record["spanId"], span_id);  // written inside the span
  const auto lines = testing::ReadJsonLines(dir + "/traces.jsonl");
  ASSERT_EQ(testing::CountItems(lines, "traces"), 1);
  std::map<std::string, std::string> attrs;
  for (const auto& a : lines[0]["resourceSpans"][0]["resource"]["attributes"]) {
    attrs[a["key"]] = a["value"].value("stringValue", "");
  }
  EXPECT_EQ(attrs["service.name"], "from-env");
  EXPECT_EQ(attrs["team"], "a b");
  EXPECT_EQ(attrs["deployment.environment"], "test");
  EXPECT_EQ(attrs["telemetry.sdk.language"], "cpp");
}

TEST(SdkEndToEnd, SelfMetricsCanBeTurnedOffAndTheSwitchIsChecked) {
  setenv("TRACEWIRE_SDK_SELF_METRICS", "sometimes", 1);
  auto bad = InitFromEnv();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("TRACEWIRE_SDK_SELF_METRICS: 'sometimes'"),
            std::string::npos);
  setenv("TRACEWIRE_SDK_SELF_METRICS", "false", 1);
  setenv("OTEL_TRACES_EXPORTER", "none", 1);
  setenv("OTEL_METRICS_EXPORTER", "none", 1);
  setenv("OTEL_LOGS_EXPORTER", "none", 1);
  auto sdk = InitFromEnv();
  for (const char* v : {"TRACEWIRE_SDK_SELF_METRICS", "OTEL_TRACES_EXPORTER",
                        "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"}) {
    unsetenv(v);
  }
  ASSERT_TRUE(sdk.ok()) << sdk.status();
  ASSERT_TRUE(sdk->Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST(SdkEndToEnd, InitFromEnvNamesABadVariable) {
  setenv("OTEL_BSP_MAX_QUEUE_SIZE", "lots", 1);
  auto sdk = InitFromEnv();
  unsetenv("OTEL_BSP_MAX_QUEUE_SIZE");
  ASSERT_FALSE(sdk.ok());
  EXPECT_NE(std::string(sdk.status().message()).find("OTEL_BSP_MAX_QUEUE_SIZE: 'lots'"),
            std::string::npos);
}

}  // namespace
}  // namespace tracewire
