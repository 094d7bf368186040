// tracewire-store-bench: the "store" scenario of shared/bench/WORKLOAD.md
// without the network. (1) inserts distinct standard-span requests through
// StoreWriter (the store sink's writer thread) and reports spans/s and bytes
// per span; (2) builds a store of --traces traces of 10 spans over 100
// services and times `tracewire trace ID` (fetch and print) and the 20
// slowest traces of one service in the last hour. While building that store
// it prints the insert rate of every 100,000 spans ("grow:" lines), so the
// rate of a fresh store and of one of 1 M spans can be compared.
//
// The query store's traces start in arrival order over the last 2 hours,
// each up to 1 s late (as a live collector receives them), or, with
// --start-order random, at random times over those 2 hours (every time-keyed
// index then grows at random places; the order of the figures before
// 2026-12-06).
//
//   tracewire-store-bench [--dir DIR] [--requests N] [--traces N]
//                         [--start-order time|random]

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "store/store_reader.h"
#include "store/store_writer.h"
#include "tools/store_commands.h"
#include "tools/synthetic.h"
#include "wire/otlp_reader.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

tracewire::pipeline::Batch Batch(std::string bytes, int64_t items) {
  tracewire::pipeline::Batch b;
  b.signal = tracewire::wire::Signal::kTraces;
  b.bytes = std::move(bytes);
  b.items = items;
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/tw-store-bench";
  int requests = 2000;  // of 512 standard spans
  int traces = 100000;  // of 10 spans
  bool random_start = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dir") dir = argv[i + 1];
    if (a == "--requests") requests = std::atoi(argv[i + 1]);
    if (a == "--traces") traces = std::atoi(argv[i + 1]);
    if (a == "--start-order") random_start = std::string(argv[i + 1]) == "random";
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // (1) Insert throughput.
  {
    std::vector<std::string> reqs;
    for (int i = 0; i < requests; ++i) {
      reqs.push_back(tracewire::tools::MakeStandardSpansRequest(512, 1000 + i));
    }
    tracewire::store::StoreOptions o;
    o.path = dir + "/insert.db";
    tracewire::store::StoreWriter w(o);
    if (!w.Open().ok()) return 1;
    const auto t = Clock::now();
    for (auto& r : reqs) {
      absl::Status st = w.Write(Batch(std::move(r), 512));
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
        return 1;
      }
    }
    if (!w.Flush().ok()) return 1;
    const double s = Since(t);
    if (!w.Close().ok()) return 1;
    const double spans = 512.0 * requests;
    const auto bytes = std::filesystem::file_size(o.path);
    std::printf("insert: spans=%.0f seconds=%.2f spans_per_s=%.0f bytes_per_span=%.1f\n", spans, s,
                spans / s, bytes / spans);
  }

  // (2) Queries on a store of `traces` traces x 10 spans over 100 services.
  using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
  const std::string path = dir + "/query.db";
  std::mt19937_64 rng(7);
  const uint64_t now_ns = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  std::string probe_id;
  {
    tracewire::store::StoreOptions o;
    o.path = path;
    o.retention_hours = 0;
    tracewire::store::StoreWriter w(o);
    if (!w.Open().ok()) return 1;
    const auto t = Clock::now();
    constexpr int kTracesPerRequest = 50;
    constexpr int kGrowStep = 100000;  // spans
    auto step_start = Clock::now();
    for (int base = 0; base < traces; base += kTracesPerRequest) {
      if (base > 0 && (base * 10) % kGrowStep == 0) {
        std::printf("grow: spans=%d..%d spans_per_s=%.0f\n", base * 10 - kGrowStep, base * 10,
                    kGrowStep / Since(step_start));
        std::fflush(stdout);
        step_start = Clock::now();
      }
      ExportTraceServiceRequest req;
      for (int k = 0; k < kTracesPerRequest && base + k < traces; ++k) {
        std::string trace_id(16, '\0');
        for (auto& c : trace_id) c = static_cast<char>(rng());
        trace_id[0] |= 1;
        if (probe_id.empty() && base + k == traces / 2) probe_id = trace_id;
        // spread over the last 2 hours
        constexpr uint64_t k2h = 7200000000000ull;
        const uint64_t start =
            random_start ? now_ns - (rng() % k2h)
                         : now_ns - k2h + static_cast<uint64_t>(base + k) * (k2h / traces) -
                               rng() % 1000000000ull;
        for (int s = 0; s < 10; ++s) {
          auto* rs = req.add_resource_spans();
          auto* kv = rs->mutable_resource()->add_attributes();
          kv->set_key("service.name");
          kv->mutable_value()->set_string_value("svc-" + std::to_string((base + k + s) % 100));
          auto* span = rs->add_scope_spans()->add_spans();
          span->set_trace_id(trace_id);
          std::string sid(8, '\0');
          sid[0] = static_cast<char>(s + 1);
          sid[7] = 1;
          span->set_span_id(sid);
          if (s > 0) {
            std::string pid(8, '\0');
            pid[0] = static_cast<char>(s);
            pid[7] = 1;
            span->set_parent_span_id(pid);
          }
          span->set_name("op-" + std::to_string(s));
          span->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
          const uint64_t dur = 1000000 + rng() % 100000000;
          span->set_start_time_unix_nano(start + s * 100000);
          span->set_end_time_unix_nano(start + s * 100000 + dur);
          auto* a = span->add_attributes();
          a->set_key("http.route");
          a->mutable_value()->set_string_value("/api/" + std::to_string(s));
        }
      }
      absl::Status st = w.Write(Batch(req.SerializeAsString(), kTracesPerRequest * 10));
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
        return 1;
      }
    }
    if (!w.Close().ok()) return 1;
    std::printf("query store: spans=%d build_seconds=%.1f bytes_per_span=%.1f\n", traces * 10,
                Since(t), std::filesystem::file_size(path) / (traces * 10.0));
  }
  tracewire::tools::QueryOutput q;
  q.store_path = path;
  q.out = std::fopen("/dev/null", "w");
  for (int run = 0; run < 3; ++run) {
    auto t = Clock::now();
    const int rc = tracewire::tools::RunTraceQuery(q, tracewire::store::ToHex(probe_id));
    const double trace_ms = Since(t) * 1000;
    tracewire::store::TraceFilter f;
    f.service = "svc-7";
    f.since_ns = static_cast<int64_t>(now_ns) - 3600ll * 1000000000;
    f.sort_by_duration = true;
    f.limit = 20;
    t = Clock::now();
    const int rc2 = tracewire::tools::RunTracesQuery(q, f);
    const double slow_ms = Since(t) * 1000;
    // `tracewire services` over the whole store (every span in the window).
    t = Clock::now();
    const int rc3 = tracewire::tools::RunServicesQuery(q, 0);
    const double services_ms = Since(t) * 1000;
    std::printf(
        "query: trace_by_id_ms=%.2f (rc %d) slowest20_of_service_last_hour_ms=%.1f (rc %d) "
        "services_all_ms=%.0f (rc %d)\n",
        trace_ms, rc, slow_ms, rc2, services_ms, rc3);
  }
  return 0;
}
