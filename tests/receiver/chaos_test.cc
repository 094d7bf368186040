// Chaos (issue 18, part 7): a steady export from the SDK's OTLP exporter
// through a tracewired gateway with a persistent queue to a final hop, while
//   (a) the final hop is down for 10 s, then back,
//   (b) the gateway is killed with SIGKILL and restarted, twice (once while
//       the final hop is down, once while it is taking requests),
//   (c) the final hop answers UNAVAILABLE with RetryInfo to one request in 5.
// Every span the exporter reported as exported must reach the final hop;
// duplicates are counted (requests in flight at a kill).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "testing/held_port.h"
#include "testing/scripted_receiver.h"
#include "testing/test_env.h"
#include "testing/tracewired_process.h"
#include "tools/synthetic.h"
#include "tracewire/otlp_exporter.h"

namespace tracewire::receiver {
namespace {

using testing::Child;

// "traceId/spanId" of every span of a request.
std::vector<std::string> SpanKeys(const std::string& request) {
  ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  if (!req.ParseFromString(request)) return {};
  std::vector<std::string> out;
  for (const auto& rs : req.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& sp : ss.spans()) out.push_back(sp.trace_id() + sp.span_id());
    }
  }
  return out;
}

// The final hop: refuses one request in 5 with UNAVAILABLE + RetryInfo.
std::unique_ptr<testing::ScriptedReceiver> StartHop(testing::HeldPort* port) {
  std::vector<testing::Reply> script(100000);
  for (size_t i = 4; i < script.size(); i += 5) {
    script[i].code = ::grpc::StatusCode::UNAVAILABLE;
    script[i].retry_info = absl::Milliseconds(50);
    script[i].message = "chaos";
  }
  auto hop = std::make_unique<testing::ScriptedReceiver>();
  hop->Script(std::move(script));
  port->Release();
  EXPECT_TRUE(hop->Start(port->address()));
  return hop;
}

// Adds the spans of the requests the hop answered OK (every call but each
// fifth) to `arrived`; returns how many spans that was, duplicates included.
int64_t Collect(testing::ScriptedReceiver& hop, std::multiset<std::string>* arrived) {
  int64_t n = 0;
  const std::vector<testing::ReceivedCall> calls = hop.calls();
  for (size_t i = 0; i < calls.size(); ++i) {
    if (i % 5 == 4) continue;
    for (std::string& k : SpanKeys(calls[i].bytes)) {
      arrived->insert(std::move(k));
      ++n;
    }
  }
  return n;
}

Child StartGateway(testing::HeldPort* port, const std::vector<std::string>& args) {
  port->Release();
  Child c = testing::Spawn(args);
  EXPECT_GT(c.pid, 0);
  EXPECT_FALSE(testing::ReadAddress(c.out_fd).empty());
  return c;
}

void KillGateway(Child* c, testing::HeldPort* port) {
  ASSERT_EQ(kill(c->pid, SIGKILL), 0);
  ASSERT_EQ(waitpid(c->pid, nullptr, 0), c->pid);
  close(c->out_fd);
  ASSERT_TRUE(port->Hold());
}

TEST(Chaos, EveryExportedSpanArrivesThroughOutagesKillsAndRefusals) {
  const testing::TempDir tmp("tw-chaos");
  ASSERT_TRUE(tmp.ok());
  testing::HeldPort hop_port, gw_port;
  ASSERT_TRUE(hop_port.ok() && gw_port.ok());
  const std::string config = tmp.path() + "/gateway.yaml";
  {
    std::ofstream f(config);
    f << "sink:\n  forward:\n    retry: {initial_ms: 50, max_ms: 300}\n";
  }
  const std::vector<std::string> gw_args = {"--config",
                                            config,
                                            "--listen",
                                            gw_port.address(),
                                            "--http-listen",
                                            "",
                                            "--metrics-listen",
                                            "",
                                            "--sink",
                                            "forward",
                                            "--forward-endpoint",
                                            "http://" + hop_port.address(),
                                            "--queue-dir",
                                            tmp.path() + "/queue"};

  auto hop = StartHop(&hop_port);
  Child gw = StartGateway(&gw_port, gw_args);

  OtlpExporterOptions eo;
  eo.endpoint = "http://" + gw_port.address();
  eo.retry.initial_backoff = absl::Milliseconds(50);
  eo.retry.max_backoff = absl::Milliseconds(300);
  eo.retry.max_elapsed = absl::Seconds(60);
  eo.breaker.enabled = false;
  eo.timeout = absl::Seconds(2);
  auto exporter = OtlpExporter::Create(ExportSignal::kTraces, eo);
  ASSERT_TRUE(exporter.ok()) << exporter.status();

  // The steady export: 25 requests of 40 spans a second, each with new ids.
  std::atomic<bool> stop{false};
  std::atomic<int> requests{0};
  std::thread sender([&] {
    for (int i = 0; !stop.load(); ++i) {
      (*exporter)->ExportEncoded(tools::MakeStandardSpansRequest(40, 9000000 + i)).IgnoreError();
      ++requests;
      absl::SleepFor(absl::Milliseconds(40));
    }
  });

  std::multiset<std::string> arrived;
  int64_t arrived_total = 0;
  absl::SleepFor(absl::Seconds(2));
  // (a) The final hop goes down for 10 s ...
  hop->Stop();  // then count: a call answered during the stop counts too
  arrived_total += Collect(*hop, &arrived);
  hop.reset();
  ASSERT_TRUE(hop_port.Hold());
  absl::SleepFor(absl::Seconds(3));
  // (b) ... and the gateway, holding everything in its log, is killed.
  KillGateway(&gw, &gw_port);
  gw = StartGateway(&gw_port, gw_args);
  absl::SleepFor(absl::Seconds(7));
  hop = StartHop(&hop_port);  // (c) refuses one request in 5
  absl::SleepFor(absl::Seconds(3));
  // (b) again, while the gateway forwards the backlog and new requests.
  KillGateway(&gw, &gw_port);
  gw = StartGateway(&gw_port, gw_args);
  absl::SleepFor(absl::Seconds(3));
  stop = true;
  sender.join();
  ASSERT_TRUE((*exporter)->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  const ExporterStats es = (*exporter)->Stats();

  // Wait (bounded) until the final hop has every exported span.
  std::multiset<std::string> now;
  for (int i = 0; i < 300; ++i) {
    now.clear();
    Collect(*hop, &now);
    std::set<std::string> distinct(arrived.begin(), arrived.end());
    distinct.insert(now.begin(), now.end());
    if (static_cast<int64_t>(distinct.size()) >= es.exported_items) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(kill(gw.pid, SIGTERM), 0);
  EXPECT_EQ(testing::WaitExit(gw.pid, 20), 0);
  close(gw.out_fd);
  hop->Stop();
  arrived_total += Collect(*hop, &arrived);

  const std::set<std::string> distinct(arrived.begin(), arrived.end());
  int64_t dropped = 0;
  for (const auto& [reason, n] : es.dropped_items) dropped += n;
  std::printf(
      "chaos: requests=%d exported_spans=%lld exporter_dropped=%lld arrived_distinct=%zu "
      "duplicate_spans=%lld\n",
      requests.load(), static_cast<long long>(es.exported_items), static_cast<long long>(dropped),
      distinct.size(), static_cast<long long>(arrived_total - distinct.size()));
  EXPECT_GT(es.exported_items, 0);
  EXPECT_GE(static_cast<int64_t>(distinct.size()), es.exported_items)
      << "spans the exporter reported as exported were lost";
  // Every span that arrived was sent (no garbage from a torn record).
  std::set<std::string> sent;
  for (int i = 0; i < requests.load(); ++i) {
    for (std::string& k : SpanKeys(tools::MakeStandardSpansRequest(40, 9000000 + i))) {
      sent.insert(std::move(k));
    }
  }
  for (const std::string& k : distinct) EXPECT_TRUE(sent.count(k));
}

}  // namespace
}  // namespace tracewire::receiver
