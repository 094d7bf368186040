// A gateway: client -> tracewired (forward sink) -> tracewired (file sink),
// all real gRPC on 127.0.0.1.

#include "pipeline/forward_sink.h"

#include <gtest/gtest.h>

#include "receiver/daemon.h"
#include "receiver/retry_info.h"
#include "testing/file_sink_daemon.h"
#include "testing/held_port.h"
#include "testing/test_env.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

namespace tracewire::pipeline {
namespace {

using receiver::Daemon;
using receiver::DaemonConfig;

std::unique_ptr<Daemon> StartFileDaemon(const std::string& dir, const std::string& listen) {
  DaemonConfig c = testing::FileSinkConfig(dir);
  c.listen = listen;
  c.http_listen = "";  // a fixed gRPC port would take 4318 for OTLP/HTTP
  auto d = std::make_unique<Daemon>(c);
  EXPECT_TRUE(d->Start().ok());
  return d;
}

// queue_dir empty: the memory queue (ForwardSink); else the persistent queue.
std::unique_ptr<Daemon> StartGateway(const std::string& next, int64_t queue_mib = 64,
                                     const std::string& queue_dir = "") {
  DaemonConfig c;
  c.queue_persistent = !queue_dir.empty();
  c.queue_dir = queue_dir;
  c.listen = "127.0.0.1:0";
  c.metrics_listen = "127.0.0.1:0";
  c.sink = "forward";
  c.forward_endpoint = "http://" + next;
  c.forward_retry_initial_ms = 100;
  c.forward_retry_max_ms = 500;
  c.queue_max_mib = queue_mib;
  c.retry_after_ms = 200;
  auto d = std::make_unique<Daemon>(c);
  absl::Status st = d->Start();
  EXPECT_TRUE(st.ok()) << st;
  return d;
}

tools::CallResult Send(const std::string& addr, const std::string& method,
                       const std::string& bytes) {
  tools::GenericCaller caller(testing::InsecureChannel(addr));
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return caller.Call(&ctx, method, bytes);
}

TEST(ForwardSink, GatewayDeliversEverySignalUnchanged) {
  const testing::TempDir tmp("tw-fwd");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  auto final_hop = StartFileDaemon(dir, "127.0.0.1:0");
  auto gateway = StartGateway(final_hop->address());
  tools::SyntheticOptions o;
  o.invalid_items = 1;  // The gateway validates: the bad span stops there.
  ASSERT_TRUE(Send(gateway->address(), tools::kTraceExportMethod, tools::MakeTracesRequest(6, o))
                  .status.ok());
  ASSERT_TRUE(
      Send(gateway->address(), tools::kMetricsExportMethod, tools::MakeMetricsRequest(3, {}))
          .status.ok());
  ASSERT_TRUE(Send(gateway->address(), tools::kLogsExportMethod, tools::MakeLogsRequest(4, {}))
                  .status.ok());
  // The forward exporter's own counters are on the gateway's /metrics
  // (a plaintext hop: no TLS files, nothing reloaded).
  const std::string scraped = gateway->metrics().RenderPrometheus();
  EXPECT_NE(scraped.find("# TYPE tracewire_forward_exported_items counter"), std::string::npos);
  EXPECT_NE(scraped.find("tracewire_forward_tls_reloads{result=\"ok\"} 0\n"), std::string::npos)
      << scraped;
  EXPECT_NE(scraped.find("tracewire_forward_tls_reloads{result=\"failed\"} 0\n"),
            std::string::npos);
  ASSERT_TRUE(gateway->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_TRUE(final_hop->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir + "/traces.jsonl"), "traces"), 5);
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir + "/metrics.jsonl"), "metrics"),
            3 * tools::DataPointsPerMetric());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir + "/logs.jsonl"), "logs"), 4);
}

TEST(ForwardSink, KeepsEverythingWhileTheLastHopIsDownFor20Seconds) {
  const testing::TempDir tmp("tw-fwd-down");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  // The last hop's port stays the test's while the last hop is down.
  testing::HeldPort final_port;
  ASSERT_TRUE(final_port.ok());
  const std::string final_addr = final_port.address();
  final_port.Release();
  auto final_hop = StartFileDaemon(dir, final_addr);
  auto gateway = StartGateway(final_addr, 64, dir + "/gateway-queue");
  ASSERT_TRUE(final_hop->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  final_hop.reset();
  ASSERT_TRUE(final_port.Hold());
  int64_t acked = 0;
  const auto outage_end = absl::Now() + absl::Seconds(20);
  for (int i = 0; i < 40; ++i) {  // 40 requests spread over the outage
    auto r =
        Send(gateway->address(), tools::kTraceExportMethod, tools::MakeStandardSpansRequest(25, i));
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    acked += 25;
    absl::SleepFor(absl::Milliseconds(400));
  }
  absl::SleepFor(std::max(absl::ZeroDuration(), outage_end - absl::Now()));
  final_port.Release();
  final_hop = StartFileDaemon(dir, final_addr);
  ASSERT_TRUE(gateway->Shutdown(absl::Now() + absl::Seconds(30)).ok());
  ASSERT_TRUE(final_hop->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir + "/traces.jsonl"), "traces"), acked);
}

TEST(ForwardSink, FullForwardQueuePushesBackWithRetryInfo) {
  // The next hop is down and the gateway's queue holds 1 MiB (its log).
  const testing::TempDir tmp("tw-fwd-full");
  ASSERT_TRUE(tmp.ok());
  const testing::HeldPort refusing;
  ASSERT_TRUE(refusing.ok());
  auto gateway = StartGateway(refusing.address(), /*queue_mib=*/1, tmp.path());
  const std::string big = tools::MakeStandardSpansRequest(2000, 1);  // ~0.75 MiB
  ASSERT_TRUE(Send(gateway->address(), tools::kTraceExportMethod, big).status.ok());
  tools::CallResult second;
  for (int i = 0; i < 5; ++i) {
    second = Send(gateway->address(), tools::kTraceExportMethod, big);
    if (!second.status.ok()) break;
  }
  EXPECT_EQ(second.status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  auto delay = receiver::RetryDelayOf(second.status);
  ASSERT_TRUE(delay.has_value());
  EXPECT_EQ(*delay, absl::Milliseconds(200));
  EXPECT_GT(gateway->metrics().signals[0].refused_items.load(), 0);
  (void)gateway->Shutdown(absl::Now() + absl::Milliseconds(200));
}

}  // namespace
}  // namespace tracewire::pipeline
