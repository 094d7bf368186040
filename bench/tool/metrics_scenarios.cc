#include "metrics_scenarios.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tracewire/metrics.h"

namespace tracewire::bench {
namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Discards every export but keeps the totals of the last one.
class TotalsExporter : public MetricExporter {
 public:
  absl::Status Export(const ResourceMetrics& m) override {
    int64_t total = 0;
    for (const auto& sm : m.scope_metrics) {
      for (const auto& md : sm.metrics) {
        if (const auto* s = std::get_if<Sum>(&md.data)) {
          for (const auto& p : s->data_points) total += std::get<int64_t>(p.value);
        } else if (const auto* h = std::get_if<tracewire::Histogram>(&md.data)) {
          for (const auto& p : h->data_points) total += static_cast<int64_t>(p.count);
        }
      }
    }
    absl::MutexLock l(&mu_);
    last_total_ = total;
    ++exports_;
    return absl::OkStatus();
  }
  int64_t last_total() {
    absl::MutexLock l(&mu_);
    return last_total_;
  }
  int64_t exports() {
    absl::MutexLock l(&mu_);
    return exports_;
  }

 private:
  absl::Mutex mu_;
  int64_t last_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t exports_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

int RunMetricsScenario(const MetricsScenarioArgs& args) {
  const bool histogram = args.instrument == "histogram";
  if (!histogram && args.instrument != "counter") {
    std::fprintf(stderr, "tracewire-bench: --instrument is counter or histogram\n");
    return 2;
  }
  auto exporter = std::make_unique<TotalsExporter>();
  TotalsExporter* totals = exporter.get();
  MeterProviderOptions options;
  options.readers.push_back(PeriodicExportingMetricReader::Create(
      std::move(exporter), {.export_interval = absl::Seconds(1)}));
  auto provider = MeterProvider::Create(std::move(options));
  if (!provider.ok()) {
    std::fprintf(stderr, "tracewire-bench: %s\n", provider.status().ToString().c_str());
    return 1;
  }
  Meter* meter = (*provider)->GetMeter("tracewire.bench");
  auto counter = meter->CreateInt64Counter("http.server.requests");
  auto hist = meter->CreateDoubleHistogram("http.server.duration", "ms");
  const char* methods[] = {"GET", "POST"};
  const char* routes[] = {"/users", "/orders", "/items", "/cart", "/login"};
  std::vector<AttributeSet> sets;
  for (int i = 0; i < 10; ++i) {
    sets.push_back(AttributeSet{{"http.method", methods[i % 2]},
                                {"http.route", routes[i % 5]},
                                {"http.status_code", int64_t{200 + (i / 5) * 300}}});
  }
  const double values[] = {0.5, 5, 50, 500};
  std::atomic<bool> stop{false};
  std::vector<int64_t> ops(args.threads, 0);
  std::vector<std::thread> threads;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < args.threads; ++t) {
    threads.emplace_back([&, t] {
      int64_t n = 0;
      size_t s = t;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 1024; ++i) {
          const AttributeSet& a = sets[s % 10];
          if (histogram) {
            hist.Record(values[s & 3], a);
          } else {
            counter.Add(1, a);
          }
          ++s;
        }
        n += 1024;
      }
      ops[t] = n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
  stop.store(true);
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  if (!(*provider)->Shutdown(absl::Now() + absl::Seconds(10)).ok()) {
    std::fprintf(stderr, "tracewire-bench: shutdown did not finish\n");
  }
  int64_t total = 0;
  for (int64_t n : ops) total += n;
  double load1 = -1;
  std::ifstream("/proc/loadavg") >> load1;
  const int64_t dropped = total - totals->last_total();
  std::printf(
      "scenario=metrics instrument=%s threads=%d ops=%lld seconds=%.3f ns_per_op=%.2f "
      "ops_per_s=%.0f dropped=%lld cpu_s_per_1m=%.4f exports=%lld load1=%.2f\n",
      args.instrument.c_str(), args.threads, static_cast<long long>(total), wall,
      wall * args.threads * 1e9 / static_cast<double>(total), total / wall,
      static_cast<long long>(dropped), cpu * 1e6 / static_cast<double>(total),
      static_cast<long long>(totals->exports()), load1);
  return dropped == 0 ? 0 : 1;
}

}  // namespace tracewire::bench
