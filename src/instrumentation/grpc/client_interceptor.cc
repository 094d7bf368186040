// The client side: one interceptor per traced call, made by the factory of
// the channel CreateInstrumentedChannel returns.
//
// gRPC creates a call's interceptors when the call is created, on the thread
// that starts it, for the synchronous, asynchronous and callback stubs
// alike: the span starts there, as a child of that thread's current context.
// The context (with its baggage) is injected at PRE_SEND_INITIAL_METADATA;
// the span ends at POST_RECV_STATUS, or when the ClientContext is destroyed
// if the status was never received (an asynchronous call never finished).
// Hooks of a stream can run at once on two threads (a read and a write): the
// span is touched under mu_, never across Proceed().

#include <google/protobuf/message_lite.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_interceptor.h>

#include <atomic>

#include "absl/time/clock.h"
#include "common/plain_mutex.h"
#include "instrumentation/grpc/call_tracing.h"
#include "instrumentation/grpc/rpc_call_facts.h"

namespace tracewire {
namespace instrumentation {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

class ClientTracingInterceptor final : public grpc::experimental::Interceptor {
 public:
  ClientTracingInterceptor(std::shared_ptr<const GrpcTracingConfig> config,
                           grpc::experimental::ClientRpcInfo* info)
      : config_(std::move(config)),
        ctx_(info->client_context()),
        method_(config_->MethodFor(info->method() == nullptr ? "" : info->method())),
        name_(method_->name),
        start_(absl::Now()),
        parent_(Context::Current()) {
    CallTracer tracer = config_->TracerForCall();
    keep_provider_ = std::move(tracer.keep);
    metrics_ = config_->MetricsForCall();
    // Its parent is this thread's current context, parent_.
    span_ = tracer.tracer->StartSpan(method_->span_name, method_->client_start);
    recording_ = span_.IsRecording();
  }

  ~ClientTracingInterceptor() override {
    common::PlainMutexLock lock(&mu_);
    if (!ended_) EndLocked(grpc::CANCELLED, "the call ended without a status");
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      SendMetadataCarrier carrier(methods->GetSendInitialMetadata());
      common::PlainMutexLock lock(&mu_);
      if (config_->metadata_attributes) {
        Attributes attributes;
        config_->metadata_attributes(method_->full_method, carrier, attributes);
        for (KeyValue& kv : attributes) span_.SetAttribute(kv.key, std::move(kv.value));
      }
      // A span that is not recorded (no provider) passes the caller's
      // context on, as the API's non-recording spans do.
      const SpanContext& sc =
          span_.GetContext().IsValid() ? span_.GetContext() : parent_.span_context();
      config_->PropagatorForCall()->Inject(carrier, parent_.WithSpanContext(sc));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      OnMessage(/*sent=*/true, nullptr, methods);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      void* msg = methods->GetRecvMessage();
      if (msg != nullptr) OnMessage(/*sent=*/false, msg, nullptr);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      grpc::Status* status = methods->GetRecvStatus();
      // peer() makes a std::string: only for a span that keeps it.
      std::string peer = recording_ ? ctx_->peer() : std::string();
      common::PlainMutexLock lock(&mu_);
      if (!ended_) {
        if (recording_) SetPeerAttributes(span_, peer);
        if (status != nullptr) {
          EndLocked(status->error_code(), status->error_message());
        } else {
          EndLocked(grpc::UNKNOWN, "no status");
        }
      }
    }
    methods->Proceed();
  }

 private:
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
      call.kind = SpanKind::kClient;
      call.semconv = config_->semconv;
      metrics_.metrics->RecordMessage(call, sent, size);
    }
    common::PlainMutexLock lock(&mu_);
    (sent ? bytes_sent_ : bytes_received_) += size > 0 ? size : 0;
    if (config_->message_events && !ended_) AddMessageEvent(span_, sent, id, size);
  }

  void EndLocked(int code, std::string_view message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ended_ = true;
    RpcCallFacts facts;
    facts.method = name_;
    facts.kind = SpanKind::kClient;
    facts.semconv = config_->semconv;
    facts.status_code = code;
    facts.messages_received = received_.load(std::memory_order_relaxed);
    facts.messages_sent = sent_.load(std::memory_order_relaxed);
    facts.bytes_received = bytes_received_;
    facts.bytes_sent = bytes_sent_;
    facts.duration = absl::Now() - start_;
    // Recorded before the span ends (rpc_metrics.h).
    if (metrics_.metrics != nullptr) metrics_.metrics->RecordCall(facts);
    SetEndStatus(*config_, span_, code, message, /*server=*/false);
    span_.End();
  }

  const std::shared_ptr<const GrpcTracingConfig> config_;
  // Keeps the global provider this call's span came from alive (declared
  // before span_, so destroyed after it).
  std::shared_ptr<const void> keep_provider_;
  CallMetrics metrics_;  // resolved with the tracer
  grpc::ClientContext* const ctx_;
  const std::shared_ptr<const MethodInfo> method_;
  const RpcMethodName name_;  // views into method_'s full_method
  const absl::Time start_;
  const Context parent_;
  bool recording_ = false;  // span_.IsRecording(), set before any hook runs
  std::atomic<int64_t> received_{0};
  std::atomic<int64_t> sent_{0};

  common::PlainMutex mu_;
  Span span_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  int64_t bytes_received_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_sent_ ABSL_GUARDED_BY(mu_) = 0;
};

class ClientTracingFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ClientTracingFactory(std::shared_ptr<const GrpcTracingConfig> config)
      : config_(std::move(config)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    const char* method = info->method();
    if (method == nullptr || !config_->filter(method)) return nullptr;
    return new ClientTracingInterceptor(config_, info);
  }

 private:
  const std::shared_ptr<const GrpcTracingConfig> config_;
};

}  // namespace
}  // namespace instrumentation

std::shared_ptr<grpc::Channel> CreateInstrumentedChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args, GrpcInstrumentationOptions options) {
  auto config = std::const_pointer_cast<instrumentation::GrpcTracingConfig>(
      instrumentation::MakeGrpcTracingConfig(std::move(options)));
  config->target = instrumentation::ParseTarget(target);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<instrumentation::ClientTracingFactory>(std::move(config)));
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, credentials, args,
                                                                 std::move(creators));
}

}  // namespace tracewire
