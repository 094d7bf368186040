// service-c: one unary method, one server-streaming, one client-streaming,
// and one that always fails; instrumented with one line on the builder.
//
//   service_c PORT   (0: any; prints "service-c listening on 127.0.0.1:PORT")

#include <grpcpp/grpcpp.h>

#include "common.h"
#include "tracewire/example/chain.grpc.pb.h"
#include "tracewire/grpc.h"

namespace {

using tracewire::example::Item;

class ServiceC final : public tracewire::example::ServiceC::Service {
  grpc::Status Get(grpc::ServerContext*, const Item* req, Item* resp) override {
    resp->set_name(req->name());
    resp->set_count(1);
    return grpc::Status::OK;
  }
  grpc::Status List(grpc::ServerContext*, const Item* req,
                    grpc::ServerWriter<Item>* writer) override {
    for (int i = 0; i < 3; ++i) {
      Item item;
      item.set_name(req->name() + "-" + std::to_string(i));
      writer->Write(item);
    }
    return grpc::Status::OK;
  }
  grpc::Status Upload(grpc::ServerContext*, grpc::ServerReader<Item>* reader, Item* resp) override {
    Item item;
    int n = 0;
    while (reader->Read(&item)) ++n;
    resp->set_count(n);
    return grpc::Status::OK;
  }
  grpc::Status Fail(grpc::ServerContext*, const Item*, Item*) override {
    return grpc::Status(grpc::INTERNAL, "service-c fails this one on purpose");
  }
};

}  // namespace

int main(int argc, char** argv) {
  sigset_t stop = example::BlockStopSignals();
  tracewire::Sdk sdk = example::InitSdkOrDie("service-c");
  ServiceC service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(std::string("127.0.0.1:") + (argc > 1 ? argv[1] : "0"),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  tracewire::InstrumentServer(builder, {.tracer_provider = sdk.tracer_provider.get()});
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return 1;
  std::printf("service-c listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  example::WaitForStop(stop);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  example::ShutdownSdk(sdk, "service-c");
  return 0;
}
