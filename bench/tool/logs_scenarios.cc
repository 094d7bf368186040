#include "logs_scenarios.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "tracewire/logs.h"
#include "tracewire/trace.h"

namespace tracewire::bench {
namespace {

double LogsCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

}  // namespace

int RunLogsScenario(const ScenarioArgs& a) {
  BatchLogRecordProcessorOptions bo;
  bo.max_queue_size = a.queue_size;
  bo.max_export_batch_size = a.batch_size;
  auto processor = BatchLogRecordProcessor::Create(MakeNoopLogRecordExporter(), bo);
  if (!processor.ok()) {
    std::fprintf(stderr, "tracewire-bench: %s\n",
                 std::string(processor.status().message()).c_str());
    return 2;
  }
  BatchLogRecordProcessor* raw = processor->get();
  LoggerProviderOptions po;
  po.resource.attributes = {{"service.name", "bench"}};
  po.processors.push_back(std::move(*processor));
  auto provider = std::move(*LoggerProvider::Create(std::move(po)));
  auto tracer_provider = std::move(*TracerProvider::Create({}));
  Logger* logger = provider->GetLogger("bench", "1.0");
  Tracer* tracer = tracer_provider->GetTracer("bench", "1.0");

  const double c0 = LogsCpuSeconds();
  std::atomic<int64_t> emitted{0};
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&] {
      ScopedSpan span(*tracer, "request");  // the records carry its context
      int64_t n = 0;
      const auto start = std::chrono::steady_clock::now();
      for (;;) {
        for (int i = 0; i < 256; ++i) {
          logger->Emit(
              SeverityNumber::kInfo, "user 42 logged in",
              {{"user.id", int64_t{42}}, {"http.route", "/login"}, {"enduser.role", "admin"}});
        }
        n += 256;
        const double s = seconds_since(start);
        if (s >= a.seconds) break;
        if (a.rate > 0) {  // pace to `rate` records/s per thread
          const double ahead = n / a.rate - s;
          if (ahead > 0) std::this_thread::sleep_for(std::chrono::duration<double>(ahead));
        }
      }
      emitted += n;
    });
  }
  for (auto& th : threads) th.join();
  const double secs = seconds_since(t0);
  const double cpu = LogsCpuSeconds() - c0;
  const absl::Status st = provider->Shutdown(absl::Now() + absl::Seconds(10));
  const LogRecordProcessorStats s = raw->Stats();
  const int64_t n = emitted.load();
  const int64_t dropped = s.dropped_queue_full + s.dropped_export_failed + s.dropped_shutdown;
  std::printf(
      "scenario=logs threads=%d emitted=%lld exported=%lld dropped_queue_full=%lld "
      "seconds=%.3f shutdown_ok=%d ns_per_op=%.1f ops_per_s=%.0f dropped=%lld "
      "cpu_s_per_1m=%.3f\n",
      a.threads, static_cast<long long>(n), static_cast<long long>(s.exported),
      static_cast<long long>(s.dropped_queue_full), secs, st.ok() ? 1 : 0,
      secs * 1e9 * a.threads / n, n / secs, static_cast<long long>(dropped), cpu * 1e6 / n);
  return 0;
}

}  // namespace tracewire::bench
