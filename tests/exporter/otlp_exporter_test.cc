// The exporter end to end against the real tracewired receiver (in-process,
// 127.0.0.1:0): TLS, mTLS, bearer token and API key, gzip on the wire,
// health check, round-robin over two endpoints, and a receiver restarted in
// the middle of a steady run.

#include "tracewire/otlp_exporter.h"

#include <gtest/gtest.h>

#include "exporter/grpc_transport.h"
#include "receiver/daemon.h"
#include "testing/held_port.h"
#include "testing/scripted_receiver.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"

namespace tracewire {
namespace {

using receiver::Daemon;
using receiver::DaemonConfig;

struct RunningDaemon {
  const testing::TempDir tmp{"tw-exp"};  // Outlives daemon, which writes in it.
  const std::string dir = tmp.path();
  std::unique_ptr<Daemon> daemon;

  void Start(DaemonConfig c, const std::string& listen = "127.0.0.1:0") {
    ASSERT_TRUE(tmp.ok());
    c.listen = listen;
    c.http_listen = "";  // a fixed gRPC port would take 4318 for OTLP/HTTP
    c.metrics_listen = "";
    c.sink = "file";
    c.file_dir = dir;
    daemon = std::make_unique<Daemon>(c);
    ASSERT_TRUE(daemon->Start().ok());
  }
  void Stop() { ASSERT_TRUE(daemon->Shutdown(absl::Now() + absl::Seconds(10)).ok()); }
  int64_t Spans() {
    return testing::CountItems(testing::ReadJsonLines(dir + "/traces.jsonl"), "traces");
  }
};

std::unique_ptr<OtlpExporter> MakeExporter(const OtlpExporterOptions& o) {
  auto e = OtlpExporter::Create(ExportSignal::kTraces, o);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? std::move(*e) : nullptr;
}

TEST(OtlpExporterE2E, TlsWithBearerTokenAndGzipReachTracewired) {
  const testing::TempDir cert_dir("tw-exp-certs");
  const testing::Certs certs = testing::MakeCerts(cert_dir.path());
  ASSERT_TRUE(certs.ok);
  DaemonConfig c;
  c.tls_cert_file = certs.server_cert;
  c.tls_key_file = certs.server_key;
  c.bearer_tokens = {"tok-1"};
  RunningDaemon d;
  d.Start(c);
  OtlpExporterOptions o;
  o.endpoint = "https://" + d.daemon->address();
  o.ca_file = certs.ca;
  o.bearer_token = "tok-1";
  o.compression = "gzip";
  o.count_compressed_bytes = true;
  auto e = MakeExporter(o);
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->ExportEncoded(tools::MakeStandardSpansRequest(512, 1)).ok());
  ASSERT_TRUE(e->ExportEncoded(tools::MakeStandardSpansRequest(100, 2)).ok());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  EXPECT_EQ(e->Stats().exported_items, 612);
  const auto& m = d.daemon->metrics().signals[0];
  EXPECT_LT(m.wire_bytes.load() * 3, m.decompressed_bytes.load()) << "gzip was not on the wire";
  // Both sides count: the exporter before and after compression, the receiver
  // on the wire and after inflating.
  EXPECT_EQ(e->Stats().bytes_sent, m.decompressed_bytes.load());
  EXPECT_EQ(e->Stats().bytes_sent_compressed, m.wire_bytes.load());
  d.Stop();
  EXPECT_EQ(d.Spans(), 612);
}

TEST(OtlpExporterE2E, WrongTokenIsDroppedAsNonRetryable) {
  DaemonConfig c;
  c.bearer_tokens = {"right"};
  RunningDaemon d;
  d.Start(c);
  OtlpExporterOptions o;
  o.endpoint = "http://" + d.daemon->address();
  int calls = 0;
  o.bearer_token_source = [&calls] { return ++calls == 1 ? "wrong" : "right"; };
  auto e = MakeExporter(o);
  ASSERT_TRUE(e->ExportEncoded(tools::MakeStandardSpansRequest(3, 1)).ok());
  ASSERT_TRUE(e->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_TRUE(e->ExportEncoded(tools::MakeStandardSpansRequest(4, 2)).ok());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  ExporterStats s = e->Stats();
  EXPECT_EQ(s.dropped_items["non_retryable"], 3);
  EXPECT_EQ(s.failed_attempts["UNAUTHENTICATED"], 1);
  EXPECT_EQ(s.exported_items, 4);  // the token source's new token was used
  d.Stop();
  EXPECT_EQ(d.Spans(), 4);
}

TEST(OtlpExporterE2E, MutualTlsAndApiKey) {
  const testing::TempDir cert_dir("tw-exp-mtls");
  const testing::Certs certs = testing::MakeCerts(cert_dir.path());
  ASSERT_TRUE(certs.ok);
  DaemonConfig c;
  c.tls_cert_file = certs.server_cert;
  c.tls_key_file = certs.server_key;
  c.tls_client_ca_file = certs.ca;
  c.api_keys = {"k-1"};
  RunningDaemon d;
  d.Start(c);
  OtlpExporterOptions o;
  o.endpoint = "https://" + d.daemon->address();
  o.ca_file = certs.ca;
  o.client_cert_file = certs.client_cert;
  o.client_key_file = certs.client_key;
  o.api_key = "k-1";
  auto e = MakeExporter(o);
  ASSERT_TRUE(e->ExportEncoded(tools::MakeStandardSpansRequest(5, 1)).ok());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  EXPECT_EQ(e->Stats().exported_items, 5);
  d.Stop();
  EXPECT_EQ(d.Spans(), 5);
}

TEST(OtlpExporterE2E, UnreadableTlsFileFailsAtCreate) {
  OtlpExporterOptions o;
  o.endpoint = "https://127.0.0.1:4317";
  o.ca_file = "/nonexistent/ca.pem";
  auto e = OtlpExporter::Create(ExportSignal::kTraces, o);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(std::string(e.status().message()).find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(OtlpExporterE2E, HealthCheckAndFallback) {
  RunningDaemon d;
  d.Start(DaemonConfig{});
  OtlpExporterOptions o;
  o.endpoint = "http://" + d.daemon->address();
  auto e = MakeExporter(o);
  EXPECT_TRUE(e->CheckHealth(absl::Now() + absl::Seconds(5)).ok());
  // A server without grpc.health.v1: an empty Export answers instead.
  testing::ScriptedReceiver plain;
  ASSERT_TRUE(plain.Start());
  o.endpoint = plain.endpoint();
  auto e2 = MakeExporter(o);
  EXPECT_TRUE(e2->CheckHealth(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(plain.call_count(), 1u);
  plain.Script({{::grpc::StatusCode::UNAVAILABLE}});
  EXPECT_EQ(e2->CheckHealth(absl::Now() + absl::Seconds(5)).code(),
            absl::StatusCode::kUnavailable);
  // Nothing listening: the deadline bounds the check.
  const testing::HeldPort refusing;
  ASSERT_TRUE(refusing.ok());
  o.endpoint = "http://" + refusing.address();
  auto e3 = MakeExporter(o);
  EXPECT_FALSE(e3->CheckHealth(absl::Now() + absl::Milliseconds(500)).ok());
}

TEST(OtlpExporterE2E, RoundRobinOverTwoEndpoints) {
  testing::ScriptedReceiver a, b;
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  OtlpExporterOptions o;
  o.endpoint = a.endpoint() + "," + b.endpoint();
  o.max_in_flight = 1;
  auto e = MakeExporter(o);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(e->ExportEncoded(tools::MakeStandardSpansRequest(1, i)).ok());
    ASSERT_TRUE(e->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  }
  EXPECT_EQ(a.call_count() + b.call_count(), 20u);
  EXPECT_GE(a.call_count(), 5u);
  EXPECT_GE(b.call_count(), 5u);
}

TEST(OtlpExporterE2E, ChannelIsSharedAcrossSignals) {
  OtlpExporterOptions o;
  o.endpoint = "http://127.0.0.1:4999";
  auto t1 = exporter::GrpcTransport::Create(o);
  auto t2 = exporter::GrpcTransport::Create(o);
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_EQ((*t1)->channel().get(), (*t2)->channel().get());
  o.compression = "gzip";  // per call, not per channel
  auto t3 = exporter::GrpcTransport::Create(o);
  EXPECT_EQ((*t1)->channel().get(), (*t3)->channel().get());
  o.endpoint = "http://127.0.0.1:4998";
  auto t4 = exporter::GrpcTransport::Create(o);
  EXPECT_NE((*t1)->channel().get(), (*t4)->channel().get());
}

TEST(OtlpExporterE2E, ReceiverRestartedDuringASteadyRunLosesNothing) {
  // The port stays the test's while the receiver is down.
  testing::HeldPort port;
  ASSERT_TRUE(port.ok());
  const std::string addr = port.address();
  RunningDaemon d;
  port.Release();
  d.Start(DaemonConfig{}, addr);
  OtlpExporterOptions o;
  o.endpoint = "http://" + addr;
  o.retry.initial_backoff = absl::Milliseconds(50);
  o.retry.max_backoff = absl::Milliseconds(200);
  o.timeout = absl::Seconds(2);
  auto e = MakeExporter(o);
  int64_t sent = 0;
  for (int i = 0; i < 40; ++i) {
    if (i == 15) {
      d.Stop();  // The receiver goes away with requests queued behind it...
      d.daemon.reset();
      ASSERT_TRUE(port.Hold());
    }
    if (i == 25) {
      port.Release();
      d.Start(DaemonConfig{}, addr);
    }  // ...and comes back on the same port.
    ASSERT_TRUE(e->ExportEncoded(tools::MakeStandardSpansRequest(10, i)).ok());
    sent += 10;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(30)).ok());
  ExporterStats s = e->Stats();
  EXPECT_EQ(s.exported_items, sent);
  EXPECT_EQ(s.dropped_total(), 0);
  EXPECT_GT(s.retries, 0);
  d.Stop();
  // Both daemons wrote to the same directory: every span is there. Duplicates
  // are possible only for a request acknowledged while the connection broke.
  EXPECT_GE(d.Spans(), sent);
}

}  // namespace
}  // namespace tracewire

namespace tracewire {
namespace {

TEST(OtlpExporterE2E, TypedSpansMetricsAndLogsArriveIntact) {
  RunningDaemon d;
  d.Start(DaemonConfig{});
  OtlpExporterOptions o;
  o.endpoint = "http://" + d.daemon->address();
  o.max_request_bytes = 4096;  // force several requests
  Resource res{{{"service.name", "typed"}}, 0, ""};
  InstrumentationScope scope{"scope-a", "1.2", {}, 0, ""};
  std::vector<SpanData> spans(40);
  for (size_t i = 0; i < spans.size(); ++i) {
    SpanData& s = spans[i];
    s.trace_id.fill(static_cast<uint8_t>(i + 1));
    s.span_id.fill(static_cast<uint8_t>(i + 1));
    s.name = "span-" + std::to_string(i);
    s.kind = SpanKind::kClient;
    s.start_time_unix_nano = 1000 + i;
    s.end_time_unix_nano = 2000 + i;
    s.attributes = {{"i", static_cast<int64_t>(i)}, {"b", Bytes{"\x01\x02"}},
                    {"arr", AnyValue::Array{AnyValue("x"), AnyValue(1.5)}}};
    s.status_code = StatusCode::kError;
    s.status_message = "boom";
  }
  ScopedItems<SpanData> g{&res, &scope, {}};
  for (const auto& s : spans) g.items.push_back(&s);
  auto traces = OtlpExporter::Create(ExportSignal::kTraces, o);
  ASSERT_TRUE(traces.ok());
  ASSERT_TRUE((*traces)->ExportSpans(std::span(&g, 1)).ok());
  EXPECT_EQ((*traces)->ExportLogs({}).code(), absl::StatusCode::kInvalidArgument);

  MetricData m{"requests", "count", "1", Sum{{NumberDataPoint{{}, 1, 2, int64_t{7}}},
                                             AggregationTemporality::kDelta, true}, {}};
  ScopedItems<MetricData> mg{&res, &scope, {&m}};
  auto metrics = OtlpExporter::Create(ExportSignal::kMetrics, o);
  ASSERT_TRUE((*metrics)->ExportMetrics(std::span(&mg, 1)).ok());

  LogRecordData l;
  l.time_unix_nano = 5;
  l.body = AnyValue(AnyValue::KvList{{"k", "v"}});
  l.severity_number = 9;
  ScopedItems<LogRecordData> lg{&res, &scope, {&l}};
  auto logs = OtlpExporter::Create(ExportSignal::kLogs, o);
  ASSERT_TRUE((*logs)->ExportLogs(std::span(&lg, 1)).ok());

  for (auto* e : {traces->get(), metrics->get(), logs->get()}) {
    ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  }
  EXPECT_EQ((*traces)->Stats().exported_items, 40);
  EXPECT_GT((*traces)->Stats().exported_requests, 1);
  EXPECT_EQ((*metrics)->Stats().exported_items, 1);
  d.Stop();
  auto lines = testing::ReadJsonLines(d.dir + "/traces.jsonl");
  EXPECT_EQ(testing::CountItems(lines, "traces"), 40);
  // Requests go out on several workers: find span-0 wherever it landed.
  nlohmann::json s0, first;
  for (const auto& line : lines) {
    for (const auto& sp : line["resourceSpans"][0]["scopeSpans"][0]["spans"]) {
      if (sp["name"] == "span-0") {
        s0 = sp;
        first = line["resourceSpans"][0];
      }
    }
  }
  ASSERT_FALSE(s0.is_null());
  EXPECT_EQ(first["resource"]["attributes"][0]["value"]["stringValue"], "typed");
  EXPECT_EQ(first["scopeSpans"][0]["scope"]["name"], "scope-a");
  EXPECT_EQ(s0["name"], "span-0");
  EXPECT_EQ(s0["traceId"], "01010101010101010101010101010101");
  EXPECT_EQ(s0["kind"], 3);
  EXPECT_EQ(s0["status"]["code"], 2);
  EXPECT_EQ(s0["attributes"][1]["value"]["bytesValue"], "AQI=");
  auto mlines = testing::ReadJsonLines(d.dir + "/metrics.jsonl");
  EXPECT_EQ(mlines[0]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"]
                 [0]["asInt"],
            "7");
  auto llines = testing::ReadJsonLines(d.dir + "/logs.jsonl");
  EXPECT_EQ(llines[0]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]["kvlistValue"]
                  ["values"][0]["key"],
            "k");
}

}  // namespace
}  // namespace tracewire
