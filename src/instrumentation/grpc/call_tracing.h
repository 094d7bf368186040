#pragma once
// What the server and client interceptors share: the resolved options of one
// instrumented server or channel (GrpcTracingConfig), the metadata carriers,
// and the attribute and event helpers.
//
// Thread safety: a GrpcTracingConfig is immutable once made and shared by
// every call of its server or channel. The carriers wrap one call's metadata
// and are used by one thread at a time. The registry functions
// (RegisterServerCall and friends) are thread-safe.

#include <grpcpp/support/string_ref.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "instrumentation/grpc/rpc_metrics.h"
#include "instrumentation/grpc/semconv.h"
#include "tracewire/global.h"
#include "tracewire/grpc.h"
#include "tracewire/propagation.h"
#include "tracewire/trace.h"

namespace grpc {
class ServerContextBase;
}

namespace tracewire::instrumentation {

// The tracer of one call, and what keeps its provider alive until the call
// ends (the global provider may be replaced meanwhile).
struct CallTracer {
  Tracer* tracer;                    // never null
  std::shared_ptr<const void> keep;  // null for a provider named in the options
};

// What every call of one traced method shares: its names and the attributes
// it starts with. Immutable once made; `name` views into `full_method`.
struct MethodInfo {
  std::string full_method;  // "/package.Service/Method"
  RpcMethodName name;
  std::string span_name;  // the formatter's, or "package.Service/Method"
  // AddStartAttributes's attributes with each side's kind and no parent (the
  // starting thread's current context): given to StartSpan as they are, so
  // that a call copies no attribute.
  StartSpanOptions client_start;
  StartSpanOptions server_start;
};

struct GrpcTracingConfig {
  // The options' provider's tracer; null: the global provider's, looked up
  // per call (ForCall), so that a channel or server made before the
  // application sets the global provider still traces once it is set.
  Tracer* tracer = nullptr;
  // The options' propagator; null: the global one, per call.
  std::shared_ptr<const TextMapPropagator> propagator;
  std::function<bool(std::string_view)> filter;  // never null
  std::function<std::string(std::string_view, std::string_view)> span_name_formatter;
  std::function<void(std::string_view, const TextMapCarrier&, Attributes&)> metadata_attributes;
  bool message_events = false;
  bool protobuf_messages = true;
  bool metrics = true;
  std::unique_ptr<RpcMetrics> own_metrics;  // for the options' MeterProvider
  RpcSemconv semconv = RpcSemconv::kOld;
  // The client's target (server.address, server.port); unset on servers.
  std::optional<HostPort> target;

  // Tells configs apart in the per-thread method cache (an address could be
  // reused by a later config).
  uint64_t id = 0;

  std::string SpanName(const RpcMethodName& name) const;
  // The MethodInfo of `full_method` under this config (not to be changed
  // once calls start), from a small per-thread cache keyed by the config's
  // id and the method's address and checked against its text: gRPC passes
  // the same static string for every call of a method, so a call costs a
  // lookup and a reference count instead of building names and attributes
  // (callgrind: ~1,000 instructions and two allocations a call and side).
  // The span-name formatter is called once per method and thread.
  std::shared_ptr<const MethodInfo> MethodFor(const char* full_method) const;
  CallTracer TracerForCall() const;
  // The rpc metrics of a call: none (metrics off), the options' provider's,
  // or the global provider's.
  CallMetrics MetricsForCall() const {
    if (!metrics) return {};
    CallMetrics m =
        own_metrics ? CallMetrics{own_metrics.get(), nullptr} : GlobalRpcMetrics();
    return m.metrics->enabled() ? m : CallMetrics{};
  }
  std::shared_ptr<const TextMapPropagator> PropagatorForCall() const {
    return propagator != nullptr ? propagator : GetTextMapPropagator();
  }
};

std::shared_ptr<const GrpcTracingConfig> MakeGrpcTracingConfig(GrpcInstrumentationOptions options);

// Received metadata (the server's view of the client's headers). Read-only:
// Set does nothing.
class ReceivedMetadataCarrier final : public TextMapCarrier {
 public:
  explicit ReceivedMetadataCarrier(const std::multimap<grpc::string_ref, grpc::string_ref>* md)
      : md_(md) {}
  std::optional<std::string_view> Get(std::string_view key) const override;
  void Set(std::string_view, std::string_view) override {}
  std::vector<std::string> Keys() const override;

 private:
  const std::multimap<grpc::string_ref, grpc::string_ref>* md_;
};

// Metadata about to be sent (the client's initial metadata). gRPC requires
// lowercase keys: Set lowercases the key and replaces a value set before.
class SendMetadataCarrier final : public TextMapCarrier {
 public:
  explicit SendMetadataCarrier(std::multimap<std::string, std::string>* md) : md_(md) {}
  std::optional<std::string_view> Get(std::string_view key) const override;
  void Set(std::string_view key, std::string_view value) override;
  std::vector<std::string> Keys() const override;

 private:
  std::multimap<std::string, std::string>* md_;
};

// The attributes known when a call starts (rpc.*, and server.* for a client).
void AddStartAttributes(const GrpcTracingConfig& config, const RpcMethodName& name,
                        Attributes& attributes);
// network.peer.address/port from a gRPC peer string.
void SetPeerAttributes(Span& span, std::string_view peer);
// The status code attribute(s) and the span status for the side.
void SetEndStatus(const GrpcTracingConfig& config, Span& span, int code, std::string_view message,
                  bool server);
// A "message" event: message.type SENT or RECEIVED, message.id, size.
void AddMessageEvent(Span& span, bool sent, int64_t id, int64_t uncompressed_size);

// The context of each traced server call in flight, for ServerSpanContext.
void RegisterServerCall(const grpc::ServerContextBase* ctx, const Context& context);
void UnregisterServerCall(const grpc::ServerContextBase* ctx);
Context FindServerCall(const grpc::ServerContextBase* ctx);

}  // namespace tracewire::instrumentation
