#pragma once
// Tracing for gRPC C++ services and clients: one span per RPC, with the
// caller's trace context and baggage carried in the call's metadata.
//
//   grpc::ServerBuilder builder;
//   tracewire::InstrumentServer(builder, {.tracer_provider = provider});
//   ...
//   auto channel = tracewire::CreateInstrumentedChannel(
//       "127.0.0.1:50051", grpc::InsecureChannelCredentials(), {}, {.tracer_provider = provider});
//
// Server spans (kind SERVER) and client spans (kind CLIENT) are named
// "package.Service/Method" and carry the RPC semantic-convention attributes
// (rpc.system, rpc.service, rpc.method, rpc.grpc.status_code, server.address,
// server.port, network.peer.address, network.peer.port; or the newer ones
// with OTEL_SEMCONV_STABILITY_OPT_IN=rpc, both with rpc/dup). A stream is one
// span. Works with the synchronous, asynchronous (completion queue) and
// callback APIs on both sides.
//
// Which span is current:
//  - client: a call started while a span is current (on the thread that
//    creates the call) is that span's child;
//  - synchronous server: the server span is the current span (CurrentSpan())
//    while the handler runs, so the handler's spans and outgoing calls are its
//    children;
//  - asynchronous and callback servers: the handler asks for the call's
//    context with ServerSpanContext(context) and attaches it
//    (Context::Attach) where it works on the call.
//
// Thread safety: InstrumentServer and CreateInstrumentedChannel may be called
// from any thread. ServerSpanContext is thread-safe. The option callbacks
// (filter, span_name_formatter, metadata_attributes) are called from gRPC's
// threads, several at once: they must be thread-safe. The TracerProvider
// must outlive every server and channel instrumented with it.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tracewire/context.h"
#include "tracewire/export.h"
#include "tracewire/metrics.h"
#include "tracewire/propagation.h"
#include "tracewire/telemetry_data.h"
#include "tracewire/trace.h"

namespace grpc {
class Channel;
class ChannelArguments;
class ChannelCredentials;
class ServerBuilder;
class ServerContextBase;
}  // namespace grpc

namespace tracewire {

TRACEWIRE_BEGIN_API

struct GrpcInstrumentationOptions {
  // Where spans go. Null: the global TracerProvider (tracewire/global.h),
  // looked up per call, so that a server or channel made before the
  // application sets it traces once it is set (a no-op provider records
  // nothing but still passes the caller's context on).
  TracerProvider* tracer_provider = nullptr;
  // Injects into and extracts from the call's metadata. Null: the global
  // propagator (W3C Trace Context and Baggage unless the application set
  // another, e.g. InitFromEnv from OTEL_PROPAGATORS), per call.
  std::shared_ptr<const TextMapPropagator> propagator;
  // Decides which methods are traced, by full method name
  // ("/package.Service/Method"); an untraced call costs nothing more.
  // Null: every method except grpc.health.v1.* and grpc.reflection.*
  // (DefaultGrpcMethodFilter).
  std::function<bool(std::string_view full_method)> filter;
  // The span's name from the service ("package.Service") and method
  // ("Method"). Null: "package.Service/Method".
  std::function<std::string(std::string_view service, std::string_view method)> span_name_formatter;
  // Adds attributes to the call's span from the request metadata: on the
  // server, the metadata received (before the span starts, so a sampler sees
  // them); on the client, the metadata about to be sent.
  std::function<void(std::string_view full_method, const TextMapCarrier& metadata,
                     Attributes& attributes)>
      metadata_attributes;
  // Adds a "message" event (message.type SENT or RECEIVED, message.id,
  // message.uncompressed_size) per message.
  bool message_events = false;
  // The rpc metrics (rpc.{server,client}.duration, request and response
  // sizes, requests and responses per RPC; the newer call.duration with
  // OTEL_SEMCONV_STABILITY_OPT_IN=rpc) go to this provider. Null: the
  // global MeterProvider, per call.
  MeterProvider* meter_provider = nullptr;
  bool metrics = true;
  // Every message of the instrumented calls is a protobuf message (generated
  // code): the size of a received message is read from it. A generic
  // (grpc::ByteBuffer) service or stub must set this to false; its received
  // messages then have no size (events without message.uncompressed_size, no
  // request size on the server nor response size on the client).
  bool protobuf_messages = true;
  // The value of OTEL_SEMCONV_STABILITY_OPT_IN to follow ("rpc": the newer
  // RPC conventions, "rpc/dup": both). Unset: read from the environment when
  // the server or channel is instrumented.
  std::optional<std::string> semconv_stability_opt_in;
};

// True unless the method is grpc.health.v1's or grpc.reflection's.
bool DefaultGrpcMethodFilter(std::string_view full_method);

// Traces every call the server built by `builder` serves. Sets the builder's
// interceptor creators (ServerBuilder::experimental().SetInterceptorCreators),
// replacing any set before.
void InstrumentServer(grpc::ServerBuilder& builder, GrpcInstrumentationOptions options = {});

// grpc::CreateCustomChannel with every call traced and its context injected.
std::shared_ptr<grpc::Channel> CreateInstrumentedChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args, GrpcInstrumentationOptions options = {});

// The context of a traced server call: its server span's SpanContext and the
// baggage the caller sent. Attach it (Context::Attach) to make spans and
// outgoing calls children of the server span from asynchronous or callback
// handlers. An empty Context when the call is not traced or has ended.
Context ServerSpanContext(const grpc::ServerContextBase* context);

TRACEWIRE_END_API

}  // namespace tracewire
