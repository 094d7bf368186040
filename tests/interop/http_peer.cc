// The C++ side of the interop test's "http-exporter" round (run.sh):
// tracewire's SDK and its OTLP/HTTP exporter send fixed, fully deterministic
// traces, metrics and logs to a test receiver written with the JS protobuf
// libraries (http_receiver.mjs), which decodes them with code generated from
// the official opentelemetry-proto files and compares them, field by field,
// with the hard-coded documents in http_receiver.mjs (EXPECTED_*). Ids come
// from a fixed id generator and every span, event and log timestamp is
// explicit, so both sides know them in advance; only the metrics'
// collection timestamps depend on the clock.
//
//   interop_http_peer <base-url> <protocol> <compression>
//
// <base-url> is http://127.0.0.1:PORT (the exporter appends /v1/<signal>),
// <protocol> http/protobuf or http/json, <compression> none, gzip or zstd.
// The resource carries interop.run=<protocol>+<compression> so that the
// receiver can tell the runs apart. Exit 0 when every flush and shutdown
// succeeded (i.e. every request was answered 200).
//
// Keep in sync with http_receiver.mjs: changing a value here means changing
// the expected document there.

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tracewire/context.h"
#include "tracewire/id_generator.h"
#include "tracewire/logs.h"
#include "tracewire/metric_reader.h"
#include "tracewire/metrics.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/span_context.h"
#include "tracewire/span_exporter.h"
#include "tracewire/span_processor.h"
#include "tracewire/telemetry_data.h"
#include "tracewire/trace.h"

namespace {

using tracewire::AnyValue;

constexpr char kSchemaUrl[] = "https://opentelemetry.io/schemas/1.26.0";
constexpr uint64_t kT0 = 1700000000123456789ull;  // span timestamps: kT0 + n
constexpr int64_t kBigInt = int64_t{1} << 60;

int failures = 0;

void Check(const char* what, const absl::Status& st) {
  if (st.ok()) return;
  ++failures;
  std::fprintf(stderr, "interop_http_peer: %s: %s\n", what, st.ToString().c_str());
}

absl::Time Deadline() { return absl::Now() + absl::Seconds(15); }

struct Config {
  std::string base_url, protocol, compression;
};

tracewire::OtlpExporterOptions ExporterOptions(const Config& c) {
  tracewire::OtlpExporterOptions o;
  o.protocol = c.protocol;
  o.endpoint = c.base_url;
  o.compression = c.compression;
  o.retry.enabled = false;
  o.breaker.enabled = false;
  o.timeout = absl::Seconds(10);
  return o;
}

tracewire::Resource MakeResource(const Config& c, const char* signal) {
  tracewire::Resource r;
  r.attributes.push_back({"service.name", "tracewire-http-peer"});
  r.attributes.push_back({"interop.run", c.protocol + "+" + c.compression});
  r.attributes.push_back({"interop.signal", signal});
  r.schema_url = kSchemaUrl;
  return r;
}

// Trace ids 0af7651916cd43dd8448eb211c8031NN, span ids 00f067aa0ba902NN,
// NN counting from 01 in the order the SDK asks for them.
class FixedIdGenerator : public tracewire::IdGenerator {
 public:
  tracewire::TraceId NewTraceId() override {
    tracewire::TraceId t{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
                         0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x00};
    t[15] = static_cast<uint8_t>(++traces_);
    return t;
  }
  tracewire::SpanId NewSpanId() override {
    tracewire::SpanId s{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0x00};
    s[7] = static_cast<uint8_t>(++spans_);
    return s;
  }

 private:
  int traces_ = 0, spans_ = 0;
};

// A remote context as a propagator would have extracted it.
tracewire::SpanContext RemoteContext(uint8_t seed, std::string trace_state) {
  tracewire::SpanContext c;
  for (size_t i = 0; i < c.trace_id.size(); ++i) c.trace_id[i] = static_cast<uint8_t>(seed + i);
  for (size_t i = 0; i < c.span_id.size(); ++i) c.span_id[i] = static_cast<uint8_t>(0xe0 + i);
  c.trace_flags = tracewire::kTraceFlagSampled;
  c.trace_state = std::move(trace_state);
  c.is_remote = true;
  return c;
}

// ---------------------------------------------------------------- traces

void EmitTraces(const Config& c) {
  auto exporter = tracewire::MakeOtlpSpanExporter(ExporterOptions(c));
  if (!exporter.ok()) return Check("MakeOtlpSpanExporter", exporter.status());
  tracewire::BatchSpanProcessorOptions bo;
  bo.schedule_delay = absl::Hours(1);
  tracewire::TracerProviderOptions po;
  po.resource = MakeResource(c, "traces");
  po.processors.push_back(tracewire::BatchSpanProcessor::Create(std::move(*exporter), bo));
  po.id_generator = std::make_unique<FixedIdGenerator>();
  po.limits.attribute_count = 40;
  po.limits.event_count = 4;
  po.limits.link_count = 2;
  po.limits.attributes_per_event = 2;
  po.limits.attributes_per_link = 2;
  auto provider = tracewire::TracerProvider::Create(std::move(po));
  if (!provider.ok()) return Check("TracerProvider::Create", provider.status());

  tracewire::Tracer* tracer = (*provider)->GetTracer("interop-http-tracer", "1.2.3", kSchemaUrl,
                                                     {{"scope.attr", "scope-value"}});
  tracewire::Tracer* tracer2 = (*provider)->GetTracer("interop-http-tracer-2");

  // Trace 01: SERVER root (span 01) with every attribute type, events, an
  // exception and an ERROR status; CLIENT child (span 02) with links, OK.
  {
    tracewire::StartSpanOptions o;
    o.kind = tracewire::SpanKind::kServer;
    o.parent = tracewire::Context();
    o.start_time_unix_nano = kT0;
    o.attributes = {{"attr.string", "value"}, {"attr.int", 42}};
    tracewire::Span server = tracer->StartSpan("interop.server", o);
    server.SetAttribute("attr.string_empty", "");
    server.SetAttribute("attr.unicode", "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac");
    server.SetAttribute("attr.escapes", "quote\" backslash\\ nl\n tab\t nul-free");
    server.SetAttribute("attr.bool_true", true);
    server.SetAttribute("attr.bool_false", false);
    server.SetAttribute("attr.int_zero", 0);
    server.SetAttribute("attr.int_negative", -42);
    server.SetAttribute("attr.int_big", kBigInt);
    server.SetAttribute("attr.int_min", INT64_MIN);
    server.SetAttribute("attr.double", 3.14);
    server.SetAttribute("attr.double_tiny", 5e-324);
    server.SetAttribute("attr.double_huge", 1.7976931348623157e308);
    server.SetAttribute("attr.double_negative", -0.5);
    server.SetAttribute("attr.strings", AnyValue(AnyValue::Array{"a", "b", ""}));
    server.SetAttribute("attr.ints", AnyValue(AnyValue::Array{1, 2, kBigInt}));
    server.SetAttribute("attr.doubles", AnyValue(AnyValue::Array{1.5, -2.25}));
    server.SetAttribute("attr.bools", AnyValue(AnyValue::Array{true, false}));
    server.SetAttribute("attr.mixed", AnyValue(AnyValue::Array{"s", 1, 2.5, true, AnyValue()}));
    server.SetAttribute("attr.empty_array", AnyValue(AnyValue::Array{}));
    server.SetAttribute("attr.bytes",
                        AnyValue(tracewire::Bytes{std::string("\xfb\xff\xbf\x00\x01", 5)}));
    server.SetAttribute("attr.kvlist",
                        AnyValue(AnyValue::KvList{{"k", "v"}, {"n", AnyValue::KvList{{"i", 1}}}}));
    server.AddEvent("event.with_attributes", {{"event.attr", "x"}, {"event.int", 7}}, kT0 + 10);
    server.AddEvent("event.plain", {}, kT0 + 20);
    server.RecordException("InteropError", "boom", "InteropError: boom\n    at main");
    server.SetStatus(tracewire::StatusCode::kError, "something failed");
    {
      tracewire::StartSpanOptions co;
      co.kind = tracewire::SpanKind::kClient;
      co.parent = server.ContextWithSpan(tracewire::Context());
      co.start_time_unix_nano = kT0 + 100;
      co.links.push_back(tracewire::SpanLink{RemoteContext(0x10, "vendor=value,other=1").trace_id,
                                             RemoteContext(0x10, "").span_id,
                                             "vendor=value,other=1",
                                             {{"link.attr", "l"}, {"link.int", 3}},
                                             0,
                                             0});
      co.links.push_back(tracewire::SpanLink{RemoteContext(0x20, "").trace_id,
                                             RemoteContext(0x20, "").span_id,
                                             "",
                                             {},
                                             0,
                                             0});
      tracewire::Span client = tracer->StartSpan("interop.client", co);
      client.SetAttribute("http.request.method", "GET");
      client.SetStatus(tracewire::StatusCode::kOk);
      client.End(kT0 + 900);
    }
    server.End(kT0 + 1000000000ull);
  }
  // Trace 02: INTERNAL root (span 03), no attributes, UNSET status.
  {
    tracewire::StartSpanOptions o;
    o.kind = tracewire::SpanKind::kInternal;
    o.parent = tracewire::Context();
    o.start_time_unix_nano = kT0 + 2000;
    tracer->StartSpan("interop.internal", o).End(kT0 + 3000);
  }
  // Remote parent (trace 3031..., parent span e0e1...): PRODUCER (span 04)
  // with the parent's trace state; its flags say the parent is remote.
  {
    tracewire::StartSpanOptions o;
    o.kind = tracewire::SpanKind::kProducer;
    o.parent = tracewire::Context().WithSpanContext(RemoteContext(0x30, "rojo=00f067aa0ba902b7"));
    o.start_time_unix_nano = kT0 + 4000;
    tracer2->StartSpan("interop.producer", o).End(kT0 + 5000);
  }
  // Trace 03: CONSUMER root (span 05) over the limits: 43 attributes (3
  // dropped), 6 events (2 dropped), one of them with 3 attributes (1
  // dropped), 3 links (1 dropped), one of them with 3 attributes (1 dropped).
  {
    tracewire::StartSpanOptions o;
    o.kind = tracewire::SpanKind::kConsumer;
    o.parent = tracewire::Context();
    o.start_time_unix_nano = kT0 + 6000;
    o.links.push_back(tracewire::SpanLink{
        RemoteContext(0x40, "").trace_id, RemoteContext(0x40, "").span_id, "",
        {{"l.a", 1}, {"l.b", 2}, {"l.c", 3}}, 0, 0});
    o.links.push_back(tracewire::SpanLink{RemoteContext(0x50, "").trace_id,
                                          RemoteContext(0x50, "").span_id, "", {}, 0, 0});
    o.links.push_back(tracewire::SpanLink{RemoteContext(0x60, "").trace_id,
                                          RemoteContext(0x60, "").span_id, "", {}, 0, 0});
    tracewire::Span s = tracer2->StartSpan("interop.consumer.limits", o);
    for (int i = 0; i < 43; ++i) s.SetAttribute("limit.attr." + std::to_string(i), i);
    s.AddEvent("limit.event.0", {{"e.a", 1}, {"e.b", 2}, {"e.c", 3}}, kT0 + 6001);
    for (int i = 1; i < 6; ++i) s.AddEvent("limit.event." + std::to_string(i), {}, kT0 + 6001 + i);
    s.End(kT0 + 7000);
  }

  Check("traces ForceFlush", (*provider)->ForceFlush(Deadline()));
  Check("traces Shutdown", (*provider)->Shutdown(Deadline()));
}

// ---------------------------------------------------------------- metrics

void EmitMetrics(const Config& c) {
  auto exporter = tracewire::MakeOtlpMetricExporter(ExporterOptions(c));
  if (!exporter.ok()) return Check("MakeOtlpMetricExporter", exporter.status());
  tracewire::PeriodicReaderOptions ro;
  ro.export_interval = absl::Hours(1);
  ro.export_timeout = absl::Seconds(15);
  ro.temporality = tracewire::TemporalityPreference::kCumulative;
  tracewire::MeterProviderOptions po;
  po.resource = MakeResource(c, "metrics");
  po.readers.push_back(tracewire::PeriodicExportingMetricReader::Create(std::move(*exporter), ro));
  po.exemplar_filter = tracewire::ExemplarFilter::kAlwaysOff;
  tracewire::View expo;
  expo.selector.name = "interop.expo";
  expo.stream.aggregation = tracewire::AggregationKind::kBase2ExponentialHistogram;
  expo.stream.max_size = 4;
  po.views.push_back(expo);
  auto provider = tracewire::MeterProvider::Create(std::move(po));
  if (!provider.ok()) return Check("MeterProvider::Create", provider.status());

  tracewire::Meter* meter = (*provider)->GetMeter("interop-http-meter", "0.3.0", kSchemaUrl);
  auto requests = meter->CreateInt64Counter("interop.requests", "{request}", "Number of requests");
  auto bytes = meter->CreateDoubleCounter("interop.bytes", "By", "Bytes processed");
  auto big = meter->CreateInt64Counter("interop.big");
  auto queue = meter->CreateInt64UpDownCounter("interop.queue.depth", "{item}", "Queue depth");
  auto gauge = meter->CreateDoubleGauge("interop.temperature", "Cel", "Temperature");
  auto latency =
      meter->CreateDoubleHistogram("interop.latency", "ms", "Latency", {0, 5, 10, 25.5, 100});
  auto expo_h = meter->CreateDoubleHistogram("interop.expo", "s", "Exponential");
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
  gauge.Record(21.5, {{"sensor", "a"}});
  gauge.Record(-3.75, {{"sensor", "a"}});
  for (double v : {0.0, 3.0, 7.5, 30.0, 250.0, 1000.0}) latency.Record(v, {{"route", "/a"}});
  for (double v : {1.0, 2.0, 4.0, 0.0}) expo_h.Record(v);

  Check("metrics ForceFlush", (*provider)->ForceFlush(Deadline()));
  Check("metrics Shutdown", (*provider)->Shutdown(Deadline()));
}

// ---------------------------------------------------------------- logs

void Emit(tracewire::Logger* logger, tracewire::LogRecord& record) {
  logger->Emit(std::move(record));
}

void EmitLogs(const Config& c) {
  auto exporter = tracewire::MakeOtlpLogRecordExporter(ExporterOptions(c));
  if (!exporter.ok()) return Check("MakeOtlpLogRecordExporter", exporter.status());
  tracewire::BatchLogRecordProcessorOptions bo;
  bo.schedule_delay = absl::Hours(1);
  auto processor = tracewire::BatchLogRecordProcessor::Create(std::move(*exporter), bo);
  if (!processor.ok()) return Check("BatchLogRecordProcessor::Create", processor.status());
  tracewire::LoggerProviderOptions po;
  po.resource = MakeResource(c, "logs");
  po.processors.push_back(std::move(*processor));
  auto provider = tracewire::LoggerProvider::Create(std::move(po));
  if (!provider.ok()) return Check("LoggerProvider::Create", provider.status());

  tracewire::Logger* logger =
      (*provider)->GetLogger("interop-http-logger", "0.2.0", kSchemaUrl, {{"scope.int", 7}});
  tracewire::Logger* logger2 = (*provider)->GetLogger("interop-http-logger-2");
  const tracewire::Bytes bytes{std::string("\xfb\xff\xbf\x00\x01", 5)};
  using tracewire::SeverityNumber;
  auto at = [](uint64_t n) { return 1700000010000000000ull + n; };

  Emit(logger, logger->CreateLogRecord()
                   .SetTimestamp(at(1))
                   .SetObservedTimestamp(at(2))
                   .SetSeverity(SeverityNumber::kInfo, "INFO")
                   .SetBody("hello from tracewire")
                   .SetAttribute("log.string", "v")
                   .SetAttribute("log.int", 12)
                   .SetAttribute("log.double", 1.5)
                   .SetAttribute("log.bool", false)
                   .SetAttribute("log.array", AnyValue(AnyValue::Array{"p", "q"})));
  tracewire::SpanContext sc = RemoteContext(0x70, "");
  sc.is_remote = false;
  Emit(logger, logger->CreateLogRecord()
                   .SetTimestamp(at(3))
                   .SetObservedTimestamp(at(4))
                   .SetSeverity(SeverityNumber::kError, "ERROR")
                   .SetBody(AnyValue(AnyValue::KvList{
                       {"message", "structured"},
                       {"code", 500},
                       {"nested", AnyValue::KvList{{"list", AnyValue::Array{"a", 1, 2.5, true}},
                                                   {"empty_map", AnyValue::KvList{}}}},
                       {"raw", bytes}}))
                   .SetAttribute("log.bytes", AnyValue(bytes))
                   .SetTraceContext(sc));
  Emit(logger, logger->CreateLogRecord()
                   .SetTimestamp(at(5))
                   .SetObservedTimestamp(at(6))
                   .SetSeverity(uint8_t{16}, "WARN4")
                   .SetBody(AnyValue(bytes))
                   .SetEventName("interop.log-event"));
  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(7))
                    .SetObservedTimestamp(at(8))
                    .SetSeverity(SeverityNumber::kFatal)
                    .SetBody(AnyValue(int64_t{-123})));
  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(9))
                    .SetObservedTimestamp(at(10))
                    .SetBody(AnyValue(6.02e23)));
  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(11))
                    .SetObservedTimestamp(at(12))
                    .SetBody(AnyValue(AnyValue::Array{"list", "body", 3}))
                    .SetAttribute("exception.type", "InteropError"));
  Emit(logger2, logger2->CreateLogRecord()
                    .SetTimestamp(at(13))
                    .SetObservedTimestamp(at(14))
                    .SetSeverity(SeverityNumber::kDebug, "DEBUG")
                    .SetAttribute("log.only", "attributes"));

  Check("logs ForceFlush", (*provider)->ForceFlush(Deadline()));
  Check("logs Shutdown", (*provider)->Shutdown(Deadline()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: interop_http_peer <base-url> <http/protobuf|http/json> "
                 "<none|gzip|zstd>\n");
    return 2;
  }
  const Config c{argv[1], argv[2], argv[3]};
  EmitTraces(c);
  EmitMetrics(c);
  EmitLogs(c);
  std::printf("interop_http_peer: traces, metrics and logs sent over %s (compression %s), %d "
              "failure(s)\n",
              c.protocol.c_str(), c.compression.c_str(), failures);
  return failures == 0 ? 0 : 1;
}
