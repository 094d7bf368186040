#pragma once
// The SDK's internals behind TracerProvider: the provider's shared state.
// Span storage is in span_record.h.
//
// ProviderState is thread-safe.

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sdk/trace/fast_paths.h"
#include "sdk/trace/span_counters.h"
#include "sdk/trace/span_record.h"
#include "tracewire/trace.h"

namespace tracewire::sdk {

class ProviderState {
 public:
  explicit ProviderState(TracerProviderOptions options);
  ~ProviderState();

  Tracer* GetTracer(std::string_view name, std::string_view version, std::string_view schema_url,
                    Attributes attributes);

  const Resource& resource() const { return resource_; }
  const Sampler& sampler() const { return *sampler_; }
  IdGenerator& ids() { return *ids_; }
  // What StartSpan may do without asking the sampler / the id generator.
  SamplerShape sampler_shape() const { return sampler_shape_; }
  bool random_ids() const { return random_ids_; }
  // The only processor, when it is a BatchSpanProcessor (Span::End claims
  // its queue cell before sealing the span); else null.
  BatchSpanProcessor* sole_batch() const { return sole_batch_; }
  const SpanLimits& limits() const { return limits_; }
  const std::vector<std::unique_ptr<SpanProcessor>>& processors() const { return processors_; }
  // Started and ended spans, for otel.sdk.span.started / live.
  SpanCounters& span_counts() { return span_counts_; }
  const SpanCounters& span_counts() const { return span_counts_; }
  bool shut_down() const { return shut_down_.load(std::memory_order_acquire); }

  absl::Status ForceFlush(absl::Time deadline);
  absl::Status Shutdown(absl::Time deadline);

 private:
  Resource resource_;
  std::shared_ptr<Sampler> sampler_;
  std::vector<std::unique_ptr<SpanProcessor>> processors_;
  std::unique_ptr<IdGenerator> ids_;
  const SamplerShape sampler_shape_;
  const bool random_ids_;
  BatchSpanProcessor* const sole_batch_;
  SpanLimits limits_;
  SpanCounters span_counts_;
  std::atomic<bool> shut_down_{false};  // release/acquire: a flag read by span ends
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Tracer>> tracers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracewire::sdk
