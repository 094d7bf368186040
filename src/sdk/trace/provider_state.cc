#include "sdk/trace/provider_state.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "sdk/resource_env.h"
#include "sdk/trace/batch_span_processor_internal.h"

namespace tracewire::sdk {
ProviderState::ProviderState(TracerProviderOptions options)
    : resource_(MergeResources(SdkResource(), options.resource)),
      sampler_(options.sampler ? std::move(options.sampler) : MakeAlwaysOnSampler()),
      processors_(std::move(options.processors)),
      ids_(options.id_generator ? std::move(options.id_generator) : MakeRandomIdGenerator()),
      sampler_shape_(ShapeOf(*sampler_)),
      random_ids_(IsRandomIdGenerator(*ids_)),
      sole_batch_(processors_.size() == 1 ? BatchSpanProcessorAccess::AsBatch(processors_[0].get())
                                          : nullptr),
      limits_(options.limits) {}

ProviderState::~ProviderState() = default;

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

}  // namespace tracewire::sdk
