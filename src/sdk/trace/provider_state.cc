#include "sdk/trace/provider_state.h"

#include <sched.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "sdk/resource_env.h"

namespace tracewire::sdk {
namespace {

constexpr size_t kPoolSizePerShard = 2048;

}  // namespace

ProviderState::ProviderState(TracerProviderOptions options)
    : resource_(MergeResources(SdkResource(), options.resource)),
      sampler_(options.sampler ? std::move(options.sampler) : MakeAlwaysOnSampler()),
      processors_(std::move(options.processors)),
      ids_(options.id_generator ? std::move(options.id_generator) : MakeRandomIdGenerator()),
      limits_(options.limits) {
  for (auto& p : pools_) p = std::make_unique<common::MpmcQueue<RecordedSpan*>>(kPoolSizePerShard);
}

ProviderState::~ProviderState() {
  RecordedSpan* s;
  for (auto& p : pools_) {
    while (p->TryPop(&s)) delete s;
  }
}

Tracer* ProviderState::GetTracer(std::string_view name, std::string_view version,
                                 std::string_view schema_url, Attributes attributes) {
  absl::MutexLock lock(&mu_);
  for (const auto& t : tracers_) {
    const InstrumentationScope& s = t->scope();
    if (s.name == name && s.version == version && s.schema_url == schema_url &&
        s.attributes == attributes) {
      return t.get();
    }
  }
  InstrumentationScope scope;
  scope.name = std::string(name);
  scope.version = std::string(version);
  scope.schema_url = std::string(schema_url);
  scope.attributes = std::move(attributes);
  tracers_.push_back(std::unique_ptr<Tracer>(new Tracer(this, std::move(scope))));
  return tracers_.back().get();
}

RecordedSpan* ProviderState::Acquire() {
  const int cpu = sched_getcpu();  // glibc reads it from rseq: no system call
  const uint32_t shard = static_cast<uint32_t>(cpu < 0 ? 0 : cpu) % kPoolShards;
  RecordedSpan* s;
  if (!pools_[shard]->TryPop(&s)) {
    s = new RecordedSpan();
    s->pool_shard = shard;
  }
  // The span is reset here, on the thread that is about to fill it, rather
  // than in Release on the export thread: the lines it writes stay in this
  // core's cache. Attribute and event elements (and their strings' capacity)
  // are kept for reuse; see RecordedSpan.
  SpanData& d = s->data;
  s->provider = this;
  s->ended = false;
  s->attr_count = 0;
  s->event_count = 0;
  s->key_bits = 0;
  s->refs.store(0, std::memory_order_relaxed);
  if (!d.links.empty()) d.links.clear();
  if (!d.trace_state.empty()) d.trace_state.clear();
  d.parent_span_id.reset();
  d.dropped_attributes_count = d.dropped_events_count = d.dropped_links_count = 0;
  d.status_code = StatusCode::kUnset;
  if (!d.status_message.empty()) d.status_message.clear();
  d.flags = 0;
  return s;
}

void ProviderState::Release(RecordedSpan* s) {
  if (!pools_[s->pool_shard]->TryPush(s)) delete s;
}

absl::Status ProviderState::ForceFlush(absl::Time deadline) {
  absl::Status result;
  for (auto& p : processors_) result.Update(p->ForceFlush(deadline));
  return result;
}

absl::Status ProviderState::Shutdown(absl::Time deadline) {
  if (shut_down_.exchange(true, std::memory_order_acq_rel)) return absl::OkStatus();
  absl::Status result;
  for (auto& p : processors_) result.Update(p->Shutdown(deadline));
  return result;
}

void TruncateValue(AnyValue* v, uint32_t limit) {
  if (auto* s = std::get_if<std::string>(&v->value)) {
    if (s->size() > limit) s->resize(limit);
  } else if (auto* a = std::get_if<AnyValue::Array>(&v->value)) {
    for (auto& e : *a) TruncateValue(&e, limit);
  }
}

}  // namespace tracewire::sdk
