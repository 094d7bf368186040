// Micro benchmarks of the receive path's CPU work per span, beside
// libprotobuf's parse of the same bytes (the baseline, same run).
//   build/bin/wire_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tools/synthetic.h"
#include "wire/otlp_json.h"
#include "wire/otlp_reader.h"
#include "wire/otlp_schema.h"
#include "wire/span_json.h"

namespace {

constexpr int kSpans = 512;

const std::string& Request() {
  static const std::string r = tracewire::tools::MakeStandardSpansRequest(kSpans, 7);
  return r;
}

void BM_ReadExportRequest(benchmark::State& state) {
  const std::string& req = Request();
  for (auto _ : state) {
    auto r = tracewire::wire::ReadExportRequest(tracewire::wire::Signal::kTraces, req);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kSpans);
  state.SetBytesProcessed(state.iterations() * req.size());
}
BENCHMARK(BM_ReadExportRequest);

void BM_LibprotobufParse(benchmark::State& state) {
  const std::string& req = Request();
  for (auto _ : state) {
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest m;
    benchmark::DoNotOptimize(m.ParseFromString(req));
  }
  state.SetItemsProcessed(state.iterations() * kSpans);
  state.SetBytesProcessed(state.iterations() * req.size());
}
BENCHMARK(BM_LibprotobufParse);

void BM_OtlpJson(benchmark::State& state) {
  const std::string& req = Request();
  tracewire::wire::JsonWriter w;
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(
        w.Append(req, tracewire::wire::schema::kExportTraceServiceRequest, &out));
  }
  state.SetItemsProcessed(state.iterations() * kSpans);
}
BENCHMARK(BM_OtlpJson);

// The traces writer of the file sink (wire/span_json.h), same bytes out as
// BM_OtlpJson; bytes_per_second counts the JSON written.
void BM_SpanJson(benchmark::State& state) {
  const std::string& req = Request();
  tracewire::wire::JsonWriter fallback;
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(tracewire::wire::AppendTracesJson(req, &fallback, &out));
  }
  state.SetItemsProcessed(state.iterations() * kSpans);
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_SpanJson);

}  // namespace

BENCHMARK_MAIN();
