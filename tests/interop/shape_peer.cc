// The C++ side of the interop test's "shape" round (run.sh): tracewire's
// metrics and logs SDK emitting the same instruments and log record shapes
// as `node interop.mjs send` does with the official JS SDK, over OTLP/gRPC
// to a tracewired with the file sink. `node interop.mjs shape` then compares
// the shapes of both files (names, types, temporality, buckets, ...).
//
//   interop_shape_peer <tracewired host:port>
//
// Metrics: one cumulative and one delta MeterProvider, each with a periodic
// reader that exports on ForceFlush and once more at Shutdown (two requests
// per provider, as in interop.mjs). Logs: one provider with a batch
// processor, flushed once, then one more record at shutdown. Exit 0 when
// every flush and shutdown succeeded.

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tracewire/logs.h"
#include "tracewire/metric_reader.h"
#include "tracewire/metrics.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/span_context.h"
#include "tracewire/telemetry_data.h"

namespace {

constexpr char kServiceName[] = "tracewire-interop-cpp";
constexpr char kSchemaUrl[] = "https://opentelemetry.io/schemas/1.26.0";
constexpr int64_t kBigInt = int64_t{1} << 60;
constexpr uint64_t kSecond = 1000000000ull;

int failures = 0;

void Check(const char* what, const absl::Status& st) {
  if (st.ok()) return;
  ++failures;
  std::fprintf(stderr, "interop_shape_peer: %s: %s\n", what, st.ToString().c_str());
}

absl::Time Deadline() { return absl::Now() + absl::Seconds(15); }

tracewire::OtlpExporterOptions ExporterOptions(const std::string& endpoint) {
  tracewire::OtlpExporterOptions o;
  o.endpoint = "http://" + endpoint;
  o.retry.enabled = false;
  o.breaker.enabled = false;
  return o;
}

tracewire::Resource MakeResource(std::vector<tracewire::KeyValue> extra) {
  tracewire::Resource r;
  r.attributes.push_back({"service.name", kServiceName});
  r.attributes.push_back({"interop.sdk", "tracewire"});
  for (auto& kv : extra) r.attributes.push_back(std::move(kv));
  return r;
}

// ---------------------------------------------------------------- metrics

struct Instruments {
  tracewire::Counter<int64_t> requests;
  tracewire::HistogramInstrument<double> latency;
};

// The instruments of interop.mjs's makeMeterProvider, with the same names,
// units, descriptions, value types and advice, and the same measurements.
absl::StatusOr<std::unique_ptr<tracewire::MeterProvider>> MakeMeterProvider(
    const std::string& endpoint, const char* label, tracewire::TemporalityPreference temporality,
    Instruments* out) {
  absl::StatusOr<std::unique_ptr<tracewire::MetricExporter>> exporter =
      tracewire::MakeOtlpMetricExporter(ExporterOptions(endpoint));
  if (!exporter.ok()) return exporter.status();
  tracewire::PeriodicReaderOptions ro;
  ro.export_interval = absl::Hours(1);
  ro.export_timeout = absl::Seconds(15);
  ro.temporality = temporality;
  tracewire::MeterProviderOptions po;
  po.resource = MakeResource({{"interop.signal", "metrics"}, {"interop.temporality", label}});
  po.readers.push_back(tracewire::PeriodicExportingMetricReader::Create(std::move(*exporter), ro));
  absl::StatusOr<std::unique_ptr<tracewire::MeterProvider>> provider =
      tracewire::MeterProvider::Create(std::move(po));
  if (!provider.ok()) return provider.status();

  tracewire::Meter* meter = (*provider)->GetMeter("interop-meter", "0.3.0", kSchemaUrl);
  auto requests = meter->CreateInt64Counter("interop.requests", "{request}", "Number of requests");
  auto bytes = meter->CreateDoubleCounter("interop.bytes", "By", "Bytes processed");
  auto big = meter->CreateInt64Counter("interop.big");
  auto queue = meter->CreateInt64UpDownCounter("interop.queue.depth", "{item}", "Queue depth");
  auto balance = meter->CreateDoubleUpDownCounter("interop.balance", "1", "Balance");
  auto latency =
      meter->CreateDoubleHistogram("interop.latency", "ms", "Latency", {0, 5, 10, 25.5, 100});
  // Advice of no boundaries (not "no advice"): one bucket, as the JS SDK's
  // `advice: { explicitBucketBoundaries: [] }`.
  auto single =
      meter->CreateDoubleHistogram("interop.single_bucket", "By", "", std::vector<double>{});
  auto gauge = meter->CreateInt64Gauge("interop.sync_gauge", "", "Synchronous gauge");
  meter->CreateDoubleObservableGauge(
      "interop.temperature",
      [](tracewire::ObserverResult& r) {
        r.Observe(21.5, {{"sensor", "a"}});
        r.Observe(-3.75, {{"sensor", "b"}});
        r.Observe(0.0, {{"sensor", "zero"}});
      },
      "Cel", "Temperature");
  meter->CreateInt64ObservableGauge("interop.threads", [](tracewire::ObserverResult& r) {
    r.Observe(int64_t{12});
    r.Observe(int64_t{0}, {{"pool", "idle"}});
  });

  requests.Add(5, {{"route", "/a"}});
  requests.Add(7, {{"route", "/b"}, {"http.status_code", 200}});
  requests.Add(3, {{"route", "/a"}});
  bytes.Add(0.5);
  bytes.Add(1.25);
  big.Add(kBigInt);
  queue.Add(10, {{"queue", "q1"}});
  queue.Add(-15, {{"queue", "q1"}});
  balance.Add(-2.5);
  for (double v : {0.0, 3.0, 7.5, 30.0, 250.0, 1000.0}) latency.Record(v, {{"route", "/a"}});
  latency.Record(0, {{"route", "/zero"}});
  single.Record(1);
  single.Record(2);
  gauge.Record(-42, {{"core", 3}});
  out->requests = requests;
  out->latency = latency;
  return provider;
}

void EmitMetrics(const std::string& endpoint) {
  Instruments ci, di;
  auto cumulative =
      MakeMeterProvider(endpoint, "cumulative", tracewire::TemporalityPreference::kCumulative, &ci);
  auto delta = MakeMeterProvider(endpoint, "delta", tracewire::TemporalityPreference::kDelta, &di);
  if (!cumulative.ok() || !delta.ok()) {
    Check("MeterProvider::Create", cumulative.ok() ? delta.status() : cumulative.status());
    return;
  }
  Check("cumulative ForceFlush", (*cumulative)->ForceFlush(Deadline()));
  Check("delta ForceFlush", (*delta)->ForceFlush(Deadline()));
  for (Instruments* i : {&ci, &di}) {
    i->requests.Add(1, {{"route", "/a"}});
    i->latency.Record(12, {{"route", "/a"}});
  }
  Check("cumulative Shutdown", (*cumulative)->Shutdown(Deadline()));
  Check("delta Shutdown", (*delta)->Shutdown(Deadline()));
}

// ---------------------------------------------------------------- logs

// Emit a record built with chained setters (they return an lvalue).
void Emit(tracewire::Logger* logger, tracewire::LogRecord& record) {
  logger->Emit(std::move(record));
}

tracewire::SpanContext MakeSpanContext(uint8_t seed) {
  tracewire::SpanContext c;
  for (size_t i = 0; i < c.trace_id.size(); ++i) c.trace_id[i] = static_cast<uint8_t>(seed + i);
  for (size_t i = 0; i < c.span_id.size(); ++i) c.span_id[i] = static_cast<uint8_t>(seed + 32 + i);
  c.trace_flags = tracewire::kTraceFlagSampled;
  return c;
}

// The log records of interop.mjs, same timestamps, severities, body and
// attribute types, scopes and event name (values may differ).
void EmitLogs(const std::string& endpoint) {
  absl::StatusOr<std::unique_ptr<tracewire::LogRecordExporter>> exporter =
      tracewire::MakeOtlpLogRecordExporter(ExporterOptions(endpoint));
  if (!exporter.ok()) {
    Check("MakeOtlpLogRecordExporter", exporter.status());
    return;
  }
  tracewire::BatchLogRecordProcessorOptions bo;
  bo.schedule_delay = absl::Hours(1);
  bo.max_export_batch_size = 1000;
  bo.max_queue_size = 2000;
  absl::StatusOr<std::unique_ptr<tracewire::BatchLogRecordProcessor>> processor =
      tracewire::BatchLogRecordProcessor::Create(std::move(*exporter), bo);
  if (!processor.ok()) {
    Check("BatchLogRecordProcessor::Create", processor.status());
    return;
  }
  tracewire::LoggerProviderOptions po;
  po.resource = MakeResource({{"interop.signal", "logs"}});
  po.processors.push_back(std::move(*processor));
  absl::StatusOr<std::unique_ptr<tracewire::LoggerProvider>> provider =
      tracewire::LoggerProvider::Create(std::move(po));
  if (!provider.ok()) {
    Check("LoggerProvider::Create", provider.status());
    return;
  }
  tracewire::Logger* logger = (*provider)->GetLogger(
      "interop-logger", "0.2.0", kSchemaUrl, {{"scope.attr", "scope-value"}, {"scope.int", 7}});
  tracewire::Logger* logger2 = (*provider)->GetLogger("interop-logger-2");
  tracewire::Logger* nonfinite = (*provider)->GetLogger("interop-logger-nonfinite");
  const tracewire::Bytes bytes{std::string("\xfb\xff\xbf\x00\x01", 5)};
  using tracewire::AnyValue;
  using tracewire::SeverityNumber;
  auto at = [](uint64_t sec, uint64_t nsec) { return sec * kSecond + nsec; };

  Emit(logger, logger->CreateLogRecord()
                   .SetTimestamp(at(1700000010, 1))
                   .SetObservedTimestamp(at(1700000010, 999999999))
                   .SetSeverity(SeverityNumber::kInfo, "INFO")
                   .SetBody("hello from tracewire")
                   .SetAttribute("log.string", "v")
                   .SetAttribute("log.int", 12)
                   .SetAttribute("log.double", 1.5)
                   .SetAttribute("log.bool", false)
                   .SetAttribute("log.array", AnyValue(AnyValue::Array{"p", "q"})));

  AnyValue::KvList body{
      {"message", "structured body"},
      {"code", 500},
      {"ratio", 0.25},
      {"ok", false},
      {"nested", AnyValue::KvList{{"deep", AnyValue::Array{"a", 1, 2.5, true, AnyValue(),
                                                           AnyValue::KvList{{"x", "y"}}}},
                                  {"empty_map", AnyValue::KvList{}},
                                  {"empty_list", AnyValue::Array{}}}},
      {"raw", bytes},
  };
  Emit(logger,
       logger->CreateLogRecord()
           .SetTimestamp(at(1700000011, 0))
           .SetObservedTimestamp(at(1700000011, 5))
           .SetSeverity(SeverityNumber::kError, "ERROR")
           .SetBody(AnyValue(std::move(body)))
           .SetAttribute("log.bytes", AnyValue(bytes))
           .SetAttribute("log.bytes_empty", AnyValue(tracewire::Bytes{}))
           .SetAttribute(
               "log.kvlist",
               AnyValue(AnyValue::KvList{{"k1", "v1"},
                                         {"k2", 2},
                                         {"k3", AnyValue::KvList{{"k4", AnyValue::Array{true}}}}}))
           .SetAttribute("log.null", AnyValue())
           .SetAttribute("log.heterogeneous", AnyValue(AnyValue::Array{"s", 1, 1.25, false, bytes}))
           .SetTraceContext(MakeSpanContext(1)));

  Emit(logger, logger->CreateLogRecord()
                   .SetTimestamp(at(1700000012, 0))
                   .SetObservedTimestamp(at(1700000012, 0))
                   .SetSeverity(SeverityNumber::kWarn, "WARN")
                   .SetBody(AnyValue(bytes))
                   .SetTraceContext(MakeSpanContext(2))
                   .SetEventName("interop.log-event"));

  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(1700000013, 0))
                    .SetObservedTimestamp(at(1700000013, 0))
                    .SetAttribute("log.only", "attributes")
                    .SetAttribute("exception.type", "InteropError")
                    .SetAttribute("exception.message", "boom")
                    .SetAttribute("exception.stacktrace", "InteropError: boom\n    at main"));
  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(1700000014, 0))
                    .SetObservedTimestamp(at(1700000014, 0))
                    .SetBody(AnyValue(-123)));
  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(1700000015, 0))
                    .SetObservedTimestamp(at(1700000015, 0))
                    .SetBody(AnyValue(6.02e23 + 0.5)));
  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(1700000016, 0))
                    .SetObservedTimestamp(at(1700000016, 0))
                    .SetBody(AnyValue(AnyValue::Array{"list", "body", 3})));

  const double inf = INFINITY;
  Emit(nonfinite, nonfinite->CreateLogRecord()
                      .SetTimestamp(at(1700000020, 0))
                      .SetObservedTimestamp(at(1700000020, 0))
                      .SetSeverity(SeverityNumber::kInfo)
                      .SetBody(AnyValue(inf))
                      .SetAttribute("d.nan", std::nan(""))
                      .SetAttribute("d.inf", inf)
                      .SetAttribute("d.neginf", -inf)
                      .SetAttribute("d.list", AnyValue(AnyValue::Array{std::nan(""), 1.5})));

  Check("logs ForceFlush", (*provider)->ForceFlush(Deadline()));
  Emit(logger, logger->CreateLogRecord()
                   .SetSeverity(SeverityNumber::kInfo, "INFO")
                   .SetBody("second request"));
  Check("logs Shutdown", (*provider)->Shutdown(Deadline()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: interop_shape_peer <tracewired host:port>\n");
    return 2;
  }
  const std::string endpoint = argv[1];
  EmitMetrics(endpoint);
  EmitLogs(endpoint);
  std::printf(
      "interop_shape_peer: metrics (2 providers x 2 requests) and logs (2 requests) sent, "
      "%d failure(s)\n",
      failures);
  return failures == 0 ? 0 : 1;
}
