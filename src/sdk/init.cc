#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tracewire/global.h"
#include "tracewire/resource.h"
#include "tracewire/sdk.h"
#include "tracewire/span_exporter.h"

namespace tracewire {

absl::Status Sdk::Shutdown(absl::Time deadline) {
  if (tracer_provider && GetTracerProvider() == tracer_provider) SetTracerProvider(nullptr);
  if (propagator && GetTextMapPropagator() == propagator) SetTextMapPropagator(nullptr);
  return tracer_provider ? tracer_provider->Shutdown(deadline) : absl::OkStatus();
}

absl::StatusOr<Sdk> InitFromEnv() {
  auto env = [](const char* n) { return std::getenv(n); };
  auto str = [&env](const char* n) {
    const char* v = env(n);
    return std::string(v ? v : "");
  };
  absl::StatusOr<ResourceDetectors> detectors = ResourceDetectors::FromEnv();
  if (!detectors.ok()) return detectors.status();
  absl::StatusOr<Resource> resource = DetectResource(*detectors);
  if (!resource.ok()) return resource.status();
  absl::StatusOr<std::shared_ptr<Sampler>> sampler =
      MakeSamplerFromEnvValues(str("OTEL_TRACES_SAMPLER"), str("OTEL_TRACES_SAMPLER_ARG"));
  if (!sampler.ok()) return sampler.status();
  absl::StatusOr<SpanLimits> limits = SpanLimits::FromEnv();
  if (!limits.ok()) return limits.status();
  absl::StatusOr<BatchSpanProcessorOptions> bsp = BatchSpanProcessorOptions::FromEnv();
  if (!bsp.ok()) return bsp.status();
  absl::StatusOr<std::unique_ptr<TextMapPropagator>> propagator =
      MakePropagatorsFromEnvValue(str("OTEL_PROPAGATORS"));
  if (!propagator.ok()) return propagator.status();

  TracerProviderOptions o;
  o.resource = *resource;
  o.sampler = *sampler;
  o.limits = *limits;
  const std::string exporter = absl::AsciiStrToLower(str("OTEL_TRACES_EXPORTER"));
  if (exporter.empty() || exporter == "otlp") {
    absl::StatusOr<OtlpExporterOptions> eo = OtlpExporterOptions::FromEnv(ExportSignal::kTraces);
    if (!eo.ok()) return eo.status();
    eo->timeout = std::min(eo->timeout, bsp->export_timeout);
    absl::StatusOr<std::unique_ptr<SpanExporter>> e = MakeOtlpSpanExporter(*eo);
    if (!e.ok()) return e.status();
    o.processors.push_back(BatchSpanProcessor::Create(std::move(*e), *bsp));
  } else if (exporter == "console") {
    o.processors.push_back(MakeSimpleSpanProcessor(MakeStreamSpanExporter(stdout)));
  } else if (exporter != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_TRACES_EXPORTER: '", exporter, "' is not otlp, console or none"));
  }
  absl::StatusOr<std::unique_ptr<TracerProvider>> provider = TracerProvider::Create(std::move(o));
  if (!provider.ok()) return provider.status();
  Sdk sdk;
  sdk.tracer_provider = std::move(*provider);
  sdk.propagator = std::move(*propagator);
  SetTracerProvider(sdk.tracer_provider);
  SetTextMapPropagator(sdk.propagator);
  return sdk;
}

}  // namespace tracewire
