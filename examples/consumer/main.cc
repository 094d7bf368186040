// consumer: traces with tracewire from outside its source tree. Records two
// spans in memory, checks them, propagates the context the W3C way, and
// builds an OTLP/gRPC exporter (not started: nothing listens here).
// Prints "consumer: ok ..." and exits 0 when everything checks out.

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "tracewire/propagation.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"
#include "tracewire/version.h"

namespace {

int Fail(const char* what) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", what);
  return 1;
}

class MapCarrier : public tracewire::TextMapCarrier {
 public:
  std::optional<std::string_view> Get(std::string_view key) const override {
    auto it = headers.find(std::string(key));
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
  void Set(std::string_view key, std::string_view value) override {
    headers[std::string(key)] = std::string(value);
  }
  std::vector<std::string> Keys() const override {
    std::vector<std::string> keys;
    for (const auto& [k, v] : headers) keys.push_back(k);
    return keys;
  }
  std::map<std::string, std::string> headers;
};

}  // namespace

int main() {
  if (std::strcmp(tracewire::Version(), TRACEWIRE_VERSION_STRING) != 0) {
    return Fail("the library's version differs from its header's");
  }
  auto exporter = std::make_unique<tracewire::InMemorySpanExporter>();
  tracewire::InMemorySpanExporter* memory = exporter.get();
  tracewire::TracerProviderOptions options;
  options.resource.attributes.push_back({"service.name", std::string("consumer")});
  options.processors.push_back(tracewire::MakeSimpleSpanProcessor(std::move(exporter)));
  auto provider = tracewire::TracerProvider::Create(std::move(options));
  if (!provider.ok()) return Fail("TracerProvider::Create");
  tracewire::Tracer* tracer = (*provider)->GetTracer("consumer", "1.0");

  auto propagator = tracewire::MakeTraceContextPropagator();
  MapCarrier carrier;
  {
    tracewire::ScopedSpan parent(*tracer, "parent", tracewire::SpanKind::kServer);
    parent->SetAttribute("consumer.answer", int64_t{42});
    tracewire::Span child = tracer->StartSpan("child");
    child.End();
    propagator->Inject(carrier, tracewire::Context::Current());
  }
  auto spans = memory->spans();
  if (spans.size() != 2) return Fail("two spans recorded");
  if (spans[0].data.name != "child" || spans[1].data.name != "parent") return Fail("span names");
  if (spans[0].data.parent_span_id != spans[1].data.span_id) return Fail("child's parent");
  if (carrier.headers.count("traceparent") != 1) return Fail("traceparent injected");
  tracewire::Context extracted = propagator->Extract(carrier, tracewire::Context());
  if (extracted.span_context().trace_id != spans[1].data.trace_id) return Fail("extracted trace id");

  tracewire::OtlpExporterOptions otlp;
  otlp.endpoint = "http://127.0.0.1:4317";
  auto otlp_exporter = tracewire::MakeOtlpSpanExporter(otlp);
  if (!otlp_exporter.ok()) return Fail("MakeOtlpSpanExporter");
  if (!(*otlp_exporter)->Shutdown(absl::Now() + absl::Seconds(1)).ok()) {
    return Fail("OTLP exporter shutdown");
  }
  if (!(*provider)->Shutdown(absl::Now() + absl::Seconds(5)).ok()) return Fail("shutdown");
  std::printf("consumer: ok spans=%zu traceparent=%s version=%s\n", spans.size(),
              carrier.headers["traceparent"].c_str(), tracewire::Version());
  return 0;
}
