// service-b: handles an order by calling service-c (the method the order's
// kind names), inside an INTERNAL span of its own. Its server span is current
// while the handler runs (synchronous API), so the INTERNAL span and the call
// to service-c are its children. It also counts orders (orders.handled, by
// kind and outcome) and logs each outcome: the log records carry the trace
// and span of the call they were written in.
//
//   service_b PORT SERVICE_C_ADDRESS   (prints "service-b listening on ...")

#include <grpcpp/grpcpp.h>

#include "common.h"
#include "tracewire/example/chain.grpc.pb.h"
#include "tracewire/global.h"
#include "tracewire/grpc.h"

namespace {

using tracewire::example::Item;
using tracewire::example::Order;
using tracewire::example::Receipt;

class ServiceB final : public tracewire::example::ServiceB::Service {
 public:
  ServiceB(tracewire::Tracer* tracer, std::shared_ptr<grpc::Channel> c)
      : tracer_(tracer),
        c_(tracewire::example::ServiceC::NewStub(std::move(c))),
        logger_(tracewire::GetLoggerProvider()->GetLogger("service-b")),
        orders_(tracewire::GetMeterProvider()
                    ->GetMeter("service-b")
                    ->CreateInt64Counter("orders.handled", "{order}", "Orders handled")) {}

  grpc::Status Handle(grpc::ServerContext*, const Order* order, Receipt* receipt) override {
    tracewire::ScopedSpan work(*tracer_, "prepare order");  // INTERNAL, child of the server span
    work->SetAttribute("order.kind", order->kind());
    Item item;
    item.set_name(order->name());
    Item result;
    grpc::ClientContext ctx;
    grpc::Status status;
    if (order->kind() == "list") {
      auto reader = c_->List(&ctx, item);
      int n = 0;
      while (reader->Read(&result)) ++n;
      status = reader->Finish();
      result.set_count(n);
    } else if (order->kind() == "upload") {
      auto writer = c_->Upload(&ctx, &result);
      for (int i = 0; i < 4; ++i) writer->Write(item);
      writer->WritesDone();
      status = writer->Finish();
    } else if (order->kind() == "fail") {
      status = c_->Fail(&ctx, item, &result);
    } else {
      status = c_->Get(&ctx, item, &result);
    }
    if (!status.ok()) {
      work->SetStatus(tracewire::StatusCode::kError, status.error_message());
      orders_.Add(1, {{"order.kind", order->kind()}, {"outcome", "failed"}});
      logger_->Emit(tracewire::SeverityNumber::kError, "order failed: " + status.error_message(),
                    {{"order.kind", order->kind()}});
      return status;
    }
    orders_.Add(1, {{"order.kind", order->kind()}, {"outcome", "ok"}});
    logger_->Emit(tracewire::SeverityNumber::kInfo, "order handled",
                  {{"order.kind", order->kind()}, {"item.count", int64_t{result.count()}}});
    receipt->set_summary(order->kind() + ": " + std::to_string(result.count()));
    return grpc::Status::OK;
  }

 private:
  tracewire::Tracer* tracer_;
  std::unique_ptr<tracewire::example::ServiceC::Stub> c_;
  tracewire::Logger* logger_;
  tracewire::Counter<int64_t> orders_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: service_b PORT SERVICE_C_ADDRESS\n");
    return 2;
  }
  sigset_t stop = example::BlockStopSignals();
  tracewire::Sdk sdk = example::InitSdkOrDie("service-b");
  tracewire::GrpcInstrumentationOptions options{.tracer_provider = sdk.tracer_provider.get()};
  ServiceB service(sdk.tracer_provider->GetTracer("service-b"),
                   tracewire::CreateInstrumentedChannel(argv[2], grpc::InsecureChannelCredentials(),
                                                        grpc::ChannelArguments(), options));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(std::string("127.0.0.1:") + argv[1], grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  tracewire::InstrumentServer(builder, options);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return 1;
  std::printf("service-b listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  example::WaitForStop(stop);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  example::ShutdownSdk(sdk, "service-b");
  return 0;
}
