// tracewire-baseline-receiver: the comparison point of the "receive" benchmark
// (shared/bench/WORKLOAD.md). An OTLP/gRPC TraceService written the usual way:
// the generated typed service, gRPC parses each request with libprotobuf into
// an ExportTraceServiceRequest, and the handler walks the spans checking their
// ids like tracewired does (trace_id 16 bytes and not all zero, span_id 8
// bytes and not all zero, parent_span_id empty or 8 bytes, end >= start),
// counts them, and answers (with partial_success when some are invalid).
// It keeps nothing.
//
//   tracewire-baseline-receiver [--listen HOST:PORT] [--mode callback|sync] [--arena]
//
// --mode callback (default) uses TraceService::CallbackService, the same
// threading model as tracewired, so the two differ by how they read requests;
// --mode sync uses the synchronous TraceService::Service. --arena (callback
// mode) parses each request into a google::protobuf::Arena through a gRPC
// MessageAllocator: the tuned libprotobuf way, a stricter comparison point.
// Prints "baseline listening on HOST:PORT" when ready; SIGTERM or SIGINT stop
// it (exit 0), printing what it counted on stderr. Max message size 64 MiB,
// as tracewired's default.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "google/protobuf/arena.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/message_allocator.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace {

namespace otlp = ::opentelemetry::proto::collector::trace::v1;

constexpr int kMaxMessageBytes = 64 << 20;

std::atomic<int64_t> g_requests{0};
std::atomic<int64_t> g_spans{0};
std::atomic<int64_t> g_rejected{0};

bool AllZero(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// The checks tracewired's wire reader applies to a span.
bool SpanValid(const ::opentelemetry::proto::trace::v1::Span& span) {
  if (span.trace_id().size() != 16 || AllZero(span.trace_id())) return false;
  if (span.span_id().size() != 8 || AllZero(span.span_id())) return false;
  if (!span.parent_span_id().empty() && span.parent_span_id().size() != 8) return false;
  return span.end_time_unix_nano() >= span.start_time_unix_nano();
}

void Handle(const otlp::ExportTraceServiceRequest& req, otlp::ExportTraceServiceResponse* resp) {
  int64_t spans = 0, rejected = 0;
  for (const auto& rs : req.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        ++spans;
        if (!SpanValid(span)) ++rejected;
      }
    }
  }
  g_requests.fetch_add(1, std::memory_order_relaxed);
  g_spans.fetch_add(spans - rejected, std::memory_order_relaxed);
  if (rejected > 0) {
    g_rejected.fetch_add(rejected, std::memory_order_relaxed);
    resp->mutable_partial_success()->set_rejected_spans(rejected);
    resp->mutable_partial_success()->set_error_message("invalid span ids or times");
  }
}

class CallbackImpl final : public otlp::TraceService::CallbackService {
  ::grpc::ServerUnaryReactor* Export(::grpc::CallbackServerContext* ctx,
                                     const otlp::ExportTraceServiceRequest* req,
                                     otlp::ExportTraceServiceResponse* resp) override {
    Handle(*req, resp);
    ::grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(::grpc::Status::OK);
    return reactor;
  }
};

// One arena per call: the request is parsed into it, and freed at once.
class ArenaHolder final
    : public ::grpc::MessageHolder<otlp::ExportTraceServiceRequest,
                                   otlp::ExportTraceServiceResponse> {
 public:
  ArenaHolder() {
    set_request(
        google::protobuf::Arena::CreateMessage<otlp::ExportTraceServiceRequest>(&arena_));
    set_response(
        google::protobuf::Arena::CreateMessage<otlp::ExportTraceServiceResponse>(&arena_));
  }
  void Release() override { delete this; }

 private:
  google::protobuf::Arena arena_;
};

class ArenaAllocator final
    : public ::grpc::MessageAllocator<otlp::ExportTraceServiceRequest,
                                      otlp::ExportTraceServiceResponse> {
  ::grpc::MessageHolder<otlp::ExportTraceServiceRequest, otlp::ExportTraceServiceResponse>*
  AllocateMessages() override {
    return new ArenaHolder;
  }
};

class SyncImpl final : public otlp::TraceService::Service {
  ::grpc::Status Export(::grpc::ServerContext*, const otlp::ExportTraceServiceRequest* req,
                        otlp::ExportTraceServiceResponse* resp) override {
    Handle(*req, resp);
    return ::grpc::Status::OK;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tracewire-baseline-receiver: libprotobuf OTLP/gRPC trace receiver"};
  std::string listen = "127.0.0.1:4317";
  std::string mode = "callback";
  bool arena = false;
  app.add_option("--listen", listen, "HOST:PORT to serve on (port 0 picks a free port)");
  app.add_option("--mode", mode, "callback | sync")->check(CLI::IsMember({"callback", "sync"}));
  app.add_flag("--arena", arena, "parse into a protobuf Arena (callback mode)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (arena && mode != "callback") {
    std::fprintf(stderr, "baseline: --arena needs --mode callback\n");
    return 2;
  }

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CallbackImpl callback_service;
  ArenaAllocator arena_allocator;
  if (arena) callback_service.SetMessageAllocatorFor_Export(&arena_allocator);
  SyncImpl sync_service;
  ::grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, ::grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  if (mode == "sync") {
    builder.RegisterService(&sync_service);
  } else {
    builder.RegisterService(&callback_service);
  }
  std::unique_ptr<::grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "baseline: cannot listen on %s\n", listen.c_str());
    return 2;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("baseline listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  std::fprintf(stderr, "baseline: stopped; %lld requests, %lld spans accepted, %lld rejected\n",
               static_cast<long long>(g_requests.load()), static_cast<long long>(g_spans.load()),
               static_cast<long long>(g_rejected.load()));
  return 0;
}
