// The "logs" scenario of shared/bench/WORKLOAD.md as a micro-benchmark: the
// standard log record emitted inside an active span through the batch log
// record processor (default settings) and a no-op exporter, and the same with
// the no-op provider (the cost of logging when it is off).
// Run: build/bin/logs_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include "tracewire/logs.h"
#include "tracewire/trace.h"

namespace {

tracewire::LoggerProvider* Provider() {
  static tracewire::LoggerProvider* p = [] {
    tracewire::LoggerProviderOptions o;
    o.resource.attributes = {{"service.name", "bench"}};
    o.processors.push_back(std::move(
        *tracewire::BatchLogRecordProcessor::Create(tracewire::MakeNoopLogRecordExporter())));
    return tracewire::LoggerProvider::Create(std::move(o))->release();
  }();
  return p;
}

tracewire::Tracer* BenchTracer() {
  static tracewire::TracerProvider* p = tracewire::TracerProvider::Create({})->release();
  return p->GetTracer("bench");
}

void EmitStandardLog(tracewire::Logger* logger) {
  logger->Emit(tracewire::SeverityNumber::kInfo, "user 42 logged in",
               {{"user.id", int64_t{42}}, {"http.route", "/login"}, {"enduser.role", "admin"}});
}

void BM_StandardLogRecord(benchmark::State& state) {
  tracewire::Logger* logger = Provider()->GetLogger("bench", "1.0");
  tracewire::ScopedSpan span(*BenchTracer(), "request");
  for (auto _ : state) EmitStandardLog(logger);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StandardLogRecord)->Threads(1)->Threads(2)->UseRealTime();

void BM_NoopLogger(benchmark::State& state) {
  tracewire::Logger* logger = tracewire::NoopLoggerProvider()->GetLogger("bench");
  for (auto _ : state) EmitStandardLog(logger);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NoopLogger);

}  // namespace

BENCHMARK_MAIN();
