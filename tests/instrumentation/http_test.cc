// tracewire/http.h: the header carrier, and an httplib handler traced as a
// SERVER span that calls the gRPC echo service: one trace across HTTP and
// gRPC.

#include "tracewire/http.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <thread>

#include "instrumentation/echo_services.h"
#include "tracewire/grpc.h"

namespace tracewire::testing {
namespace {

TEST(HttpHeadersCarrier, GetsCaseInsensitivelyAndReplacesOnSet) {
  std::map<std::string, std::string> headers{{"Traceparent", "a"}, {"other", "b"}};
  HttpHeadersCarrier carrier(headers);
  EXPECT_EQ(carrier.Get("traceparent"), "a");
  carrier.Set("traceparent", "c");
  EXPECT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers.at("traceparent"), "c");
  httplib::Headers multi{{"Baggage", "k=v"}};
  HttpHeadersCarrier<httplib::Headers> m(multi);
  m.Set("baggage", "k=w");
  EXPECT_EQ(multi.count("baggage"), 1u);
  EXPECT_EQ(m.Get("BAGGAGE"), "k=w");
  const httplib::Headers frozen{{"a", "1"}};
  HttpHeadersCarrier<const httplib::Headers> ro(frozen);
  ro.Set("a", "2");  // does nothing
  EXPECT_EQ(ro.Get("a"), "1");
}

TEST(TraceHttpHandler, AnHttpHandlerCallingGrpcIsOneTrace) {
  SpanCapture capture;
  SyncEcho service;
  GrpcInstrumentationOptions g;
  g.tracer_provider = capture.provider();
  TestServer grpc_server(&service, g);
  auto stub = grpc_server.Stub(g);

  httplib::Server http;
  http.Get("/echo", TraceHttpHandler(
                        "/echo",
                        [&](const httplib::Request&, httplib::Response& res) {
                          grpc::ClientContext ctx;
                          tracewire::test::EchoResponse resp;
                          grpc::Status s = stub->Unary(&ctx, tracewire::test::EchoRequest(), &resp);
                          res.status = s.ok() ? 200 : 502;
                          res.set_content(resp.trace_id() + " " + resp.baggage(), "text/plain");
                        },
                        {.tracer_provider = capture.provider()}));
  int port = http.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { http.listen_after_bind(); });

  Tracer* tracer = capture.provider()->GetTracer("test");
  int status = 0;
  std::string body;
  bool answered = false;
  TraceId trace;
  SpanId root_id;
  {
    Context::Scope b = Context::Current().WithBaggage(Baggage().Set("user", "7")).Attach();
    ScopedSpan root(*tracer, "root", SpanKind::kClient);
    trace = root->GetContext().trace_id;
    root_id = root->GetContext().span_id;
    httplib::Headers headers;
    HttpHeadersCarrier carrier(headers);
    std::vector<std::unique_ptr<TextMapPropagator>> v;
    v.push_back(MakeTraceContextPropagator());
    v.push_back(MakeBaggagePropagator());
    MakeCompositePropagator(std::move(v))->Inject(carrier, Context::Current());
    httplib::Client client("127.0.0.1", port);
    httplib::Result result = client.Get("/echo?x=1", headers);
    answered = static_cast<bool>(result);
    if (answered) {
      status = result->status;
      body = result->body;
    }
  }
  http.stop();
  serving.join();
  ASSERT_TRUE(answered);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, Hex(trace) + " user=7");

  auto spans = capture.Await(4);
  ASSERT_EQ(spans.size(), 4u);
  const SpanData* http_span = FindSpan(spans, "GET /echo", SpanKind::kServer);
  const SpanData* client = FindSpan(spans, "tracewire.test.Echo/Unary", SpanKind::kClient);
  const SpanData* server = FindSpan(spans, "tracewire.test.Echo/Unary", SpanKind::kServer);
  ASSERT_NE(http_span, nullptr);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  for (const SpanData& s : spans) EXPECT_EQ(s.trace_id, trace) << s.name;
  EXPECT_EQ(http_span->parent_span_id, root_id);
  EXPECT_EQ(client->parent_span_id, http_span->span_id);
  EXPECT_EQ(server->parent_span_id, client->span_id);
  EXPECT_EQ(StringAttr(*http_span, "http.request.method"), "GET");
  EXPECT_EQ(StringAttr(*http_span, "url.path"), "/echo");
  EXPECT_EQ(StringAttr(*http_span, "http.route"), "/echo");
  EXPECT_EQ(IntAttr(*http_span, "http.response.status_code"), 200);
}

}  // namespace
}  // namespace tracewire::testing
