#pragma once
// One-call set-up of traces, metrics and logs from the standard
// OpenTelemetry environment variables, the way users of the other
// OpenTelemetry SDKs expect:
//
//   auto sdk = tracewire::InitFromEnv();
//   if (!sdk.ok()) { /* the status names the variable and the value */ }
//   tracewire::Tracer* tracer = sdk->tracer_provider->GetTracer("app");
//   tracewire::Meter* meter = sdk->meter_provider->GetMeter("app");
//   tracewire::Logger* logger = sdk->logger_provider->GetLogger("app");
//   ...
//   sdk->Shutdown(absl::Now() + absl::Seconds(5));
//
// InitFromEnv also installs what it made as the global providers and
// propagator (tracewire/global.h), so that instrumented libraries use them.
// The resource comes from tracewire::DetectResource (resource.h): the
// detectors TRACEWIRE_RESOURCE_DETECTORS chooses, then the environment.
//
// Reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG),
// OTEL_PROPAGATORS, OTEL_BSP_*, OTEL_SPAN_*/OTEL_ATTRIBUTE_* limits,
// OTEL_METRIC_EXPORT_INTERVAL/TIMEOUT, OTEL_METRICS_EXEMPLAR_FILTER,
// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE and
// _DEFAULT_HISTOGRAM_AGGREGATION, OTEL_BLRP_*, OTEL_LOGRECORD_* limits,
// OTEL_{TRACES,METRICS,LOGS}_EXPORTER (otlp, the default | console | none)
// and OTEL_EXPORTER_OTLP_* (the three signals' exporters share one channel
// per endpoint). The SDK's own telemetry (self_telemetry.h) goes through the
// meter provider unless TRACEWIRE_SDK_SELF_METRICS=false.
//
// Thread safety: InitFromEnv may be called from any thread; it reads the
// environment, so no thread may change the environment (setenv) meanwhile.
// The Sdk it returns is a plain struct (thread-compatible: one thread at a
// time moves or destroys it); its providers and propagator are thread-safe
// and shared with the globals, and Shutdown may be called from any thread (a
// second call returns at once).

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracewire/export.h"
#include "tracewire/logs.h"
#include "tracewire/metrics.h"
#include "tracewire/propagation.h"
#include "tracewire/trace.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

struct Sdk {
  std::shared_ptr<TracerProvider> tracer_provider;
  std::shared_ptr<MeterProvider> meter_provider;
  std::shared_ptr<LoggerProvider> logger_provider;
  std::shared_ptr<const TextMapPropagator> propagator;

  // Shuts the providers down; the globals that are still these return to
  // the no-op ones.
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);
};

absl::StatusOr<Sdk> InitFromEnv();

TRACEWIRE_END_API

}  // namespace tracewire
