// Log records made by the SDK, batched, encoded and sent over OTLP/gRPC to
// the real tracewired (127.0.0.1:0, file sink), arrive with every field
// intact.

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "receiver/daemon.h"
#include "testing/test_env.h"
#include "tracewire/logs.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

TEST(LogsEndToEnd, RecordsArriveWithEveryFieldIntact) {
  const testing::TempDir tmp("tw-logs-e2e");
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
  auto exporter = MakeOtlpLogRecordExporter(eo);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  BatchLogRecordProcessorOptions bo;
  bo.max_export_batch_size = 2;
  auto processor = BatchLogRecordProcessor::Create(std::move(*exporter), bo);
  ASSERT_TRUE(processor.ok()) << processor.status();
  LoggerProviderOptions po;
  po.resource.attributes = {{"service.name", "logs-e2e"}};
  po.processors.push_back(std::move(*processor));
  auto provider = std::move(*LoggerProvider::Create(std::move(po)));
  Logger* logger =
      provider->GetLogger("e2e.logs", "3.1", "https://opentelemetry.io/schemas/1.24.0");

  auto tp = std::move(*TracerProvider::Create({}));
  SpanContext sc;
  {
    ScopedSpan span(*tp->GetTracer("t"), "op");
    sc = span->GetContext();
    for (int i = 0; i < 3; ++i) {
      LogRecord r = logger->CreateLogRecord();
      r.SetTimestamp(uint64_t{1700000000000000000} + i);
      r.SetObservedTimestamp(uint64_t{1700000000000000100} + i);
      r.SetSeverity(SeverityNumber::kWarn, "WARN");
      r.SetBody("message " + std::to_string(i));
      r.SetEventName("app.event");
      r.SetAttribute("i", i).SetAttribute("ratio", 0.5).SetAttribute("ok", true);
      r.SetAttribute("tags", AnyValue::Array{AnyValue("a"), AnyValue("b")});
      logger->Emit(std::move(r));
    }
  }
  LogRecord kv = logger->CreateLogRecord();
  kv.SetBody(AnyValue::KvList{{"user", "u1"}, {"n", 2}});
  kv.SetSeverity(SeverityNumber::kError, "ERROR");
  logger->Emit(std::move(kv));

  ASSERT_TRUE(provider->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(10)).ok());

  const auto lines = testing::ReadJsonLines(dir + "/logs.jsonl");
  ASSERT_EQ(testing::CountItems(lines, "logs"), 4);
  EXPECT_EQ(lines.size(), 2u);  // batches of 2
  auto hex = [](const auto& id) {
    std::string s;
    for (uint8_t b : id) absl::StrAppendFormat(&s, "%02x", b);
    return s;
  };
  std::vector<nlohmann::json> recs;
  for (const auto& line : lines) {
    const auto& rl = line["resourceLogs"][0];
    bool svc = false;
    for (const auto& a : rl["resource"]["attributes"]) {
      svc |= a["key"] == "service.name" && a["value"]["stringValue"] == "logs-e2e";
    }
    EXPECT_TRUE(svc);
    const auto& sl = rl["scopeLogs"][0];
    EXPECT_EQ(sl["scope"]["name"], "e2e.logs");
    EXPECT_EQ(sl["scope"]["version"], "3.1");
    EXPECT_EQ(sl["schemaUrl"], "https://opentelemetry.io/schemas/1.24.0");
    for (const auto& r : sl["logRecords"]) recs.push_back(r);
  }
  ASSERT_EQ(recs.size(), 4u);
  // Requests may arrive in any order (the exporter sends them in parallel).
  std::sort(recs.begin(), recs.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return std::stoull(a["observedTimeUnixNano"].get<std::string>()) <
           std::stoull(b["observedTimeUnixNano"].get<std::string>());
  });
  for (int i = 0; i < 3; ++i) {
    const auto& r = recs[i];
    SCOPED_TRACE(r.dump());
    EXPECT_EQ(r["timeUnixNano"], std::to_string(uint64_t{1700000000000000000} + i));
    EXPECT_EQ(r["observedTimeUnixNano"], std::to_string(uint64_t{1700000000000000100} + i));
    EXPECT_EQ(r["severityNumber"], 13);
    EXPECT_EQ(r["severityText"], "WARN");
    EXPECT_EQ(r["body"]["stringValue"], "message " + std::to_string(i));
    EXPECT_EQ(r["eventName"], "app.event");
    EXPECT_EQ(r["attributes"][0]["key"], "i");
    EXPECT_EQ(r["attributes"][0]["value"]["intValue"], std::to_string(i));
    EXPECT_EQ(r["attributes"][1]["value"]["doubleValue"], 0.5);
    EXPECT_EQ(r["attributes"][2]["value"]["boolValue"], true);
    EXPECT_EQ(r["attributes"][3]["value"]["arrayValue"]["values"][1]["stringValue"], "b");
    EXPECT_EQ(r["traceId"], hex(sc.trace_id));
    EXPECT_EQ(r["spanId"], hex(sc.span_id));
    EXPECT_EQ(r["flags"], 1);
  }
  const auto& last = recs[3];
  SCOPED_TRACE(last.dump());
  EXPECT_EQ(last["severityNumber"], 17);
  EXPECT_EQ(last["body"]["kvlistValue"]["values"][0]["key"], "user");
  EXPECT_EQ(last["body"]["kvlistValue"]["values"][1]["value"]["intValue"], "2");
  EXPECT_FALSE(last.contains("traceId"));
  EXPECT_FALSE(last.contains("timeUnixNano"));
  EXPECT_TRUE(last.contains("observedTimeUnixNano"));
}

}  // namespace
}  // namespace tracewire
