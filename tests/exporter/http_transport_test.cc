// The OTLP/HTTP transport against real HTTP servers on 127.0.0.1 port 0: a
// scripted cpp-httplib server (answers, headers, what arrived on the wire),
// the engine over it with an injected clock (retry delays checked without
// sleeping), the exporter into an in-process tracewired, and gateways that
// take one protocol in and send the other out.

#include "exporter/http_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "exporter/export_pipeline.h"
#include "exporter/otlp_json.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/status.pb.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "receiver/daemon.h"
#include "testing/file_sink_daemon.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"
#include "tracewire/otlp_exporter.h"

namespace tracewire::exporter {
namespace {

namespace ct = ::opentelemetry::proto::collector::trace::v1;

struct Answer {
  int status = 200;
  std::string retry_after;  // "" : no Retry-After header
  std::string body;
  std::string content_type = "application/x-protobuf";
  absl::Duration delay = absl::ZeroDuration();  // before answering
};

struct Seen {
  std::string path;
  std::string content_type;
  std::string content_encoding;
  std::string authorization;
  std::string api_key;
  std::string tenant;
  std::string user_agent;
  std::string body;  // after cpp-httplib inflated it
  int remote_port = 0;
};

// An OTLP/HTTP server whose answers are scripted (then 200 with an empty
// body); it records every request. Thread-safe.
class ScriptedHttpServer {
 public:
  explicit ScriptedHttpServer(time_t keep_alive_timeout_s = 5) {
    server_.set_keep_alive_timeout(keep_alive_timeout_s);
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Answer a;
      {
        absl::MutexLock lock(&mu_);
        seen_.push_back({req.path, req.get_header_value("Content-Type"),
                         req.get_header_value("Content-Encoding"),
                         req.get_header_value("Authorization"), req.get_header_value("x-api-key"),
                         req.get_header_value("x-tenant"), req.get_header_value("User-Agent"),
                         req.body, req.remote_port});
        if (!script_.empty()) {
          a = script_.front();
          script_.pop_front();
        }
      }
      absl::SleepFor(a.delay);
      res.status = a.status;
      if (!a.retry_after.empty()) res.set_header("Retry-After", a.retry_after);
      res.set_content(a.body, a.content_type.c_str());
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(1));
  }
  ~ScriptedHttpServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Script(std::vector<Answer> answers) {
    absl::MutexLock lock(&mu_);
    script_.assign(answers.begin(), answers.end());
  }
  std::vector<Seen> seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<Answer> script_ ABSL_GUARDED_BY(mu_);
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
};

std::string StatusBody(const std::string& message) {
  google::rpc::Status s;
  s.set_code(3);
  s.set_message(message);
  return s.SerializeAsString();
}

class HttpTransportTest : public ::testing::Test {
 protected:
  OtlpExporterOptions Options() {
    OtlpExporterOptions o;
    o.protocol = "http/protobuf";
    o.endpoint = server_.url();
    o.max_in_flight = 1;
    o.retry.jitter = 0;  // exact delays
    o.breaker.enabled = false;
    return o;
  }
  std::unique_ptr<HttpTransport> Transport(const OtlpExporterOptions& o) {
    auto t = HttpTransport::Create(o);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(*t) : nullptr;
  }
  void MakePipeline(const OtlpExporterOptions& o) {
    pipeline_ = std::make_unique<ExportPipeline>(o, Transport(o), &clock_);
    ASSERT_TRUE(pipeline_->Start().ok());
  }
  PipelineRequest Spans(int n, uint64_t seed) {
    PipelineRequest r;
    r.signal = wire::Signal::kTraces;
    r.bytes = tools::MakeStandardSpansRequest(n, seed);
    r.items = r.units = n;
    return r;
  }
  void Flush() { ASSERT_TRUE(pipeline_->ForceFlush(absl::Now() + absl::Seconds(20)).ok()); }
  static absl::Time Deadline() { return absl::Now() + absl::Seconds(10); }

  ScriptedHttpServer server_;
  common::FakeClock clock_;
  std::unique_ptr<ExportPipeline> pipeline_;
};

TEST_F(HttpTransportTest, PostsProtobufToEachSignalsPathWithTheHeaders) {
  OtlpExporterOptions o = Options();
  o.bearer_token = "tok";
  o.api_key = "key";
  o.headers["x-tenant"] = "a";
  auto t = Transport(o);
  const std::string request = tools::MakeStandardSpansRequest(3, 1);
  SendResult r = t->Send(wire::Signal::kTraces, request, Deadline());
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(t->Send(wire::Signal::kMetrics, "", Deadline()).status.ok());
  ASSERT_TRUE(t->Send(wire::Signal::kLogs, "", Deadline()).status.ok());
  const std::vector<Seen> seen = server_.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].path, "/v1/traces");
  EXPECT_EQ(seen[1].path, "/v1/metrics");
  EXPECT_EQ(seen[2].path, "/v1/logs");
  EXPECT_EQ(seen[0].content_type, "application/x-protobuf");
  EXPECT_EQ(seen[0].content_encoding, "");
  EXPECT_EQ(seen[0].body, request);
  EXPECT_EQ(seen[0].authorization, "Bearer tok");
  EXPECT_EQ(seen[0].api_key, "key");
  EXPECT_EQ(seen[0].tenant, "a");
  EXPECT_NE(seen[0].user_agent.find("tracewire"), std::string::npos);
}

TEST_F(HttpTransportTest, KeepsTheConnectionAliveAcrossCalls) {
  auto t = Transport(Options());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(t->Send(wire::Signal::kTraces, "", Deadline()).status.ok());
  }
  const std::vector<Seen> seen = server_.seen();
  ASSERT_EQ(seen.size(), 5u);
  for (const Seen& s : seen) EXPECT_EQ(s.remote_port, seen[0].remote_port) << "a new connection";
  EXPECT_EQ(t->clients_created(), 1);
}

TEST(HttpTransport, AConnectionTheServerClosedWhileIdleIsNotAFailedCall) {
  ScriptedHttpServer server(/*keep_alive_timeout_s=*/1);
  OtlpExporterOptions o;
  o.protocol = "http/protobuf";
  o.endpoint = server.url();
  auto t = HttpTransport::Create(o);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE((*t)->Send(wire::Signal::kTraces, "", absl::Now() + absl::Seconds(5)).status.ok());
  absl::SleepFor(absl::Milliseconds(2500));  // the server closes the idle connection
  SendResult r = (*t)->Send(wire::Signal::kTraces, "", absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(server.seen().size(), 2u);
}

TEST_F(HttpTransportTest, ConcurrentCallsUseAtMostOneConnectionEach) {
  OtlpExporterOptions o = Options();
  o.max_in_flight = 4;
  auto t = Transport(o);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 25; ++j) {
        if (t->Send(wire::Signal::kTraces, "", Deadline()).status.ok()) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(server_.seen().size(), 100u);
  EXPECT_LE(t->clients_created(), 4);
}

TEST_F(HttpTransportTest, CancelAllEndsACallInFlight) {
  server_.Script({{200, "", "", "application/x-protobuf", absl::Seconds(3)}});
  auto t = Transport(Options());
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(300));
    t->CancelAll();
  });
  const absl::Time start = absl::Now();
  SendResult r = t->Send(wire::Signal::kTraces, "", Deadline());
  canceller.join();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kCancelled) << r.status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(t->Send(wire::Signal::kTraces, "", Deadline()).status.code(),
            absl::StatusCode::kCancelled)
      << "later sends fail";
}

TEST_F(HttpTransportTest, GzipOnTheWire) {
  OtlpExporterOptions o = Options();
  o.compression = "gzip";
  auto t = Transport(o);
  const std::string request = tools::MakeStandardSpansRequest(50, 2);
  SendResult r = t->Send(wire::Signal::kTraces, request, Deadline());
  ASSERT_TRUE(r.status.ok()) << r.status;
  const std::vector<Seen> seen = server_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].content_encoding, "gzip");
  EXPECT_EQ(seen[0].body, request) << "inflated by the server, the same bytes";
  EXPECT_GT(r.compressed_bytes, 0);
  EXPECT_LT(r.compressed_bytes, static_cast<int64_t>(request.size()));
}

TEST_F(HttpTransportTest, MapsAnswersToTheRetryPolicysCodes) {
  auto t = Transport(Options());
  server_.Script({{503, "7"},
                  {429, ""},
                  {502, "1"},
                  {504, ""},
                  {413, "3"},
                  {400, "", StatusBody("no spans here")},
                  {401},
                  {403},
                  {404}});
  auto send = [&] { return t->Send(wire::Signal::kTraces, "", Deadline()); };
  SendResult r = send();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.retry_delay, absl::Seconds(7));
  r = send();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << "429 is retried";
  EXPECT_FALSE(r.retry_delay.has_value());
  r = send();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.retry_delay, absl::Seconds(1));
  EXPECT_EQ(send().status.code(), absl::StatusCode::kUnavailable);
  r = send();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(r.retry_delay.has_value()) << "413 splits; it is not throttling";
  r = send();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("no spans here"), absl::string_view::npos) << r.status;
  EXPECT_EQ(send().status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(send().status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(send().status.code(), absl::StatusCode::kNotFound);
}

TEST_F(HttpTransportTest, NoServerIsUnavailable) {
  OtlpExporterOptions o = Options();
  {
    ScriptedHttpServer gone;
    o.endpoint = gone.url();
  }
  auto t = Transport(o);
  SendResult r = t->Send(wire::Signal::kTraces, "", Deadline());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
}

TEST_F(HttpTransportTest, ReadsPartialSuccess) {
  ct::ExportTraceServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_spans(2);
  resp.mutable_partial_success()->set_error_message("2 spans without a name");
  server_.Script({{200, "", resp.SerializeAsString()}});
  auto t = Transport(Options());
  SendResult r = t->Send(wire::Signal::kTraces, "", Deadline());
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rejected, 2);
  EXPECT_EQ(r.rejected_message, "2 spans without a name");
}

TEST(RetryAfter, SecondsAndHttpDates) {
  const absl::Time now = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
}

// ---- http/json -------------------------------------------------------------------

// Ids hex in OTLP/JSON, base64 in protobuf's JSON: rewritten so that
// protobuf's parser can read ours back.
void HexIdsToBase64(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) HexIdsToBase64(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto& [key, value] : j.items()) {
    if ((key == "traceId" || key == "spanId" || key == "parentSpanId") && value.is_string()) {
      std::string hex = value.get<std::string>();
      ASSERT_EQ(hex.size() % 2, 0u) << key << " " << hex;
      for (char c : hex) ASSERT_TRUE(isxdigit(c) && !isupper(c)) << key << " " << hex;
      value = absl::Base64Escape(absl::HexStringToBytes(hex));
    } else {
      HexIdsToBase64(value);
    }
  }
}

template <typename Message>
void ExpectJsonRoundTrip(wire::Signal signal, const std::string& request) {
  std::string json;
  ASSERT_TRUE(OtlpRequestToJson(signal, request, &json).ok());
  nlohmann::json j = nlohmann::json::parse(json);  // throws (fails the test) if not JSON
  HexIdsToBase64(j);
  Message back, original;
  ASSERT_TRUE(original.ParseFromString(request));
  auto st = google::protobuf::util::JsonStringToMessage(j.dump(), &back);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << json.substr(0, 2000);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(original, back))
      << json.substr(0, 2000);
}

TEST(OtlpJson, EverySignalRoundTripsThroughProtobufsJsonParser) {
  tools::SyntheticOptions so;
  so.invalid_items = 0;
  ExpectJsonRoundTrip<ct::ExportTraceServiceRequest>(wire::Signal::kTraces,
                                                     tools::MakeTracesRequest(5, so));
  ExpectJsonRoundTrip<ct::ExportTraceServiceRequest>(wire::Signal::kTraces,
                                                     tools::MakeStandardSpansRequest(5, 9));
  ExpectJsonRoundTrip<opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest>(
      wire::Signal::kMetrics, tools::MakeMetricsRequest(10, so));
  ExpectJsonRoundTrip<opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest>(
      wire::Signal::kLogs, tools::MakeLogsRequest(5, so));
}

TEST(OtlpJson, IdsAreHexAnd64BitIntegersAreStrings) {
  ct::ExportTraceServiceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  span->set_span_id(std::string("\xaa\xbb\xcc\xdd\xee\xff\x00\x11", 8));
  span->set_name("a \"quoted\"\nname");
  span->set_start_time_unix_nano(1700000000123456789ull);
  span->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
  std::string json;
  ASSERT_TRUE(OtlpRequestToJson(wire::Signal::kTraces, req.SerializeAsString(), &json).ok());
  EXPECT_EQ(
      json,
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",)"
      R"("spanId":"aabbccddeeff0011","name":"a \"quoted\"\nname","kind":2,)"
      R"("startTimeUnixNano":"1700000000123456789"}]}]}]})");
  EXPECT_FALSE(OtlpRequestToJson(wire::Signal::kTraces,
                                 std::string("\x0a\x05"
                                             "ab"),
                                 &json)
                   .ok());
}

TEST_F(HttpTransportTest, HttpJsonPostsJsonAndReadsAJsonPartialSuccess) {
  OtlpExporterOptions o = Options();
  o.protocol = "http/json";
  auto t = Transport(o);
  server_.Script(
      {{200, "", R"({"partialSuccess": {"rejectedSpans": "2", "errorMessage": "two \"bad\""}})",
        "application/json"}});
  SendResult r = t->Send(wire::Signal::kTraces, tools::MakeStandardSpansRequest(3, 4), Deadline());
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.rejected, 2);
  EXPECT_EQ(r.rejected_message, "two \"bad\"");
  const std::vector<Seen> seen = server_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].content_type, "application/json");
  nlohmann::json j = nlohmann::json::parse(seen[0].body);
  EXPECT_EQ(j["resourceSpans"][0]["scopeSpans"][0]["spans"].size(), 3u);
}

// The engine over HTTP: the specification's retry behaviour comes from the
// codes the transport reports.
TEST_F(HttpTransportTest, EngineWaitsTheRetryAfterDelaysOf503And429) {
  MakePipeline(Options());
  server_.Script({{503, "3"}, {429, "5"}, {200}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(4, 1)).ok());
  Flush();
  EXPECT_EQ(server_.seen().size(), 3u);
  EXPECT_EQ(clock_.sleeps(), (std::vector<absl::Duration>{absl::Seconds(3), absl::Seconds(5)}));
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.exported_items, 4);
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.dropped_total(), 0);
}

TEST_F(HttpTransportTest, Engine429WithoutRetryAfterBacksOff) {
  OtlpExporterOptions o = Options();
  o.retry.initial_backoff = absl::Milliseconds(100);
  MakePipeline(o);
  server_.Script({{429}, {503}, {200}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(2, 1)).ok());
  Flush();
  EXPECT_EQ(clock_.sleeps(),
            (std::vector<absl::Duration>{absl::Milliseconds(100), absl::Milliseconds(200)}));
  EXPECT_EQ(pipeline_->Stats().exported_items, 2);
}

TEST_F(HttpTransportTest, Engine400IsDroppedNotRetried) {
  MakePipeline(Options());
  server_.Script({{400, "", StatusBody("bad")}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(3, 1)).ok());
  Flush();
  EXPECT_EQ(server_.seen().size(), 1u);
  EXPECT_TRUE(clock_.sleeps().empty());
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.exported_items, 0);
  EXPECT_EQ(s.dropped_total(), 3);
  EXPECT_EQ(s.retries, 0);
}

TEST_F(HttpTransportTest, Engine413SplitsTheRequest) {
  MakePipeline(Options());
  server_.Script({{413}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(4, 1)).ok());
  Flush();
  const std::vector<Seen> seen = server_.seen();
  ASSERT_EQ(seen.size(), 3u) << "the whole, then each half";
  EXPECT_LT(seen[1].body.size(), seen[0].body.size());
  EXPECT_EQ(pipeline_->Stats().exported_items, 4);
}

TEST_F(HttpTransportTest, EngineCountsPartialSuccess) {
  ct::ExportTraceServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_spans(1);
  resp.mutable_partial_success()->set_error_message("one bad span");
  MakePipeline(Options());
  server_.Script({{200, "", resp.SerializeAsString()}});
  ASSERT_TRUE(pipeline_->Enqueue(Spans(5, 1)).ok());
  Flush();
  ExporterStats s = pipeline_->Stats();
  EXPECT_EQ(s.exported_items, 4);
  EXPECT_EQ(s.dropped_total(), 1);
  EXPECT_EQ(s.last_rejected_message, "one bad span");
}

// ---- Options and the environment ---------------------------------------------

absl::StatusOr<OtlpExporterOptions> FromEnv(ExportSignal s,
                                            std::map<std::string, std::string> env) {
  return OtlpExporterOptions::FromEnv(s, [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string UrlFromEnv(ExportSignal s, std::map<std::string, std::string> env) {
  auto o = FromEnv(s, std::move(env));
  EXPECT_TRUE(o.ok()) << o.status();
  return o.ok() ? HttpSignalUrl(*o, s) : "";
}

TEST(HttpExporterEnv, ProtocolSelectsTheTransportAndItsDefaultEndpoint) {
  auto grpc = FromEnv(ExportSignal::kTraces, {});
  ASSERT_TRUE(grpc.ok());
  EXPECT_EQ(grpc->protocol, "grpc");
  EXPECT_EQ(grpc->endpoint, "http://localhost:4317");
  const std::map<std::string, std::string> http = {
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}};
  EXPECT_EQ(UrlFromEnv(ExportSignal::kTraces, http), "http://localhost:4318/v1/traces");
  EXPECT_EQ(UrlFromEnv(ExportSignal::kMetrics, http), "http://localhost:4318/v1/metrics");
  EXPECT_EQ(UrlFromEnv(ExportSignal::kLogs, http), "http://localhost:4318/v1/logs");
  // The per-signal protocol wins.
  auto logs = FromEnv(ExportSignal::kLogs, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                                            {"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"}});
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->protocol, "grpc");
  EXPECT_EQ(logs->endpoint, "http://localhost:4317");
  auto traces =
      FromEnv(ExportSignal::kTraces, {{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"}});
  ASSERT_TRUE(traces.ok());
  EXPECT_EQ(traces->protocol, "http/json");
}

TEST(HttpExporterEnv, BaseEndpointGetsTheSignalPathPerSignalEndpointIsTakenAsItIs) {
  auto env = [](std::map<std::string, std::string> e) {
    e["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
    return e;
  };
  EXPECT_EQ(UrlFromEnv(ExportSignal::kTraces,
                       env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}})),
            "http://collector:4318/v1/traces");
  EXPECT_EQ(UrlFromEnv(ExportSignal::kMetrics,
                       env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/"}})),
            "https://collector:4318/v1/metrics");
  EXPECT_EQ(UrlFromEnv(ExportSignal::kLogs,
                       env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector/otlp"}})),
            "http://collector/otlp/v1/logs");
  const std::map<std::string, std::string> both =
      env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
           {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:9999/custom/spans"}});
  EXPECT_EQ(UrlFromEnv(ExportSignal::kTraces, both), "http://other:9999/custom/spans");
  EXPECT_EQ(UrlFromEnv(ExportSignal::kLogs, both), "http://collector:4318/v1/logs");
  // As the specification's example: no path added to a per-signal endpoint.
  EXPECT_EQ(UrlFromEnv(ExportSignal::kTraces,
                       env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318"}})),
            "http://collector:4318");
}

TEST(HttpExporterEnv, BadValuesNameTheVariable) {
  auto bad = FromEnv(ExportSignal::kTraces, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("OTEL_EXPORTER_OTLP_PROTOCOL"), absl::string_view::npos);
  auto bad_signal =
      FromEnv(ExportSignal::kMetrics, {{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "udp"}});
  ASSERT_FALSE(bad_signal.ok());
  EXPECT_NE(bad_signal.status().message().find("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"),
            absl::string_view::npos);
  auto no_scheme = FromEnv(ExportSignal::kTraces, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                                                   {"OTEL_EXPORTER_OTLP_ENDPOINT", "host:4318"}});
  ASSERT_FALSE(no_scheme.ok());
  EXPECT_NE(no_scheme.status().message().find("OTEL_EXPORTER_OTLP_ENDPOINT"),
            absl::string_view::npos);
  OtlpExporterOptions o;
  o.protocol = "http";
  EXPECT_NE(o.Validate().message().find("protocol"), absl::string_view::npos);
}

// ---- Against tracewired ---------------------------------------------------------

std::unique_ptr<receiver::Daemon> StartFileDaemon(const std::string& dir) {
  receiver::DaemonConfig c = testing::FileSinkConfig(dir);
  c.http_listen = "127.0.0.1:0";
  auto d = std::make_unique<receiver::Daemon>(c);
  absl::Status st = d->Start();
  EXPECT_TRUE(st.ok()) << st;
  return d;
}

int64_t FileItems(const std::string& dir, const std::string& signal) {
  return testing::CountItems(testing::ReadJsonLines(dir + "/" + signal + ".jsonl"), signal);
}

TEST(HttpExporter, DeliversEverySignalToTracewired) {
  const testing::TempDir tmp("tw-http-exp");
  ASSERT_TRUE(tmp.ok());
  auto daemon = StartFileDaemon(tmp.path());
  ASSERT_GT(daemon->http_port(), 0);
  tools::SyntheticOptions so;
  const std::pair<ExportSignal, std::string> requests[] = {
      {ExportSignal::kTraces, tools::MakeTracesRequest(7, so)},
      {ExportSignal::kMetrics, tools::MakeMetricsRequest(3, so)},
      {ExportSignal::kLogs, tools::MakeLogsRequest(4, so)}};
  for (const auto& [signal, bytes] : requests) {
    OtlpExporterOptions o;
    o.protocol = "http/protobuf";
    o.endpoint = "http://127.0.0.1:" + std::to_string(daemon->http_port());
    o.compression = signal == ExportSignal::kMetrics ? "gzip"
                    : signal == ExportSignal::kLogs  ? "deflate"
                                                     : "none";
    auto e = OtlpExporter::Create(signal, o);
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_TRUE((*e)->CheckHealth(absl::Now() + absl::Seconds(10)).ok());
    ASSERT_TRUE((*e)->ExportEncoded(bytes).ok());
    ASSERT_TRUE((*e)->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
    ExporterStats s = (*e)->Stats();
    EXPECT_GT(s.exported_items, 0);
    EXPECT_EQ(s.dropped_total(), 0);
    ASSERT_TRUE((*e)->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  }
  ASSERT_TRUE(daemon->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(FileItems(tmp.path(), "traces"), 7);
  EXPECT_EQ(FileItems(tmp.path(), "metrics"), 3 * tools::DataPointsPerMetric());
  EXPECT_EQ(FileItems(tmp.path(), "logs"), 4);
}

// zstd, which gRPC 1.51 cannot negotiate: over OTLP/HTTP only; tracewired
// decompresses it, and fewer bytes crossed the wire than it stored.
TEST(HttpExporter, ZstdOverHttpReachesTracewired) {
  const testing::TempDir tmp("tw-http-zstd");
  ASSERT_TRUE(tmp.ok());
  auto daemon = StartFileDaemon(tmp.path());
  OtlpExporterOptions o;
  o.protocol = "http/protobuf";
  o.endpoint = "http://127.0.0.1:" + std::to_string(daemon->http_port());
  o.compression = "zstd";
  auto e = OtlpExporter::Create(ExportSignal::kTraces, o);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE((*e)->ExportEncoded(tools::MakeStandardSpansRequest(512, 9)).ok());
  ASSERT_TRUE((*e)->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  const ExporterStats s = (*e)->Stats();
  EXPECT_EQ(s.exported_items, 512);
  EXPECT_GT(s.bytes_sent_compressed, 0);
  EXPECT_LT(s.bytes_sent_compressed * 2, s.bytes_sent);
  ASSERT_TRUE((*e)->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_TRUE(daemon->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(FileItems(tmp.path(), "traces"), 512);
  const auto& c = daemon->metrics().http_signals[0];
  EXPECT_LT(c.wire_bytes.load() * 2, c.decompressed_bytes.load());
  // Not with gRPC: refused at creation, naming the option.
  OtlpExporterOptions g;
  g.endpoint = "http://127.0.0.1:1";
  g.compression = "zstd";
  auto bad = OtlpExporter::Create(ExportSignal::kTraces, g);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("compression"), std::string::npos);
}

TEST(HttpExporter, DeliversOverMutualTls) {
  const testing::TempDir tmp("tw-http-tls");
  ASSERT_TRUE(tmp.ok());
  const testing::Certs certs = testing::MakeCerts(tmp.path());
  ASSERT_TRUE(certs.ok);
  receiver::DaemonConfig c = testing::FileSinkConfig(tmp.path());
  c.http_listen = "127.0.0.1:0";
  c.tls_cert_file = certs.server_cert;
  c.tls_key_file = certs.server_key;
  c.tls_client_ca_file = certs.ca;
  receiver::Daemon daemon(c);
  ASSERT_TRUE(daemon.Start().ok());
  OtlpExporterOptions o;
  o.protocol = "http/protobuf";
  o.endpoint = "https://localhost:" + std::to_string(daemon.http_port());
  o.ca_file = certs.ca;
  o.client_cert_file = certs.client_cert;
  o.client_key_file = certs.client_key;
  auto e = OtlpExporter::Create(ExportSignal::kTraces, o);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE((*e)->ExportEncoded(tools::MakeStandardSpansRequest(3, 1)).ok());
  ASSERT_TRUE((*e)->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ((*e)->Stats().exported_items, 3) << (*e)->Stats().last_error;
  ASSERT_TRUE((*e)->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  // Without the client certificate, or without the CA, no delivery.
  for (const bool with_ca : {true, false}) {
    OtlpExporterOptions bad = o;
    bad.client_cert_file.clear();
    bad.client_key_file.clear();
    if (!with_ca) {
      bad = o;
      bad.ca_file.clear();
    }
    auto t = HttpTransport::Create(bad);
    ASSERT_TRUE(t.ok()) << t.status();
    SendResult r = (*t)->Send(wire::Signal::kTraces, "", absl::Now() + absl::Seconds(10));
    EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  }
  ASSERT_TRUE(daemon.Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(FileItems(tmp.path(), "traces"), 3);
}

// A gateway takes one protocol in and forwards with the other.
void GatewayDelivers(const std::string& forward_protocol) {
  const testing::TempDir tmp("tw-http-gw");
  ASSERT_TRUE(tmp.ok());
  auto last = StartFileDaemon(tmp.path());
  receiver::DaemonConfig g;
  g.listen = "127.0.0.1:0";
  g.http_listen = "127.0.0.1:0";
  g.metrics_listen = "";
  g.sink = "forward";
  // Its own queue directory: the default (./tracewire-data/queue/forward) is
  // locked by whichever gateway test runs beside this one.
  g.queue_dir = tmp.path() + "/gateway-queue";
  g.forward_protocol = forward_protocol;
  const bool http_out = forward_protocol != "grpc";
  g.forward_endpoint = http_out ? "http://" + last->http_address() : "http://" + last->address();
  receiver::Daemon gateway(g);
  absl::Status st = gateway.Start();
  ASSERT_TRUE(st.ok()) << st;
  // In with the other protocol.
  OtlpExporterOptions o;
  o.protocol = http_out ? "grpc" : "http/protobuf";
  o.endpoint = http_out ? "http://" + gateway.address() : "http://" + gateway.http_address();
  auto e = OtlpExporter::Create(ExportSignal::kTraces, o);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE((*e)->ExportEncoded(tools::MakeStandardSpansRequest(6, 3)).ok());
  ASSERT_TRUE((*e)->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ((*e)->Stats().exported_items, 6);
  ASSERT_TRUE((*e)->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_TRUE(gateway.Shutdown(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_TRUE(last->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(FileItems(tmp.path(), "traces"), 6);
}

TEST(HttpGateway, GrpcInHttpOut) { GatewayDelivers("http/protobuf"); }
TEST(HttpGateway, HttpInGrpcOut) { GatewayDelivers("grpc"); }

}  // namespace
}  // namespace tracewire::exporter
