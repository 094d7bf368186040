#pragma once
// One-call set-up from the standard OpenTelemetry environment variables, the
// way users of the other OpenTelemetry SDKs expect:
//
//   auto sdk = tracewire::InitFromEnv();
//   if (!sdk.ok()) { /* the status names the variable and the value */ }
//   tracewire::Tracer* tracer = sdk->tracer_provider->GetTracer("app");
//   ...
//   sdk->Shutdown(absl::Now() + absl::Seconds(5));
//
// Reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG),
// OTEL_PROPAGATORS, OTEL_BSP_*, OTEL_SPAN_*/OTEL_ATTRIBUTE_* limits,
// OTEL_TRACES_EXPORTER (otlp | console | none) and OTEL_EXPORTER_OTLP_*.
//
// Thread safety: InitFromEnv may be called from any thread; it reads the
// environment, so no thread may change the environment (setenv) meanwhile.
// The Sdk it returns is a plain struct (thread-compatible: one thread at a
// time moves or destroys it); its tracer_provider and propagator are
// thread-safe, and Shutdown may be called from any thread (a second call
// returns at once).

#include <memory>

#include "absl/status/statusor.h"
#include "tracewire/export.h"
#include "tracewire/propagation.h"
#include "tracewire/trace.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

struct Sdk {
  std::unique_ptr<TracerProvider> tracer_provider;
  std::unique_ptr<TextMapPropagator> propagator;

  [[nodiscard]] absl::Status Shutdown(absl::Time deadline) {
    return tracer_provider ? tracer_provider->Shutdown(deadline) : absl::OkStatus();
  }
};

absl::StatusOr<Sdk> InitFromEnv();

TRACEWIRE_END_API

}  // namespace tracewire
