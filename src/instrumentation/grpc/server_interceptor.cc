// The server side: one interceptor per traced call, made by the factory
// InstrumentServer installs.
//
// When the span starts and ends, by API (gRPC 1.51):
//  - every call's first hook is POST_RECV_INITIAL_METADATA: the caller's
//    context is extracted and the span starts;
//  - synchronous API: the handler runs on a sync-server thread inside the
//    Proceed() of that first batch, and the status is sent (PRE_SEND_STATUS)
//    on the same thread when it returns. So the span is made current before
//    Proceed and stops being current, and ends, at PRE_SEND_STATUS. It was
//    cancelled if the call closed first (POST_RECV_CLOSE ran: a handler's
//    own IsCancelled brings it on) or its deadline has passed; IsCancelled
//    is not asked there, since it polls the call's completion queue (~25 µs
//    of CPU a call);
//  - asynchronous and callback APIs: the handler runs later, elsewhere; the
//    span ends when the call is closed (POST_RECV_CLOSE, after the status was
//    sent, or without a status when the client cancelled or the deadline
//    passed; a callback call reports its cancellation itself, since its
//    OnCancel may send a status first);
//  - whatever happens, the interceptor is destroyed with the ServerContext
//    and ends the span if it is still open.
// Hooks of one call may run on different threads, and those of a stream at
// once (a read and a write): the span is touched under mu_, never across
// Proceed(), since the synchronous handler runs inside it.

#include <google/protobuf/message_lite.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/callback_common.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/server_interceptor.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "absl/time/clock.h"
#include "common/plain_mutex.h"
#include "instrumentation/grpc/call_tracing.h"
#include "instrumentation/grpc/rpc_call_facts.h"
#include "propagation/context_internal.h"

namespace tracewire {
namespace instrumentation {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

// gRPC names its synchronous server's threads "grpcpp_sync_server"
// (src/cpp/thread_manager/thread_manager.cc), 15 characters kept by Linux.
// Asked once per thread: glibc answers pthread_getname_np for the calling
// thread with a prctl system call, and gRPC never renames its threads.
bool OnSyncServerThread() {
  thread_local const bool on_sync_thread = [] {
    char name[16] = {};
    if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return false;
    return std::strncmp(name, "grpcpp_sync_ser", 15) == 0;
  }();
  return on_sync_thread;
}

// ParseTarget of a call's :authority, remembered per thread: a server's
// calls nearly always name the same authority.
const std::optional<HostPort>& ParseAuthority(std::string_view authority) {
  thread_local std::string last;
  thread_local std::optional<HostPort> parsed;
  thread_local bool valid = false;
  if (!valid || authority != last) {
    last.assign(authority);
    parsed = ParseTarget(authority);
    valid = true;
  }
  return parsed;
}

class ServerTracingInterceptor final : public grpc::experimental::Interceptor {
 public:
  ServerTracingInterceptor(std::shared_ptr<const GrpcTracingConfig> config,
                           grpc::experimental::ServerRpcInfo* info)
      : config_(std::move(config)),
        ctx_(info->server_context()),
        callback_(dynamic_cast<grpc::CallbackServerContext*>(ctx_) != nullptr),
        method_(config_->MethodFor(info->method() == nullptr ? "" : info->method())),
        name_(method_->name),
        start_(absl::Now()) {}

  ~ServerTracingInterceptor() override {
    UnregisterServerCall(ctx_);
    common::PlainMutexLock lock(&mu_);
    // The call went away without a status: the client cancelled, the
    // deadline passed, or an asynchronous handler never finished it.
    if (!ended_) EndLocked(status_sent_ ? sent_code_ : CancelledCode(), sent_message_);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Start(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      void* msg = methods->GetRecvMessage();
      if (msg != nullptr) OnMessage(/*sent=*/false, msg, nullptr);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      OnMessage(/*sent=*/true, nullptr, methods);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      OnSendStatus(methods->GetSendStatus());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_CLOSE)) {
      // A callback server's IsCancelled is always valid (its OnCancel may
      // have sent a status already: the client never saw it). Elsewhere it
      // may not be (an asynchronous call without AsyncNotifyWhenDone would
      // pluck from a completion queue that cannot be plucked): a call closed
      // before a status was sent was cancelled.
      bool cancelled = callback_ && ctx_->IsCancelled();
      common::PlainMutexLock lock(&mu_);
      closed_ = true;
      if (!sync_ && !ended_) {
        EndLocked(cancelled || !status_sent_ ? CancelledCode() : sent_code_, sent_message_);
      }
    }
    methods->Proceed();
  }

 private:
  void Start(std::multimap<grpc::string_ref, grpc::string_ref>* md) {
    ReceivedMetadataCarrier carrier(md);
    Context parent = config_->PropagatorForCall()->Extract(carrier, Context());
    common::PlainMutexLock lock(&mu_);
    CallTracer tracer = config_->TracerForCall();
    keep_provider_ = std::move(tracer.keep);
    metrics_ = config_->MetricsForCall();
    if (config_->metadata_attributes) {
      StartSpanOptions o = method_->server_start;
      o.parent = parent;
      config_->metadata_attributes(method_->full_method, carrier, o.attributes);
      span_ = tracer.tracer->StartSpan(method_->span_name, o);
    } else {
      // The method's options as they are, the caller's context current for
      // the start: no attribute copied.
      Context::Scope as_parent = parent.Attach();
      span_ = tracer.tracer->StartSpan(method_->span_name, method_->server_start);
    }
    if (span_.IsRecording()) {
      SetPeerAttributes(span_, ctx_->peer());
      grpc::string_ref authority = ctx_->ExperimentalGetAuthority();
      if (const std::optional<HostPort>& hp =
              ParseAuthority(std::string_view(authority.data(), authority.size()))) {
        span_.SetAttribute("server.address", hp->host);
        if (hp->port) span_.SetAttribute("server.port", *hp->port);
      }
    }
    // Not recorded (no provider): the handler continues the caller's trace.
    Context context =
        span_.GetContext().IsValid() ? parent.WithSpanContext(span_.GetContext()) : parent;
    RegisterServerCall(ctx_, context);
    // A synchronous handler runs on this thread inside Proceed(): make the
    // span current for it. A callback server's context is never synchronous.
    if (!callback_ && OnSyncServerThread()) {
      sync_ = true;
      scope_thread_ = std::this_thread::get_id();
      scope_.emplace(context.Attach());
      context_internal::SetTopSpan(&span_);
    }
  }

  void OnMessage(bool sent, void* received, InterceptorBatchMethods* methods) {
    int64_t id = sent ? sent_.fetch_add(1, std::memory_order_relaxed) + 1
                      : received_.fetch_add(1, std::memory_order_relaxed) + 1;
    const bool record_size = metrics_.metrics != nullptr && metrics_.metrics->records_sizes();
    if (!config_->message_events && !record_size) return;
    int64_t size = -1;
    if (sent) {
      grpc::ByteBuffer* buf = methods->GetSerializedSendMessage();
      if (buf != nullptr) size = static_cast<int64_t>(buf->Length());
    } else if (config_->protobuf_messages) {
      // Generated code's messages are protobuf messages (grpc.h:
      // protobuf_messages says when they are not).
      size = static_cast<int64_t>(
          static_cast<const google::protobuf::MessageLite*>(received)->ByteSizeLong());
    }
    if (record_size && size >= 0) {
      RpcCallFacts call;
      call.method = name_;
      call.kind = SpanKind::kServer;
      call.semconv = config_->semconv;
      metrics_.metrics->RecordMessage(call, sent, size);
    }
    common::PlainMutexLock lock(&mu_);
    (sent ? bytes_sent_ : bytes_received_) += size > 0 ? size : 0;
    if (config_->message_events && !ended_) AddMessageEvent(span_, sent, id, size);
  }

  void OnSendStatus(const grpc::Status& status) {
    common::PlainMutexLock lock(&mu_);
    status_sent_ = true;
    sent_code_ = status.error_code();
    sent_message_ = status.error_message();
    if (!sync_) return;
    if (scope_.has_value() && scope_thread_ == std::this_thread::get_id()) {
      scope_.reset();  // the handler has returned: its scopes have ended
    }
    // A synchronous call was cancelled (by the client or its deadline) if it
    // closed before its handler returned, or its deadline has passed. Not
    // asked of IsCancelled, which here polls the call's completion queue
    // (~25 µs of CPU a call, measured in the rpc benchmark): a cancellation
    // the handler never saw and that comes after it returned leaves the
    // handler's status, as Go's otelgrpc records it.
    const bool cancelled = closed_ || std::chrono::system_clock::now() >= ctx_->deadline();
    if (!ended_) EndLocked(cancelled ? CancelledCode() : sent_code_, sent_message_);
  }

  // CANCELLED, or DEADLINE_EXCEEDED when the call's deadline has passed or
  // nearly: the server's deadline comes from the grpc-timeout header, so it
  // falls a little after the client's, whose expiry cancels the call first.
  int CancelledCode() const {
    constexpr auto kSlack = std::chrono::milliseconds(20);
    return std::chrono::system_clock::now() + kSlack >= ctx_->deadline() ? grpc::DEADLINE_EXCEEDED
                                                                         : grpc::CANCELLED;
  }

  void EndLocked(int code, std::string_view message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ended_ = true;
    RpcCallFacts facts;
    facts.method = name_;
    facts.kind = SpanKind::kServer;
    facts.semconv = config_->semconv;
    facts.status_code = code;
    facts.messages_received = received_.load(std::memory_order_relaxed);
    facts.messages_sent = sent_.load(std::memory_order_relaxed);
    facts.bytes_received = bytes_received_;
    facts.bytes_sent = bytes_sent_;
    facts.duration = absl::Now() - start_;
    // Recorded before the span ends (rpc_metrics.h).
    if (metrics_.metrics != nullptr) metrics_.metrics->RecordCall(facts);
    SetEndStatus(*config_, span_, code, message, /*server=*/true);
    span_.End();
  }

  const std::shared_ptr<const GrpcTracingConfig> config_;
  // Keeps the global provider this call's span came from alive (declared
  // before span_, so destroyed after it).
  std::shared_ptr<const void> keep_provider_;
  CallMetrics metrics_;  // resolved with the tracer
  grpc::ServerContextBase* const ctx_;
  const bool callback_;  // a callback-API call (CallbackServerContext)
  const std::shared_ptr<const MethodInfo> method_;
  const RpcMethodName name_;  // views into method_'s full_method
  const absl::Time start_;
  std::atomic<int64_t> received_{0};
  std::atomic<int64_t> sent_{0};

  common::PlainMutex mu_;
  Span span_ ABSL_GUARDED_BY(mu_);
  bool sync_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Context::Scope> scope_ ABSL_GUARDED_BY(mu_);
  std::thread::id scope_thread_ ABSL_GUARDED_BY(mu_);
  bool status_sent_ ABSL_GUARDED_BY(mu_) = false;
  int sent_code_ ABSL_GUARDED_BY(mu_) = 0;
  std::string sent_message_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;  // POST_RECV_CLOSE has run
  int64_t bytes_received_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_sent_ ABSL_GUARDED_BY(mu_) = 0;
};

class ServerTracingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ServerTracingFactory(std::shared_ptr<const GrpcTracingConfig> config)
      : config_(std::move(config)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    if (method == nullptr || !config_->filter(method)) return nullptr;
    return new ServerTracingInterceptor(config_, info);
  }

 private:
  const std::shared_ptr<const GrpcTracingConfig> config_;
};

}  // namespace
}  // namespace instrumentation

void InstrumentServer(grpc::ServerBuilder& builder, GrpcInstrumentationOptions options) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<instrumentation::ServerTracingFactory>(
      instrumentation::MakeGrpcTracingConfig(std::move(options))));
  builder.experimental().SetInterceptorCreators(std::move(creators));
}

}  // namespace tracewire
