// The non-template part of tracewire/http.h. Kept with the gRPC
// instrumentation: the HTTP helper exists so that HTTP handlers calling gRPC
// services yield one trace.

#include "tracewire/http.h"

#include "tracewire/version.h"

namespace tracewire {

Tracer* HttpTracer(const HttpInstrumentationOptions& options) {
  if (options.tracer_provider != nullptr) {
    return options.tracer_provider->GetTracer("tracewire.instrumentation.http",
                                              TRACEWIRE_VERSION_STRING);
  }
  return NoopTracer();  // TODO(global provider): GetTracerProvider()->GetTracer(...)
}

const TextMapPropagator& HttpPropagator(const HttpInstrumentationOptions& options) {
  if (options.propagator != nullptr) return *options.propagator;
  static const TextMapPropagator* const kDefault = [] {
    std::vector<std::unique_ptr<TextMapPropagator>> v;
    v.push_back(MakeTraceContextPropagator());
    v.push_back(MakeBaggagePropagator());
    return MakeCompositePropagator(std::move(v)).release();  // never destroyed
  }();
  return *kDefault;
}

}  // namespace tracewire
