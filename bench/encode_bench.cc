// Micro benchmarks of the export path's encoding CPU work per span: our
// struct-to-wire encoder beside libprotobuf building and serializing the same
// request from the same structs (the baseline, same run). Requests are 512
// standard spans (shared/bench/WORKLOAD.md). The per_span counter is CPU time
// per span.
//   build/bin/encode_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tracewire/telemetry_data.h"
#include "wire/otlp_encoder.h"

namespace {

namespace otc = ::opentelemetry::proto::common::v1;
namespace ott = ::opentelemetry::proto::trace::v1;
using TraceRequest = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using tracewire::AnyValue;
using tracewire::SpanData;

constexpr int kSpans = 512;
constexpr uint64_t kBaseTime = 1700000000000000000ull;

struct Workload {
  tracewire::Resource resource;
  tracewire::InstrumentationScope scope;
  std::vector<SpanData> spans;
  std::vector<tracewire::ScopedItems<SpanData>> groups;
};

const Workload& StandardSpans() {
  static const Workload* w = [] {
    auto* w = new Workload;
    w->resource.attributes = {{"service.name", "bench"}, {"service.version", "1.0"}};
    w->scope.name = "bench";
    w->scope.version = "1.0";
    std::mt19937_64 rng(7);
    w->spans.resize(kSpans);
    for (int i = 0; i < kSpans; ++i) {
      SpanData& s = w->spans[i];
      for (auto& b : s.trace_id) b = static_cast<uint8_t>(rng() | 1);
      for (auto& b : s.span_id) b = static_cast<uint8_t>(rng() | 1);
      s.name = "GET /api/users";
      s.kind = tracewire::SpanKind::kServer;
      s.flags = 1;
      s.start_time_unix_nano = kBaseTime + static_cast<uint64_t>(i) * 1000;
      s.end_time_unix_nano = s.start_time_unix_nano + 1500000;
      s.attributes = {{"http.method", "GET"},
                      {"http.route", "/api/users"},
                      {"http.target", "/api/users?id=42"},
                      {"net.peer.name", "10.0.0.1"},
                      {"http.status_code", 200},
                      {"http.response_content_length", 1234},
                      {"duration_ratio", 0.75},
                      {"cache.hit", true}};
      s.events.push_back(
          {s.start_time_unix_nano + 1000, "cache lookup", {{"cache.key", "user:42"}}, 0});
      s.status_code = tracewire::StatusCode::kOk;
    }
    tracewire::ScopedItems<SpanData> g{&w->resource, &w->scope, {}};
    for (const SpanData& s : w->spans) g.items.push_back(&s);
    w->groups.push_back(std::move(g));
    return w;
  }();
  return *w;
}

void SetCounters(benchmark::State& state, size_t bytes) {
  state.SetItemsProcessed(state.iterations() * kSpans);
  state.SetBytesProcessed(state.iterations() * bytes);
  // CPU seconds per span, printed with an SI prefix ("79.2n" + "s": ns).
  state.counters["per_span"] = benchmark::Counter(
      kSpans, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_EncodeStandardSpans(benchmark::State& state) {
  const Workload& w = StandardSpans();
  std::string out;
  for (auto _ : state) {
    out.clear();
    tracewire::wire::EncodeTracesRequest(w.groups, &out);
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, out.size());
}
BENCHMARK(BM_EncodeStandardSpans);

// The same with a fresh output string per request (one allocation more).
void BM_EncodeStandardSpansFreshBuffer(benchmark::State& state) {
  const Workload& w = StandardSpans();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    tracewire::wire::EncodeTracesRequest(w.groups, &out);
    benchmark::DoNotOptimize(out.data());
    bytes = out.size();
  }
  SetCounters(state, bytes);
}
BENCHMARK(BM_EncodeStandardSpansFreshBuffer);

void BM_EncodedSpanSize(benchmark::State& state) {
  const Workload& w = StandardSpans();
  for (auto _ : state) {
    size_t n = 0;
    for (const SpanData& s : w.spans) n += tracewire::wire::EncodedSpanSize(s);
    benchmark::DoNotOptimize(n);
  }
  SetCounters(state, 0);
}
BENCHMARK(BM_EncodedSpanSize);

void SetValue(otc::AnyValue* out, const AnyValue& v) {
  if (const auto* s = std::get_if<std::string>(&v.value)) {
    out->set_string_value(*s);
  } else if (const auto* b = std::get_if<bool>(&v.value)) {
    out->set_bool_value(*b);
  } else if (const auto* i = std::get_if<int64_t>(&v.value)) {
    out->set_int_value(*i);
  } else if (const auto* d = std::get_if<double>(&v.value)) {
    out->set_double_value(*d);
  }
}

void AddAttributes(google::protobuf::RepeatedPtrField<otc::KeyValue>* out,
                   const tracewire::Attributes& attributes) {
  for (const auto& kv : attributes) {
    auto* a = out->Add();
    a->set_key(kv.key);
    SetValue(a->mutable_value(), kv.value);
  }
}

// What an exporter built on libprotobuf does per request: build the message
// from the structs, serialize it, destroy it.
void BuildAndSerialize(const Workload& w, std::string* out) {
  TraceRequest req;
  auto* rs = req.add_resource_spans();
  AddAttributes(rs->mutable_resource()->mutable_attributes(), w.resource.attributes);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name(w.scope.name);
  ss->mutable_scope()->set_version(w.scope.version);
  for (const SpanData* s : w.groups[0].items) {
    auto* p = ss->add_spans();
    p->set_trace_id(s->trace_id.data(), s->trace_id.size());
    p->set_span_id(s->span_id.data(), s->span_id.size());
    p->set_name(s->name);
    p->set_kind(static_cast<ott::Span::SpanKind>(s->kind));
    p->set_flags(s->flags);
    p->set_start_time_unix_nano(s->start_time_unix_nano);
    p->set_end_time_unix_nano(s->end_time_unix_nano);
    AddAttributes(p->mutable_attributes(), s->attributes);
    for (const auto& e : s->events) {
      auto* pe = p->add_events();
      pe->set_time_unix_nano(e.time_unix_nano);
      pe->set_name(e.name);
      AddAttributes(pe->mutable_attributes(), e.attributes);
    }
    p->mutable_status()->set_code(static_cast<ott::Status::StatusCode>(s->status_code));
  }
  req.SerializeToString(out);
}

void BM_LibprotobufBuildAndSerialize(benchmark::State& state) {
  const Workload& w = StandardSpans();
  std::string out;
  for (auto _ : state) {
    BuildAndSerialize(w, &out);
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, out.size());
}
BENCHMARK(BM_LibprotobufBuildAndSerialize);

// Serialization alone of a prebuilt message: libprotobuf's floor.
void BM_LibprotobufSerializeOnly(benchmark::State& state) {
  const Workload& w = StandardSpans();
  std::string built;
  BuildAndSerialize(w, &built);
  TraceRequest req;
  if (!req.ParseFromString(built)) state.SkipWithError("parse failed");
  std::string out;
  for (auto _ : state) {
    out.clear();
    req.SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, out.size());
}
BENCHMARK(BM_LibprotobufSerializeOnly);

// Both must produce the same bytes, or the comparison is meaningless.
void BM_CheckSameBytes(benchmark::State& state) {
  const Workload& w = StandardSpans();
  std::string ours, theirs;
  tracewire::wire::EncodeTracesRequest(w.groups, &ours);
  BuildAndSerialize(w, &theirs);
  if (ours != theirs) state.SkipWithError("encoder output differs from libprotobuf");
  for (auto _ : state) {
  }
}
BENCHMARK(BM_CheckSameBytes)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
