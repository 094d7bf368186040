#pragma once
// ScriptedReceiver: a real OTLP/gRPC server on 127.0.0.1:0 whose answers a
// test scripts call by call (status code, RetryInfo, partial_success, a slow
// reply). After the script runs out it answers OK. It records every request.
// Header-only test helper; thread-safe.

#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "receiver/retry_info.h"
#include "wire/proto_writer.h"

namespace tracewire::testing {

struct Reply {
  ::grpc::StatusCode code = ::grpc::StatusCode::OK;
  std::optional<absl::Duration> retry_info;
  int64_t rejected = 0;
  std::string message;
  absl::Duration delay = absl::ZeroDuration();
};

struct ReceivedCall {
  int signal = 0;
  std::string bytes;
  std::multimap<std::string, std::string> metadata;
};

class ScriptedReceiver {
 public:
  ScriptedReceiver() = default;
  ~ScriptedReceiver() { Stop(); }

  bool Start(const std::string& listen = "127.0.0.1:0") {
    // A plain OTLP server: no grpc.health.v1 (the flag is process-wide and
    // read when a server is built).
    ::grpc::EnableDefaultHealthCheckService(false);
    ::grpc::ServerBuilder b;
    b.AddListeningPort(listen, ::grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&traces_);
    b.RegisterService(&metrics_);
    b.RegisterService(&logs_);
    server_ = b.BuildAndStart();
    return server_ != nullptr && port_ > 0;
  }
  void Stop() {
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      server_->Wait();
      server_.reset();
    }
  }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Script(std::vector<Reply> replies) {
    absl::MutexLock l(&mu_);
    script_.assign(replies.begin(), replies.end());
  }
  std::vector<ReceivedCall> calls() {
    absl::MutexLock l(&mu_);
    return calls_;
  }
  size_t call_count() {
    absl::MutexLock l(&mu_);
    return calls_.size();
  }

  ::grpc::Status Handle(int signal, ::grpc::CallbackServerContext* ctx,
                        const ::grpc::ByteBuffer* req, ::grpc::ByteBuffer* resp) {
    ReceivedCall call;
    call.signal = signal;
    ::grpc::Slice s;
    if (req->DumpToSingleSlice(&s).ok()) {
      call.bytes.assign(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    for (const auto& [k, v] : ctx->client_metadata()) {
      call.metadata.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    Reply r;
    {
      absl::MutexLock l(&mu_);
      calls_.push_back(std::move(call));
      if (!script_.empty()) {
        r = script_.front();
        script_.pop_front();
      }
    }
    if (r.delay > absl::ZeroDuration()) absl::SleepFor(r.delay);
    if (r.code != ::grpc::StatusCode::OK) {
      if (r.retry_info) return receiver::StatusWithRetryInfo(r.code, r.message, *r.retry_info);
      return ::grpc::Status(r.code, r.message);
    }
    std::string out;
    if (r.rejected > 0 || !r.message.empty()) {
      std::string ps;
      wire::AppendVarint(&ps, 1 << 3);
      wire::AppendVarint(&ps, static_cast<uint64_t>(r.rejected));
      wire::AppendLenField(&ps, 2, r.message);
      wire::AppendLenField(&out, 1, ps);
    }
    ::grpc::Slice slice(out);
    *resp = ::grpc::ByteBuffer(&slice, 1);
    return ::grpc::Status::OK;
  }

 private:
  template <typename Base, int kSignal>
  class Svc : public Base {
   public:
    explicit Svc(ScriptedReceiver* r) : r_(r) {}
    ::grpc::ServerUnaryReactor* Export(::grpc::CallbackServerContext* ctx,
                                       const ::grpc::ByteBuffer* req,
                                       ::grpc::ByteBuffer* resp) override {
      auto* reactor = ctx->DefaultReactor();
      reactor->Finish(r_->Handle(kSignal, ctx, req, resp));
      return reactor;
    }

   private:
    ScriptedReceiver* r_;
  };
  using T = ::opentelemetry::proto::collector::trace::v1::TraceService;
  using M = ::opentelemetry::proto::collector::metrics::v1::MetricsService;
  using L = ::opentelemetry::proto::collector::logs::v1::LogsService;

  Svc<T::WithRawCallbackMethod_Export<T::Service>, 0> traces_{this};
  Svc<M::WithRawCallbackMethod_Export<M::Service>, 1> metrics_{this};
  Svc<L::WithRawCallbackMethod_Export<L::Service>, 2> logs_{this};
  std::unique_ptr<::grpc::Server> server_;
  int port_ = 0;
  absl::Mutex mu_;
  std::deque<Reply> script_ ABSL_GUARDED_BY(mu_);
  std::vector<ReceivedCall> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracewire::testing
