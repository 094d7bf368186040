#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tracewire/global.h"
#include "tracewire/logs.h"
#include "tracewire/metric_reader.h"
#include "tracewire/metrics.h"
#include "tracewire/resource.h"
#include "tracewire/sdk.h"
#include "tracewire/self_telemetry.h"
#include "tracewire/span_exporter.h"

namespace tracewire {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return std::string(v ? v : "");
}

// OTEL_{TRACES,METRICS,LOGS}_EXPORTER: otlp (the default), console or none.
absl::StatusOr<std::string> ExporterChoice(const char* variable) {
  std::string v = absl::AsciiStrToLower(Env(variable));
  if (v.empty()) v = "otlp";
  if (v != "otlp" && v != "console" && v != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat(variable, ": '", v, "' is not otlp, console or none"));
  }
  return v;
}

// TRACEWIRE_SDK_SELF_METRICS: true (the default) or false.
absl::StatusOr<bool> SelfMetricsFromEnv() {
  const std::string v = absl::AsciiStrToLower(Env("TRACEWIRE_SDK_SELF_METRICS"));
  if (v.empty() || v == "true") return true;
  if (v == "false") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("TRACEWIRE_SDK_SELF_METRICS: '", v, "' is not true or false"));
}

absl::StatusOr<std::shared_ptr<TracerProvider>> TracesFromEnv(const Resource& resource) {
  absl::StatusOr<std::shared_ptr<Sampler>> sampler =
      MakeSamplerFromEnvValues(Env("OTEL_TRACES_SAMPLER"), Env("OTEL_TRACES_SAMPLER_ARG"));
  if (!sampler.ok()) return sampler.status();
  absl::StatusOr<SpanLimits> limits = SpanLimits::FromEnv();
  if (!limits.ok()) return limits.status();
  absl::StatusOr<BatchSpanProcessorOptions> bsp = BatchSpanProcessorOptions::FromEnv();
  if (!bsp.ok()) return bsp.status();
  absl::StatusOr<std::string> exporter = ExporterChoice("OTEL_TRACES_EXPORTER");
  if (!exporter.ok()) return exporter.status();

  TracerProviderOptions o;
  o.resource = resource;
  o.sampler = *sampler;
  o.limits = *limits;
  if (*exporter == "otlp") {
    absl::StatusOr<OtlpExporterOptions> eo = OtlpExporterOptions::FromEnv(ExportSignal::kTraces);
    if (!eo.ok()) return eo.status();
    eo->timeout = std::min(eo->timeout, bsp->export_timeout);
    absl::StatusOr<std::unique_ptr<SpanExporter>> e = MakeOtlpSpanExporter(*eo);
    if (!e.ok()) return e.status();
    o.processors.push_back(BatchSpanProcessor::Create(std::move(*e), *bsp));
  } else if (*exporter == "console") {
    o.processors.push_back(MakeSimpleSpanProcessor(MakeStreamSpanExporter(stdout)));
  }
  absl::StatusOr<std::unique_ptr<TracerProvider>> provider = TracerProvider::Create(std::move(o));
  if (!provider.ok()) return provider.status();
  return std::shared_ptr<TracerProvider>(std::move(*provider));
}

absl::StatusOr<std::shared_ptr<MeterProvider>> MetricsFromEnv(const Resource& resource) {
  absl::StatusOr<MeterProviderOptions> o = MeterProviderOptions::FromEnv();
  if (!o.ok()) return o.status();
  absl::StatusOr<PeriodicReaderOptions> reader = PeriodicReaderOptions::FromEnv();
  if (!reader.ok()) return reader.status();
  absl::StatusOr<std::string> exporter = ExporterChoice("OTEL_METRICS_EXPORTER");
  if (!exporter.ok()) return exporter.status();
  o->resource = resource;
  if (*exporter == "otlp") {
    absl::StatusOr<OtlpExporterOptions> eo = OtlpExporterOptions::FromEnv(ExportSignal::kMetrics);
    if (!eo.ok()) return eo.status();
    eo->timeout = std::min(eo->timeout, reader->export_timeout);
    absl::StatusOr<std::unique_ptr<MetricExporter>> e = MakeOtlpMetricExporter(*eo);
    if (!e.ok()) return e.status();
    o->readers.push_back(PeriodicExportingMetricReader::Create(std::move(*e), *reader));
  } else if (*exporter == "console") {
    o->readers.push_back(
        PeriodicExportingMetricReader::Create(MakeConsoleMetricExporter(stdout), *reader));
  }
  absl::StatusOr<std::unique_ptr<MeterProvider>> provider = MeterProvider::Create(std::move(*o));
  if (!provider.ok()) return provider.status();
  return std::shared_ptr<MeterProvider>(std::move(*provider));
}

absl::StatusOr<std::shared_ptr<LoggerProvider>> LogsFromEnv(const Resource& resource) {
  absl::StatusOr<LogRecordLimits> limits = LogRecordLimits::FromEnv();
  if (!limits.ok()) return limits.status();
  absl::StatusOr<BatchLogRecordProcessorOptions> blrp = BatchLogRecordProcessorOptions::FromEnv();
  if (!blrp.ok()) return blrp.status();
  absl::StatusOr<std::string> exporter = ExporterChoice("OTEL_LOGS_EXPORTER");
  if (!exporter.ok()) return exporter.status();
  LoggerProviderOptions o;
  o.resource = resource;
  o.limits = *limits;
  if (*exporter == "otlp") {
    absl::StatusOr<OtlpExporterOptions> eo = OtlpExporterOptions::FromEnv(ExportSignal::kLogs);
    if (!eo.ok()) return eo.status();
    eo->timeout = std::min(eo->timeout, blrp->export_timeout);
    absl::StatusOr<std::unique_ptr<LogRecordExporter>> e = MakeOtlpLogRecordExporter(*eo);
    if (!e.ok()) return e.status();
    auto processor = BatchLogRecordProcessor::Create(std::move(*e), *blrp);
    if (!processor.ok()) return processor.status();
    o.processors.push_back(std::move(*processor));
  } else if (*exporter == "console") {
    o.processors.push_back(
        std::make_unique<SimpleLogRecordProcessor>(MakeStreamLogRecordExporter(stdout)));
  }
  absl::StatusOr<std::unique_ptr<LoggerProvider>> provider = LoggerProvider::Create(std::move(o));
  if (!provider.ok()) return provider.status();
  return std::shared_ptr<LoggerProvider>(std::move(*provider));
}

}  // namespace

absl::Status Sdk::Shutdown(absl::Time deadline) {
  if (tracer_provider && GetTracerProvider() == tracer_provider) SetTracerProvider(nullptr);
  if (meter_provider && GetMeterProvider() == meter_provider) SetMeterProvider(nullptr);
  if (logger_provider && GetLoggerProvider() == logger_provider) SetLoggerProvider(nullptr);
  if (propagator && GetTextMapPropagator() == propagator) SetTextMapPropagator(nullptr);
  // Metrics last: their final collection reports the SDK's own telemetry
  // (self_telemetry.h) after the spans and logs were exported.
  absl::Status result;
  if (tracer_provider) result.Update(tracer_provider->Shutdown(deadline));
  if (logger_provider) result.Update(logger_provider->Shutdown(deadline));
  if (meter_provider) result.Update(meter_provider->Shutdown(deadline));
  return result;
}

absl::StatusOr<Sdk> InitFromEnv() {
  absl::StatusOr<ResourceDetectors> detectors = ResourceDetectors::FromEnv();
  if (!detectors.ok()) return detectors.status();
  absl::StatusOr<Resource> resource = DetectResource(*detectors);
  if (!resource.ok()) return resource.status();
  absl::StatusOr<bool> self_metrics = SelfMetricsFromEnv();
  if (!self_metrics.ok()) return self_metrics.status();
  absl::StatusOr<std::unique_ptr<TextMapPropagator>> propagator =
      MakePropagatorsFromEnvValue(Env("OTEL_PROPAGATORS"));
  if (!propagator.ok()) return propagator.status();
  // A bad variable fails the whole set-up; a provider made before it is
  // shut down as it is destroyed.
  absl::StatusOr<std::shared_ptr<TracerProvider>> traces = TracesFromEnv(*resource);
  if (!traces.ok()) return traces.status();
  absl::StatusOr<std::shared_ptr<MeterProvider>> metrics = MetricsFromEnv(*resource);
  if (!metrics.ok()) return metrics.status();
  absl::StatusOr<std::shared_ptr<LoggerProvider>> logs = LogsFromEnv(*resource);
  if (!logs.ok()) return logs.status();

  Sdk sdk;
  sdk.tracer_provider = std::move(*traces);
  sdk.meter_provider = std::move(*metrics);
  sdk.logger_provider = std::move(*logs);
  sdk.propagator = std::move(*propagator);
  if (*self_metrics) {
    EnableSdkSelfMetrics(*sdk.meter_provider, sdk.tracer_provider, sdk.logger_provider);
  }
  SetTracerProvider(sdk.tracer_provider);
  SetMeterProvider(sdk.meter_provider);
  SetLoggerProvider(sdk.logger_provider);
  SetTextMapPropagator(sdk.propagator);
  return sdk;
}

}  // namespace tracewire
