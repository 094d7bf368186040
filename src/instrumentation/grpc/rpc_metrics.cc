#include "instrumentation/grpc/rpc_metrics.h"

#include <atomic>
#include <string>

#include "tracewire/global.h"
#include "tracewire/version.h"

namespace tracewire::instrumentation {
namespace {

constexpr char kScope[] = "tracewire.instrumentation.grpc";

// The newer conventions' call-duration boundaries, in seconds.
std::vector<double> SecondsBoundaries() {
  return {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10};
}

// "package.Service/Method": the method's views are both into the call's
// "/package.Service/Method".
std::string_view QualifiedView(const RpcMethodName& name) {
  if (name.method.empty()) return name.service;
  return std::string_view(
      name.service.data(),
      static_cast<size_t>(name.method.data() + name.method.size() - name.service.data()));
}

}  // namespace

RpcMetrics::RpcMetrics(MeterProvider& provider) {
  Meter* meter = provider.GetMeter(kScope, TRACEWIRE_VERSION_STRING);
  for (int s = 0; s < 2; ++s) {
    Side& side = s == 0 ? server_ : client_;
    const std::string p = s == 0 ? "rpc.server." : "rpc.client.";
    side.duration_ms =
        meter->CreateDoubleHistogram(p + "duration", "ms", "Duration of inbound/outbound RPCs");
    side.call_duration_s = meter->CreateDoubleHistogram(p + "call.duration", "s",
                                                        "Duration of RPCs", SecondsBoundaries());
    side.request_size =
        meter->CreateInt64Histogram(p + "request.size", "By", "Sizes of RPC request messages");
    side.response_size =
        meter->CreateInt64Histogram(p + "response.size", "By", "Sizes of RPC response messages");
    side.requests_per_rpc =
        meter->CreateInt64Histogram(p + "requests_per_rpc", "{count}", "Request messages per RPC");
    side.responses_per_rpc = meter->CreateInt64Histogram(p + "responses_per_rpc", "{count}",
                                                         "Response messages per RPC");
    records_sizes_ =
        records_sizes_ || side.request_size.enabled() || side.response_size.enabled();
    enabled_ = enabled_ || records_sizes_ || side.duration_ms.enabled() ||
               side.call_duration_s.enabled() || side.requests_per_rpc.enabled() ||
               side.responses_per_rpc.enabled();
  }
}

void RpcMetrics::RecordMessage(const RpcCallFacts& call, bool sent, int64_t bytes) const {
  const Side& side = SideOf(call);
  // The server receives requests; the client sends them.
  const bool request = sent == (call.kind == SpanKind::kClient);
  const HistogramInstrument<int64_t>& h = request ? side.request_size : side.response_size;
  if (EmitsOld(call.semconv)) {
    h.Record(bytes, {{"rpc.system", "grpc"},
                     {"rpc.service", call.method.service},
                     {"rpc.method", call.method.method}});
  } else {
    h.Record(bytes, {{"rpc.system.name", "grpc"}, {"rpc.method", QualifiedView(call.method)}});
  }
}

void RpcMetrics::RecordCall(const RpcCallFacts& call) const {
  const Side& side = SideOf(call);
  const double seconds = absl::ToDoubleSeconds(call.duration);
  const bool server = call.kind == SpanKind::kServer;
  const int64_t requests = server ? call.messages_received : call.messages_sent;
  const int64_t responses = server ? call.messages_sent : call.messages_received;
  if (EmitsOld(call.semconv)) {
    const AttributeView attrs[] = {{"rpc.system", "grpc"},
                                   {"rpc.service", call.method.service},
                                   {"rpc.method", call.method.method},
                                   {"rpc.grpc.status_code", int64_t{call.status_code}}};
    side.duration_ms.Record(seconds * 1e3, attrs);
    side.requests_per_rpc.Record(requests, attrs);
    side.responses_per_rpc.Record(responses, attrs);
  }
  if (EmitsNew(call.semconv)) {
    const AttributeView attrs[] = {{"rpc.system.name", "grpc"},
                                   {"rpc.method", QualifiedView(call.method)},
                                   {"rpc.response.status_code", StatusCodeName(call.status_code)}};
    side.call_duration_s.Record(seconds, attrs);
    if (!EmitsOld(call.semconv)) {
      side.requests_per_rpc.Record(requests, attrs);
      side.responses_per_rpc.Record(responses, attrs);
    }
  }
}

CallMetrics GlobalRpcMetrics() {
  struct Entry {
    std::shared_ptr<MeterProvider> provider;
    RpcMetrics metrics;
  };
  static auto* cache = new std::atomic<std::shared_ptr<const Entry>>();  // never destroyed
  std::shared_ptr<MeterProvider> provider = GetMeterProvider();
  std::shared_ptr<const Entry> e = cache->load(std::memory_order_acquire);
  if (e == nullptr || e->provider != provider) {
    RpcMetrics metrics(*provider);
    e = std::make_shared<const Entry>(Entry{std::move(provider), std::move(metrics)});
    cache->store(e, std::memory_order_release);
  }
  const RpcMetrics* m = &e->metrics;
  return CallMetrics{m, std::move(e)};
}

}  // namespace tracewire::instrumentation
