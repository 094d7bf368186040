#pragma once
// What StartSpan can do without a virtual call, for the SDK's own id
// generator and samplers (the common configurations): the provider looks
// once, at its creation.
//
// Thread-safe: the functions read nothing but their arguments and the
// calling thread's own id state.

#include "tracewire/sampler.h"
#include "tracewire/trace.h"

namespace tracewire::sdk {

enum class SamplerShape {
  kAlwaysOn,
  kAlwaysOff,
  kParentBasedAlwaysOn,  // ParentBased(AlwaysOn) with the default delegates
  kOther,                // ask the sampler
};
SamplerShape ShapeOf(const Sampler& sampler);

// The decision of a sampler of a known shape (not kOther).
inline SamplingDecision Decide(SamplerShape shape, const SpanContext& parent) {
  switch (shape) {
    case SamplerShape::kAlwaysOn:
      return SamplingDecision::kRecordAndSample;
    case SamplerShape::kParentBasedAlwaysOn:
      return !parent.IsValid() || parent.IsSampled() ? SamplingDecision::kRecordAndSample
                                                     : SamplingDecision::kDrop;
    default:
      return SamplingDecision::kDrop;
  }
}

// Whether `ids` is MakeRandomIdGenerator()'s.
bool IsRandomIdGenerator(const IdGenerator& ids);
// What MakeRandomIdGenerator()'s would give: a new trace id (when
// `trace_id` is not null) and a new span id, in one call.
void NewRandomIds(TraceId* trace_id, SpanId* span_id);

}  // namespace tracewire::sdk
