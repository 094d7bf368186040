// The non-template part of tracewire/http.h. Kept with the gRPC
// instrumentation: the HTTP helper exists so that HTTP handlers calling gRPC
// services yield one trace.

#include "tracewire/http.h"

#include "tracewire/global.h"
#include "tracewire/version.h"

namespace tracewire {

Tracer* HttpTracer(const HttpInstrumentationOptions& options) {
  TracerProvider* provider = options.tracer_provider;
  // The global provider at the time the handler is wrapped: the application
  // sets it up first (InitFromEnv), then builds its server.
  std::shared_ptr<TracerProvider> global;
  if (provider == nullptr) {
    global = GetTracerProvider();
    provider = global.get();
  }
  return provider->GetTracer("tracewire.instrumentation.http", TRACEWIRE_VERSION_STRING);
}

std::shared_ptr<const TextMapPropagator> HttpPropagator(const HttpInstrumentationOptions& options) {
  return options.propagator != nullptr ? options.propagator : GetTextMapPropagator();
}

}  // namespace tracewire
