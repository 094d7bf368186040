#include "instrumentation/grpc/call_tracing.h"

#include <algorithm>
#include <array>
#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "common/plain_mutex.h"
#include "tracewire/version.h"

namespace tracewire {

bool DefaultGrpcMethodFilter(std::string_view full_method) {
  return !full_method.starts_with("/grpc.health.v1.") &&
         !full_method.starts_with("/grpc.reflection.");
}

Context ServerSpanContext(const grpc::ServerContextBase* context) {
  return instrumentation::FindServerCall(context);
}

namespace instrumentation {
namespace {

constexpr std::string_view kScopeName = "tracewire.instrumentation.grpc";

// absl::string_view is not std::string_view in Debian's absl: no absl
// string helpers here.
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string Qualified(const RpcMethodName& name) {
  std::string s(name.service);
  if (!name.method.empty()) {
    s += '/';
    s += name.method;
  }
  return s;
}

// The global provider's tracer for this instrumentation, cached by
// provider: the cache entry holds the provider, so its address cannot be
// reused by another while the entry is current.
CallTracer GlobalTracer() {
  struct Entry {
    std::shared_ptr<TracerProvider> provider;
    Tracer* tracer;
  };
  static auto* cache = new std::atomic<std::shared_ptr<const Entry>>();  // never destroyed
  std::shared_ptr<TracerProvider> provider = GetTracerProvider();
  std::shared_ptr<const Entry> e = cache->load(std::memory_order_acquire);
  if (e == nullptr || e->provider != provider) {
    Tracer* t = provider->GetTracer(kScopeName, TRACEWIRE_VERSION_STRING);
    e = std::make_shared<const Entry>(Entry{std::move(provider), t});
    cache->store(e, std::memory_order_release);
  }
  Tracer* t = e->tracer;
  return CallTracer{t, std::move(e)};
}

// The server calls in flight, sharded by context address so that calls on
// different threads rarely meet on one lock.
class ServerCallRegistry {
 public:
  void Add(const grpc::ServerContextBase* ctx, const Context& context) {
    Shard& s = ShardOf(ctx);
    common::PlainMutexLock lock(&s.mu);
    s.calls[ctx] = context;
  }
  void Remove(const grpc::ServerContextBase* ctx) {
    Shard& s = ShardOf(ctx);
    common::PlainMutexLock lock(&s.mu);
    s.calls.erase(ctx);
  }
  Context Find(const grpc::ServerContextBase* ctx) {
    Shard& s = ShardOf(ctx);
    common::PlainMutexLock lock(&s.mu);
    auto it = s.calls.find(ctx);
    return it == s.calls.end() ? Context() : it->second;
  }

 private:
  struct Shard {
    common::PlainMutex mu;
    absl::flat_hash_map<const grpc::ServerContextBase*, Context> calls ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(const grpc::ServerContextBase* ctx) {
    return shards_[(reinterpret_cast<uintptr_t>(ctx) >> 6) % shards_.size()];
  }
  std::array<Shard, 16> shards_;
};

ServerCallRegistry& Registry() {
  static ServerCallRegistry* const kRegistry = new ServerCallRegistry();  // never destroyed
  return *kRegistry;
}

}  // namespace

CallTracer GrpcTracingConfig::TracerForCall() const {
  if (tracer != nullptr) return CallTracer{tracer, nullptr};
  return GlobalTracer();
}

std::shared_ptr<const MethodInfo> GrpcTracingConfig::MethodFor(const char* full_method) const {
  struct Slot {
    uint64_t config = 0;
    const char* text = nullptr;
    std::shared_ptr<const MethodInfo> info;
  };
  thread_local std::array<Slot, 32> slots;
  uint64_t h = (reinterpret_cast<uintptr_t>(full_method) >> 3) ^ (id * 0x9E3779B97F4A7C15ull);
  h ^= h >> 29;
  Slot& slot = slots[h % slots.size()];
  if (slot.config == id && slot.text == full_method && slot.info->full_method == full_method) {
    return slot.info;
  }
  auto info = std::make_shared<MethodInfo>();
  info->full_method = full_method;  // in place: `name` views into it
  info->name = ParseFullMethod(info->full_method);
  info->span_name = SpanName(info->name);
  AddStartAttributes(*this, info->name, info->client_start.attributes);
  info->client_start.kind = SpanKind::kClient;
  info->server_start = info->client_start;
  info->server_start.kind = SpanKind::kServer;
  slot = Slot{id, full_method, info};
  return info;
}

std::string GrpcTracingConfig::SpanName(const RpcMethodName& name) const {
  if (span_name_formatter) return span_name_formatter(name.service, name.method);
  return Qualified(name);
}

std::shared_ptr<const GrpcTracingConfig> MakeGrpcTracingConfig(GrpcInstrumentationOptions options) {
  static std::atomic<uint64_t> next_id{1};
  auto c = std::make_shared<GrpcTracingConfig>();
  c->id = next_id.fetch_add(1, std::memory_order_relaxed);
  if (options.tracer_provider != nullptr) {
    c->tracer = options.tracer_provider->GetTracer(kScopeName, TRACEWIRE_VERSION_STRING);
  }
  c->propagator = std::move(options.propagator);
  c->filter = options.filter ? std::move(options.filter)
                             : std::function<bool(std::string_view)>(DefaultGrpcMethodFilter);
  c->span_name_formatter = std::move(options.span_name_formatter);
  c->metadata_attributes = std::move(options.metadata_attributes);
  c->message_events = options.message_events;
  c->protobuf_messages = options.protobuf_messages;
  c->metrics = options.metrics;
  if (options.metrics && options.meter_provider != nullptr) {
    c->own_metrics = std::make_unique<RpcMetrics>(*options.meter_provider);
  }
  c->semconv = options.semconv_stability_opt_in.has_value()
                   ? RpcSemconvFromValue(*options.semconv_stability_opt_in)
                   : RpcSemconvFromEnv();
  return c;
}

std::optional<std::string_view> ReceivedMetadataCarrier::Get(std::string_view key) const {
  // Keys arrive lowercase (HTTP/2); the propagators ask in any case.
  for (const auto& [k, v] : *md_) {
    if (EqualsIgnoreCase(std::string_view(k.data(), k.size()), key)) {
      return std::string_view(v.data(), v.size());
    }
  }
  return std::nullopt;
}

std::vector<std::string> ReceivedMetadataCarrier::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [k, v] : *md_) keys.emplace_back(k.data(), k.size());
  return keys;
}

std::optional<std::string_view> SendMetadataCarrier::Get(std::string_view key) const {
  for (const auto& [k, v] : *md_) {
    if (EqualsIgnoreCase(k, key)) return std::string_view(v);
  }
  return std::nullopt;
}

void SendMetadataCarrier::Set(std::string_view key, std::string_view value) {
  std::string lower(key);
  for (char& c : lower) c = Lower(c);
  md_->erase(lower);
  md_->emplace(std::move(lower), std::string(value));
}

std::vector<std::string> SendMetadataCarrier::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [k, v] : *md_) keys.push_back(k);
  return keys;
}

void AddStartAttributes(const GrpcTracingConfig& config, const RpcMethodName& name,
                        Attributes& attributes) {
  // At most 6 here (and a metadata_attributes hook may add more): one
  // allocation instead of the vector's 1, 2, 4 growth, each moving every
  // KeyValue (~1,200-2,100 instructions per call and side, callgrind).
  attributes.reserve(attributes.size() + 6);
  if (EmitsOld(config.semconv)) {
    attributes.push_back({"rpc.system", "grpc"});
    attributes.push_back({"rpc.service", std::string(name.service)});
    if (!EmitsNew(config.semconv)) attributes.push_back({"rpc.method", std::string(name.method)});
  }
  if (EmitsNew(config.semconv)) {
    attributes.push_back({"rpc.system.name", "grpc"});
    attributes.push_back({"rpc.method", Qualified(name)});
  }
  if (config.target.has_value()) {
    attributes.push_back({"server.address", config.target->host});
    if (config.target->port) attributes.push_back({"server.port", AnyValue(*config.target->port)});
  }
}

void SetPeerAttributes(Span& span, std::string_view peer) {
  std::optional<HostPort> hp = ParsePeer(peer);
  if (!hp.has_value()) return;
  span.SetAttribute("network.peer.address", hp->host);
  if (hp->port) span.SetAttribute("network.peer.port", *hp->port);
}

void SetEndStatus(const GrpcTracingConfig& config, Span& span, int code, std::string_view message,
                  bool server) {
  if (EmitsOld(config.semconv)) span.SetAttribute("rpc.grpc.status_code", int64_t{code});
  if (EmitsNew(config.semconv)) span.SetAttribute("rpc.response.status_code", StatusCodeName(code));
  if (server ? IsServerError(code) : IsClientError(code)) {
    span.SetStatus(StatusCode::kError, message.empty() ? StatusCodeName(code) : message);
  }
}

void AddMessageEvent(Span& span, bool sent, int64_t id, int64_t uncompressed_size) {
  if (uncompressed_size >= 0) {
    span.AddEvent("message", {{"message.type", sent ? "SENT" : "RECEIVED"},
                              {"message.id", id},
                              {"message.uncompressed_size", uncompressed_size}});
  } else {
    span.AddEvent("message", {{"message.type", sent ? "SENT" : "RECEIVED"}, {"message.id", id}});
  }
}

void RegisterServerCall(const grpc::ServerContextBase* ctx, const Context& context) {
  Registry().Add(ctx, context);
}
void UnregisterServerCall(const grpc::ServerContextBase* ctx) { Registry().Remove(ctx); }
Context FindServerCall(const grpc::ServerContextBase* ctx) {
  if (ctx == nullptr) return Context();
  return Registry().Find(ctx);
}

}  // namespace instrumentation
}  // namespace tracewire
