#include "sdk_scenarios.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "../standard_span.h"
#include "absl/time/clock.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "proc_sample.h"
#include "tracewire/otlp_exporter.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"
#include "wire/otlp_encoder.h"

namespace tracewire::bench {
namespace {

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

double PeakRssMib() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The standard span of WORKLOAD.md as a plain struct.
SpanData StandardSpan(uint64_t i) {
  SpanData s;
  for (int b = 0; b < 16; ++b) s.trace_id[b] = static_cast<uint8_t>((i * 131 + b * 7 + 1) & 0xff);
  for (int b = 0; b < 8; ++b) s.span_id[b] = static_cast<uint8_t>((i * 17 + b * 3 + 1) & 0xff);
  s.flags = 1;
  s.name = "GET /api/users";
  s.kind = SpanKind::kServer;
  s.start_time_unix_nano = 1700000000000000000ull + i * 1000;
  s.end_time_unix_nano = s.start_time_unix_nano + 1500000;
  s.attributes = {{"http.method", "GET"},
                  {"http.route", "/api/users"},
                  {"http.target", "/api/users?id=42"},
                  {"net.peer.name", "10.0.0.1"},
                  {"http.status_code", int64_t{200}},
                  {"http.response_content_length", int64_t{1234}},
                  {"duration_ratio", 0.75},
                  {"cache.hit", true}};
  SpanEvent e;
  e.name = "cache lookup";
  e.time_unix_nano = s.start_time_unix_nano + 1000;
  e.attributes = {{"cache.key", "user:42"}};
  s.events.push_back(std::move(e));
  s.status_code = StatusCode::kOk;
  return s;
}

Resource BenchResource() {
  return Resource{{{"service.name", "bench"}, {"service.version", "1.0"}}, 0, ""};
}
InstrumentationScope BenchScope() { return InstrumentationScope{"bench", "1.0", {}, 0, ""}; }

}  // namespace

int RunEncodeScenario(const ScenarioArgs& a) {
  constexpr int kSpans = 512;
  Resource res = BenchResource();
  InstrumentationScope scope = BenchScope();
  std::vector<SpanData> spans;
  for (int i = 0; i < kSpans; ++i) spans.push_back(StandardSpan(i));
  ScopedItems<SpanData> g{&res, &scope, {}};
  for (const auto& s : spans) g.items.push_back(&s);
  std::string out;
  // Ours: encode straight from the structs.
  int64_t ours = 0;
  auto t0 = std::chrono::steady_clock::now();
  const double c0 = CpuSeconds();
  while (Seconds(t0) < a.seconds / 2) {
    for (int r = 0; r < 100; ++r) {
      out.clear();
      wire::EncodeTracesRequest(std::span(&g, 1), &out);
      ours += kSpans;
    }
  }
  const double ours_ns = (CpuSeconds() - c0) * 1e9 / ours;
  const size_t bytes = out.size();
  // Baseline in the same run: libprotobuf builds (on an arena) and serializes.
  int64_t base = 0;
  t0 = std::chrono::steady_clock::now();
  const double c1 = CpuSeconds();
  namespace otlp = ::opentelemetry::proto;
  while (Seconds(t0) < a.seconds / 2) {
    for (int r = 0; r < 10; ++r) {
      google::protobuf::Arena arena;
      auto* req = google::protobuf::Arena::CreateMessage<
          otlp::collector::trace::v1::ExportTraceServiceRequest>(&arena);
      auto* rs = req->add_resource_spans();
      for (const auto& kv : res.attributes) {
        auto* a2 = rs->mutable_resource()->add_attributes();
        a2->set_key(kv.key);
        a2->mutable_value()->set_string_value(std::get<std::string>(kv.value.value));
      }
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name(scope.name);
      ss->mutable_scope()->set_version(scope.version);
      for (const SpanData& s : spans) {
        auto* p = ss->add_spans();
        p->set_trace_id(s.trace_id.data(), 16);
        p->set_span_id(s.span_id.data(), 8);
        p->set_flags(s.flags);
        p->set_name(s.name);
        p->set_kind(otlp::trace::v1::Span::SPAN_KIND_SERVER);
        p->set_start_time_unix_nano(s.start_time_unix_nano);
        p->set_end_time_unix_nano(s.end_time_unix_nano);
        for (const auto& kv : s.attributes) {
          auto* x = p->add_attributes();
          x->set_key(kv.key);
          std::visit(
              [x](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string>)
                  x->mutable_value()->set_string_value(v);
                if constexpr (std::is_same_v<T, int64_t>) x->mutable_value()->set_int_value(v);
                if constexpr (std::is_same_v<T, double>) x->mutable_value()->set_double_value(v);
                if constexpr (std::is_same_v<T, bool>) x->mutable_value()->set_bool_value(v);
              },
              kv.value.value);
        }
        auto* e = p->add_events();
        e->set_name(s.events[0].name);
        e->set_time_unix_nano(s.events[0].time_unix_nano);
        auto* ea = e->add_attributes();
        ea->set_key("cache.key");
        ea->mutable_value()->set_string_value("user:42");
        p->mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_OK);
      }
      out.clear();
      req->SerializeToString(&out);
      base += kSpans;
    }
  }
  const double base_ns = (CpuSeconds() - c1) * 1e9 / base;
  std::printf(
      "scenario=encode spans=%lld ns_per_span=%.1f libprotobuf_ns_per_span=%.1f "
      "ratio=%.2f request_bytes=%zu bytes_per_span=%.1f\n",
      static_cast<long long>(ours), ours_ns, base_ns, base_ns / ours_ns, bytes,
      static_cast<double>(bytes) / kSpans);
  return 0;
}

int RunSendScenario(const ScenarioArgs& a) {
  if (a.endpoint.empty()) {
    std::fprintf(stderr, "tracewire-bench: --scenario send needs --endpoint\n");
    return 2;
  }
  constexpr int kSpans = 512;
  OtlpExporterOptions o;
  o.endpoint = "http://" + a.endpoint;
  o.compression = a.gzip ? "gzip" : "none";
  o.block_on_full = absl::Seconds(30);  // measure cost, not drops
  o.max_queue_items = 16 * kSpans;
  auto e = OtlpExporter::Create(ExportSignal::kTraces, o);
  if (!e.ok()) {
    std::fprintf(stderr, "tracewire-bench: %s\n", std::string(e.status().message()).c_str());
    return 2;
  }
  Resource res = BenchResource();
  InstrumentationScope scope = BenchScope();
  std::vector<SpanData> spans;
  for (int i = 0; i < kSpans; ++i) spans.push_back(StandardSpan(i));
  ScopedItems<SpanData> g{&res, &scope, {}};
  for (const auto& s : spans) g.items.push_back(&s);
  std::string prebuilt;
  wire::EncodeTracesRequest(std::span(&g, 1), &prebuilt);
  const double c0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  int64_t sent = 0;
  while (Seconds(t0) < a.seconds) {
    absl::Status st =
        a.prebuilt ? (*e)->ExportEncoded(prebuilt) : (*e)->ExportSpans(std::span(&g, 1));
    if (st.ok()) sent += kSpans;
  }
  absl::Status st = (*e)->Shutdown(absl::Now() + absl::Seconds(30));
  const double secs = Seconds(t0);
  const double cpu = CpuSeconds() - c0;
  ExporterStats s = (*e)->Stats();
  std::printf(
      "scenario=send mode=%s gzip=%d spans=%lld delivered=%lld dropped=%lld seconds=%.3f "
      "spans_per_s=%.0f cpu_s_per_1m=%.3f bytes_per_span=%.1f rss_mib=%.1f ok=%d\n",
      a.prebuilt ? "prebuilt" : "encode", a.gzip ? 1 : 0, static_cast<long long>(sent),
      static_cast<long long>(s.exported_items), static_cast<long long>(s.dropped_total()), secs,
      s.exported_items / secs, cpu * 1e6 / std::max<int64_t>(1, s.exported_items),
      static_cast<double>(prebuilt.size()) / kSpans, PeakRssMib(), st.ok() ? 1 : 0);
  return st.ok() ? 0 : 1;
}

namespace {

// Runs the standard span on `threads` threads for `seconds` (optionally paced)
// through `provider`; returns the spans created.
int64_t Drive(TracerProvider* provider, const ScenarioArgs& a, double* elapsed) {
  Tracer* tracer = provider->GetTracer("bench", "1.0");
  std::atomic<int64_t> created{0};
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&] {
      int64_t n = 0;
      const auto start = std::chrono::steady_clock::now();
      while (true) {
        for (int i = 0; i < 256; ++i) EmitStandardSpan(tracer);
        n += 256;
        const double s = Seconds(start);
        if (s >= a.seconds) break;
        if (a.rate > 0) {  // pace to `rate` spans/s per thread
          const double ahead = n / a.rate - s;
          if (ahead > 0) std::this_thread::sleep_for(std::chrono::duration<double>(ahead));
        }
      }
      created += n;
    });
  }
  for (auto& th : threads) th.join();
  *elapsed = Seconds(t0);
  return created.load();
}

// The batch processor options of the scenario (its queue and batch sizes).
BatchSpanProcessorOptions BspOptions(const ScenarioArgs& a) {
  BatchSpanProcessorOptions bo;
  bo.max_queue_size = a.queue_size;
  bo.max_export_batch_size = a.batch_size;
  using Mode = BatchSpanProcessorOptions::EndingThreadsExport;
  bo.ending_threads_export = a.ending_threads_export == "never"    ? Mode::kNever
                             : a.ending_threads_export == "always" ? Mode::kAlways
                                                                   : Mode::kWhenCoresBusy;
  return bo;
}

// A provider with one batch processor in front of `exporter`; *bsp is set to
// that processor.
std::unique_ptr<TracerProvider> MakeProvider(const BatchSpanProcessorOptions& bo,
                                             std::unique_ptr<SpanExporter> exporter,
                                             BatchSpanProcessor** bsp) {
  auto p = BatchSpanProcessor::Create(std::move(exporter), bo);
  *bsp = p.get();
  TracerProviderOptions po;
  po.resource = BenchResource();
  po.sampler = MakeAlwaysOnSampler();
  po.processors.push_back(std::move(p));
  return std::move(*TracerProvider::Create(std::move(po)));
}

}  // namespace

int RunSdkScenario(const ScenarioArgs& a) {
  BatchSpanProcessor* raw;
  auto provider = MakeProvider(BspOptions(a), MakeNoopSpanExporter(), &raw);
  const double c0 = CpuSeconds();
  double secs = 0;
  const int64_t created = Drive(provider.get(), a, &secs);
  const double cpu = CpuSeconds() - c0;
  (void)provider->Shutdown(absl::Now() + absl::Seconds(10));
  BatchSpanProcessorStats s = raw->Stats();
  std::printf(
      "scenario=sdk threads=%d created=%lld delivered=%lld dropped=%lld "
      "dropped_export_busy=%lld exported_when_full=%lld exported_on_ending_threads=%lld "
      "seconds=%.3f spans_per_s=%.0f ns_per_span=%.1f cpu_s_per_1m=%.3f rss_mib=%.1f\n",
      a.threads, static_cast<long long>(created), static_cast<long long>(s.processed),
      static_cast<long long>(s.dropped_queue_full), static_cast<long long>(s.dropped_export_busy),
      static_cast<long long>(s.exported_when_full),
      static_cast<long long>(s.exported_on_ending_threads), secs, created / secs,
      secs * 1e9 * a.threads / created, cpu * 1e6 / created, PeakRssMib());
  return 0;
}

// Memory per queued span: RSS (VmRSS) grows by this much per standard span
// that sits in the batch processor's queue. The queue (--queue-size) is
// filled to one short of a batch that equals it, with a schedule delay of an
// hour, so nothing leaves it while RSS is read.
int RunMemoryScenario(const ScenarioArgs& a) {
  BatchSpanProcessorOptions bo = BspOptions(a);
  bo.max_export_batch_size = a.queue_size;
  bo.schedule_delay = absl::Hours(1);
  BatchSpanProcessor* raw;
  auto provider = MakeProvider(bo, MakeNoopSpanExporter(), &raw);
  Tracer* tracer = provider->GetTracer("bench", "1.0");
  EmitStandardSpan(tracer);  // first-use allocations (thread state, tracer) before the baseline
  const int64_t queued = a.queue_size - 2;
  const double before = SampleProc(getpid()).rss_mib;
  for (int64_t i = 0; i < queued; ++i) EmitStandardSpan(tracer);
  const double after = SampleProc(getpid()).rss_mib;
  const int64_t in_queue = raw->Stats().queue_size;
  (void)provider->Shutdown(absl::Now() + absl::Seconds(10));
  std::printf("scenario=memory queued=%lld bytes_per_queued_span=%.0f rss_mib=%.1f\n",
              static_cast<long long>(in_queue),
              (after - before) * (1 << 20) / std::max<int64_t>(1, in_queue), after);
  return in_queue == queued + 1 ? 0 : 1;
}

int RunExportScenario(const ScenarioArgs& a) {
  if (a.endpoint.empty()) {
    std::fprintf(stderr, "tracewire-bench: --scenario export needs --endpoint\n");
    return 2;
  }
  OtlpExporterOptions o;
  o.endpoint = "http://" + a.endpoint;
  o.compression = a.gzip ? "gzip" : "none";
  auto exporter = MakeOtlpSpanExporter(o);
  if (!exporter.ok()) {
    std::fprintf(stderr, "tracewire-bench: %s\n", std::string(exporter.status().message()).c_str());
    return 2;
  }
  BatchSpanProcessor* raw;
  auto provider = MakeProvider(BspOptions(a), std::move(*exporter), &raw);
  const double c0 = CpuSeconds();
  double secs = 0;
  const int64_t created = Drive(provider.get(), a, &secs);
  absl::Status st = provider->Shutdown(absl::Now() + absl::Seconds(30));
  const double cpu = CpuSeconds() - c0;
  BatchSpanProcessorStats s = raw->Stats();
  const int64_t delivered = s.processed - s.export_failures;
  std::printf(
      "scenario=export threads=%d gzip=%d created=%lld delivered=%lld dropped=%lld "
      "exported_when_full=%lld exported_on_ending_threads=%lld seconds=%.3f spans_per_s=%.0f "
      "ns_per_span=%.1f cpu_s_per_1m=%.3f rss_mib=%.1f ok=%d\n",
      a.threads, a.gzip ? 1 : 0, static_cast<long long>(created), static_cast<long long>(delivered),
      static_cast<long long>(s.dropped_queue_full + s.export_failures),
      static_cast<long long>(s.exported_when_full),
      static_cast<long long>(s.exported_on_ending_threads), secs, delivered / secs,
      secs * 1e9 * a.threads / created, cpu * 1e6 / std::max<int64_t>(1, delivered), PeakRssMib(),
      st.ok() ? 1 : 0);
  return 0;
}

}  // namespace tracewire::bench
