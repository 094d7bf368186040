// The "metrics" scenario of shared/bench/WORKLOAD.md: Counter<int64> Add(1)
// and Histogram<double> Record(v) with 3 attributes cycling over 10 attribute
// sets (prebuilt AttributeSets, and initializer lists), cumulative, a
// periodic reader exporting every second to an exporter that discards.
// Run: build/bin/metrics_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include <vector>

#include "tracewire/metrics.h"

namespace {

class DiscardExporter : public tracewire::MetricExporter {
 public:
  absl::Status Export(const tracewire::ResourceMetrics&) override { return absl::OkStatus(); }
};

tracewire::Meter* BenchMeter() {
  static tracewire::Meter* m = [] {
    tracewire::MeterProviderOptions o;
    o.readers.push_back(tracewire::PeriodicExportingMetricReader::Create(
        std::make_unique<DiscardExporter>(), {.export_interval = absl::Seconds(1)}));
    auto* p = tracewire::MeterProvider::Create(std::move(o))->release();
    return p->GetMeter("tracewire.bench");
  }();
  return m;
}

const std::vector<tracewire::AttributeSet>& Sets() {
  static const auto* sets = [] {
    auto* v = new std::vector<tracewire::AttributeSet>;
    const char* methods[] = {"GET", "POST"};
    const char* routes[] = {"/users", "/orders", "/items", "/cart", "/login"};
    for (int i = 0; i < 10; ++i) {
      v->push_back(tracewire::AttributeSet{{"http.method", methods[i % 2]},
                                           {"http.route", routes[i % 5]},
                                           {"http.status_code", int64_t{200 + (i / 5) * 300}}});
    }
    return v;
  }();
  return *sets;
}

void BM_CounterAddAttributeSet(benchmark::State& state) {
  static auto c = BenchMeter()->CreateInt64Counter("bench.counter");
  const auto& sets = Sets();
  size_t i = state.thread_index();
  for (auto _ : state) c.Add(1, sets[i++ % 10]);
}
BENCHMARK(BM_CounterAddAttributeSet)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramRecordAttributeSet(benchmark::State& state) {
  static auto h = BenchMeter()->CreateDoubleHistogram("bench.histogram", "ms");
  const auto& sets = Sets();
  const double values[] = {0.5, 5, 50, 500};
  size_t i = state.thread_index();
  for (auto _ : state) {
    h.Record(values[i & 3], sets[i % 10]);
    ++i;
  }
}
BENCHMARK(BM_HistogramRecordAttributeSet)->Threads(1)->Threads(2)->UseRealTime();

// Attributes given inline each call (hashed every time).
void BM_CounterAddInitializerList(benchmark::State& state) {
  static auto c = BenchMeter()->CreateInt64Counter("bench.counter.inline");
  const char* methods[] = {"GET", "POST"};
  const char* routes[] = {"/users", "/orders", "/items", "/cart", "/login"};
  size_t i = state.thread_index();
  for (auto _ : state) {
    const size_t k = i++ % 10;
    c.Add(1, {{"http.method", methods[k % 2]},
              {"http.route", routes[k % 5]},
              {"http.status_code", int64_t{200 + static_cast<int64_t>(k / 5) * 300}}});
  }
}
BENCHMARK(BM_CounterAddInitializerList)->Threads(1)->Threads(2)->UseRealTime();

void BM_NoopCounterAdd(benchmark::State& state) {
  auto c = tracewire::NoopMeterProvider()->GetMeter("x")->CreateInt64Counter("c");
  const auto& sets = Sets();
  size_t i = 0;
  for (auto _ : state) c.Add(1, sets[i++ % 10]);
}
BENCHMARK(BM_NoopCounterAdd);

}  // namespace

BENCHMARK_MAIN();
