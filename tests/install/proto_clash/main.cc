// proto_clash: this program's own generated OTLP classes and tracewire in one
// process. A gRPC TraceService built from them receives the span that
// tracewire's OTLP exporter sends; prints "proto_clash: ok" and exits 0.

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"

namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

class TraceService final : public collector::TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext*, const collector::ExportTraceServiceRequest* request,
                      collector::ExportTraceServiceResponse*) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& rs : request->resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) names_.push_back(span.name());
      }
    }
    cv_.notify_all();
    return grpc::Status::OK;
  }
  // The span names received, once `n` have arrived or after 10 s.
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return names_.size() >= n; });
    return names_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> names_;
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "proto_clash: FAILED: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  // The program's own use of its generated classes.
  collector::ExportTraceServiceRequest own;
  own.add_resource_spans()->add_scope_spans()->add_spans()->set_name("own");
  collector::ExportTraceServiceRequest parsed;
  if (!parsed.ParseFromString(own.SerializeAsString()) ||
      parsed.resource_spans(0).scope_spans(0).spans(0).name() != "own") {
    return Fail("own generated classes round trip");
  }

  TraceService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return Fail("gRPC server on 127.0.0.1:0");

  tracewire::OtlpExporterOptions otlp;
  otlp.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto exporter = tracewire::MakeOtlpSpanExporter(otlp);
  if (!exporter.ok()) return Fail(std::string(exporter.status().message()));
  tracewire::TracerProviderOptions options;
  options.processors.push_back(tracewire::MakeSimpleSpanProcessor(std::move(*exporter)));
  auto provider = tracewire::TracerProvider::Create(std::move(options));
  if (!provider.ok()) return Fail("TracerProvider::Create");
  tracewire::Span span = (*provider)->GetTracer("proto_clash")->StartSpan("clash-test");
  span.End();
  if (!(*provider)->ForceFlush(absl::Now() + absl::Seconds(10)).ok()) return Fail("ForceFlush");
  std::vector<std::string> names = service.WaitFor(1);
  if (names.size() != 1 || names[0] != "clash-test") return Fail("the span did not arrive");
  if (!(*provider)->Shutdown(absl::Now() + absl::Seconds(5)).ok()) return Fail("Shutdown");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::printf("proto_clash: ok (received \"%s\" through the program's own OTLP classes)\n",
              names[0].c_str());
  return 0;
}
