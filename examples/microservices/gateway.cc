// gateway: HTTP on loopback (cpp-httplib); GET /order/KIND calls service-b
// over gRPC. Each request is a SERVER span (tracewire/http.h), the caller's
// traceparent continued, so an HTTP request and the gRPC calls it causes are
// one trace.
//
//   gateway PORT SERVICE_B_ADDRESS   (prints "gateway listening on ...")

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <thread>

#include "common.h"
#include "tracewire/example/chain.grpc.pb.h"
#include "tracewire/grpc.h"
#include "tracewire/http.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: gateway PORT SERVICE_B_ADDRESS\n");
    return 2;
  }
  sigset_t stop = example::BlockStopSignals();
  tracewire::Sdk sdk = example::InitSdkOrDie("gateway");
  auto b = tracewire::example::ServiceB::NewStub(tracewire::CreateInstrumentedChannel(
      argv[2], grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
      {.tracer_provider = sdk.tracer_provider.get()}));

  httplib::Server http;
  http.Get(R"(/order/(\w+))", tracewire::TraceHttpHandler(
                                  "/order/{kind}",
                                  [&](const httplib::Request& req, httplib::Response& res) {
                                    tracewire::example::Order order;
                                    order.set_kind(req.matches[1]);
                                    order.set_name("widget");
                                    tracewire::example::Receipt receipt;
                                    grpc::ClientContext ctx;
                                    grpc::Status status = b->Handle(&ctx, order, &receipt);
                                    res.status = status.ok() ? 200 : 502;
                                    res.set_content(status.ok()
                                                        ? receipt.summary() + "\n"
                                                        : "error: " + status.error_message() + "\n",
                                                    "text/plain");
                                  },
                                  {.tracer_provider = sdk.tracer_provider.get()}));
  int port = std::atoi(argv[1]);
  if (port == 0) {
    port = http.bind_to_any_port("127.0.0.1");
  } else if (!http.bind_to_port("127.0.0.1", port)) {
    port = -1;
  }
  if (port <= 0) return 1;
  std::thread serving([&] { http.listen_after_bind(); });
  std::printf("gateway listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  example::WaitForStop(stop);
  http.stop();
  serving.join();
  example::ShutdownSdk(sdk, "gateway");
  return 0;
}
