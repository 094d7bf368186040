// The "sdk" scenario of shared/bench/WORKLOAD.md: the standard span started,
// given its attributes and event, and ended, with the batch processor and a
// no-op exporter. Run: build/bin/sdk_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include "tracewire/span_exporters.h"
#include "tracewire/trace.h"

namespace {

tracewire::TracerProvider* Provider() {
  static tracewire::TracerProvider* p = [] {
    tracewire::TracerProviderOptions o;
    o.resource.attributes = {{"service.name", "bench"}, {"service.version", "1.0"}};
    o.sampler = tracewire::MakeAlwaysOnSampler();
    o.processors.push_back(
        tracewire::BatchSpanProcessor::Create(tracewire::MakeNoopSpanExporter()));
    return tracewire::TracerProvider::Create(std::move(o))->release();
  }();
  return p;
}

void BM_StandardSpan(benchmark::State& state) {
  tracewire::Tracer* tracer = Provider()->GetTracer("bench", "1.0");
  for (auto _ : state) {
    tracewire::Span span =
        tracer->StartSpan("GET /api/users", {.kind = tracewire::SpanKind::kServer});
    span.SetAttribute("http.method", "GET");
    span.SetAttribute("http.route", "/api/users");
    span.SetAttribute("http.target", "/api/users?id=42");
    span.SetAttribute("net.peer.name", "10.0.0.1");
    span.SetAttribute("http.status_code", int64_t{200});
    span.SetAttribute("http.response_content_length", int64_t{1234});
    span.SetAttribute("duration_ratio", 0.75);
    span.SetAttribute("cache.hit", true);
    span.AddEvent("cache lookup", {{"cache.key", "user:42"}});
    span.SetStatus(tracewire::StatusCode::kOk);
    span.End();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StandardSpan)->Threads(1)->Threads(2)->UseRealTime();

void BM_NoopTracerSpan(benchmark::State& state) {
  tracewire::Tracer* tracer = tracewire::NoopTracer();
  for (auto _ : state) {
    tracewire::Span span = tracer->StartSpan("GET /api/users");
    span.SetAttribute("http.method", "GET");
    span.End();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NoopTracerSpan);

}  // namespace

BENCHMARK_MAIN();
