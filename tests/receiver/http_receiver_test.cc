// OTLP/HTTP: the real daemon on 127.0.0.1 port 0, real HTTP requests
// (cpp-httplib's client), the real file sink; the answers the OTLP/HTTP
// specification asks for, through the same Export path as gRPC.

#include "receiver/http_receiver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/rpc/status.pb.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "pipeline/null_sink.h"
#include "pipeline/queued_sink.h"
#include "receiver/daemon.h"
#include "receiver/metrics_server.h"
#include "testing/gate_writer.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"

namespace tracewire::receiver {
namespace {

namespace ct = ::opentelemetry::proto::collector::trace::v1;
using testing::CountItems;
using testing::ReadJsonLines;

constexpr const char* kProtobuf = "application/x-protobuf";

std::string Compress(const std::string& data, bool gzip) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 | (gzip ? 16 : 0), 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

class HttpFixture : public ::testing::Test {
 protected:
  void StartDaemon(DaemonConfig c = {}) {
    ASSERT_TRUE(tmp_.ok());
    c.listen = "127.0.0.1:0";
    c.metrics_listen = "";
    c.sink = "file";
    c.file_dir = dir_ + "/data";
    daemon_ = std::make_unique<Daemon>(c);
    ASSERT_TRUE(daemon_->Start().ok());
    ASSERT_GT(daemon_->http_port(), 0) << "OTLP/HTTP is on by default";
  }
  void Stop() { ASSERT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok()); }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const char* content_type = kProtobuf, httplib::Headers headers = {}) {
    httplib::Client http("127.0.0.1", daemon_->http_port());
    http.set_read_timeout(10, 0);
    return http.Post(path.c_str(), headers, body, content_type);
  }

  int64_t FileItems(const std::string& signal) {
    return CountItems(ReadJsonLines(dir_ + "/data/" + signal + ".jsonl"), signal);
  }

  const testing::TempDir tmp_{"tw-http"};  // Outlives daemon_, which writes in it.
  const std::string dir_ = tmp_.path();
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(HttpFixture, EachSignalReachesTheSinkAndIsCounted) {
  StartDaemon();
  tools::SyntheticOptions o;
  auto t = Post("/v1/traces", tools::MakeTracesRequest(7, o));
  auto m = Post("/v1/metrics", tools::MakeMetricsRequest(5, o));
  auto l = Post("/v1/logs", tools::MakeLogsRequest(3, o), "application/x-protobuf; charset=utf-8");
  for (auto* r : {&t, &m, &l}) {
    ASSERT_TRUE(*r);
    EXPECT_EQ((*r)->status, 200) << (*r)->body;
    EXPECT_EQ((*r)->get_header_value("Content-Type"), kProtobuf);
  }
  ct::ExportTraceServiceResponse tr;
  ASSERT_TRUE(tr.ParseFromString(t->body));
  EXPECT_FALSE(tr.has_partial_success());
  Stop();
  EXPECT_EQ(FileItems("traces"), 7);
  EXPECT_EQ(FileItems("metrics"), 5 * tools::DataPointsPerMetric());
  EXPECT_EQ(FileItems("logs"), 3);
  const auto& c = daemon_->metrics().http_signals;
  EXPECT_EQ(c[0].accepted_items.load(), 7);
  EXPECT_EQ(c[2].accepted_items.load(), 3);
  EXPECT_EQ(daemon_->metrics().signals[0].accepted_items.load(), 0) << "counted as gRPC";
  const std::string text = daemon_->metrics().RenderPrometheus();
  EXPECT_NE(text.find("otelcol_receiver_accepted_spans{receiver=\"otlp\",transport=\"http\"} 7"),
            std::string::npos)
      << text;
}

TEST_F(HttpFixture, GzipAndDeflateBodiesAreInflated) {
  StartDaemon();
  const std::string req = tools::MakeStandardSpansRequest(512, 3);
  auto g = Post("/v1/traces", Compress(req, true), kProtobuf, {{"Content-Encoding", "gzip"}});
  auto d = Post("/v1/traces", Compress(req, false), kProtobuf, {{"Content-Encoding", "deflate"}});
  ASSERT_TRUE(g && d);
  EXPECT_EQ(g->status, 200) << g->body;
  EXPECT_EQ(d->status, 200) << d->body;
  // Not a gzip stream at all, though it says so: refused, nothing stored.
  auto bad = Post("/v1/traces", req, kProtobuf, {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status / 100, 4);
  auto unknown = Post("/v1/traces", req, kProtobuf, {{"Content-Encoding", "x-unknown"}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 415);
  Stop();
  EXPECT_EQ(FileItems("traces"), 1024);
  EXPECT_EQ(daemon_->metrics().http_signals[0].accepted_items.load(), 1024);
}

TEST_F(HttpFixture, InvalidItemsGivePartialSuccess) {
  StartDaemon();
  tools::SyntheticOptions o;
  o.invalid_items = 3;
  auto r = Post("/v1/traces", tools::MakeTracesRequest(10, o));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ct::ExportTraceServiceResponse tr;
  ASSERT_TRUE(tr.ParseFromString(r->body));
  EXPECT_EQ(tr.partial_success().rejected_spans(), 3);
  EXPECT_FALSE(tr.partial_success().error_message().empty());
  Stop();
  EXPECT_EQ(FileItems("traces"), 7);
}

TEST_F(HttpFixture, BadRequestsGetTheSpecificationsAnswers) {
  StartDaemon();
  // Malformed protobuf: 400 with a google.rpc.Status body.
  auto bad = Post("/v1/traces", std::string("\xff\xff\xff", 3));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->get_header_value("Content-Type"), kProtobuf);
  google::rpc::Status st;
  ASSERT_TRUE(st.ParseFromString(bad->body));
  EXPECT_EQ(st.code(), 3);  // INVALID_ARGUMENT
  EXPECT_FALSE(st.message().empty());
  // Another content type: 415.
  auto json = Post("/v1/traces", "{}", "text/plain");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 415);
  // Another method: 405.
  httplib::Client http("127.0.0.1", daemon_->http_port());
  auto get = http.Get("/v1/logs");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  Stop();
  EXPECT_EQ(daemon_->metrics().http_signals[0].refused_requests.load(), 1);
}

// OTLP/JSON: hex ids, enums as names or integers, 64-bit integers as strings
// or numbers, lowerCamelCase or original field names, unknown fields
// ignored; answered in JSON.
TEST_F(HttpFixture, OtlpJsonIsReadAndAnsweredInJson) {
  StartDaemon();
  const std::string body = R"({
    "resourceSpans": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
      "scopeSpans": [{
        "scope": {"name": "json-scope"},
        "spans": [
          {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
           "parentSpanId": "eee19b7ec3c1b173", "name": "camel", "kind": "SPAN_KIND_SERVER",
           "startTimeUnixNano": "1700000000123456789", "endTimeUnixNano": 1700000000223456789,
           "attributes": [{"key": "n", "value": {"intValue": "9007199254740993"}}],
           "status": {"code": 2, "message": "boom"}, "someFutureField": {"x": 1}},
          {"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b175",
           "name": "snake", "kind": 3, "start_time_unix_nano": "1700000000000000000",
           "end_time_unix_nano": "1700000000000000001"}
        ]}]}]})";
  auto r = Post("/v1/traces", body, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->body, "{}");
  Stop();
  const auto lines = ReadJsonLines(dir_ + "/data/traces.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  const auto& spans = lines[0]["resourceSpans"][0]["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]["traceId"], "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(spans[0]["parentSpanId"], "eee19b7ec3c1b173");
  EXPECT_EQ(spans[0]["kind"], 2);
  EXPECT_EQ(spans[0]["endTimeUnixNano"], "1700000000223456789");  // exact, though a number
  EXPECT_EQ(spans[0]["attributes"][0]["value"]["intValue"], "9007199254740993");
  EXPECT_EQ(spans[0]["status"]["code"], 2);
  EXPECT_EQ(spans[1]["name"], "snake");
  EXPECT_EQ(spans[1]["spanId"], "eee19b7ec3c1b175");
  EXPECT_EQ(spans[1]["kind"], 3);
}

TEST_F(HttpFixture, OtlpJsonPartialSuccessAndErrorsAreJson) {
  StartDaemon();
  // An all-zero trace id is invalid: the span is rejected, counted.
  const std::string one_bad = R"({"resourceSpans": [{"scopeSpans": [{"spans": [
      {"traceId": "00000000000000000000000000000000", "spanId": "eee19b7ec3c1b174", "name": "x",
       "startTimeUnixNano": "1", "endTimeUnixNano": "2"},
      {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "y",
       "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]})";
  auto partial = Post("/v1/traces", one_bad, "application/json");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->status, 200);
  const auto answer = nlohmann::json::parse(partial->body);
  EXPECT_EQ(answer["partialSuccess"]["rejectedSpans"], "1") << partial->body;
  EXPECT_FALSE(answer["partialSuccess"]["errorMessage"].get<std::string>().empty());
  for (const std::string bad : {std::string("{not json"), std::string(R"({"resourceSpans": 5})"),
                                std::string(R"({"resourceSpans": [{"scopeSpans": [{"spans": [
                                    {"traceId": "zz", "spanId": "eee19b7ec3c1b174"}]}]}]})")}) {
    auto r = Post("/v1/traces", bad, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    const auto st = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_FALSE(st.is_discarded()) << r->body;
    EXPECT_EQ(st["code"], 3) << r->body;
    EXPECT_FALSE(st["message"].get<std::string>().empty());
  }
  Stop();
  EXPECT_EQ(FileItems("traces"), 1);
  EXPECT_EQ(daemon_->metrics().http_signals[0].refused_requests.load(), 3);
}

TEST_F(HttpFixture, CorsForAllowedOriginsWithPreflight) {
  DaemonConfig c;
  c.http_cors_allowed_origins = {"https://*.example.com"};
  c.http_cors_allowed_headers = {"X-Tenant"};
  StartDaemon(c);
  httplib::Client http("127.0.0.1", daemon_->http_port());
  auto pre = http.Options("/v1/traces", {{"Origin", "https://app.example.com"},
                                         {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Methods"), "POST");
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("X-Tenant"),
            std::string::npos);
  auto post = Post("/v1/traces", tools::MakeTracesRequest(1, {}), kProtobuf,
                   {{"Origin", "https://app.example.com"}});
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->get_header_value("Access-Control-Allow-Origin"), "https://app.example.com");
  // Another origin: no CORS headers, so the browser refuses.
  auto other = http.Options(
      "/v1/traces", {{"Origin", "https://evil.test"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
  auto other_post = Post("/v1/traces", tools::MakeTracesRequest(1, {}), kProtobuf,
                         {{"Origin", "https://evil.test"}});
  ASSERT_TRUE(other_post);
  EXPECT_FALSE(other_post->has_header("Access-Control-Allow-Origin"));
}

// GET /health like the Collector's health_check: 503 while starting and
// draining, 200 with a small JSON status while serving.
TEST(Health, StatusFollowsTheDaemonsLifecycle) {
  common::ReceiverMetrics metrics;
  MetricsServer health("127.0.0.1:0", &metrics, /*health_only=*/true);
  ASSERT_TRUE(health.Start().ok());
  httplib::Client http("127.0.0.1", health.port());
  auto starting = http.Get("/health");
  ASSERT_TRUE(starting);
  EXPECT_EQ(starting->status, 503);
  EXPECT_EQ(nlohmann::json::parse(starting->body)["status"], "starting");
  EXPECT_EQ(http.Get("/metrics")->status, 404) << "health only";
  metrics.serving_since_unix_s = absl::ToUnixSeconds(absl::Now());
  metrics.lifecycle = common::ReceiverMetrics::kServing;
  auto ok = http.Get("/health");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  const auto j = nlohmann::json::parse(ok->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_TRUE(j.contains("upSince"));
  metrics.lifecycle = common::ReceiverMetrics::kDraining;
  auto draining = http.Get("/health");
  ASSERT_TRUE(draining);
  EXPECT_EQ(draining->status, 503);
  EXPECT_EQ(nlohmann::json::parse(draining->body)["status"], "draining");
  health.Shutdown();
}

TEST(Health, TheDaemonServesItOnItsOwnListenerAndNextToMetrics) {
  const testing::TempDir tmp("tw-health");
  ASSERT_TRUE(tmp.ok());
  DaemonConfig c;
  c.listen = "127.0.0.1:0";
  c.health_listen = "127.0.0.1:0";
  c.metrics_listen = "127.0.0.1:0";
  c.sink = "none";
  Daemon d(c);
  ASSERT_TRUE(d.Start().ok());
  for (int port : {d.health_port(), d.metrics_port()}) {
    httplib::Client http("127.0.0.1", port);
    auto r = http.Get("/health");
    ASSERT_TRUE(r) << port;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(nlohmann::json::parse(r->body)["status"], "ok");
  }
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(d.metrics().lifecycle.load(), common::ReceiverMetrics::kDraining);
}

TEST_F(HttpFixture, ZstdBodiesAreDecompressedWithTheSameBound) {
  DaemonConfig c;
  c.max_request_mib = 1;
  StartDaemon(c);
  const std::string req = tools::MakeStandardSpansRequest(512, 5);
  auto pb = Post("/v1/traces", Zstd(req), kProtobuf, {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(pb);
  EXPECT_EQ(pb->status, 200) << pb->body;
  const std::string json = R"({"resourceSpans": [{"scopeSpans": [{"spans": [
      {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "z",
       "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]})";
  auto js = Post("/v1/traces", Zstd(json), "application/json", {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200) << js->body;
  auto bomb = Post("/v1/traces", Zstd(std::string(3 << 20, '\0')), kProtobuf,
                   {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(bomb);
  EXPECT_EQ(bomb->status, 413);
  auto broken = Post("/v1/traces", "not zstd at all", kProtobuf, {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 400);
  Stop();
  EXPECT_EQ(FileItems("traces"), 513);
  const auto& t = daemon_->metrics().http_signals[0];
  EXPECT_LT(t.wire_bytes.load() * 2, t.decompressed_bytes.load()) << "zstd was on the wire";
}

// The receiver's TLS files serve OTLP/HTTP too: https, and with a client CA
// only clients with a certificate it signed get in.
TEST(HttpReceiverTls, HttpsAndMutualTlsWithTheReceiversFiles) {
  const testing::TempDir tmp("tw-https");
  ASSERT_TRUE(tmp.ok());
  const testing::Certs certs = testing::MakeCerts(tmp.path());
  ASSERT_TRUE(certs.ok) << "openssl failed";
  DaemonConfig c;
  c.listen = "127.0.0.1:0";
  c.metrics_listen = "";
  c.sink = "none";
  c.tls_cert_file = certs.server_cert;
  c.tls_key_file = certs.server_key;
  c.tls_client_ca_file = certs.ca;
  Daemon d(c);
  ASSERT_TRUE(d.Start().ok());
  ASSERT_GT(d.http_port(), 0);
  const std::string req = tools::MakeTracesRequest(3, {});
  {
    httplib::SSLClient https("127.0.0.1", d.http_port(), certs.client_cert, certs.client_key);
    https.set_ca_cert_path(certs.ca.c_str());
    https.enable_server_certificate_verification(true);
    auto r = https.Post("/v1/traces", req, kProtobuf);
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
  }
  {
    // No client certificate: the handshake fails, nothing is accepted.
    httplib::SSLClient https("127.0.0.1", d.http_port());
    https.set_ca_cert_path(certs.ca.c_str());
    https.enable_server_certificate_verification(true);
    auto r = https.Post("/v1/traces", req, kProtobuf);
    EXPECT_FALSE(r && r->status == 200);
  }
  {
    // Plain HTTP to the TLS port: refused.
    httplib::Client plain("127.0.0.1", d.http_port());
    auto r = plain.Post("/v1/traces", req, kProtobuf);
    EXPECT_FALSE(r && r->status == 200);
  }
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(d.metrics().http_signals[0].accepted_items.load(), 3);
}

// More clients than workers, each keeping its connection alive for several
// requests: every request is answered and stored. A client may find its
// kept-alive connection closed under it (the usual keep-alive race, that a
// loaded machine makes likely): it sends again on a new connection, as
// every OTLP exporter does.
TEST_F(HttpFixture, ManyKeptAliveConnectionsAreAllServed) {
  StartDaemon();
  const std::string req = tools::MakeTracesRequest(2, {});
  constexpr int kClients = 48, kRequests = 5;
  std::atomic<int> ok{0}, resent{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      httplib::Client http("127.0.0.1", daemon_->http_port());
      http.set_keep_alive(true);
      http.set_read_timeout(30, 0);
      for (int r = 0; r < kRequests; ++r) {
        for (int attempt = 0; attempt < 3; ++attempt) {
          auto res = http.Post("/v1/traces", req, kProtobuf);
          if (res) {
            EXPECT_EQ(res->status, 200);
            if (res->status == 200) ++ok;
            break;
          }
          ++resent;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_LE(resent.load(), kClients * kRequests / 10);
  Stop();
  // A request whose answer was lost may have been stored before it was sent
  // again: at least one copy of each, at most one more per resend.
  const int64_t stored = FileItems("traces");
  EXPECT_GE(stored, 2 * kClients * kRequests);
  EXPECT_LE(stored, 2 * (kClients * kRequests + resent.load()));
}

TEST_F(HttpFixture, OversizeIs413) {
  DaemonConfig c;
  c.max_request_mib = 1;
  StartDaemon(c);
  auto big = Post("/v1/traces", tools::MakeStandardSpansRequest(4096, 1));  // ~1.4 MiB
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  // Small on the wire, over the limit once inflated: 413 too.
  auto bomb = Post("/v1/traces", Compress(std::string(3 << 20, '\0'), true), kProtobuf,
                   {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(bomb);
  EXPECT_EQ(bomb->status, 413);
}

TEST_F(HttpFixture, CredentialsAreCheckedAsForGrpc) {
  DaemonConfig c;
  c.bearer_tokens = {"s3cret"};
  c.api_keys = {"k3y"};
  StartDaemon(c);
  const std::string req = tools::MakeTracesRequest(2, {});
  auto none = Post("/v1/traces", req);
  auto wrong = Post("/v1/traces", req, kProtobuf, {{"Authorization", "Bearer nope"}});
  auto token = Post("/v1/traces", req, kProtobuf, {{"Authorization", "Bearer s3cret"}});
  auto key = Post("/v1/traces", req, kProtobuf, {{"X-API-Key", "k3y"}});
  ASSERT_TRUE(none && wrong && token && key);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(token->status, 200);
  EXPECT_EQ(key->status, 200);
  Stop();
  EXPECT_EQ(FileItems("traces"), 4);
}

TEST_F(HttpFixture, AnEmptyListenTurnsItOff) {
  DaemonConfig c;
  c.http_listen = "";
  ASSERT_TRUE(tmp_.ok());
  c.listen = "127.0.0.1:0";
  c.metrics_listen = "";
  c.sink = "none";
  Daemon d(c);
  ASSERT_TRUE(d.Start().ok());
  EXPECT_EQ(d.http_port(), 0);
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  DaemonConfig defaults;
  EXPECT_EQ(defaults.HttpListen(), "127.0.0.1:4318");
}

// A full sink: 503 with Retry-After; nothing refused was acknowledged.
TEST(HttpReceiver, AFullSinkAnswers503WithRetryAfter) {
  auto writer = std::make_unique<testing::GateWriter>();
  testing::GateWriter* gate = writer.get();
  std::atomic<int64_t> dropped{0};
  pipeline::QueueOptions q;
  q.max_batches = 1;
  pipeline::QueuedSink sink(std::move(writer), q, &dropped);
  ASSERT_TRUE(sink.Start().ok());
  common::ReceiverMetrics metrics;
  Authenticator open({}, {});
  ExportHandler handler({64 << 20, absl::Milliseconds(1500), nullptr}, &open, &sink, &metrics);
  HttpReceiverOptions ho;
  ho.listen = "127.0.0.1:0";
  HttpReceiver receiver(ho, &handler);
  ASSERT_TRUE(receiver.Start().ok());
  httplib::Client http("127.0.0.1", receiver.port());
  const std::string req = tools::MakeTracesRequest(4, {});
  auto first = http.Post("/v1/traces", req, kProtobuf);  // taken by the worker, which blocks
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  gate->entered_.WaitForNotification();
  auto second = http.Post("/v1/traces", req, kProtobuf);  // fills the one-batch queue
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  auto full = http.Post("/v1/traces", req, kProtobuf);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 503);
  EXPECT_EQ(full->get_header_value("Retry-After"), "2");  // 1.5 s, rounded up
  // Refused before it was read (the sink had no room): its items are not known.
  EXPECT_EQ(metrics.signals[0].refused_requests.load(), 1);
  EXPECT_EQ(metrics.signals[0].refused_items.load(), 0);
  gate->release_.Notify();
  receiver.Shutdown();
  ASSERT_TRUE(sink.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(gate->written_, 8);
}

// An idle kept-alive connection does not hold Shutdown for the keep-alive
// timeout (cpp-httplib's workers would wait that long): the receiver ends
// idle connections once it stops listening.
TEST(HttpReceiver, ShutdownDoesNotWaitForIdleKeptAliveConnections) {
  common::ReceiverMetrics metrics;
  Authenticator open({}, {});
  pipeline::NullSink sink;
  ExportHandler handler({64 << 20, absl::Seconds(1), nullptr, /*http=*/true}, &open, &sink,
                        &metrics);
  HttpReceiverOptions ho;
  ho.listen = "127.0.0.1:0";
  ho.keep_alive_timeout_s = 40;
  HttpReceiver receiver(ho, &handler);
  ASSERT_TRUE(receiver.Start().ok());
  httplib::Client http("127.0.0.1", receiver.port());
  http.set_keep_alive(true);
  auto r = http.Post("/v1/traces", tools::MakeTracesRequest(1, {}), kProtobuf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // The connection stays open and idle. Shutdown returns well before the
  // keep-alive timeout would have let the worker go.
  absl::Notification stopped;
  std::thread stopper([&] {
    receiver.Shutdown();
    stopped.Notify();
  });
  EXPECT_TRUE(stopped.WaitForNotificationWithTimeout(absl::Seconds(20)))
      << "Shutdown waited for the idle connection";
  stopper.join();
  EXPECT_EQ(metrics.http_signals[0].accepted_items.load(), 1);
  auto after = http.Post("/v1/traces", tools::MakeTracesRequest(1, {}), kProtobuf);
  EXPECT_FALSE(after) << "nothing listens after Shutdown";
}

// What a raw HTTP/1.1 client sends, byte for byte, and everything the
// server answers until it closes the connection (bounded by 10 s).
std::string RawExchange(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// The server under OTLP/HTTP (http_server.h) takes chunked bodies, answers
// "Expect: 100-continue", keeps an HTTP/1.1 connection for several requests
// and refuses a malformed request line with 400.
TEST_F(HttpFixture, ChunkedBodiesExpectContinueKeepAliveAndMalformedHeads) {
  StartDaemon();
  const std::string req = tools::MakeTracesRequest(3, {});
  const std::string head =
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n";
  // Chunked, in two chunks, then a Content-Length request with Expect on the
  // same connection (closed after it).
  const size_t half = req.size() / 2;
  char size1[32], size2[32];
  std::snprintf(size1, sizeof size1, "%zx", half);
  std::snprintf(size2, sizeof size2, "%zx", req.size() - half);
  const std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n" + size1 + "\r\n" +
                              req.substr(0, half) + "\r\n" + size2 + ";ext=1\r\n" +
                              req.substr(half) + "\r\n0\r\n\r\n";
  const std::string expect =
      head +
      "Expect: 100-continue\r\nConnection: close\r\nContent-Length: " + std::to_string(req.size()) +
      "\r\n\r\n" + req;
  const std::string answers = RawExchange(daemon_->http_port(), chunked + expect);
  size_t at = answers.find("HTTP/1.1 200 OK\r\n");
  ASSERT_NE(at, std::string::npos) << answers;
  at = answers.find("HTTP/1.1 100 Continue\r\n\r\n", at);
  ASSERT_NE(at, std::string::npos) << answers;
  at = answers.find("HTTP/1.1 200 OK\r\n", at);
  ASSERT_NE(at, std::string::npos) << answers;
  EXPECT_NE(answers.find("Connection: close\r\n", at), std::string::npos) << answers;

  const std::string bad = RawExchange(daemon_->http_port(), "GARBAGE\r\n\r\n");
  EXPECT_EQ(bad.rfind("HTTP/1.1 400 ", 0), 0u) << bad;
  const std::string no_colon =
      RawExchange(daemon_->http_port(), "POST /v1/traces HTTP/1.1\r\nno colon here\r\n\r\n");
  EXPECT_EQ(no_colon.rfind("HTTP/1.1 400 ", 0), 0u) << no_colon;
  const std::string other_path =
      RawExchange(daemon_->http_port(), "GET /nothing HTTP/1.0\r\n\r\n");  // HTTP/1.0: closed after
  EXPECT_EQ(other_path.rfind("HTTP/1.1 404 ", 0), 0u) << other_path;
  // A chunk size near 2^64 is past the limit, not a sum that wraps.
  const std::string huge_chunk =
      RawExchange(daemon_->http_port(), head + "Transfer-Encoding: chunked\r\n\r\n" +
                                            "3\r\nabc\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(huge_chunk.rfind("HTTP/1.1 413 ", 0), 0u) << huge_chunk;
  Stop();
  EXPECT_EQ(FileItems("traces"), 6);
}

}  // namespace
}  // namespace tracewire::receiver
