// The gRPC interceptors (tracewire/grpc.h) against real servers and channels
// on 127.0.0.1 port 0: spans for each RPC kind on the synchronous,
// asynchronous and callback APIs, statuses, cancellation and deadlines,
// propagation across a three-hop chain, the semconv modes, the filter and the
// attribute hook, message events.

#include "tracewire/grpc.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "instrumentation/echo_services.h"
#include "instrumentation/grpc/semconv.h"
#include "tracewire/global.h"

namespace tracewire::testing {
namespace {

using tracewire::test::EchoRequest;
using tracewire::test::EchoResponse;

constexpr char kUnary[] = "tracewire.test.Echo/Unary";
constexpr char kServerStream[] = "tracewire.test.Echo/ServerStream";
constexpr char kClientStream[] = "tracewire.test.Echo/ClientStream";
constexpr char kBidi[] = "tracewire.test.Echo/BidiStream";

GrpcInstrumentationOptions Opts(SpanCapture& c) {
  GrpcInstrumentationOptions o;
  o.tracer_provider = c.provider();
  o.semconv_stability_opt_in = "";
  return o;
}

// The client and server spans of one call: the server's parent is the
// client's, one trace, and the handler ran in the server span's context.
void ExpectPair(const std::vector<SpanData>& spans, std::string_view name,
                const EchoResponse* resp) {
  const SpanData* client = FindSpan(spans, name, SpanKind::kClient);
  const SpanData* server = FindSpan(spans, name, SpanKind::kServer);
  ASSERT_NE(client, nullptr) << name;
  ASSERT_NE(server, nullptr) << name;
  EXPECT_EQ(server->trace_id, client->trace_id);
  ASSERT_TRUE(server->parent_span_id.has_value());
  EXPECT_EQ(*server->parent_span_id, client->span_id);
  if (resp != nullptr) {
    EXPECT_EQ(resp->trace_id(), Hex(server->trace_id));
    EXPECT_EQ(resp->span_id(), Hex(server->span_id));
  }
}

TEST(GrpcInstrumentation, SyncUnaryHasClientAndServerSpansWithTheAttributes) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  grpc::ClientContext ctx;
  EchoRequest req;
  req.set_message("hi");
  EchoResponse resp;
  ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);
  ExpectPair(spans, kUnary, &resp);
  for (const SpanData& s : spans) {
    EXPECT_EQ(StringAttr(s, "rpc.system"), "grpc");
    EXPECT_EQ(StringAttr(s, "rpc.service"), "tracewire.test.Echo");
    EXPECT_EQ(StringAttr(s, "rpc.method"), "Unary");
    EXPECT_EQ(IntAttr(s, "rpc.grpc.status_code"), 0);
    EXPECT_EQ(StringAttr(s, "network.peer.address"), "127.0.0.1");
    EXPECT_GT(IntAttr(s, "network.peer.port"), 0);
    EXPECT_EQ(StringAttr(s, "server.address"), "127.0.0.1");
    EXPECT_EQ(s.status_code, StatusCode::kUnset);
    EXPECT_EQ(FindAttr(s, "rpc.system.name"), nullptr);
  }
  const SpanData* client = FindSpan(spans, kUnary, SpanKind::kClient);
  EXPECT_EQ(IntAttr(*client, "server.port"), std::stoi(server.address().substr(10)));
  EXPECT_EQ(IntAttr(*client, "network.peer.port"), IntAttr(*client, "server.port"));
}

TEST(GrpcInstrumentation, SyncStreamsAreOneSpanEachWithMessageEventsWhenAsked) {
  SpanCapture capture;
  SyncEcho service;
  GrpcInstrumentationOptions o = Opts(capture);
  o.message_events = true;
  TestServer server(&service, o);
  auto stub = server.Stub(o);
  EchoRequest req;
  req.set_message("hello");
  req.set_response_count(3);
  const size_t sent_size = req.ByteSizeLong();
  EchoResponse resp;
  {
    grpc::ClientContext ctx;
    auto reader = stub->ServerStream(&ctx, req);
    int n = 0;
    while (reader->Read(&resp)) ++n;
    EXPECT_EQ(n, 3);
    ASSERT_TRUE(reader->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    EchoResponse r;
    auto writer = stub->ClientStream(&ctx, &r);
    for (int i = 0; i < 4; ++i) writer->Write(req);
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(r.message(), "4");
  }
  {
    grpc::ClientContext ctx;
    auto stream = stub->BidiStream(&ctx);
    req.set_response_count(2);
    for (int i = 0; i < 2; ++i) {
      stream->Write(req);
      for (int j = 0; j < 2; ++j) ASSERT_TRUE(stream->Read(&resp));
    }
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
  }
  auto spans = capture.Await(6);
  ASSERT_EQ(spans.size(), 6u);
  ExpectPair(spans, kServerStream, nullptr);
  ExpectPair(spans, kClientStream, nullptr);
  ExpectPair(spans, kBidi, &resp);
  auto count = [](const SpanData& s, std::string_view type) {
    int n = 0;
    for (const SpanEvent& e : s.events) {
      for (const KeyValue& kv : e.attributes) {
        if (e.name == "message" && kv.key == "message.type" &&
            std::get<std::string>(kv.value.value) == type) {
          ++n;
        }
      }
    }
    return n;
  };
  const SpanData* ss = FindSpan(spans, kServerStream, SpanKind::kServer);
  EXPECT_EQ(count(*ss, "RECEIVED"), 1);
  EXPECT_EQ(count(*ss, "SENT"), 3);
  const SpanData* cs = FindSpan(spans, kClientStream, SpanKind::kClient);
  EXPECT_EQ(count(*cs, "SENT"), 4);
  EXPECT_EQ(count(*cs, "RECEIVED"), 1);
  const SpanData* bidi = FindSpan(spans, kBidi, SpanKind::kServer);
  EXPECT_EQ(count(*bidi, "RECEIVED"), 2);
  EXPECT_EQ(count(*bidi, "SENT"), 4);
  // Ids count per direction from 1; sizes are the serialized message's.
  const SpanEvent& first = cs->events.front();
  EXPECT_EQ(
      std::get<int64_t>(FindAttr(SpanData{.attributes = first.attributes}, "message.id")->value),
      1);
  EXPECT_EQ(
      std::get<int64_t>(
          FindAttr(SpanData{.attributes = first.attributes}, "message.uncompressed_size")->value),
      static_cast<int64_t>(sent_size));
}

TEST(GrpcInstrumentation, MessageEventsAreOffByDefault) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  grpc::ClientContext ctx;
  EchoRequest req;
  req.set_response_count(2);
  auto reader = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  while (reader->Read(&resp)) {
  }
  ASSERT_TRUE(reader->Finish().ok());
  for (const SpanData& s : capture.Await(2)) EXPECT_TRUE(s.events.empty()) << s.name;
}

TEST(GrpcInstrumentation, ErrorStatusesFollowEachSidesConvention) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  for (int code : {grpc::NOT_FOUND, grpc::INTERNAL}) {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_fail_code(code);
    EchoResponse resp;
    EXPECT_EQ(stub->Unary(&ctx, req, &resp).error_code(), code);
  }
  auto spans = capture.Await(4);
  ASSERT_EQ(spans.size(), 4u);
  for (const SpanData& s : spans) {
    int64_t code = IntAttr(s, "rpc.grpc.status_code");
    bool error = s.kind == SpanKind::kClient || code == grpc::INTERNAL;
    EXPECT_EQ(s.status_code, error ? StatusCode::kError : StatusCode::kUnset)
        << (s.kind == SpanKind::kClient ? "client " : "server ") << code;
    if (error) EXPECT_EQ(s.status_message, "failed as asked");
  }
}

TEST(GrpcInstrumentation, DeadlineExceededIsRecordedOnBothSides) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  EchoRequest req;
  req.set_delay_ms(5000);
  EchoResponse resp;
  EXPECT_EQ(stub->Unary(&ctx, req, &resp).error_code(), grpc::DEADLINE_EXCEEDED);
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);
  for (const SpanData& s : spans) {
    EXPECT_EQ(IntAttr(s, "rpc.grpc.status_code"), grpc::DEADLINE_EXCEEDED) << s.name;
    EXPECT_EQ(s.status_code, StatusCode::kError);
  }
}

TEST(GrpcInstrumentation, ClientCancellationIsAnErrorOnlyForTheClient) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  grpc::ClientContext ctx;
  EchoRequest req;
  req.set_delay_ms(5000);
  EchoResponse resp;
  grpc::Status status;
  absl::Notification done;
  stub->async()->Unary(&ctx, &req, &resp, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  ASSERT_TRUE(service.AwaitEntered(1));
  ctx.TryCancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.error_code(), grpc::CANCELLED);
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);
  const SpanData* client = FindSpan(spans, kUnary, SpanKind::kClient);
  const SpanData* srv = FindSpan(spans, kUnary, SpanKind::kServer);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(srv, nullptr);
  EXPECT_EQ(IntAttr(*client, "rpc.grpc.status_code"), grpc::CANCELLED);
  EXPECT_EQ(client->status_code, StatusCode::kError);
  EXPECT_EQ(IntAttr(*srv, "rpc.grpc.status_code"), grpc::CANCELLED);
  EXPECT_EQ(srv->status_code, StatusCode::kUnset);
}

TEST(GrpcInstrumentation, ThreeHopChainIsOneTraceWithBaggageAtTheLastHop) {
  SpanCapture capture;
  SyncEcho c_service;
  TestServer c(&c_service, Opts(capture));
  SyncEcho b_service;
  b_service.downstream = c.Stub(Opts(capture));
  TestServer b(&b_service, Opts(capture));
  SyncEcho a_service;
  a_service.downstream = b.Stub(Opts(capture));
  TestServer a(&a_service, Opts(capture));
  auto stub = a.Stub(Opts(capture));

  Tracer* tracer = capture.provider()->GetTracer("test");
  EchoResponse resp;
  SpanId root_id;
  {
    Context with_baggage =
        Context::Current().WithBaggage(Baggage().Set("tenant", "acme").Set("user", "7"));
    Context::Scope bs = with_baggage.Attach();
    ScopedSpan root(*tracer, "root");
    root_id = root->GetContext().span_id;
    grpc::ClientContext ctx;
    EchoRequest req;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  }
  auto spans = capture.Await(7);
  ASSERT_EQ(spans.size(), 7u);
  EXPECT_EQ(resp.baggage(), "tenant=acme,user=7");
  // root -> client -> server A -> client -> server B -> client -> server C:
  // each span's parent is the one before it.
  std::vector<const SpanData*> chain;
  const SpanData* root = FindSpan(spans, "root", SpanKind::kInternal);
  ASSERT_NE(root, nullptr);
  chain.push_back(root);
  for (int i = 0; i < 6; ++i) {
    const SpanData* next = nullptr;
    for (const SpanData& s : spans) {
      if (s.parent_span_id == chain.back()->span_id) next = &s;
    }
    ASSERT_NE(next, nullptr) << "hop " << i;
    EXPECT_EQ(next->kind, i % 2 == 0 ? SpanKind::kClient : SpanKind::kServer);
    EXPECT_EQ(next->trace_id, root->trace_id);
    chain.push_back(next);
  }
  EXPECT_EQ(resp.span_id(), Hex(chain.back()->span_id));
  EXPECT_EQ(resp.trace_id(), Hex(root->trace_id));
  (void)root_id;
}

TEST(GrpcInstrumentation, SemconvOptInRpcGivesTheNewerAttributes) {
  for (const char* mode : {"rpc", "http,rpc/dup"}) {
    SpanCapture capture;
    SyncEcho service;
    GrpcInstrumentationOptions o = Opts(capture);
    o.semconv_stability_opt_in = mode;
    TestServer server(&service, o);
    auto stub = server.Stub(o);
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_fail_code(grpc::NOT_FOUND);
    EchoResponse resp;
    (void)stub->Unary(&ctx, req, &resp);
    bool dup = std::string_view(mode) != "rpc";
    for (const SpanData& s : capture.Await(2)) {
      EXPECT_EQ(StringAttr(s, "rpc.system.name"), "grpc") << mode;
      EXPECT_EQ(StringAttr(s, "rpc.method"), kUnary) << mode;
      EXPECT_EQ(StringAttr(s, "rpc.response.status_code"), "NOT_FOUND") << mode;
      EXPECT_EQ(StringAttr(s, "rpc.system"), dup ? "grpc" : "") << mode;
      EXPECT_EQ(IntAttr(s, "rpc.grpc.status_code"), dup ? grpc::NOT_FOUND : -1) << mode;
      EXPECT_EQ(StringAttr(s, "rpc.service"), dup ? "tracewire.test.Echo" : "") << mode;
    }
  }
}

TEST(GrpcInstrumentation, FilterFormatterAndMetadataHook) {
  SpanCapture capture;
  SyncEcho service;
  GrpcInstrumentationOptions o = Opts(capture);
  o.filter = [](std::string_view m) { return m != "/tracewire.test.Echo/ServerStream"; };
  o.span_name_formatter = [](std::string_view service, std::string_view method) {
    return std::string(method) + "@" + std::string(service);
  };
  o.metadata_attributes = [](std::string_view method, const TextMapCarrier& md, Attributes& out) {
    if (auto v = md.Get("x-tenant")) out.push_back({"tenant", std::string(*v)});
    out.push_back({"hooked.method", std::string(method)});
  };
  TestServer server(&service, o);
  auto stub = server.Stub(o);
  {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_response_count(1);
    auto reader = stub->ServerStream(&ctx, req);
    EchoResponse resp;
    while (reader->Read(&resp)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-tenant", "acme");
    EchoRequest req;
    EchoResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  }
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);  // the stream was not traced
  for (const SpanData& s : spans) {
    EXPECT_EQ(s.name, "Unary@tracewire.test.Echo");
    EXPECT_EQ(StringAttr(s, "tenant"), "acme");
    EXPECT_EQ(StringAttr(s, "hooked.method"), "/tracewire.test.Echo/Unary");
  }
  EXPECT_FALSE(DefaultGrpcMethodFilter("/grpc.health.v1.Health/Check"));
  EXPECT_FALSE(DefaultGrpcMethodFilter("/grpc.reflection.v1alpha.ServerReflection/Info"));
  EXPECT_TRUE(DefaultGrpcMethodFilter("/tracewire.test.Echo/Unary"));
}

// Each channel's calls are named and attributed by its own options, even
// when one thread alternates between channels calling the same method (the
// per-thread method cache is keyed by the channel's options).
TEST(GrpcInstrumentation, ChannelsOfOneMethodKeepTheirOwnNamesAndConventions) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  GrpcInstrumentationOptions a = Opts(capture);
  a.span_name_formatter = [](std::string_view, std::string_view method) {
    return "a:" + std::string(method);
  };
  GrpcInstrumentationOptions b = Opts(capture);
  b.span_name_formatter = [](std::string_view, std::string_view method) {
    return "b:" + std::string(method);
  };
  b.semconv_stability_opt_in = "rpc";
  auto stub_a = server.Stub(a);
  auto stub_b = server.Stub(b);
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext ctx;
    EchoRequest req;
    EchoResponse resp;
    ASSERT_TRUE((i % 2 == 0 ? stub_a : stub_b)->Unary(&ctx, req, &resp).ok());
  }
  auto spans = capture.Await(8);
  int a_spans = 0, b_spans = 0;
  for (const SpanData& s : spans) {
    if (s.kind != SpanKind::kClient) continue;
    if (s.name == "a:Unary") {
      ++a_spans;
      EXPECT_EQ(StringAttr(s, "rpc.service"), "tracewire.test.Echo");
    } else if (s.name == "b:Unary") {
      ++b_spans;
      EXPECT_EQ(StringAttr(s, "rpc.method"), "tracewire.test.Echo/Unary");
      EXPECT_EQ(StringAttr(s, "rpc.system.name"), "grpc");
    } else {
      ADD_FAILURE() << "unexpected client span " << s.name;
    }
  }
  EXPECT_EQ(a_spans, 2);
  EXPECT_EQ(b_spans, 2);
}

TEST(GrpcInstrumentation, HealthChecksAreNotTracedByDefault) {
  SpanCapture capture;
  SyncEcho service;
  grpc::EnableDefaultHealthCheckService(true);
  TestServer server(&service, Opts(capture));
  grpc::EnableDefaultHealthCheckService(false);
  auto channel = CreateInstrumentedChannel(server.address(), grpc::InsecureChannelCredentials(),
                                           grpc::ChannelArguments(), Opts(capture));
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message.
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  grpc::ByteBuffer request;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(status.ok()) << status.error_message();
  // A traced call after it: its two spans are the only ones.
  auto stub = server.Stub(Opts(capture));
  grpc::ClientContext ctx2;
  EchoResponse resp;
  ASSERT_TRUE(stub->Unary(&ctx2, EchoRequest(), &resp).ok());
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);
  for (const SpanData& s : spans) EXPECT_EQ(s.name, kUnary);
}

TEST(GrpcInstrumentation, B3PropagatorCarriesTheContext) {
  SpanCapture capture;
  SyncEcho service;
  GrpcInstrumentationOptions o = Opts(capture);
  o.propagator = MakeB3Propagator(/*single_header=*/false);
  TestServer server(&service, o);
  auto stub = server.Stub(o);
  grpc::ClientContext ctx;
  EchoResponse resp;
  ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
  ExpectPair(capture.Await(2), kUnary, &resp);
}

TEST(GrpcInstrumentation, AsyncServerUnaryAndServerStream) {
  SpanCapture capture;
  TestServer server(Opts(capture));  // the asynchronous service
  auto stub = server.Stub(Opts(capture));
  EchoResponse unary;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &unary).ok());
  }
  EchoResponse streamed;
  {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_response_count(2);
    auto reader = stub->ServerStream(&ctx, req);
    int n = 0;
    while (reader->Read(&streamed)) ++n;
    EXPECT_EQ(n, 2);
    ASSERT_TRUE(reader->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_fail_code(grpc::UNAVAILABLE);
    EchoResponse r;
    EXPECT_EQ(stub->Unary(&ctx, req, &r).error_code(), grpc::UNAVAILABLE);
  }
  auto spans = capture.Await(6);
  ASSERT_EQ(spans.size(), 6u);
  ExpectPair(spans, kServerStream, &streamed);
  int errors = 0;
  for (const SpanData& s : spans) {
    if (s.name == kUnary && s.status_code == StatusCode::kError) ++errors;
  }
  EXPECT_EQ(errors, 2);  // UNAVAILABLE is an error on both sides
  // The first unary call's server span is what its handler saw.
  bool seen = false;
  for (const SpanData& s : spans) {
    if (s.kind == SpanKind::kServer && Hex(s.span_id) == unary.span_id()) seen = true;
  }
  EXPECT_TRUE(seen);
}

TEST(GrpcInstrumentation, CallbackServerEveryKind) {
  SpanCapture capture;
  CallbackEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  EchoResponse unary;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &unary).ok());
  }
  EchoResponse streamed;
  {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_response_count(2);
    auto reader = stub->ServerStream(&ctx, req);
    while (reader->Read(&streamed)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  EchoResponse counted;
  {
    grpc::ClientContext ctx;
    auto writer = stub->ClientStream(&ctx, &counted);
    for (int i = 0; i < 3; ++i) writer->Write(EchoRequest());
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(counted.message(), "3");
  }
  EchoResponse bidi;
  {
    grpc::ClientContext ctx;
    auto stream = stub->BidiStream(&ctx);
    stream->Write(EchoRequest());
    ASSERT_TRUE(stream->Read(&bidi));
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_fail_code(grpc::DATA_LOSS);
    EchoResponse r;
    EXPECT_EQ(stub->Unary(&ctx, req, &r).error_code(), grpc::DATA_LOSS);
  }
  auto spans = capture.Await(10);
  ASSERT_EQ(spans.size(), 10u);
  ExpectPair(spans, kServerStream, &streamed);
  ExpectPair(spans, kClientStream, &counted);
  ExpectPair(spans, kBidi, &bidi);
  int errors = 0;
  for (const SpanData& s : spans) {
    if (s.name == kUnary && s.status_code == StatusCode::kError) ++errors;
  }
  EXPECT_EQ(errors, 2);  // DATA_LOSS is an error on both sides
}

TEST(GrpcInstrumentation, AsyncAndCallbackClientsAreChildrenOfTheCurrentSpan) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  Tracer* tracer = capture.provider()->GetTracer("test");
  SpanId parent;
  EchoResponse async_resp;
  EchoResponse callback_resp;
  {
    ScopedSpan root(*tracer, "root");
    parent = root->GetContext().span_id;
    // Completion-queue client.
    grpc::CompletionQueue cq;
    grpc::ClientContext ctx;
    grpc::Status status;
    auto rpc = stub->AsyncUnary(&ctx, EchoRequest(), &cq);
    rpc->Finish(&async_resp, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    EXPECT_TRUE(ok);
    EXPECT_TRUE(status.ok());
    // Callback client.
    grpc::ClientContext ctx2;
    absl::Notification done;
    EchoRequest req;
    stub->async()->Unary(&ctx2, &req, &callback_resp, [&](grpc::Status) { done.Notify(); });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  }
  auto spans = capture.Await(5);
  ASSERT_EQ(spans.size(), 5u);
  int clients = 0;
  for (const SpanData& s : spans) {
    if (s.kind != SpanKind::kClient) continue;
    ++clients;
    EXPECT_EQ(s.parent_span_id, parent);
  }
  EXPECT_EQ(clients, 2);
  EXPECT_NE(async_resp.span_id(), callback_resp.span_id());
  EXPECT_EQ(async_resp.trace_id(), callback_resp.trace_id());
}

TEST(GrpcInstrumentation, NoProviderRecordsNothingButStillPropagates) {
  SpanCapture capture;
  SyncEcho service;
  TestServer server(&service, Opts(capture));
  GrpcInstrumentationOptions none;  // NoopTracer until the global provider exists
  auto stub = server.Stub(none);
  Tracer* tracer = capture.provider()->GetTracer("test");
  EchoResponse resp;
  TraceId trace;
  {
    ScopedSpan root(*tracer, "root");
    trace = root->GetContext().trace_id;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
  }
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(resp.trace_id(), Hex(trace));
}

// Without a provider in the options, each call takes the global provider and
// propagator as they are when it starts: a channel made before the
// application set them up traces once they are set.
TEST(GrpcInstrumentation, WithoutAProviderEachCallUsesTheGlobalOnes) {
  SpanCapture capture;
  SyncEcho service;
  GrpcInstrumentationOptions w3c_server = Opts(capture);
  w3c_server.propagator = MakeTraceContextPropagator();
  TestServer server(&service, w3c_server);
  auto stub = server.Stub(GrpcInstrumentationOptions{});
  EchoResponse resp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
  }
  auto spans = capture.Await(1);  // the server's only: the client's is a no-op
  ASSERT_EQ(spans.size(), 1u);
  ASSERT_NE(FindSpan(spans, kUnary, SpanKind::kServer), nullptr);
  const SpanId first_server = spans[0].span_id;

  SetTracerProvider(
      std::shared_ptr<TracerProvider>(std::shared_ptr<TracerProvider>(), capture.provider()));
  SetTextMapPropagator(MakeB3Propagator(/*single_header=*/false));
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
  }
  SetTracerProvider(nullptr);
  SetTextMapPropagator(nullptr);
  spans = capture.Await(3);
  ASSERT_EQ(spans.size(), 3u);
  const SpanData* client = FindSpan(spans, kUnary, SpanKind::kClient);
  ASSERT_NE(client, nullptr);
  const SpanData* srv = nullptr;  // the second call's server span
  for (const SpanData& sp : spans) {
    if (sp.kind == SpanKind::kServer && sp.span_id != first_server) srv = &sp;
  }
  ASSERT_NE(srv, nullptr);
  // The client injected B3 (the global propagator); the server, which reads
  // W3C only (the default), did not continue the trace.
  EXPECT_NE(srv->trace_id, client->trace_id);
}

TEST(GrpcSemconv, ParsesPeersTargetsAndModes) {
  using instrumentation::ParsePeer;
  using instrumentation::ParseTarget;
  auto v4 = ParsePeer("ipv4:127.0.0.1:1234");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 1234);
  auto v6 = ParsePeer("ipv6:[::1]:443");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 443);
  auto unix_peer = ParsePeer("unix:/tmp/s.sock");
  ASSERT_TRUE(unix_peer.has_value());
  EXPECT_FALSE(unix_peer->port.has_value());
  EXPECT_FALSE(ParsePeer("ipv4:1.2.3.4:99999").has_value());
  EXPECT_FALSE(ParsePeer("ipv6:[::1").has_value());
  EXPECT_FALSE(ParsePeer("").has_value());
  auto dns = ParseTarget("dns:///example.com:50051");
  ASSERT_TRUE(dns.has_value());
  EXPECT_EQ(dns->host, "example.com");
  EXPECT_EQ(dns->port, 50051);
  EXPECT_EQ(ParseTarget("localhost:7")->host, "localhost");
  using instrumentation::RpcSemconv;
  EXPECT_EQ(instrumentation::RpcSemconvFromValue(""), RpcSemconv::kOld);
  EXPECT_EQ(instrumentation::RpcSemconvFromValue("http, rpc"), RpcSemconv::kNew);
  EXPECT_EQ(instrumentation::RpcSemconvFromValue("rpc,rpc/dup"), RpcSemconv::kBoth);
  EXPECT_EQ(instrumentation::StatusCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(instrumentation::StatusCodeName(99), "UNKNOWN");
  auto m = instrumentation::ParseFullMethod("/a.B/C");
  EXPECT_EQ(m.service, "a.B");
  EXPECT_EQ(m.method, "C");
}

}  // namespace
}  // namespace tracewire::testing

namespace tracewire::testing {
namespace {

// A propagator of the seed's own format (000 §5.2): "x-trace-id" and
// "x-span-id" in hex.
class HexIdsPropagator final : public TextMapPropagator {
 public:
  void Inject(TextMapCarrier& carrier, const Context& context) const override {
    const SpanContext& sc = context.span_context();
    if (!sc.IsValid()) return;
    carrier.Set("X-Trace-Id", Hex(sc.trace_id));
    carrier.Set("X-Span-Id", Hex(sc.span_id));
  }
  Context Extract(const TextMapCarrier& carrier, const Context& context) const override {
    auto t = carrier.Get("x-trace-id");
    auto s = carrier.Get("x-span-id");
    SpanContext sc;
    if (!t || !s || t->size() != 32 || s->size() != 16) return context;
    auto unhex = [](std::string_view in, uint8_t* out) {
      for (size_t i = 0; i < in.size() / 2; ++i) {
        out[i] = static_cast<uint8_t>(std::stoi(std::string(in.substr(2 * i, 2)), nullptr, 16));
      }
    };
    unhex(*t, sc.trace_id.data());
    unhex(*s, sc.span_id.data());
    sc.trace_flags = kTraceFlagSampled;
    sc.is_remote = true;
    return context.WithSpanContext(sc);
  }
  std::vector<std::string> Fields() const override { return {"x-trace-id", "x-span-id"}; }
};

TEST(GrpcInstrumentation, ACustomPropagatorCarriesTheContextInLowercaseKeys) {
  SpanCapture capture;
  SyncEcho service;
  GrpcInstrumentationOptions o = Opts(capture);
  o.propagator = std::make_shared<HexIdsPropagator>();
  o.metadata_attributes = [](std::string_view, const TextMapCarrier& md, Attributes& out) {
    for (const std::string& k : md.Keys()) {
      if (k.starts_with("x-")) out.push_back({"md." + k, true});
    }
  };
  TestServer server(&service, o);
  auto stub = server.Stub(o);
  grpc::ClientContext ctx;
  EchoResponse resp;
  ASSERT_TRUE(stub->Unary(&ctx, EchoRequest(), &resp).ok());
  auto spans = capture.Await(2);
  ExpectPair(spans, kUnary, &resp);
  const SpanData* server_span = FindSpan(spans, kUnary, SpanKind::kServer);
  ASSERT_NE(server_span, nullptr);
  EXPECT_NE(FindAttr(*server_span, "md.x-trace-id"), nullptr);
  EXPECT_NE(FindAttr(*server_span, "md.x-span-id"), nullptr);
}

}  // namespace
}  // namespace tracewire::testing

namespace tracewire::testing {
namespace {

// The callback server's span ends when the call is closed: without a status
// sent first, the call was cancelled, or its deadline passed.
TEST(GrpcInstrumentation, CallbackServerRecordsDeadlineAndCancellation) {
  SpanCapture capture;
  CallbackEcho service;
  TestServer server(&service, Opts(capture));
  auto stub = server.Stub(Opts(capture));
  EchoRequest req;
  req.set_delay_ms(1);  // finish only when cancelled
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    EchoResponse resp;
    EXPECT_EQ(stub->Unary(&ctx, req, &resp).error_code(), grpc::DEADLINE_EXCEEDED);
  }
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);
  for (const SpanData& s : spans) {
    EXPECT_EQ(IntAttr(s, "rpc.grpc.status_code"), grpc::DEADLINE_EXCEEDED) << int(s.kind);
    EXPECT_EQ(s.status_code, StatusCode::kError);
  }
  {
    grpc::ClientContext ctx;
    EchoResponse resp;
    absl::Notification done;
    grpc::Status status;
    stub->async()->Unary(&ctx, &req, &resp, [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    ctx.TryCancel();
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_EQ(status.error_code(), grpc::CANCELLED);
  }
  // The client span always; the server's only if the call reached the server
  // before it was cancelled.
  spans = capture.Await(3);
  ASSERT_GE(spans.size(), 3u);
  for (size_t i = 2; i < spans.size(); ++i) {
    EXPECT_EQ(IntAttr(spans[i], "rpc.grpc.status_code"), grpc::CANCELLED);
    EXPECT_EQ(spans[i].status_code,
              spans[i].kind == SpanKind::kClient ? StatusCode::kError : StatusCode::kUnset);
  }
}

}  // namespace
}  // namespace tracewire::testing

namespace tracewire::testing {
namespace {

// The asynchronous server's span ends when the call closes: a deadline that
// passed before the handler finished is DEADLINE_EXCEEDED there too.
TEST(GrpcInstrumentation, AsyncServerRecordsDeadlineExceeded) {
  SpanCapture capture;
  TestServer server(Opts(capture));
  auto stub = server.Stub(Opts(capture));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  EchoRequest req;
  req.set_delay_ms(1);  // answered only once the call is done
  EchoResponse resp;
  EXPECT_EQ(stub->Unary(&ctx, req, &resp).error_code(), grpc::DEADLINE_EXCEEDED);
  auto spans = capture.Await(2);
  ASSERT_EQ(spans.size(), 2u);
  for (const SpanData& s : spans) {
    EXPECT_EQ(IntAttr(s, "rpc.grpc.status_code"), grpc::DEADLINE_EXCEEDED) << int(s.kind);
    EXPECT_EQ(s.status_code, StatusCode::kError);
  }
}

}  // namespace
}  // namespace tracewire::testing
