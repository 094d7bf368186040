// The "sdk" scenario of shared/bench/WORKLOAD.md: the standard span started,
// given its attributes and event, and ended, with the batch processor and a
// no-op exporter. Run: build/bin/sdk_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "sdk/trace/record_encoder.h"
#include "sdk/trace/span_ref_access.h"
#include "standard_span.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"
#include "wire/otlp_encoder.h"

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

// The same span with the simple processor and a no-op exporter: each span
// is exported where it ends, one at a time under the processor's lock (so
// two threads contend for it), and its record released there.
void BM_StandardSpanSimpleProcessor(benchmark::State& state) {
  static tracewire::TracerProvider* p = [] {
    tracewire::TracerProviderOptions o;
    o.resource.attributes = {{"service.name", "bench"}, {"service.version", "1.0"}};
    o.sampler = tracewire::MakeAlwaysOnSampler();
    o.processors.push_back(tracewire::MakeSimpleSpanProcessor(tracewire::MakeNoopSpanExporter()));
    return tracewire::TracerProvider::Create(std::move(o))->release();
  }();
  tracewire::Tracer* tracer = p->GetTracer("bench", "1.0");
  for (auto _ : state) tracewire::bench::EmitStandardSpan(tracer);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StandardSpanSimpleProcessor)->Threads(1)->Threads(2)->UseRealTime();

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

// 512 standard spans, ended and kept as the batch processor keeps them.
struct KeptBatch : tracewire::SpanProcessor {
  std::vector<tracewire::SpanRef> kept;
  void OnEnd(tracewire::SpanRef span) override { kept.push_back(std::move(span)); }
  absl::Status ForceFlush(absl::Time) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Time) override { return absl::OkStatus(); }
};

const std::vector<tracewire::SpanRef>& Batch() {
  static KeptBatch* keep = [] {
    auto k = std::make_unique<KeptBatch>();
    KeptBatch* raw = k.get();
    tracewire::TracerProviderOptions o;
    o.resource.attributes = {{"service.name", "bench"}, {"service.version", "1.0"}};
    o.processors.push_back(std::move(k));
    tracewire::Tracer* t =
        tracewire::TracerProvider::Create(std::move(o))->release()->GetTracer("bench", "1.0");
    for (int i = 0; i < 512; ++i) tracewire::bench::EmitStandardSpan(t);
    return raw;
  }();
  return keep->kept;
}

// What the OTLP span exporter does per batch: each record to its Span
// message, then the request around them.
void BM_EncodeRecords(benchmark::State& state) {
  const auto& batch = Batch();
  tracewire::sdk::RecordEncoder encoder;
  tracewire::sdk::ByteBuf buf;
  std::vector<tracewire::wire::EncodedSpan> messages(batch.size());
  std::vector<size_t> ends;
  std::string request;
  for (auto _ : state) {
    buf.Clear();
    ends.clear();
    for (const auto& r : batch) {
      encoder.Append(*tracewire::sdk::SpanRefAccess::Get(r), &buf);
      ends.push_back(buf.size());
    }
    tracewire::ScopedItems<tracewire::wire::EncodedSpan> g{
        &batch[0].resource(), &batch[0].scope(), {}};
    size_t begin = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      messages[i].message = std::string_view(buf.data() + begin, ends[i] - begin);
      begin = ends[i];
      g.items.push_back(&messages[i]);
    }
    request.clear();
    tracewire::wire::EncodeTracesRequest(std::span(&g, 1), &request);
    benchmark::DoNotOptimize(request.data());
  }
  state.SetItemsProcessed(state.iterations() * batch.size());
}
BENCHMARK(BM_EncodeRecords);

// The same spans as SpanData (decoded once, outside the loop) through the
// SpanData encoder: the baseline the record encoder is held to.
void BM_EncodeDecodedSpans(benchmark::State& state) {
  const auto& batch = Batch();
  tracewire::ScopedItems<tracewire::SpanData> g{&batch[0].resource(), &batch[0].scope(), {}};
  for (const auto& r : batch) g.items.push_back(&r.data());
  std::string request;
  for (auto _ : state) {
    request.clear();
    tracewire::wire::EncodeTracesRequest(std::span(&g, 1), &request);
    benchmark::DoNotOptimize(request.data());
  }
  state.SetItemsProcessed(state.iterations() * batch.size());
}
BENCHMARK(BM_EncodeDecodedSpans);

}  // namespace

BENCHMARK_MAIN();
