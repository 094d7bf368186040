// The C++ side of the cross-language gRPC test (run.sh): tracewire's
// instrumented echo server and client, exporting spans over OTLP/gRPC to
// tracewired. It behaves as node_peer.mjs does:
//
//   grpc_interop_peer server <tracewired host:port> <port file>
//   grpc_interop_peer client <tracewired host:port> <echo host:port> <out.json>
//
// server: serves tracewire.test.Echo (synchronous API) on 127.0.0.1:0,
//   writes the port to the port file, and on SIGTERM (or SIGINT) shuts down,
//   flushes its spans and exits 0.
// client: calls Unary and ServerStream, each inside a parent span with
//   baggage interop.from=cpp, and writes the exchanges to out.json.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tracewire/grpc.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/span_exporter.h"
#include "tracewire/span_processor.h"
#include "tracewire/test/echo.grpc.pb.h"
#include "tracewire/trace.h"

namespace {

using tracewire::test::Echo;
using tracewire::test::EchoRequest;
using tracewire::test::EchoResponse;

std::string Hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::unique_ptr<tracewire::TracerProvider> MakeProvider(const std::string& endpoint,
                                                        const std::string& service) {
  tracewire::OtlpExporterOptions eo;
  eo.endpoint = "http://" + endpoint;
  auto exporter = tracewire::MakeOtlpSpanExporter(eo);
  if (!exporter.ok()) {
    std::fprintf(stderr, "grpc_interop_peer: %s\n", exporter.status().ToString().c_str());
    std::exit(2);
  }
  tracewire::BatchSpanProcessorOptions bo;
  bo.schedule_delay = absl::Milliseconds(100);
  tracewire::TracerProviderOptions o;
  o.resource.attributes.push_back({"service.name", service});
  o.processors.push_back(tracewire::BatchSpanProcessor::Create(std::move(*exporter), bo));
  auto provider = tracewire::TracerProvider::Create(std::move(o));
  if (!provider.ok()) std::exit(2);
  return std::move(*provider);
}

// What the handler saw: its current span and the caller's baggage.
void Seen(EchoResponse* r) {
  const tracewire::SpanHandle span = tracewire::CurrentSpan();
  r->set_trace_id(Hex(span.GetContext().trace_id.data(), 16));
  r->set_span_id(Hex(span.GetContext().span_id.data(), 8));
  std::string baggage;
  for (const auto& [k, v] : tracewire::Context::Current().baggage().entries()) {
    if (!baggage.empty()) baggage += ',';
    baggage += k + "=" + v.value;
  }
  r->set_baggage(baggage);
}

class EchoService final : public Echo::Service {
  grpc::Status Unary(grpc::ServerContext*, const EchoRequest* req, EchoResponse* resp) override {
    resp->set_message(req->message());
    Seen(resp);
    return grpc::Status::OK;
  }
  grpc::Status ServerStream(grpc::ServerContext*, const EchoRequest* req,
                            grpc::ServerWriter<EchoResponse>* writer) override {
    const int n = std::max(1, req->response_count());
    for (int i = 0; i < n; ++i) {
      EchoResponse r;
      r.set_message(req->message() + "#" + std::to_string(i));
      Seen(&r);
      writer->Write(r);
    }
    return grpc::Status::OK;
  }
};

int Server(const std::string& endpoint, const std::string& port_file) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before gRPC starts its threads
  auto provider = MakeProvider(endpoint, "cpp-server");
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  tracewire::InstrumentServer(builder, {.tracer_provider = provider.get()});
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return 2;
  {
    std::ofstream out(port_file + ".tmp");
    out << port << "\n";
  }
  std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  int sig = 0;
  sigwait(&set, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return provider->Shutdown(absl::Now() + absl::Seconds(10)).ok() ? 0 : 1;
}

int Client(const std::string& endpoint, const std::string& target, const std::string& out_file) {
  auto provider = MakeProvider(endpoint, "cpp-client");
  tracewire::Tracer* tracer = provider->GetTracer("interop");
  auto channel = tracewire::CreateInstrumentedChannel(target, grpc::InsecureChannelCredentials(),
                                                      {}, {.tracer_provider = provider.get()});
  auto stub = Echo::NewStub(channel);
  std::string json = "{\"client\": \"cpp\", \"exchanges\": [";
  int rc = 0;
  for (const std::string method : {"Unary", "ServerStream"}) {
    tracewire::Span parent = tracer->StartSpan("parent " + method);
    std::vector<EchoResponse> replies;
    {
      tracewire::Context ctx = parent.ContextWithSpan(tracewire::Context::Current().WithBaggage(
          tracewire::Baggage().Set("interop.from", "cpp")));
      tracewire::Context::Scope scope = ctx.Attach();
      grpc::ClientContext cc;
      cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      EchoRequest req;
      grpc::Status status;
      if (method == "Unary") {
        req.set_message("hi");
        EchoResponse r;
        status = stub->Unary(&cc, req, &r);
        replies.push_back(r);
      } else {
        req.set_message("s");
        req.set_response_count(3);
        auto reader = stub->ServerStream(&cc, req);
        EchoResponse r;
        while (reader->Read(&r)) replies.push_back(r);
        status = reader->Finish();
      }
      if (!status.ok()) {
        std::fprintf(stderr, "grpc_interop_peer: %s failed: %s\n", method.c_str(),
                     status.error_message().c_str());
        rc = 1;
      }
    }
    const auto& pc = parent.GetContext();
    if (method != "Unary") json += ",";
    json += "{\"method\": \"" + method + "\", \"parent_trace_id\": \"" +
            Hex(pc.trace_id.data(), 16) + "\", \"parent_span_id\": \"" + Hex(pc.span_id.data(), 8) +
            "\", \"replies\": [";
    for (size_t i = 0; i < replies.size(); ++i) {
      const auto& r = replies[i];
      json += (i ? "," : "") + std::string("{\"trace_id\": \"") + r.trace_id() +
              "\", \"span_id\": \"" + r.span_id() + "\", \"baggage\": \"" + r.baggage() + "\"}";
    }
    json += "]}";
    parent.End();
  }
  json += "]}\n";
  std::ofstream(out_file) << json;
  if (!provider->Shutdown(absl::Now() + absl::Seconds(10)).ok()) rc = 1;
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "server") return Server(a[1], a[2]);
  if (a.size() == 4 && a[0] == "client") return Client(a[1], a[2], a[3]);
  std::fprintf(stderr,
               "usage: grpc_interop_peer server <endpoint> <port file>\n"
               "       grpc_interop_peer client <endpoint> <target> <out.json>\n");
  return 2;
}
