// Integration tests: the real receiver on 127.0.0.1 port 0, real gRPC calls,
// real TLS with certificates made by openssl, the real file sink.

#include "receiver/otlp_receiver.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "httplib.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "pipeline/queued_sink.h"
#include "receiver/daemon.h"
#include "receiver/retry_info.h"
#include "testing/gate_writer.h"
#include "testing/test_env.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

namespace tracewire::receiver {
namespace {

namespace ct = ::opentelemetry::proto::collector::trace::v1;
namespace cm = ::opentelemetry::proto::collector::metrics::v1;
namespace cl = ::opentelemetry::proto::collector::logs::v1;
using testing::CountItems;
using testing::ReadJsonLines;
using tools::CallResult;
using tools::GenericCaller;

class DaemonFixture : public ::testing::Test {
 protected:
  void StartDaemon(DaemonConfig c) {
    ASSERT_TRUE(tmp_.ok());
    c.listen = "127.0.0.1:0";
    c.metrics_listen = "127.0.0.1:0";
    c.sink = "file";
    c.file_dir = dir_ + "/data";
    daemon_ = std::make_unique<Daemon>(c);
    ASSERT_TRUE(daemon_->Start().ok());
    address_ = daemon_->address();
  }

  // Stops the daemon so that the file sink is written out.
  void Stop() { ASSERT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok()); }

  CallResult Send(const std::string& method, const std::string& bytes,
                  std::shared_ptr<::grpc::Channel> channel = nullptr,
                  std::vector<std::pair<std::string, std::string>> md = {}, bool gzip = false,
                  grpc_compression_algorithm algo = GRPC_COMPRESS_GZIP) {
    if (!channel) channel = testing::InsecureChannel(address_);
    GenericCaller caller(channel);
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    for (auto& [k, v] : md) ctx.AddMetadata(k, v);
    if (gzip) ctx.set_compression_algorithm(algo);
    return caller.Call(&ctx, method, bytes);
  }

  int64_t FileItems(const std::string& signal) {
    return CountItems(ReadJsonLines(dir_ + "/data/" + signal + ".jsonl"), signal);
  }

  const testing::TempDir tmp_{"tw-recv"};  // Outlives daemon_, which writes in it.
  const std::string dir_ = tmp_.path();
  std::string address_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonFixture, EachSignalReachesTheFileSink) {
  StartDaemon(DaemonConfig{});
  tools::SyntheticOptions o;
  CallResult t = Send(tools::kTraceExportMethod, tools::MakeTracesRequest(7, o));
  CallResult m = Send(tools::kMetricsExportMethod, tools::MakeMetricsRequest(5, o));
  CallResult l = Send(tools::kLogsExportMethod, tools::MakeLogsRequest(3, o));
  ASSERT_TRUE(t.status.ok()) << t.status.error_message();
  ASSERT_TRUE(m.status.ok()) << m.status.error_message();
  ASSERT_TRUE(l.status.ok()) << l.status.error_message();
  ct::ExportTraceServiceResponse tr;
  ASSERT_TRUE(tr.ParseFromString(t.response));
  EXPECT_FALSE(tr.has_partial_success());
  Stop();
  EXPECT_EQ(FileItems("traces"), 7);
  EXPECT_EQ(FileItems("metrics"), 5 * tools::DataPointsPerMetric());
  EXPECT_EQ(FileItems("logs"), 3);
  const auto& c = daemon_->metrics().signals;
  EXPECT_EQ(c[0].accepted_items.load(), 7);
  EXPECT_EQ(c[1].accepted_items.load(), 10);
  EXPECT_EQ(c[2].accepted_items.load(), 3);
}

TEST_F(DaemonFixture, GzipIsInflatedAndBothSizesCounted) {
  StartDaemon(DaemonConfig{});
  const std::string req = tools::MakeStandardSpansRequest(512, 3);
  CallResult r = Send(tools::kTraceExportMethod, req, nullptr, {}, /*gzip=*/true);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  Stop();
  EXPECT_EQ(FileItems("traces"), 512);
  const auto& c = daemon_->metrics().signals[0];
  EXPECT_EQ(c.decompressed_bytes.load(), static_cast<int64_t>(req.size()));
  EXPECT_LT(c.wire_bytes.load() * 3, c.decompressed_bytes.load()) << "gzip was not on the wire";
}

TEST_F(DaemonFixture, DeflateIsInflated) {
  StartDaemon(DaemonConfig{});
  const std::string req = tools::MakeLogsRequest(300, {});
  CallResult r = Send(tools::kLogsExportMethod, req, nullptr, {}, true, GRPC_COMPRESS_DEFLATE);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  Stop();
  EXPECT_EQ(FileItems("logs"), 300);
  const auto& c = daemon_->metrics().signals[2];
  EXPECT_EQ(c.decompressed_bytes.load(), static_cast<int64_t>(req.size()));
  EXPECT_LT(c.wire_bytes.load() * 3, c.decompressed_bytes.load()) << "deflate was not on the wire";
}

TEST_F(DaemonFixture, MixedValidAndInvalidSpansGivePartialSuccess) {
  StartDaemon(DaemonConfig{});
  tools::SyntheticOptions o;
  o.invalid_items = 3;
  CallResult r = Send(tools::kTraceExportMethod, tools::MakeTracesRequest(10, o));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ct::ExportTraceServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.response));
  ASSERT_TRUE(resp.has_partial_success());
  EXPECT_EQ(resp.partial_success().rejected_spans(), 3);
  EXPECT_NE(resp.partial_success().error_message().find(
                "resource_spans[0].scope_spans[0].spans[0]: trace_id is all zero"),
            std::string::npos)
      << resp.partial_success().error_message();
  Stop();
  const auto lines = ReadJsonLines(dir_ + "/data/traces.jsonl");
  EXPECT_EQ(CountItems(lines, "traces"), 7);
  for (const auto& s : lines[0]["resourceSpans"][0]["scopeSpans"][0]["spans"]) {
    EXPECT_NE(s["traceId"], std::string(32, '0'));
  }
  EXPECT_EQ(daemon_->metrics().signals[0].rejected_items.load(), 3);
}

TEST_F(DaemonFixture, InvalidMetricsAndLogsAreCountedPerSignal) {
  StartDaemon(DaemonConfig{});
  tools::SyntheticOptions o;
  o.invalid_items = 1;
  CallResult m = Send(tools::kMetricsExportMethod, tools::MakeMetricsRequest(4, o));
  CallResult l = Send(tools::kLogsExportMethod, tools::MakeLogsRequest(4, o));
  cm::ExportMetricsServiceResponse mr;
  cl::ExportLogsServiceResponse lr;
  ASSERT_TRUE(mr.ParseFromString(m.response));
  ASSERT_TRUE(lr.ParseFromString(l.response));
  EXPECT_EQ(mr.partial_success().rejected_data_points(), tools::DataPointsPerMetric());
  EXPECT_EQ(lr.partial_success().rejected_log_records(), 1);
  Stop();
  EXPECT_EQ(FileItems("metrics"), 3 * tools::DataPointsPerMetric());
  EXPECT_EQ(FileItems("logs"), 3);
}

TEST_F(DaemonFixture, MetricWithoutDataIsReportedAndNotKept) {
  StartDaemon(DaemonConfig{});
  cm::ExportMetricsServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(tools::MakeMetricsRequest(2, {})));
  auto* empty = req.mutable_resource_metrics(0)->mutable_scope_metrics(0)->add_metrics();
  empty->set_name("no.data");
  CallResult r = Send(tools::kMetricsExportMethod, req.SerializeAsString());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  cm::ExportMetricsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.response));
  EXPECT_EQ(resp.partial_success().rejected_data_points(), 0);  // it had no points
  EXPECT_NE(resp.partial_success().error_message().find("\"no.data\" has no data field"),
            std::string::npos);
  Stop();
  const auto lines = ReadJsonLines(dir_ + "/data/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].size(), 2u);
}

TEST_F(DaemonFixture, MalformedBytesAreInvalidArgument) {
  StartDaemon(DaemonConfig{});
  for (const std::string bad : {std::string("\xff\xff\xff", 3), std::string("\x0a\x10\x01", 3),
                                std::string("\x1f\x8b\x08garbage", 10)}) {
    CallResult r = Send(tools::kTraceExportMethod, bad);
    EXPECT_EQ(r.status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  }
  Stop();
  EXPECT_EQ(FileItems("traces"), 0);
  EXPECT_EQ(daemon_->metrics().signals[0].refused_requests.load(), 3);
}

TEST_F(DaemonFixture, EmptyRequestIsOk) {
  StartDaemon(DaemonConfig{});
  CallResult r = Send(tools::kLogsExportMethod, "");
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  cl::ExportLogsServiceResponse lr;
  ASSERT_TRUE(lr.ParseFromString(r.response));
  EXPECT_FALSE(lr.has_partial_success());
}

TEST_F(DaemonFixture, OversizeIsResourceExhausted) {
  DaemonConfig c;
  c.max_request_mib = 1;
  StartDaemon(c);
  const std::string big = tools::MakeStandardSpansRequest(6000, 1);  // ~1.6 MiB
  ASSERT_GT(big.size(), 1u << 20);
  CallResult r = Send(tools::kTraceExportMethod, big);
  EXPECT_EQ(r.status.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Compressed it is small on the wire, but inflates past the limit.
  CallResult z = Send(tools::kTraceExportMethod, big, nullptr, {}, /*gzip=*/true);
  EXPECT_EQ(z.status.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED)
      << z.status.error_message();
  Stop();
  EXPECT_EQ(FileItems("traces"), 0);
}

TEST_F(DaemonFixture, BearerTokenAndApiKey) {
  DaemonConfig c;
  c.bearer_tokens = {"s3cret-token"};
  c.api_keys = {"key-1", "key-2"};
  StartDaemon(c);
  const std::string req = tools::MakeTracesRequest(2, {});
  EXPECT_EQ(Send(tools::kTraceExportMethod, req).status.error_code(),
            ::grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Send(tools::kTraceExportMethod, req, nullptr, {{"authorization", "Bearer wrong"}})
                .status.error_code(),
            ::grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      Send(tools::kTraceExportMethod, req, nullptr, {{"x-api-key", "key-3"}}).status.error_code(),
      ::grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Send(tools::kTraceExportMethod, req, nullptr, {{"authorization", "s3cret-token"}})
                .status.error_code(),
            ::grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(
      Send(tools::kTraceExportMethod, req, nullptr, {{"authorization", "Bearer s3cret-token"}})
          .status.ok());
  EXPECT_TRUE(Send(tools::kTraceExportMethod, req, nullptr, {{"x-api-key", "key-2"}}).status.ok());
  Stop();
  EXPECT_EQ(FileItems("traces"), 4);  // Only the two authenticated requests.
  EXPECT_EQ(daemon_->metrics().signals[0].refused_requests.load(), 4);
}

class TlsFixture : public DaemonFixture {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cert_dir_.ok());
    certs_ = testing::MakeCerts(cert_dir_.path());
    ASSERT_TRUE(certs_.ok) << "openssl failed";
  }
  std::shared_ptr<::grpc::Channel> TlsChannel(const std::string& cert, const std::string& key) {
    ::grpc::SslCredentialsOptions o;
    o.pem_root_certs = testing::ReadFileOrEmpty(certs_.ca);
    if (!cert.empty()) {
      o.pem_cert_chain = testing::ReadFileOrEmpty(cert);
      o.pem_private_key = testing::ReadFileOrEmpty(key);
    }
    return ::grpc::CreateChannel(address_, ::grpc::SslCredentials(o));
  }
  const testing::TempDir cert_dir_{"tw-certs"};
  testing::Certs certs_;
};

TEST_F(TlsFixture, TlsAcceptsVerifiedClientsAndRefusesPlaintext) {
  DaemonConfig c;
  c.tls_cert_file = certs_.server_cert;
  c.tls_key_file = certs_.server_key;
  StartDaemon(c);
  const std::string req = tools::MakeTracesRequest(3, {});
  CallResult ok = Send(tools::kTraceExportMethod, req, TlsChannel("", ""));
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  CallResult plain = Send(tools::kTraceExportMethod, req);
  EXPECT_EQ(plain.status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  Stop();
  EXPECT_EQ(FileItems("traces"), 3);
}

TEST_F(TlsFixture, MutualTlsRequiresAClientCertificateFromTheCa) {
  DaemonConfig c;
  c.tls_cert_file = certs_.server_cert;
  c.tls_key_file = certs_.server_key;
  c.tls_client_ca_file = certs_.ca;
  StartDaemon(c);
  const std::string req = tools::MakeTracesRequest(2, {});
  CallResult with =
      Send(tools::kTraceExportMethod, req, TlsChannel(certs_.client_cert, certs_.client_key));
  EXPECT_TRUE(with.status.ok()) << with.status.error_message();
  CallResult without = Send(tools::kTraceExportMethod, req, TlsChannel("", ""));
  EXPECT_EQ(without.status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  CallResult rogue =
      Send(tools::kTraceExportMethod, req, TlsChannel(certs_.rogue_cert, certs_.rogue_key));
  EXPECT_EQ(rogue.status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  Stop();
  EXPECT_EQ(FileItems("traces"), 2);
}

TEST_F(DaemonFixture, HealthServesEachService) {
  StartDaemon(DaemonConfig{});
  for (std::string svc : {"", "opentelemetry.proto.collector.trace.v1.TraceService",
                          "opentelemetry.proto.collector.metrics.v1.MetricsService",
                          "opentelemetry.proto.collector.logs.v1.LogsService"}) {
    std::string req;
    if (!svc.empty()) req = std::string("\x0a", 1) + static_cast<char>(svc.size()) + svc;
    CallResult r = Send("/grpc.health.v1.Health/Check", req);
    ASSERT_TRUE(r.status.ok()) << svc << ": " << r.status.error_message();
    EXPECT_EQ(r.response, std::string("\x08\x01", 2)) << svc;  // status: SERVING
  }
  std::string unknown =
      "\x0a\x03"
      "foo";
  EXPECT_EQ(Send("/grpc.health.v1.Health/Check", unknown).status.error_code(),
            ::grpc::StatusCode::NOT_FOUND);
}

TEST_F(DaemonFixture, MetricsEndpointServesPrometheusText) {
  StartDaemon(DaemonConfig{});
  ASSERT_TRUE(Send(tools::kTraceExportMethod, tools::MakeTracesRequest(9, {})).status.ok());
  httplib::Client http("127.0.0.1", daemon_->metrics_port());
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(
      res->body.find("otelcol_receiver_accepted_spans{receiver=\"otlp\",transport=\"grpc\"} 9"),
      std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("otelcol_exporter_queue_size"), std::string::npos);
  EXPECT_NE(res->body.find("tracewire_receiver_received_bytes"), std::string::npos);
}

using testing::GateWriter;

TEST(OtlpReceiver, FullSinkAnswersUnavailableWithRetryInfo) {
  auto writer = std::make_unique<GateWriter>();
  GateWriter* gate = writer.get();
  std::atomic<int64_t> dropped{0};
  pipeline::QueueOptions q;
  q.max_batches = 1;
  pipeline::QueuedSink sink(std::move(writer), q, &dropped);
  ASSERT_TRUE(sink.Start().ok());
  common::ReceiverMetrics metrics;
  ReceiverOptions ro;
  ro.listen = "127.0.0.1:0";
  ro.retry_after = absl::Milliseconds(750);
  OtlpReceiver receiver(ro, &sink, &metrics);
  ASSERT_TRUE(receiver.Start().ok());
  GenericCaller caller(testing::InsecureChannel(receiver.address()));
  auto send = [&] {
    ::grpc::ClientContext ctx;
    return caller.Call(&ctx, tools::kTraceExportMethod, tools::MakeTracesRequest(4, {}));
  };
  ASSERT_TRUE(send().status.ok());  // Taken by the worker, which blocks in Write.
  gate->entered_.WaitForNotification();
  ASSERT_TRUE(send().status.ok());  // Fills the one-batch queue.
  CallResult full = send();
  EXPECT_EQ(full.status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  std::optional<absl::Duration> delay = RetryDelayOf(full.status);
  ASSERT_TRUE(delay.has_value());
  EXPECT_EQ(*delay, absl::Milliseconds(750));
  // Refused before it was read (the sink had no room): its items are not known.
  EXPECT_EQ(metrics.signals[0].refused_requests.load(), 1);
  EXPECT_EQ(metrics.signals[0].refused_items.load(), 0);
  EXPECT_EQ(metrics.signals[0].accepted_items.load(), 8);
  {
    // Refused before it is read: even a malformed request gets UNAVAILABLE.
    ::grpc::ClientContext ctx;
    CallResult r = caller.Call(&ctx, tools::kTraceExportMethod, std::string("\x0a\xff", 2));
    EXPECT_EQ(r.status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(metrics.signals[0].refused_requests.load(), 2);
  }
  gate->release_.Notify();
  ASSERT_TRUE(receiver.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  ASSERT_TRUE(sink.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(gate->written_, 8);  // Everything acknowledged was written.
  EXPECT_EQ(dropped.load(), 0);
}

}  // namespace
}  // namespace tracewire::receiver

namespace tracewire::receiver {
namespace {

// The admission budget: while the sink holds batches, their bytes stay
// counted; a request that would pass the limit is refused with RetryInfo
// before it is read (its items are not counted: it was never decoded), and
// admitted again once the sink let go.
TEST(OtlpReceiver, RequestsOverTheMemoryLimitAreRefusedUntilBytesAreReleased) {
  auto writer = std::make_unique<GateWriter>();
  GateWriter* gate = writer.get();
  std::atomic<int64_t> dropped{0};
  pipeline::QueueOptions q;
  q.max_batches = 1000;
  pipeline::QueuedSink sink(std::move(writer), q, &dropped);
  ASSERT_TRUE(sink.Start().ok());
  const std::string request = tools::MakeTracesRequest(200, {});
  // Room for a few requests (each is counted twice: the received bytes until
  // the answer, the batch's copy until it is written).
  common::AdmissionBudget budget(static_cast<int64_t>(request.size()) * 7);
  common::ReceiverMetrics metrics;
  ReceiverOptions ro;
  ro.listen = "127.0.0.1:0";
  ro.retry_after = absl::Milliseconds(300);
  ro.admission = &budget;
  OtlpReceiver receiver(ro, &sink, &metrics);
  ASSERT_TRUE(receiver.Start().ok());
  GenericCaller caller(testing::InsecureChannel(receiver.address()));
  auto send = [&] {
    ::grpc::ClientContext ctx;
    return caller.Call(&ctx, tools::kTraceExportMethod, request);
  };

  int accepted = 0;
  CallResult refused;
  for (int i = 0; i < 20; ++i) {
    CallResult r = send();
    if (!r.status.ok()) {
      refused = r;
      break;
    }
    ++accepted;
  }
  ASSERT_GT(accepted, 0);
  ASSERT_EQ(refused.status.error_code(), ::grpc::StatusCode::UNAVAILABLE)
      << refused.status.error_message();
  EXPECT_NE(refused.status.error_message().find("max_inflight_mib"), std::string::npos);
  ASSERT_TRUE(RetryDelayOf(refused.status).has_value());
  EXPECT_EQ(*RetryDelayOf(refused.status), absl::Milliseconds(300));
  EXPECT_EQ(budget.refused(), 1);
  EXPECT_EQ(metrics.signals[0].refused_requests.load(), 1);
  EXPECT_EQ(metrics.signals[0].accepted_items.load(), accepted * 200);
  // Held: the queued batches' copies (answers are sent).
  EXPECT_LE(budget.used(), budget.limit());
  EXPECT_GE(budget.used(), static_cast<int64_t>(request.size()) * accepted);

  gate->release_.Notify();  // the sink writes everything and lets go
  for (int i = 0; i < 1000 && budget.used() != 0; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(budget.used(), 0);
  EXPECT_TRUE(send().status.ok());
  ASSERT_TRUE(receiver.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  ASSERT_TRUE(sink.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(gate->written_, (accepted + 1) * 200);  // everything acknowledged
  EXPECT_EQ(budget.used(), 0);
}

}  // namespace
}  // namespace tracewire::receiver
