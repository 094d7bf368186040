// tracewired's own counters over OTLP (telemetry.otlp_endpoint): the real
// tracewired exports what its /metrics serves, through the metrics SDK, to a
// second tracewired whose file sink shows what arrived.

#include <signal.h>

#include <gtest/gtest.h>

#include <string>

#include "receiver/daemon.h"
#include "testing/file_sink_daemon.h"
#include "testing/test_env.h"
#include "testing/tracewired_process.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

namespace tracewire {
namespace {

std::string Attr(const nlohmann::json& attributes, const std::string& key) {
  for (const auto& a : attributes) {
    if (a["key"] == key) return a["value"].value("stringValue", "");
  }
  return "";
}

TEST(TracewiredSelfExport, SendsItsMetricsCountersOverOtlp) {
  const testing::TempDir tmp("tw-self-export");
  ASSERT_TRUE(tmp.ok());
  receiver::Daemon collector(testing::FileSinkConfig(tmp.path()));
  ASSERT_TRUE(collector.Start().ok());

  testing::Child d =
      testing::Spawn({"--listen", "127.0.0.1:0", "--metrics-listen", "", "--sink", "none",
                      "--telemetry-otlp-endpoint", "http://" + collector.address()});
  ASSERT_GT(d.pid, 0);
  const std::string addr = testing::ReadAddress(d.out_fd);
  ASSERT_FALSE(addr.empty());
  {
    tools::GenericCaller caller(testing::InsecureChannel(addr));
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ASSERT_TRUE(
        caller.Call(&ctx, tools::kTraceExportMethod, tools::MakeTracesRequest(7, {})).status.ok());
  }
  // The default interval is 10 s: the export at shutdown carries the counts.
  ASSERT_EQ(::kill(d.pid, SIGTERM), 0);
  ASSERT_EQ(testing::WaitExit(d.pid, 30), 0);
  ::close(d.out_fd);
  ASSERT_TRUE(collector.Shutdown(absl::Now() + absl::Seconds(10)).ok());

  const auto lines = testing::ReadJsonLines(tmp.path() + "/metrics.jsonl");
  ASSERT_FALSE(lines.empty()) << "tracewired exported no metrics";
  int64_t accepted = -1, requests = -1;
  bool monotonic = false;
  std::string service;
  for (const auto& line : lines) {
    for (const auto& rm : line["resourceMetrics"]) {
      service = Attr(rm["resource"]["attributes"], "service.name");
      for (const auto& sm : rm["scopeMetrics"]) {
        for (const auto& m : sm["metrics"]) {
          if (!m.contains("sum")) continue;
          for (const auto& p : m["sum"]["dataPoints"]) {
            if (m["name"] == "otelcol_receiver_accepted_spans" &&
                Attr(p["attributes"], "transport") == "grpc") {
              accepted = std::stoll(p["asInt"].get<std::string>());
              monotonic = m["sum"]["isMonotonic"];
            }
            if (m["name"] == "tracewire_receiver_requests" &&
                Attr(p["attributes"], "transport") == "grpc" &&
                Attr(p["attributes"], "signal") == "traces" &&
                Attr(p["attributes"], "outcome") == "accepted") {
              requests = std::stoll(p["asInt"].get<std::string>());
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(service, "tracewired");
  EXPECT_EQ(accepted, 7);  // the last export's cumulative value
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(requests, 1);
}

}  // namespace
}  // namespace tracewire
