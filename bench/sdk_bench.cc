// The "sdk" scenario of shared/bench/WORKLOAD.md: the standard span started,
// given its attributes and event, and ended, with the batch processor and a
// no-op exporter. Run: build/bin/sdk_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include "standard_span.h"
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
  for (auto _ : state) tracewire::bench::EmitStandardSpan(tracer);
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
