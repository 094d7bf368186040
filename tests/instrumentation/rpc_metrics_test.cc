// The gRPC instrumentation's rpc metrics (src/instrumentation/grpc/
// rpc_metrics.h) through a real MeterProvider with a manual reader, against
// real servers on 127.0.0.1 port 0: durations, message sizes and counts per
// RPC on both sides, status codes, the semconv modes, metrics turned off, and
// the global MeterProvider when the options name none.

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include <grpcpp/grpcpp.h>

#include <optional>

#include "instrumentation/echo_services.h"
#include "sdk/metrics/metrics_test_util.h"
#include "tracewire/global.h"
#include "tracewire/grpc.h"

namespace tracewire::testing {
namespace {

using tracewire::test::EchoRequest;
using tracewire::test::EchoResponse;

// A histogram's points, or none when the metric was not collected.
std::vector<HistogramDataPoint> Points(const ResourceMetrics& rm, std::string_view name) {
  const MetricData* m = FindMetric(rm, name);
  if (m == nullptr) return {};
  const auto* h = std::get_if<tracewire::Histogram>(&m->data);
  return h == nullptr ? std::vector<HistogramDataPoint>{} : h->data_points;
}

// The one point whose `key` attribute is `value` (a copy: `points` is often
// a temporary).
std::optional<HistogramDataPoint> PointWith(const std::vector<HistogramDataPoint>& points,
                                            std::string_view key, std::string_view value) {
  std::optional<HistogramDataPoint> found;
  for (const auto& p : points) {
    if (AttrString(p.attributes, key) != value) continue;
    EXPECT_FALSE(found.has_value()) << "two points with " << key << "=" << value;
    found = p;
  }
  return found;
}

struct Fixture {
  SpanCapture spans;
  ManualProvider metrics = MakeManualProvider();
  GrpcInstrumentationOptions Options(std::string semconv = "") {
    GrpcInstrumentationOptions o;
    o.tracer_provider = spans.provider();
    o.meter_provider = metrics.provider.get();
    o.semconv_stability_opt_in = std::move(semconv);
    return o;
  }
  ResourceMetrics Collect() { return CollectOrDie(metrics.reader); }
};

TEST(RpcMetrics, UnaryCallOnBothSides) {
  Fixture f;
  SyncEcho service;
  TestServer server(&service, f.Options());
  auto stub = server.Stub(f.Options());
  EchoRequest req;
  req.set_message("hello metrics");
  EchoResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  // Metrics are recorded before the spans end.
  ASSERT_EQ(f.spans.Await(2).size(), 2u);
  ResourceMetrics rm = f.Collect();
  for (const char* side : {"server", "client"}) {
    const std::string p = std::string("rpc.") + side + ".";
    const MetricData* duration = FindMetric(rm, p + "duration");
    ASSERT_NE(duration, nullptr) << side;
    EXPECT_EQ(duration->unit, "ms");
    auto points = Points(rm, p + "duration");
    ASSERT_EQ(points.size(), 1u) << side;
    EXPECT_EQ(points[0].count, 1u);
    EXPECT_GT(*points[0].sum, 0.0);
    EXPECT_LT(*points[0].sum, 10'000.0);  // milliseconds, not seconds or ns
    EXPECT_EQ(AttrString(points[0].attributes, "rpc.system"), "grpc");
    EXPECT_EQ(AttrString(points[0].attributes, "rpc.service"), "tracewire.test.Echo");
    EXPECT_EQ(AttrString(points[0].attributes, "rpc.method"), "Unary");
    EXPECT_EQ(AttrString(points[0].attributes, "rpc.grpc.status_code"), "0");
    EXPECT_TRUE(Points(rm, p + "call.duration").empty()) << side;

    auto request = Points(rm, p + "request.size");
    ASSERT_EQ(request.size(), 1u) << side;
    EXPECT_EQ(request[0].count, 1u);
    EXPECT_EQ(*request[0].sum, static_cast<double>(req.ByteSizeLong())) << side;
    EXPECT_EQ(AttrString(request[0].attributes, "rpc.method"), "Unary");
    auto response = Points(rm, p + "response.size");
    ASSERT_EQ(response.size(), 1u) << side;
    EXPECT_EQ(*response[0].sum, static_cast<double>(resp.ByteSizeLong())) << side;

    auto requests = Points(rm, p + "requests_per_rpc");
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(*requests[0].sum, 1.0);
    auto responses = Points(rm, p + "responses_per_rpc");
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(*responses[0].sum, 1.0);
  }
}

TEST(RpcMetrics, StreamsCountEveryMessage) {
  Fixture f;
  SyncEcho service;
  TestServer server(&service, f.Options());
  auto stub = server.Stub(f.Options());
  EchoRequest req;
  req.set_message("m");
  req.set_response_count(3);
  {
    grpc::ClientContext ctx;
    EchoResponse r;
    auto writer = stub->ClientStream(&ctx, &r);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(writer->Write(req));
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    auto reader = stub->ServerStream(&ctx, req);
    EchoResponse r;
    int n = 0;
    while (reader->Read(&r)) ++n;
    ASSERT_EQ(n, 3);
    ASSERT_TRUE(reader->Finish().ok());
  }
  ASSERT_EQ(f.spans.Await(4).size(), 4u);
  ResourceMetrics rm = f.Collect();
  for (const char* side : {"server", "client"}) {
    const std::string p = std::string("rpc.") + side + ".";
    auto requests = Points(rm, p + "requests_per_rpc");
    auto cs = PointWith(requests, "rpc.method", "ClientStream");
    auto ss = PointWith(requests, "rpc.method", "ServerStream");
    ASSERT_TRUE(cs.has_value() && ss.has_value()) << side;
    EXPECT_EQ(*cs->sum, 4.0) << side;
    EXPECT_EQ(*ss->sum, 1.0) << side;
    auto responses = Points(rm, p + "responses_per_rpc");
    EXPECT_EQ(*PointWith(responses, "rpc.method", "ClientStream")->sum, 1.0) << side;
    EXPECT_EQ(*PointWith(responses, "rpc.method", "ServerStream")->sum, 3.0) << side;
    // One request.size measurement per message.
    auto sizes = Points(rm, p + "request.size");
    auto cs_sizes = PointWith(sizes, "rpc.method", "ClientStream");
    ASSERT_TRUE(cs_sizes.has_value()) << side;
    EXPECT_EQ(cs_sizes->count, 4u) << side;
    EXPECT_EQ(*cs_sizes->sum, 4.0 * static_cast<double>(req.ByteSizeLong())) << side;
    EXPECT_EQ(PointWith(Points(rm, p + "response.size"), "rpc.method", "ServerStream")->count, 3u)
        << side;
  }
}

TEST(RpcMetrics, TheStatusCodeSplitsTheSeries) {
  Fixture f;
  CallbackEcho service;  // the callback API records as the synchronous one does
  TestServer server(&service, f.Options());
  auto stub = server.Stub(f.Options());
  for (int code : {0, static_cast<int>(grpc::NOT_FOUND), static_cast<int>(grpc::NOT_FOUND)}) {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_fail_code(code);
    EchoResponse resp;
    EXPECT_EQ(stub->Unary(&ctx, req, &resp).error_code(), code);
  }
  ASSERT_EQ(f.spans.Await(6).size(), 6u);
  ResourceMetrics rm = f.Collect();
  for (const char* name : {"rpc.server.duration", "rpc.client.duration"}) {
    auto points = Points(rm, name);
    ASSERT_EQ(points.size(), 2u) << name;
    EXPECT_EQ(PointWith(points, "rpc.grpc.status_code", "0")->count, 1u) << name;
    EXPECT_EQ(PointWith(points, "rpc.grpc.status_code", "5")->count, 2u) << name;
  }
}

TEST(RpcMetrics, SemconvOptInRpcGivesCallDurationInSeconds) {
  for (const char* mode : {"rpc", "rpc/dup"}) {
    Fixture f;
    SyncEcho service;
    TestServer server(&service, f.Options(mode));
    auto stub = server.Stub(f.Options(mode));
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_fail_code(grpc::NOT_FOUND);
    EchoResponse resp;
    (void)stub->Unary(&ctx, req, &resp);
    ASSERT_EQ(f.spans.Await(2).size(), 2u);
    ResourceMetrics rm = f.Collect();
    const bool dup = std::string_view(mode) == "rpc/dup";
    for (const char* side : {"server", "client"}) {
      const std::string p = std::string("rpc.") + side + ".";
      ASSERT_NE(FindMetric(rm, p + "call.duration"), nullptr) << mode << side;
      EXPECT_EQ(FindMetric(rm, p + "call.duration")->unit, "s");
      auto points = Points(rm, p + "call.duration");
      ASSERT_EQ(points.size(), 1u) << mode << side;
      EXPECT_LT(*points[0].sum, 10.0);
      EXPECT_EQ(AttrString(points[0].attributes, "rpc.system.name"), "grpc");
      EXPECT_EQ(AttrString(points[0].attributes, "rpc.method"), "tracewire.test.Echo/Unary");
      EXPECT_EQ(AttrString(points[0].attributes, "rpc.response.status_code"), "NOT_FOUND");
      EXPECT_EQ(AttrString(points[0].attributes, "rpc.system"), "");
      EXPECT_EQ(Points(rm, p + "duration").size(), dup ? 1u : 0u) << mode << side;
      auto requests = Points(rm, p + "requests_per_rpc");
      ASSERT_EQ(requests.size(), 1u) << mode << side;
      EXPECT_EQ(AttrString(requests[0].attributes, "rpc.system"), dup ? "grpc" : "")
          << mode << side;
      auto sizes = Points(rm, p + "request.size");
      ASSERT_EQ(sizes.size(), 1u) << mode << side;
      EXPECT_EQ(AttrString(sizes[0].attributes, "rpc.method"),
                dup ? "Unary" : "tracewire.test.Echo/Unary");
    }
  }
}

TEST(RpcMetrics, AsyncServerServerStream) {
  Fixture f;
  TestServer server(f.Options());  // the asynchronous (completion queue) service
  auto stub = server.Stub(f.Options());
  {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_response_count(2);
    auto reader = stub->ServerStream(&ctx, req);
    EchoResponse r;
    int n = 0;
    while (reader->Read(&r)) ++n;
    ASSERT_EQ(n, 2);
    ASSERT_TRUE(reader->Finish().ok());
  }
  ASSERT_EQ(f.spans.Await(2).size(), 2u);
  ResourceMetrics rm = f.Collect();
  for (const char* side : {"server", "client"}) {
    const std::string p = std::string("rpc.") + side + ".";
    auto d = PointWith(Points(rm, p + "duration"), "rpc.method", "ServerStream");
    ASSERT_TRUE(d.has_value()) << side;
    EXPECT_EQ(d->count, 1u);
    EXPECT_EQ(AttrString(d->attributes, "rpc.grpc.status_code"), "0");
    EXPECT_EQ(*PointWith(Points(rm, p + "responses_per_rpc"), "rpc.method", "ServerStream")->sum,
              2.0)
        << side;
  }
}

TEST(RpcMetrics, BidiStreamOnTheCallbackServer) {
  Fixture f;
  CallbackEcho service;
  TestServer server(&service, f.Options());
  auto stub = server.Stub(f.Options());
  {
    grpc::ClientContext ctx;
    auto stream = stub->BidiStream(&ctx);
    EchoRequest req;
    req.set_message("b");
    EchoResponse r;
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(stream->Write(req));
      ASSERT_TRUE(stream->Read(&r));
    }
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
  }
  ASSERT_EQ(f.spans.Await(2).size(), 2u);
  ResourceMetrics rm = f.Collect();
  for (const char* side : {"server", "client"}) {
    const std::string p = std::string("rpc.") + side + ".";
    EXPECT_EQ(*PointWith(Points(rm, p + "requests_per_rpc"), "rpc.method", "BidiStream")->sum, 3.0)
        << side;
    EXPECT_EQ(*PointWith(Points(rm, p + "responses_per_rpc"), "rpc.method", "BidiStream")->sum,
              3.0)
        << side;
    EXPECT_EQ(PointWith(Points(rm, p + "request.size"), "rpc.method", "BidiStream")->count, 3u)
        << side;
  }
}

TEST(RpcMetrics, DeadlineExceededAndCancellationAreTheirOwnSeries) {
  Fixture f;
  SyncEcho service;
  TestServer server(&service, f.Options());
  auto stub = server.Stub(f.Options());
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    EchoRequest req;
    req.set_delay_ms(5000);
    EchoResponse resp;
    EXPECT_EQ(stub->Unary(&ctx, req, &resp).error_code(), grpc::DEADLINE_EXCEEDED);
    ASSERT_EQ(f.spans.Await(2).size(), 2u);
  }
  {
    grpc::ClientContext ctx;
    EchoRequest req;
    req.set_delay_ms(5000);
    EchoResponse resp;
    absl::Notification done;
    stub->async()->Unary(&ctx, &req, &resp, [&](grpc::Status) { done.Notify(); });
    ASSERT_TRUE(service.AwaitEntered(2));
    ctx.TryCancel();
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    ASSERT_EQ(f.spans.Await(4).size(), 4u);
  }
  ResourceMetrics rm = f.Collect();
  for (const char* name : {"rpc.server.duration", "rpc.client.duration"}) {
    auto points = Points(rm, name);
    auto deadline = PointWith(points, "rpc.grpc.status_code", "4");
    auto cancelled = PointWith(points, "rpc.grpc.status_code", "1");
    ASSERT_TRUE(deadline.has_value()) << name;
    ASSERT_TRUE(cancelled.has_value()) << name;
    EXPECT_EQ(deadline->count, 1u) << name;
    EXPECT_EQ(cancelled->count, 1u) << name;
  }
  // The client's deadline call lasted about its deadline, in ms.
  auto d = PointWith(Points(rm, "rpc.client.duration"), "rpc.grpc.status_code", "4");
  EXPECT_GE(*d->sum, 150.0);
  EXPECT_LT(*d->sum, 5000.0);
}

TEST(RpcMetrics, OffRecordsNothing) {
  Fixture f;
  GrpcInstrumentationOptions o = f.Options();
  o.metrics = false;
  SyncEcho service;
  TestServer server(&service, o);
  auto stub = server.Stub(o);
  grpc::ClientContext ctx;
  EchoRequest req;
  EchoResponse resp;
  ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  ASSERT_EQ(f.spans.Await(2).size(), 2u);
  ResourceMetrics rm = f.Collect();
  EXPECT_TRUE(Points(rm, "rpc.server.duration").empty());
  EXPECT_TRUE(Points(rm, "rpc.client.duration").empty());
  EXPECT_TRUE(Points(rm, "rpc.client.request.size").empty());
}

TEST(RpcMetrics, WithoutAProviderTheGlobalOneIsUsed) {
  Fixture f;
  GrpcInstrumentationOptions o = f.Options();
  o.meter_provider = nullptr;
  SyncEcho service;
  TestServer server(&service, o);
  auto stub = server.Stub(o);
  auto call = [&] {
    grpc::ClientContext ctx;
    EchoRequest req;
    EchoResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  };
  call();  // the no-op global provider: recorded nowhere
  ASSERT_EQ(f.spans.Await(2).size(), 2u);
  std::shared_ptr<MeterProvider> global(std::move(f.metrics.provider));
  SetMeterProvider(global);
  call();
  ASSERT_EQ(f.spans.Await(4).size(), 4u);
  SetMeterProvider(nullptr);
  ResourceMetrics rm = f.Collect();
  auto points = Points(rm, "rpc.server.duration");
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].count, 1u);
  ASSERT_EQ(Points(rm, "rpc.client.duration").size(), 1u);
  // The global provider was replaced: later calls no longer reach it.
  call();
  ASSERT_EQ(f.spans.Await(6).size(), 6u);
  EXPECT_EQ(Points(f.Collect(), "rpc.server.duration")[0].count, 1u);
}

}  // namespace
}  // namespace tracewire::testing
