#pragma once
// Samplers decide, when a span starts, whether it is recorded and sampled
// (exported): AlwaysOn, AlwaysOff, TraceIdRatioBased and ParentBased with its
// five delegates, as the OpenTelemetry specification defines them.
//
// Thread safety: the samplers here are immutable after construction:
// thread-safe. A user's Sampler must be thread-safe too: every thread that
// starts a span calls ShouldSample, concurrently.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tracewire/context.h"
#include "tracewire/export.h"
#include "tracewire/telemetry_data.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

enum class SamplingDecision : uint8_t { kDrop, kRecordOnly, kRecordAndSample };

struct SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  Attributes attributes;  // added to the span
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // `parent` is the parent's context (possibly invalid: a root span).
  virtual SamplingResult ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                                      std::string_view name, SpanKind kind,
                                      const Attributes& attributes) const = 0;
  virtual std::string Description() const = 0;
};

std::shared_ptr<Sampler> MakeAlwaysOnSampler();
std::shared_ptr<Sampler> MakeAlwaysOffSampler();
// Samples a fraction `ratio` (clamped to [0, 1]) of traces, deterministically
// from the trace id's last 8 bytes.
std::shared_ptr<Sampler> MakeTraceIdRatioSampler(double ratio);

struct ParentBasedOptions {
  std::shared_ptr<Sampler> remote_parent_sampled = MakeAlwaysOnSampler();
  std::shared_ptr<Sampler> remote_parent_not_sampled = MakeAlwaysOffSampler();
  std::shared_ptr<Sampler> local_parent_sampled = MakeAlwaysOnSampler();
  std::shared_ptr<Sampler> local_parent_not_sampled = MakeAlwaysOffSampler();
};
// Root spans use `root`; spans with a parent follow the parent's sampled flag
// through the delegate for its kind (remote or local, sampled or not).
std::shared_ptr<Sampler> MakeParentBasedSampler(std::shared_ptr<Sampler> root,
                                                ParentBasedOptions options = {});

// From OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG values: always_on,
// always_off, traceidratio, parentbased_always_on (the default for an empty
// name), parentbased_always_off, parentbased_traceidratio. Bad names or
// arguments are InvalidArgument naming the variable and the value.
absl::StatusOr<std::shared_ptr<Sampler>> MakeSamplerFromEnvValues(std::string_view sampler,
                                                                  std::string_view arg);

TRACEWIRE_END_API

}  // namespace tracewire
