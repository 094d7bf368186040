// Tests of wire/otlp_encoder.h against libprotobuf: every field round-trips
// through the generated parsers, and since both write fields in field-number
// order, the bytes must equal libprotobuf's serialization of an equivalently
// built message.

#include "wire/otlp_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "wire/otlp_reader.h"

namespace tracewire::wire {
namespace {

namespace otc = ::opentelemetry::proto::common::v1;
namespace otr = ::opentelemetry::proto::resource::v1;
namespace ott = ::opentelemetry::proto::trace::v1;
namespace otm = ::opentelemetry::proto::metrics::v1;
namespace otl = ::opentelemetry::proto::logs::v1;
using TraceRequest = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using MetricsRequest = ::opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using LogsRequest = ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using KeyValues = ::google::protobuf::RepeatedPtrField<otc::KeyValue>;
using ::google::protobuf::util::MessageDifferencer;

// ---- Structs to libprotobuf messages ----------------------------------------
// Written independently of the encoder, following the presence rules stated in
// otlp_encoder.h.

std::string IdBytes(const uint8_t* data, size_t n) {
  return std::string(reinterpret_cast<const char*>(data), n);
}
template <size_t N>
std::string IdBytes(const std::array<uint8_t, N>& id) {
  return IdBytes(id.data(), N);
}

void ToProto(const Attributes& attributes, KeyValues* out);

void ToProto(const AnyValue& v, otc::AnyValue* out) {
  if (const auto* s = std::get_if<std::string>(&v.value)) {
    out->set_string_value(*s);
  } else if (const auto* b = std::get_if<bool>(&v.value)) {
    out->set_bool_value(*b);
  } else if (const auto* i = std::get_if<int64_t>(&v.value)) {
    out->set_int_value(*i);
  } else if (const auto* d = std::get_if<double>(&v.value)) {
    out->set_double_value(*d);
  } else if (const auto* a = std::get_if<AnyValue::Array>(&v.value)) {
    auto* array = out->mutable_array_value();
    for (const AnyValue& e : *a) ToProto(e, array->add_values());
  } else if (const auto* kv = std::get_if<AnyValue::KvList>(&v.value)) {
    ToProto(*kv, out->mutable_kvlist_value()->mutable_values());
  } else if (const auto* bytes = std::get_if<Bytes>(&v.value)) {
    out->set_bytes_value(bytes->data);
  }
}

void ToProto(const Attributes& attributes, KeyValues* out) {
  for (const KeyValue& kv : attributes) {
    auto* p = out->Add();
    p->set_key(kv.key);
    ToProto(kv.value, p->mutable_value());
  }
}

void ToProto(const Resource& r, otr::Resource* out) {
  ToProto(r.attributes, out->mutable_attributes());
  out->set_dropped_attributes_count(r.dropped_attributes_count);
}

void ToProto(const InstrumentationScope& s, otc::InstrumentationScope* out) {
  out->set_name(s.name);
  out->set_version(s.version);
  ToProto(s.attributes, out->mutable_attributes());
  out->set_dropped_attributes_count(s.dropped_attributes_count);
}

void ToProto(const SpanData& s, ott::Span* out) {
  out->set_trace_id(IdBytes(s.trace_id));
  out->set_span_id(IdBytes(s.span_id));
  out->set_trace_state(s.trace_state);
  if (s.parent_span_id) out->set_parent_span_id(IdBytes(*s.parent_span_id));
  out->set_flags(s.flags);
  out->set_name(s.name);
  out->set_kind(static_cast<ott::Span::SpanKind>(s.kind));
  out->set_start_time_unix_nano(s.start_time_unix_nano);
  out->set_end_time_unix_nano(s.end_time_unix_nano);
  ToProto(s.attributes, out->mutable_attributes());
  out->set_dropped_attributes_count(s.dropped_attributes_count);
  for (const SpanEvent& e : s.events) {
    auto* p = out->add_events();
    p->set_time_unix_nano(e.time_unix_nano);
    p->set_name(e.name);
    ToProto(e.attributes, p->mutable_attributes());
    p->set_dropped_attributes_count(e.dropped_attributes_count);
  }
  out->set_dropped_events_count(s.dropped_events_count);
  for (const SpanLink& l : s.links) {
    auto* p = out->add_links();
    p->set_trace_id(IdBytes(l.trace_id));
    p->set_span_id(IdBytes(l.span_id));
    p->set_trace_state(l.trace_state);
    ToProto(l.attributes, p->mutable_attributes());
    p->set_dropped_attributes_count(l.dropped_attributes_count);
    p->set_flags(l.flags);
  }
  out->set_dropped_links_count(s.dropped_links_count);
  if (s.status_code != StatusCode::kUnset || !s.status_message.empty()) {
    out->mutable_status()->set_code(static_cast<ott::Status::StatusCode>(s.status_code));
    out->mutable_status()->set_message(s.status_message);
  }
}

template <typename P>
void SetNumberValue(const std::variant<double, int64_t>& v, P* out) {
  if (const auto* d = std::get_if<double>(&v)) {
    out->set_as_double(*d);
  } else {
    out->set_as_int(std::get<int64_t>(v));
  }
}

void ToProto(const Exemplar& e, otm::Exemplar* out) {
  ToProto(e.filtered_attributes, out->mutable_filtered_attributes());
  out->set_time_unix_nano(e.time_unix_nano);
  SetNumberValue(e.value, out);
  if (e.span_id) out->set_span_id(IdBytes(*e.span_id));
  if (e.trace_id) out->set_trace_id(IdBytes(*e.trace_id));
}

template <typename P>
void ExemplarsToProto(const std::vector<Exemplar>& exemplars, P* out) {
  for (const Exemplar& e : exemplars) ToProto(e, out->add_exemplars());
}

void ToProto(const NumberDataPoint& d, otm::NumberDataPoint* out) {
  ToProto(d.attributes, out->mutable_attributes());
  out->set_start_time_unix_nano(d.start_time_unix_nano);
  out->set_time_unix_nano(d.time_unix_nano);
  SetNumberValue(d.value, out);
  ExemplarsToProto(d.exemplars, out);
  out->set_flags(d.flags);
}

void ToProto(const HistogramDataPoint& d, otm::HistogramDataPoint* out) {
  ToProto(d.attributes, out->mutable_attributes());
  out->set_start_time_unix_nano(d.start_time_unix_nano);
  out->set_time_unix_nano(d.time_unix_nano);
  out->set_count(d.count);
  if (d.sum) out->set_sum(*d.sum);
  for (uint64_t c : d.bucket_counts) out->add_bucket_counts(c);
  for (double b : d.explicit_bounds) out->add_explicit_bounds(b);
  ExemplarsToProto(d.exemplars, out);
  out->set_flags(d.flags);
  if (d.min) out->set_min(*d.min);
  if (d.max) out->set_max(*d.max);
}

void ToProto(const ExponentialHistogramDataPoint::Buckets& b,
             otm::ExponentialHistogramDataPoint::Buckets* out) {
  out->set_offset(b.offset);
  for (uint64_t c : b.bucket_counts) out->add_bucket_counts(c);
}

void ToProto(const ExponentialHistogramDataPoint& d, otm::ExponentialHistogramDataPoint* out) {
  ToProto(d.attributes, out->mutable_attributes());
  out->set_start_time_unix_nano(d.start_time_unix_nano);
  out->set_time_unix_nano(d.time_unix_nano);
  out->set_count(d.count);
  if (d.sum) out->set_sum(*d.sum);
  out->set_scale(d.scale);
  out->set_zero_count(d.zero_count);
  if (d.positive.offset != 0 || !d.positive.bucket_counts.empty()) {
    ToProto(d.positive, out->mutable_positive());
  }
  if (d.negative.offset != 0 || !d.negative.bucket_counts.empty()) {
    ToProto(d.negative, out->mutable_negative());
  }
  out->set_flags(d.flags);
  ExemplarsToProto(d.exemplars, out);
  if (d.min) out->set_min(*d.min);
  if (d.max) out->set_max(*d.max);
  out->set_zero_threshold(d.zero_threshold);
}

void ToProto(const SummaryDataPoint& d, otm::SummaryDataPoint* out) {
  ToProto(d.attributes, out->mutable_attributes());
  out->set_start_time_unix_nano(d.start_time_unix_nano);
  out->set_time_unix_nano(d.time_unix_nano);
  out->set_count(d.count);
  out->set_sum(d.sum);
  for (const auto& q : d.quantile_values) {
    auto* p = out->add_quantile_values();
    p->set_quantile(q.quantile);
    p->set_value(q.value);
  }
  out->set_flags(d.flags);
}

void ToProto(const MetricData& m, otm::Metric* out) {
  out->set_name(m.name);
  out->set_description(m.description);
  out->set_unit(m.unit);
  if (const auto* g = std::get_if<Gauge>(&m.data)) {
    auto* p = out->mutable_gauge();
    for (const auto& d : g->data_points) ToProto(d, p->add_data_points());
  } else if (const auto* s = std::get_if<Sum>(&m.data)) {
    auto* p = out->mutable_sum();
    for (const auto& d : s->data_points) ToProto(d, p->add_data_points());
    p->set_aggregation_temporality(
        static_cast<otm::AggregationTemporality>(s->aggregation_temporality));
    p->set_is_monotonic(s->is_monotonic);
  } else if (const auto* h = std::get_if<Histogram>(&m.data)) {
    auto* p = out->mutable_histogram();
    for (const auto& d : h->data_points) ToProto(d, p->add_data_points());
    p->set_aggregation_temporality(
        static_cast<otm::AggregationTemporality>(h->aggregation_temporality));
  } else if (const auto* e = std::get_if<ExponentialHistogram>(&m.data)) {
    auto* p = out->mutable_exponential_histogram();
    for (const auto& d : e->data_points) ToProto(d, p->add_data_points());
    p->set_aggregation_temporality(
        static_cast<otm::AggregationTemporality>(e->aggregation_temporality));
  } else {
    auto* p = out->mutable_summary();
    for (const auto& d : std::get<Summary>(m.data).data_points) ToProto(d, p->add_data_points());
  }
  ToProto(m.metadata, out->mutable_metadata());
}

void ToProto(const LogRecordData& r, otl::LogRecord* out) {
  out->set_time_unix_nano(r.time_unix_nano);
  out->set_observed_time_unix_nano(r.observed_time_unix_nano);
  out->set_severity_number(static_cast<otl::SeverityNumber>(r.severity_number));
  out->set_severity_text(r.severity_text);
  if (r.body) ToProto(*r.body, out->mutable_body());
  ToProto(r.attributes, out->mutable_attributes());
  out->set_dropped_attributes_count(r.dropped_attributes_count);
  out->set_flags(r.flags);
  if (r.trace_id) out->set_trace_id(IdBytes(*r.trace_id));
  if (r.span_id) out->set_span_id(IdBytes(*r.span_id));
  out->set_event_name(r.event_name);
}

// Per signal: the request type, the encoder, and the request's accessors.
struct TracesSig {
  using Item = SpanData;
  using Request = TraceRequest;
  static constexpr Signal kSignal = Signal::kTraces;
  static void Encode(std::span<const ScopedItems<Item>> g, std::string* out) {
    EncodeTracesRequest(g, out);
  }
  static size_t RequestSize(std::span<const ScopedItems<Item>> g) {
    return EncodedTracesRequestSize(g);
  }
  static std::vector<RequestSplit<Item>> Split(std::span<const ScopedItems<Item>> g, size_t max) {
    return SplitTracesRequest(g, max);
  }
  static size_t ItemSize(const Item& i) { return EncodedSpanSize(i); }
  static auto* AddResource(Request* r) { return r->add_resource_spans(); }
  template <typename R>
  static auto* AddScope(R* r) {
    return r->add_scope_spans();
  }
  template <typename S>
  static void AddItem(const Item& i, S* s) {
    ToProto(i, s->add_spans());
  }
  static int64_t ReaderItems(const Item&) { return 1; }
};

struct MetricsSig {
  using Item = MetricData;
  using Request = MetricsRequest;
  static constexpr Signal kSignal = Signal::kMetrics;
  static void Encode(std::span<const ScopedItems<Item>> g, std::string* out) {
    EncodeMetricsRequest(g, out);
  }
  static size_t RequestSize(std::span<const ScopedItems<Item>> g) {
    return EncodedMetricsRequestSize(g);
  }
  static std::vector<RequestSplit<Item>> Split(std::span<const ScopedItems<Item>> g, size_t max) {
    return SplitMetricsRequest(g, max);
  }
  static size_t ItemSize(const Item& i) { return EncodedMetricSize(i); }
  static auto* AddResource(Request* r) { return r->add_resource_metrics(); }
  template <typename R>
  static auto* AddScope(R* r) {
    return r->add_scope_metrics();
  }
  template <typename S>
  static void AddItem(const Item& i, S* s) {
    ToProto(i, s->add_metrics());
  }
  // The reader counts data points.
  static int64_t ReaderItems(const Item& m) {
    return std::visit([](const auto& d) { return static_cast<int64_t>(d.data_points.size()); },
                      m.data);
  }
};

struct LogsSig {
  using Item = LogRecordData;
  using Request = LogsRequest;
  static constexpr Signal kSignal = Signal::kLogs;
  static void Encode(std::span<const ScopedItems<Item>> g, std::string* out) {
    EncodeLogsRequest(g, out);
  }
  static size_t RequestSize(std::span<const ScopedItems<Item>> g) {
    return EncodedLogsRequestSize(g);
  }
  static std::vector<RequestSplit<Item>> Split(std::span<const ScopedItems<Item>> g, size_t max) {
    return SplitLogsRequest(g, max);
  }
  static size_t ItemSize(const Item& i) { return EncodedLogRecordSize(i); }
  static auto* AddResource(Request* r) { return r->add_resource_logs(); }
  template <typename R>
  static auto* AddScope(R* r) {
    return r->add_scope_logs();
  }
  template <typename S>
  static void AddItem(const Item& i, S* s) {
    ToProto(i, s->add_log_records());
  }
  static int64_t ReaderItems(const Item&) { return 1; }
};

// The libprotobuf request for `groups`, grouped by first appearance of each
// resource pointer and (resource, scope) pointer pair. Also returns the items
// in the request's order.
template <typename Sig>
typename Sig::Request ExpectedRequest(std::span<const ScopedItems<typename Sig::Item>> groups,
                                      std::vector<const typename Sig::Item*>* order = nullptr) {
  using Item = typename Sig::Item;
  typename Sig::Request req;
  std::vector<const Resource*> resources;
  std::vector<std::vector<const InstrumentationScope*>> scopes;  // per resource
  std::vector<std::vector<std::vector<const Item*>>> items;      // per resource, scope
  for (const auto& g : groups) {
    if (g.items.empty()) continue;
    size_t r = std::find(resources.begin(), resources.end(), g.resource) - resources.begin();
    if (r == resources.size()) {
      resources.push_back(g.resource);
      scopes.emplace_back();
      items.emplace_back();
    }
    size_t s = std::find(scopes[r].begin(), scopes[r].end(), g.scope) - scopes[r].begin();
    if (s == scopes[r].size()) {
      scopes[r].push_back(g.scope);
      items[r].emplace_back();
    }
    items[r][s].insert(items[r][s].end(), g.items.begin(), g.items.end());
  }
  for (size_t r = 0; r < resources.size(); ++r) {
    auto* rp = Sig::AddResource(&req);
    if (resources[r] != nullptr) {
      ToProto(*resources[r], rp->mutable_resource());
      rp->set_schema_url(resources[r]->schema_url);
    }
    for (size_t s = 0; s < scopes[r].size(); ++s) {
      auto* sp = Sig::AddScope(rp);
      if (scopes[r][s] != nullptr) {
        ToProto(*scopes[r][s], sp->mutable_scope());
        sp->set_schema_url(scopes[r][s]->schema_url);
      }
      for (const Item* i : items[r][s]) {
        Sig::AddItem(*i, sp);
        if (order != nullptr) order->push_back(i);
      }
    }
  }
  return req;
}

// Encodes `groups` and checks the bytes against libprotobuf: the same bytes
// as serializing the expected request, a parse that equals it, and the size
// functions. Returns the bytes.
template <typename Sig>
std::string EncodeAndCheck(std::span<const ScopedItems<typename Sig::Item>> groups) {
  std::string ours;
  Sig::Encode(groups, &ours);
  const typename Sig::Request expected = ExpectedRequest<Sig>(groups);
  typename Sig::Request parsed;
  EXPECT_TRUE(parsed.ParseFromString(ours));
  MessageDifferencer diff;
  ::google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  diff.set_field_comparator(&comparator);
  std::string report;
  diff.ReportDifferencesToString(&report);
  EXPECT_TRUE(diff.Compare(expected, parsed)) << report;
  EXPECT_EQ(ours, expected.SerializeAsString());
  EXPECT_EQ(Sig::RequestSize(groups), ours.size());
  return ours;
}

// ---- Builders -----------------------------------------------------------------

template <size_t N>
std::array<uint8_t, N> Id(uint8_t first) {
  std::array<uint8_t, N> id;
  for (size_t i = 0; i < N; ++i) id[i] = static_cast<uint8_t>(first + i);
  return id;
}

// Attributes with a value of every kind, defaults included.
Attributes EveryKindOfValue() {
  return {
      {"str", "hello"},
      {"empty_str", ""},
      {"true", true},
      {"false", false},
      {"int", int64_t{42}},
      {"zero", int64_t{0}},
      {"negative", int64_t{-7}},
      {"int_min", std::numeric_limits<int64_t>::min()},
      {"double", 3.25},
      {"zero_double", 0.0},
      {"negative_zero", -0.0},
      {"nan", std::numeric_limits<double>::quiet_NaN()},
      {"bytes", Bytes{std::string("\x00\x01\xff", 3)}},
      {"empty_bytes", Bytes{}},
      {"array", AnyValue::Array{"a", int64_t{1}, 2.5, true, Bytes{"b"}, AnyValue::Array{}}},
      {"empty_array", AnyValue::Array{}},
      {"kvlist", AnyValue::KvList{{"k", "v"}, {"n", AnyValue::KvList{{"deep", 1}}}}},
      {"empty_kvlist", AnyValue::KvList{}},
      // AnyValue(...) around the inner array: a braced list whose one element
      // is itself an Array is a copy of it for clang, a one-element array for
      // GCC.
      {"nested", AnyValue::Array{AnyValue::KvList{
                                     {"a", AnyValue::Array{AnyValue(AnyValue::Array{1, 2})}}},
                                 AnyValue{}}},
      {"unset", AnyValue{}},
      {"", "empty key"},
      {"long", std::string(300, 'x')},
  };
}

SpanData FullSpan() {
  SpanData s;
  s.trace_id = Id<16>(1);
  s.span_id = Id<8>(20);
  s.trace_state = "vendor=value";
  s.parent_span_id = Id<8>(30);
  s.flags = 0x301;
  s.name = "full span";
  s.kind = SpanKind::kConsumer;
  s.start_time_unix_nano = 1700000000000000000ull;
  s.end_time_unix_nano = 1700000000000000999ull;
  s.attributes = EveryKindOfValue();
  s.dropped_attributes_count = 3;
  s.events.push_back({1700000000000000500ull, "event", {{"e", "v"}, {"n", 5}}, 2});
  s.events.push_back({0, "", {}, 0});
  s.dropped_events_count = 4;
  SpanLink link;
  link.trace_id = Id<16>(40);
  link.span_id = Id<8>(60);
  link.trace_state = "l=1";
  link.attributes = {{"link.attr", AnyValue::Array{"x"}}};
  link.dropped_attributes_count = 1;
  link.flags = 0x101;
  s.links.push_back(link);
  s.links.push_back(SpanLink{});
  s.dropped_links_count = 5;
  s.status_code = StatusCode::kError;
  s.status_message = "boom";
  return s;
}

Resource MakeResource(const std::string& service) {
  Resource r;
  r.attributes = {{"service.name", service}, {"service.version", "1.0"}};
  return r;
}

InstrumentationScope MakeScope(const std::string& name) {
  InstrumentationScope s;
  s.name = name;
  s.version = "2.0";
  return s;
}

// ---- Traces -------------------------------------------------------------------

TEST(OtlpEncoder, SpanEveryFieldRoundTrips) {
  Resource resource = MakeResource("svc");
  resource.dropped_attributes_count = 9;
  resource.schema_url = "https://schema/resource";
  InstrumentationScope scope = MakeScope("lib");
  scope.attributes = {{"scope.attr", 1.5}};
  scope.dropped_attributes_count = 2;
  scope.schema_url = "https://schema/scope";
  const SpanData span = FullSpan();
  const std::vector<ScopedItems<SpanData>> groups = {{&resource, &scope, {&span}}};
  const std::string bytes = EncodeAndCheck<TracesSig>(groups);

  // Field by field, without the ToProto helpers.
  TraceRequest req;
  ASSERT_TRUE(req.ParseFromString(bytes));
  ASSERT_EQ(req.resource_spans_size(), 1);
  const auto& rs = req.resource_spans(0);
  EXPECT_EQ(rs.schema_url(), "https://schema/resource");
  EXPECT_EQ(rs.resource().dropped_attributes_count(), 9u);
  ASSERT_EQ(rs.resource().attributes_size(), 2);
  EXPECT_EQ(rs.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "svc");
  ASSERT_EQ(rs.scope_spans_size(), 1);
  const auto& ss = rs.scope_spans(0);
  EXPECT_EQ(ss.schema_url(), "https://schema/scope");
  EXPECT_EQ(ss.scope().name(), "lib");
  EXPECT_EQ(ss.scope().version(), "2.0");
  EXPECT_EQ(ss.scope().attributes(0).value().double_value(), 1.5);
  EXPECT_EQ(ss.scope().dropped_attributes_count(), 2u);
  ASSERT_EQ(ss.spans_size(), 1);
  const ott::Span& s = ss.spans(0);
  EXPECT_EQ(s.trace_id(), IdBytes(Id<16>(1)));
  EXPECT_EQ(s.span_id(), IdBytes(Id<8>(20)));
  EXPECT_EQ(s.trace_state(), "vendor=value");
  EXPECT_EQ(s.parent_span_id(), IdBytes(Id<8>(30)));
  EXPECT_EQ(s.flags(), 0x301u);
  EXPECT_EQ(s.name(), "full span");
  EXPECT_EQ(s.kind(), ott::Span::SPAN_KIND_CONSUMER);
  EXPECT_EQ(s.start_time_unix_nano(), 1700000000000000000ull);
  EXPECT_EQ(s.end_time_unix_nano(), 1700000000000000999ull);
  EXPECT_EQ(s.dropped_attributes_count(), 3u);
  EXPECT_EQ(s.dropped_events_count(), 4u);
  EXPECT_EQ(s.dropped_links_count(), 5u);
  ASSERT_EQ(s.events_size(), 2);
  EXPECT_EQ(s.events(0).time_unix_nano(), 1700000000000000500ull);
  EXPECT_EQ(s.events(0).name(), "event");
  EXPECT_EQ(s.events(0).attributes(1).value().int_value(), 5);
  EXPECT_EQ(s.events(0).dropped_attributes_count(), 2u);
  EXPECT_EQ(s.events(1).ByteSizeLong(), 0u);
  ASSERT_EQ(s.links_size(), 2);
  EXPECT_EQ(s.links(0).trace_id(), IdBytes(Id<16>(40)));
  EXPECT_EQ(s.links(0).span_id(), IdBytes(Id<8>(60)));
  EXPECT_EQ(s.links(0).trace_state(), "l=1");
  EXPECT_EQ(s.links(0).attributes(0).value().array_value().values(0).string_value(), "x");
  EXPECT_EQ(s.links(0).dropped_attributes_count(), 1u);
  EXPECT_EQ(s.links(0).flags(), 0x101u);
  EXPECT_EQ(s.links(1).trace_id(), std::string(16, '\0'));  // ids are always written
  EXPECT_EQ(s.links(1).flags(), 0u);
  ASSERT_TRUE(s.has_status());
  EXPECT_EQ(s.status().code(), ott::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s.status().message(), "boom");
  EXPECT_EQ(EncodedSpanSize(span), s.ByteSizeLong());
}

TEST(OtlpEncoder, AnyValueEveryKind) {
  SpanData span;
  span.attributes = EveryKindOfValue();
  const std::vector<ScopedItems<SpanData>> groups = {{nullptr, nullptr, {&span}}};
  const std::string bytes = EncodeAndCheck<TracesSig>(groups);
  TraceRequest req;
  ASSERT_TRUE(req.ParseFromString(bytes));
  const auto& attrs = req.resource_spans(0).scope_spans(0).spans(0).attributes();
  std::map<std::string, const otc::AnyValue*> by_key;
  for (const auto& kv : attrs) by_key[kv.key()] = &kv.value();
  ASSERT_EQ(attrs.size(), static_cast<int>(span.attributes.size()));
  // oneof members are written even at their default values.
  EXPECT_EQ(by_key["str"]->string_value(), "hello");
  EXPECT_EQ(by_key["empty_str"]->value_case(), otc::AnyValue::kStringValue);
  EXPECT_TRUE(by_key["true"]->bool_value());
  EXPECT_EQ(by_key["false"]->value_case(), otc::AnyValue::kBoolValue);
  EXPECT_EQ(by_key["int"]->int_value(), 42);
  EXPECT_EQ(by_key["zero"]->value_case(), otc::AnyValue::kIntValue);
  EXPECT_EQ(by_key["negative"]->int_value(), -7);
  EXPECT_EQ(by_key["int_min"]->int_value(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(by_key["double"]->double_value(), 3.25);
  EXPECT_EQ(by_key["zero_double"]->value_case(), otc::AnyValue::kDoubleValue);
  EXPECT_TRUE(std::signbit(by_key["negative_zero"]->double_value()));
  EXPECT_TRUE(std::isnan(by_key["nan"]->double_value()));
  EXPECT_EQ(by_key["bytes"]->bytes_value(), std::string("\x00\x01\xff", 3));
  EXPECT_EQ(by_key["empty_bytes"]->value_case(), otc::AnyValue::kBytesValue);
  const auto& array = by_key["array"]->array_value();
  ASSERT_EQ(array.values_size(), 6);
  EXPECT_EQ(array.values(0).string_value(), "a");
  EXPECT_EQ(array.values(1).int_value(), 1);
  EXPECT_EQ(array.values(2).double_value(), 2.5);
  EXPECT_TRUE(array.values(3).bool_value());
  EXPECT_EQ(array.values(4).bytes_value(), "b");
  EXPECT_EQ(array.values(5).value_case(), otc::AnyValue::kArrayValue);
  EXPECT_EQ(by_key["empty_array"]->value_case(), otc::AnyValue::kArrayValue);
  const auto& kvlist = by_key["kvlist"]->kvlist_value();
  ASSERT_EQ(kvlist.values_size(), 2);
  EXPECT_EQ(kvlist.values(1).value().kvlist_value().values(0).value().int_value(), 1);
  EXPECT_EQ(by_key["empty_kvlist"]->value_case(), otc::AnyValue::kKvlistValue);
  const auto& nested = by_key["nested"]->array_value();
  EXPECT_EQ(nested.values(0)
                .kvlist_value()
                .values(0)
                .value()
                .array_value()
                .values(0)
                .array_value()
                .values(1)
                .int_value(),
            2);
  EXPECT_EQ(nested.values(1).value_case(), otc::AnyValue::VALUE_NOT_SET);
  EXPECT_EQ(by_key["unset"]->value_case(), otc::AnyValue::VALUE_NOT_SET);
  EXPECT_EQ(by_key[""]->string_value(), "empty key");
  EXPECT_EQ(by_key["long"]->string_value(), std::string(300, 'x'));
}

TEST(OtlpEncoder, SpanDefaultsAreOmitted) {
  SpanData span;  // ids all zero, kind INTERNAL, nothing else
  span.kind = SpanKind::kUnspecified;
  const std::vector<ScopedItems<SpanData>> groups = {{nullptr, nullptr, {&span}}};
  const std::string bytes = EncodeAndCheck<TracesSig>(groups);
  // request.1 { ResourceSpans.2 { ScopeSpans.2 { Span: trace_id, span_id } } }
  std::string span_bytes = "\x0a\x10" + std::string(16, '\0') + "\x12\x08" + std::string(8, '\0');
  std::string want = "\x0a\x20\x12\x1e\x12\x1c" + span_bytes;
  EXPECT_EQ(bytes, want);

  // Parent written when set, even to zeros; status when only a message is set.
  span.parent_span_id = SpanId{};
  span.status_message = "m";
  EncodeAndCheck<TracesSig>(groups);
  TraceRequest req;
  ASSERT_TRUE(req.ParseFromString(EncodeAndCheck<TracesSig>(groups)));
  const auto& s = req.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.parent_span_id(), std::string(8, '\0'));
  EXPECT_TRUE(s.has_status());
  EXPECT_FALSE(req.resource_spans(0).has_resource());
  EXPECT_FALSE(req.resource_spans(0).scope_spans(0).has_scope());
}

TEST(OtlpEncoder, SpanFlagsUseTwoByteTag) {
  SpanData span;
  span.kind = SpanKind::kUnspecified;
  span.flags = 0x01020304;
  std::string bytes;
  const std::vector<ScopedItems<SpanData>> groups = {{nullptr, nullptr, {&span}}};
  EncodeTracesRequest(groups, &bytes);
  // Field 16, wire type 5: tag varint 0x85 0x01, then little-endian fixed32.
  EXPECT_EQ(bytes.substr(bytes.size() - 6), std::string("\x85\x01\x04\x03\x02\x01", 6));
  EncodeAndCheck<TracesSig>(groups);
}

TEST(OtlpEncoder, AppendsToOutput) {
  const SpanData span = FullSpan();
  const std::vector<ScopedItems<SpanData>> groups = {{nullptr, nullptr, {&span}}};
  std::string alone;
  EncodeTracesRequest(groups, &alone);
  std::string out = "prefix";
  EncodeTracesRequest(groups, &out);
  EXPECT_EQ(out, "prefix" + alone);
}

TEST(OtlpEncoder, NoItemsIsEmptyRequest) {
  const Resource resource = MakeResource("svc");
  std::string out;
  EncodeTracesRequest(std::span<const ScopedItems<SpanData>>(), &out);
  EncodeTracesRequest(std::span<const ScopedItems<EncodedSpan>>(), &out);
  EXPECT_EQ(out, "");
  const std::vector<ScopedItems<SpanData>> empty_groups = {{&resource, nullptr, {}},
                                                           {nullptr, nullptr, {}}};
  EncodeTracesRequest(empty_groups, &out);
  EncodeMetricsRequest({}, &out);
  EncodeLogsRequest({}, &out);
  EXPECT_EQ(out, "");
  EXPECT_EQ(EncodedTracesRequestSize(empty_groups), 0u);
  EXPECT_TRUE(SplitTracesRequest(empty_groups, 100).empty());
}

TEST(OtlpEncoder, GroupsByResourceAndScopePointers) {
  const Resource r1 = MakeResource("one");
  const Resource r2 = MakeResource("two");
  const Resource r1_copy = MakeResource("one");  // equal, but another pointer
  const InstrumentationScope s1 = MakeScope("a");
  const InstrumentationScope s2 = MakeScope("b");
  std::vector<SpanData> spans(9);
  for (size_t i = 0; i < spans.size(); ++i) spans[i].name = "span" + std::to_string(i);
  const std::vector<ScopedItems<SpanData>> groups = {
      {&r2, &s1, {&spans[0]}},     {&r1, &s2, {&spans[1], &spans[2]}},
      {&r2, &s1, {&spans[3]}},     {&r1, &s1, {}},  // empty: skipped
      {&r1, &s1, {&spans[4]}},     {&r1_copy, &s1, {&spans[5]}},
      {&r1, &s2, {&spans[6]}},     {nullptr, nullptr, {&spans[7]}},
      {&r2, nullptr, {&spans[8]}},
  };
  const std::string bytes = EncodeAndCheck<TracesSig>(groups);
  TraceRequest req;
  ASSERT_TRUE(req.ParseFromString(bytes));
  std::vector<std::string> layout;
  for (const auto& rs : req.resource_spans()) {
    std::string r = rs.has_resource() ? rs.resource().attributes(0).value().string_value() : "-";
    for (const auto& ss : rs.scope_spans()) {
      std::string line = r + "/" + (ss.has_scope() ? ss.scope().name() : "-") + ":";
      for (const auto& s : ss.spans()) line += " " + s.name();
      layout.push_back(line);
    }
  }
  EXPECT_EQ(layout, (std::vector<std::string>{
                        "two/a: span0 span3",
                        "two/-: span8",
                        "one/b: span1 span2 span6",
                        "one/a: span4",
                        "one/a: span5",
                        "-/-: span7",
                    }));
  EXPECT_EQ(req.resource_spans_size(), 4);
}

// ---- Metrics ------------------------------------------------------------------

Exemplar MakeExemplar(bool with_ids, std::variant<double, int64_t> value) {
  Exemplar e;
  e.filtered_attributes = {{"ex", "attr"}};
  e.time_unix_nano = 123;
  e.value = value;
  if (with_ids) {
    e.span_id = Id<8>(7);
    e.trace_id = Id<16>(9);
  }
  return e;
}

std::vector<MetricData> EveryKindOfMetric() {
  std::vector<MetricData> metrics;
  MetricData gauge;
  gauge.name = "gauge";
  gauge.description = "a gauge";
  gauge.unit = "1";
  NumberDataPoint p1;
  p1.attributes = {{"k", "v"}};
  p1.start_time_unix_nano = 10;
  p1.time_unix_nano = 20;
  p1.value = 1.5;
  p1.exemplars = {MakeExemplar(true, 2.5), MakeExemplar(false, int64_t{-3})};
  p1.flags = 1;
  NumberDataPoint p2;
  p2.value = int64_t{0};  // oneof: written at its default
  NumberDataPoint p3;
  p3.value = 0.0;
  gauge.data = Gauge{{p1, p2, p3}};
  gauge.metadata = {{"meta", true}};
  metrics.push_back(gauge);

  MetricData sum;
  sum.name = "sum";
  sum.data = Sum{{p1, p2}, AggregationTemporality::kDelta, true};
  metrics.push_back(sum);
  MetricData sum_defaults;
  sum_defaults.name = "sum_defaults";
  sum_defaults.data = Sum{{}, AggregationTemporality::kUnspecified, false};
  metrics.push_back(sum_defaults);

  MetricData histogram;
  histogram.name = "histogram";
  HistogramDataPoint h1;
  h1.attributes = {{"h", 1}};
  h1.start_time_unix_nano = 1;
  h1.time_unix_nano = 2;
  h1.count = 10;
  h1.sum = 0.0;  // optional: written when set, even to 0
  h1.bucket_counts = {1, 0, 9, std::numeric_limits<uint64_t>::max()};
  h1.explicit_bounds = {-1.5, 0.0, 2.5};
  h1.exemplars = {MakeExemplar(true, 1.0)};
  h1.flags = 1;
  h1.min = -1.0;
  h1.max = 0.0;
  HistogramDataPoint h2;  // nothing set: no sum, min, max, buckets
  h2.count = 0;
  histogram.data = Histogram{{h1, h2}, AggregationTemporality::kCumulative};
  metrics.push_back(histogram);

  MetricData exponential;
  exponential.name = "exponential";
  ExponentialHistogramDataPoint e1;
  e1.attributes = {{"e", 2.0}};
  e1.start_time_unix_nano = 3;
  e1.time_unix_nano = 4;
  e1.count = 100;
  e1.sum = 12.5;
  e1.scale = -3;  // sint32: zigzag
  e1.zero_count = 5;
  e1.positive = {-2, {1, 300, 0, 1ull << 40}};
  e1.negative = {7, {}};
  e1.flags = 1;
  e1.exemplars = {MakeExemplar(false, int64_t{5})};
  e1.min = 0.5;
  e1.max = 99.0;
  e1.zero_threshold = 1e-9;
  ExponentialHistogramDataPoint e2;
  e2.scale = std::numeric_limits<int32_t>::min();
  e2.positive = {std::numeric_limits<int32_t>::max(), {0}};
  ExponentialHistogramDataPoint e3;  // defaults: no buckets written
  exponential.data = ExponentialHistogram{{e1, e2, e3}, AggregationTemporality::kDelta};
  metrics.push_back(exponential);

  MetricData summary;
  summary.name = "summary";
  SummaryDataPoint q1;
  q1.attributes = {{"q", "v"}};
  q1.start_time_unix_nano = 5;
  q1.time_unix_nano = 6;
  q1.count = 7;
  q1.sum = 8.5;
  q1.quantile_values = {{0.0, 1.0}, {0.5, 2.0}, {1.0, 0.0}};
  q1.flags = 1;
  SummaryDataPoint q2;
  summary.data = Summary{{q1, q2}};
  metrics.push_back(summary);

  MetricData empty_gauge;
  empty_gauge.name = "empty";  // no points: the data field is still written
  metrics.push_back(empty_gauge);
  return metrics;
}

TEST(OtlpEncoder, MetricsEveryKindRoundTrip) {
  const Resource resource = MakeResource("svc");
  const InstrumentationScope scope = MakeScope("meter");
  const std::vector<MetricData> metrics = EveryKindOfMetric();
  ScopedItems<MetricData> group{&resource, &scope, {}};
  for (const MetricData& m : metrics) group.items.push_back(&m);
  const std::vector<ScopedItems<MetricData>> groups = {group};
  const std::string bytes = EncodeAndCheck<MetricsSig>(groups);

  MetricsRequest req;
  ASSERT_TRUE(req.ParseFromString(bytes));
  const auto& ms = req.resource_metrics(0).scope_metrics(0).metrics();
  ASSERT_EQ(ms.size(), static_cast<int>(metrics.size()));
  for (int i = 0; i < ms.size(); ++i) {
    EXPECT_EQ(EncodedMetricSize(metrics[i]), ms[i].ByteSizeLong()) << metrics[i].name;
  }
  const auto& gauge = ms[0];
  EXPECT_EQ(gauge.name(), "gauge");
  EXPECT_EQ(gauge.description(), "a gauge");
  EXPECT_EQ(gauge.unit(), "1");
  EXPECT_TRUE(gauge.metadata(0).value().bool_value());
  ASSERT_EQ(gauge.gauge().data_points_size(), 3);
  const auto& p1 = gauge.gauge().data_points(0);
  EXPECT_EQ(p1.as_double(), 1.5);
  EXPECT_EQ(p1.start_time_unix_nano(), 10u);
  EXPECT_EQ(p1.time_unix_nano(), 20u);
  EXPECT_EQ(p1.flags(), 1u);
  EXPECT_EQ(p1.attributes(0).key(), "k");
  ASSERT_EQ(p1.exemplars_size(), 2);
  EXPECT_EQ(p1.exemplars(0).as_double(), 2.5);
  EXPECT_EQ(p1.exemplars(0).span_id(), IdBytes(Id<8>(7)));
  EXPECT_EQ(p1.exemplars(0).trace_id(), IdBytes(Id<16>(9)));
  EXPECT_EQ(p1.exemplars(0).time_unix_nano(), 123u);
  EXPECT_EQ(p1.exemplars(0).filtered_attributes(0).value().string_value(), "attr");
  EXPECT_EQ(p1.exemplars(1).as_int(), -3);
  EXPECT_TRUE(p1.exemplars(1).span_id().empty());
  EXPECT_EQ(gauge.gauge().data_points(1).value_case(), otm::NumberDataPoint::kAsInt);
  EXPECT_EQ(gauge.gauge().data_points(2).value_case(), otm::NumberDataPoint::kAsDouble);

  EXPECT_EQ(ms[1].sum().aggregation_temporality(), otm::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_TRUE(ms[1].sum().is_monotonic());
  EXPECT_EQ(ms[2].data_case(), otm::Metric::kSum);

  const auto& h1 = ms[3].histogram().data_points(0);
  EXPECT_EQ(ms[3].histogram().aggregation_temporality(), otm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(h1.count(), 10u);
  EXPECT_TRUE(h1.has_sum());
  EXPECT_EQ(h1.sum(), 0.0);
  EXPECT_EQ(std::vector<uint64_t>(h1.bucket_counts().begin(), h1.bucket_counts().end()),
            (std::vector<uint64_t>{1, 0, 9, std::numeric_limits<uint64_t>::max()}));
  EXPECT_EQ(std::vector<double>(h1.explicit_bounds().begin(), h1.explicit_bounds().end()),
            (std::vector<double>{-1.5, 0.0, 2.5}));
  EXPECT_TRUE(h1.has_min());
  EXPECT_EQ(h1.min(), -1.0);
  EXPECT_TRUE(h1.has_max());
  EXPECT_EQ(h1.exemplars(0).as_double(), 1.0);
  EXPECT_EQ(h1.attributes(0).value().int_value(), 1);
  const auto& h2 = ms[3].histogram().data_points(1);
  EXPECT_FALSE(h2.has_sum());
  EXPECT_FALSE(h2.has_min());
  EXPECT_FALSE(h2.has_max());
  EXPECT_EQ(h2.ByteSizeLong(), 0u);

  const auto& e1 = ms[4].exponential_histogram().data_points(0);
  EXPECT_EQ(e1.scale(), -3);
  EXPECT_EQ(e1.zero_count(), 5u);
  EXPECT_EQ(e1.sum(), 12.5);
  EXPECT_EQ(e1.positive().offset(), -2);
  EXPECT_EQ(std::vector<uint64_t>(e1.positive().bucket_counts().begin(),
                                  e1.positive().bucket_counts().end()),
            (std::vector<uint64_t>{1, 300, 0, 1ull << 40}));
  EXPECT_EQ(e1.negative().offset(), 7);
  EXPECT_EQ(e1.zero_threshold(), 1e-9);
  EXPECT_EQ(e1.min(), 0.5);
  EXPECT_EQ(e1.max(), 99.0);
  EXPECT_EQ(e1.exemplars(0).as_int(), 5);
  const auto& e2 = ms[4].exponential_histogram().data_points(1);
  EXPECT_EQ(e2.scale(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(e2.positive().offset(), std::numeric_limits<int32_t>::max());
  EXPECT_FALSE(e2.has_negative());
  EXPECT_EQ(ms[4].exponential_histogram().data_points(2).ByteSizeLong(), 0u);

  const auto& q1 = ms[5].summary().data_points(0);
  EXPECT_EQ(q1.count(), 7u);
  EXPECT_EQ(q1.sum(), 8.5);
  ASSERT_EQ(q1.quantile_values_size(), 3);
  EXPECT_EQ(q1.quantile_values(1).quantile(), 0.5);
  EXPECT_EQ(q1.quantile_values(2).value(), 0.0);
  EXPECT_EQ(q1.flags(), 1u);

  EXPECT_EQ(ms[6].data_case(), otm::Metric::kGauge);
}

// The packed encodings, checked on the bytes themselves.
TEST(OtlpEncoder, PackedRepeatedFields) {
  MetricData m;
  m.name = "h";
  HistogramDataPoint h;
  h.bucket_counts = {1, 2};
  h.explicit_bounds = {0.5};
  m.data = Histogram{{h}, AggregationTemporality::kUnspecified};
  MetricData e;
  e.name = "e";
  ExponentialHistogramDataPoint ep;
  ep.scale = -1;
  ep.positive = {-1, {1, 200}};
  e.data = ExponentialHistogram{{ep}, AggregationTemporality::kUnspecified};
  const std::vector<ScopedItems<MetricData>> groups = {{nullptr, nullptr, {&m, &e}}};
  const std::string bytes = EncodeAndCheck<MetricsSig>(groups);
  // bucket_counts: field 6, LEN 16, two fixed64.
  EXPECT_NE(bytes.find(std::string("\x32\x10\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0", 18)),
            std::string::npos);
  // explicit_bounds: field 7, LEN 8, a double.
  EXPECT_NE(bytes.find(std::string("\x3a\x08\0\0\0\0\0\0\xe0\x3f", 10)), std::string::npos);
  // scale -1: field 6 varint zigzag 1; Buckets {offset -1 -> 1, counts [1, 200] packed varint}.
  EXPECT_NE(bytes.find(std::string("\x30\x01\x42\x07\x08\x01\x12\x03\x01\xc8\x01", 11)),
            std::string::npos);
}

// ---- Logs ---------------------------------------------------------------------

std::vector<LogRecordData> EveryKindOfLogRecord() {
  std::vector<LogRecordData> records;
  LogRecordData full;
  full.time_unix_nano = 11;
  full.observed_time_unix_nano = 12;
  full.severity_number = static_cast<uint8_t>(SeverityNumber::kWarn) + 1;
  full.severity_text = "WARN2";
  full.body = AnyValue("the body");
  full.attributes = {{"log.attr", int64_t{-1}}};
  full.dropped_attributes_count = 3;
  full.flags = 1;
  full.trace_id = Id<16>(100);
  full.span_id = Id<8>(200);
  full.event_name = "my.event";
  records.push_back(full);
  for (AnyValue body : {AnyValue(int64_t{0}), AnyValue(false), AnyValue(0.0), AnyValue(""),
                        AnyValue(Bytes{"\x01"}), AnyValue(AnyValue::Array{1, "x"}),
                        AnyValue(AnyValue::KvList{{"k", AnyValue::Array{}}}), AnyValue()}) {
    LogRecordData r;
    r.body = body;
    records.push_back(r);
  }
  records.push_back(LogRecordData{});  // no body at all
  return records;
}

TEST(OtlpEncoder, LogsEveryFieldRoundTrip) {
  const Resource resource = MakeResource("svc");
  const InstrumentationScope scope = MakeScope("logger");
  const std::vector<LogRecordData> records = EveryKindOfLogRecord();
  ScopedItems<LogRecordData> group{&resource, &scope, {}};
  for (const auto& r : records) group.items.push_back(&r);
  const std::vector<ScopedItems<LogRecordData>> groups = {group};
  const std::string bytes = EncodeAndCheck<LogsSig>(groups);

  LogsRequest req;
  ASSERT_TRUE(req.ParseFromString(bytes));
  const auto& rs = req.resource_logs(0).scope_logs(0).log_records();
  ASSERT_EQ(rs.size(), static_cast<int>(records.size()));
  for (int i = 0; i < rs.size(); ++i)
    EXPECT_EQ(EncodedLogRecordSize(records[i]), rs[i].ByteSizeLong());
  const auto& r = rs[0];
  EXPECT_EQ(r.time_unix_nano(), 11u);
  EXPECT_EQ(r.observed_time_unix_nano(), 12u);
  EXPECT_EQ(r.severity_number(), otl::SEVERITY_NUMBER_WARN2);
  EXPECT_EQ(r.severity_text(), "WARN2");
  EXPECT_EQ(r.body().string_value(), "the body");
  EXPECT_EQ(r.attributes(0).value().int_value(), -1);
  EXPECT_EQ(r.dropped_attributes_count(), 3u);
  EXPECT_EQ(r.flags(), 1u);
  EXPECT_EQ(r.trace_id(), IdBytes(Id<16>(100)));
  EXPECT_EQ(r.span_id(), IdBytes(Id<8>(200)));
  EXPECT_EQ(r.event_name(), "my.event");
  EXPECT_EQ(rs[1].body().value_case(), otc::AnyValue::kIntValue);
  EXPECT_EQ(rs[2].body().value_case(), otc::AnyValue::kBoolValue);
  EXPECT_EQ(rs[3].body().value_case(), otc::AnyValue::kDoubleValue);
  EXPECT_EQ(rs[4].body().value_case(), otc::AnyValue::kStringValue);
  EXPECT_EQ(rs[5].body().value_case(), otc::AnyValue::kBytesValue);
  EXPECT_EQ(rs[6].body().array_value().values(1).string_value(), "x");
  EXPECT_EQ(rs[7].body().kvlist_value().values(0).value().value_case(), otc::AnyValue::kArrayValue);
  EXPECT_TRUE(rs[8].has_body());  // set to an empty AnyValue
  EXPECT_EQ(rs[8].body().value_case(), otc::AnyValue::VALUE_NOT_SET);
  EXPECT_FALSE(rs[9].has_body());
  EXPECT_TRUE(rs[9].trace_id().empty());
  EXPECT_EQ(rs[9].ByteSizeLong(), 0u);
}

// ---- Random structs -------------------------------------------------------------

// Random values that are valid for ReadExportRequest too: ASCII strings,
// non-zero ids, end >= start, named metrics, consistent histograms.
class RandomTelemetry {
 public:
  explicit RandomTelemetry(uint64_t seed) : rng_(seed) {}

  SpanData Span() {
    SpanData s;
    s.trace_id = NonZeroId<16>();
    s.span_id = NonZeroId<8>();
    if (Chance(3)) s.trace_state = String();
    if (Chance(2)) s.parent_span_id = NonZeroId<8>();
    if (Chance(2)) s.flags = U32();
    s.name = String();
    s.kind = static_cast<SpanKind>(Below(6));
    s.start_time_unix_nano = Chance(5) ? 0 : rng_() >> 2;
    s.end_time_unix_nano = s.start_time_unix_nano + (Chance(3) ? 0 : Below(1u << 30));
    s.attributes = Attrs(8);
    s.dropped_attributes_count = Chance(3) ? U32() : 0;
    for (size_t n = Below(3); n > 0; --n) {
      s.events.push_back({Chance(4) ? 0 : rng_(), String(), Attrs(3), Chance(4) ? U32() : 0});
    }
    s.dropped_events_count = Chance(4) ? U32() : 0;
    for (size_t n = Below(3); n > 0; --n) {
      SpanLink l;
      l.trace_id = NonZeroId<16>();
      l.span_id = NonZeroId<8>();
      if (Chance(2)) l.trace_state = String();
      l.attributes = Attrs(3);
      l.dropped_attributes_count = Chance(4) ? U32() : 0;
      l.flags = Chance(2) ? U32() : 0;
      s.links.push_back(l);
    }
    s.dropped_links_count = Chance(4) ? U32() : 0;
    s.status_code = static_cast<StatusCode>(Below(3));
    if (Chance(3)) s.status_message = String();
    return s;
  }

  MetricData Metric() {
    MetricData m;
    m.name = "metric." + String();
    if (Chance(2)) m.description = String();
    if (Chance(2)) m.unit = String();
    switch (Below(5)) {
      case 0:
        m.data = Gauge{NumberPoints()};
        break;
      case 1:
        m.data = Sum{NumberPoints(), Temporality(), Chance(2)};
        break;
      case 2: {
        Histogram h;
        h.aggregation_temporality = Temporality();
        for (size_t n = Below(3); n > 0; --n) {
          HistogramDataPoint d;
          Common(&d);
          d.count = Chance(3) ? 0 : rng_();
          d.sum = OptionalDouble();
          if (Chance(3)) {
            for (size_t b = Below(20); b > 0; --b) d.explicit_bounds.push_back(Double());
            d.bucket_counts.push_back(rng_() >> Below(64));
            for (size_t b = d.explicit_bounds.size(); b > 0; --b) d.bucket_counts.push_back(rng_());
          }
          d.exemplars = Exemplars();
          d.min = OptionalDouble();
          d.max = OptionalDouble();
          h.data_points.push_back(d);
        }
        m.data = h;
        break;
      }
      case 3: {
        ExponentialHistogram e;
        e.aggregation_temporality = Temporality();
        for (size_t n = Below(3); n > 0; --n) {
          ExponentialHistogramDataPoint d;
          Common(&d);
          d.count = Chance(3) ? 0 : rng_();
          d.sum = OptionalDouble();
          d.scale = Chance(3) ? 0 : static_cast<int32_t>(rng_() >> Below(64));
          d.zero_count = Chance(2) ? 0 : rng_();
          d.positive = Buckets();
          d.negative = Buckets();
          d.exemplars = Exemplars();
          d.min = OptionalDouble();
          d.max = OptionalDouble();
          d.zero_threshold = Chance(2) ? 0.0 : Double();
          e.data_points.push_back(d);
        }
        m.data = e;
        break;
      }
      default: {
        Summary s;
        for (size_t n = Below(3); n > 0; --n) {
          SummaryDataPoint d;
          Common(&d);
          d.count = Chance(3) ? 0 : rng_();
          d.sum = Chance(3) ? 0.0 : Double();
          for (size_t q = Below(4); q > 0; --q) {
            d.quantile_values.push_back({Chance(3) ? 0.0 : Double(), Chance(3) ? 0.0 : Double()});
          }
          s.data_points.push_back(d);
        }
        m.data = s;
        break;
      }
    }
    if (Chance(3)) m.metadata = Attrs(3);
    return m;
  }

  LogRecordData LogRecord() {
    LogRecordData r;
    r.time_unix_nano = Chance(3) ? 0 : rng_();
    r.observed_time_unix_nano = Chance(3) ? 0 : rng_();
    r.severity_number = static_cast<uint8_t>(Below(25));
    if (Chance(2)) r.severity_text = String();
    if (!Chance(4)) r.body = Value(3);
    r.attributes = Attrs(5);
    r.dropped_attributes_count = Chance(4) ? U32() : 0;
    r.flags = Chance(2) ? static_cast<uint32_t>(Below(256)) : 0;
    if (Chance(2)) r.trace_id = NonZeroId<16>();
    if (Chance(2)) r.span_id = NonZeroId<8>();
    if (Chance(3)) r.event_name = String();
    return r;
  }

  Resource MakeResource() {
    Resource r;
    r.attributes = Attrs(4);
    r.dropped_attributes_count = Chance(3) ? U32() : 0;
    if (Chance(2)) r.schema_url = String();
    return r;
  }

  InstrumentationScope MakeScope() {
    InstrumentationScope s;
    if (!Chance(5)) s.name = String();
    if (Chance(2)) s.version = String();
    s.attributes = Attrs(2);
    s.dropped_attributes_count = Chance(4) ? U32() : 0;
    if (Chance(2)) s.schema_url = String();
    return s;
  }

  size_t Below(size_t n) { return static_cast<size_t>(rng_() % n); }
  bool Chance(size_t one_in) { return Below(one_in) == 0; }

 private:
  uint32_t U32() { return static_cast<uint32_t>(rng_() >> Below(64)); }
  double Double() {
    switch (Below(5)) {
      case 0:
        return -0.0;
      case 1:
        return static_cast<double>(static_cast<int64_t>(rng_()));
      default:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
    }
  }
  std::optional<double> OptionalDouble() {
    if (Chance(2)) return std::nullopt;
    return Chance(3) ? 0.0 : Double();
  }
  AggregationTemporality Temporality() { return static_cast<AggregationTemporality>(Below(3)); }

  template <size_t N>
  std::array<uint8_t, N> NonZeroId() {
    std::array<uint8_t, N> id;
    for (auto& b : id) b = static_cast<uint8_t>(rng_());
    id[0] |= 1;
    return id;
  }

  // Lengths chosen to cross the one- and two-byte varint boundaries.
  std::string String() {
    size_t n;
    switch (Below(10)) {
      case 0:
        n = 0;
        break;
      case 1:
        n = 100 + Below(200);
        break;
      case 2:
        n = Chance(4) ? 16384 + Below(1000) : 17;
        break;
      default:
        n = 1 + Below(20);
    }
    std::string s(n, ' ');
    for (auto& c : s) c = static_cast<char>(' ' + Below(95));
    return s;
  }

  AnyValue Value(int depth) {
    switch (Below(depth > 0 ? 10 : 8)) {
      case 0:
        return AnyValue();
      case 1:
        return AnyValue(String());
      case 2:
        return AnyValue(Chance(2));
      case 3:
        return AnyValue(static_cast<int64_t>(rng_() >> Below(64)) * (Chance(2) ? -1 : 1));
      case 4:
        return AnyValue(Double());
      case 5: {
        std::string b(Below(40), '\0');
        for (auto& c : b) c = static_cast<char>(rng_());
        return AnyValue(Bytes{b});
      }
      case 6:
      case 7:
        return AnyValue(String());
      case 8: {
        AnyValue::Array a;
        for (size_t n = Below(5); n > 0; --n) a.push_back(Value(depth - 1));
        return AnyValue(std::move(a));
      }
      default: {
        AnyValue::KvList kv;
        for (size_t n = Below(5); n > 0; --n) kv.push_back({String(), Value(depth - 1)});
        return AnyValue(std::move(kv));
      }
    }
  }

  Attributes Attrs(size_t max) {
    Attributes a;
    for (size_t n = Below(max + 1); n > 0; --n) a.push_back({String(), Value(2)});
    return a;
  }

  template <typename P>
  void Common(P* d) {
    d->attributes = Attrs(3);
    d->start_time_unix_nano = Chance(3) ? 0 : rng_();
    d->time_unix_nano = Chance(4) ? 0 : rng_();
    d->flags = Chance(2) ? 0 : static_cast<uint32_t>(Below(2));
  }

  std::vector<NumberDataPoint> NumberPoints() {
    std::vector<NumberDataPoint> points;
    for (size_t n = Below(4); n > 0; --n) {
      NumberDataPoint d;
      Common(&d);
      if (Chance(2)) {
        d.value = Chance(4) ? 0.0 : Double();
      } else {
        d.value = Chance(4) ? int64_t{0} : static_cast<int64_t>(rng_());
      }
      d.exemplars = Exemplars();
      points.push_back(d);
    }
    return points;
  }

  std::vector<Exemplar> Exemplars() {
    std::vector<Exemplar> out;
    for (size_t n = Below(3); n > 0; --n) {
      Exemplar e;
      e.filtered_attributes = Attrs(2);
      e.time_unix_nano = Chance(3) ? 0 : rng_();
      if (Chance(2)) {
        e.value = Double();
      } else {
        e.value = static_cast<int64_t>(rng_());
      }
      if (Chance(2)) e.span_id = NonZeroId<8>();
      if (Chance(2)) e.trace_id = NonZeroId<16>();
      out.push_back(e);
    }
    return out;
  }

  ExponentialHistogramDataPoint::Buckets Buckets() {
    ExponentialHistogramDataPoint::Buckets b;
    if (Chance(3)) return b;
    b.offset = Chance(3) ? 0 : static_cast<int32_t>(rng_() >> Below(64));
    for (size_t n = Below(30); n > 0; --n) b.bucket_counts.push_back(rng_() >> Below(64));
    return b;
  }

  std::mt19937_64 rng_;
};

// A random workload of one signal: items spread over groups that share a
// small pool of resources and scopes (null pointers included).
template <typename Sig>
struct RandomWorkload {
  std::vector<Resource> resources;
  std::vector<InstrumentationScope> scopes;
  std::vector<typename Sig::Item> items;
  std::vector<ScopedItems<typename Sig::Item>> groups;

  RandomWorkload(uint64_t seed, size_t n_items) {
    RandomTelemetry r(seed);
    for (int i = 0; i < 3; ++i) resources.push_back(r.MakeResource());
    for (int i = 0; i < 3; ++i) scopes.push_back(r.MakeScope());
    items.reserve(n_items);
    for (size_t i = 0; i < n_items; ++i) items.push_back(Make(r));
    for (size_t i = 0; i < n_items;) {
      ScopedItems<typename Sig::Item> g;
      const size_t ri = r.Below(resources.size() + 1);
      const size_t si = r.Below(scopes.size() + 1);
      g.resource = ri < resources.size() ? &resources[ri] : nullptr;
      g.scope = si < scopes.size() ? &scopes[si] : nullptr;
      for (size_t n = r.Below(6); n > 0 && i < n_items; --n) g.items.push_back(&items[i++]);
      groups.push_back(std::move(g));
    }
  }

  static typename Sig::Item Make(RandomTelemetry& r) {
    if constexpr (std::is_same_v<Sig, TracesSig>) {
      return r.Span();
    } else if constexpr (std::is_same_v<Sig, MetricsSig>) {
      return r.Metric();
    } else {
      return r.LogRecord();
    }
  }
};

template <typename Sig>
class OtlpEncoderTyped : public ::testing::Test {};
using Signals = ::testing::Types<TracesSig, MetricsSig, LogsSig>;
class SignalNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, TracesSig>) return "Traces";
    if constexpr (std::is_same_v<T, MetricsSig>) return "Metrics";
    return "Logs";
  }
};
TYPED_TEST_SUITE(OtlpEncoderTyped, Signals, SignalNames);

TYPED_TEST(OtlpEncoderTyped, RandomStructsMatchLibprotobuf) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(seed);
    const RandomWorkload<TypeParam> w(seed, 1 + seed * 3);
    EncodeAndCheck<TypeParam>(w.groups);
    if (testing::Test::HasFailure()) return;
  }
}

TYPED_TEST(OtlpEncoderTyped, ItemSizesMatchByteSizeLong) {
  const RandomWorkload<TypeParam> w(99, 200);
  for (const auto& item : w.items) {
    typename TypeParam::Request one;
    TypeParam::AddItem(item, TypeParam::AddScope(TypeParam::AddResource(&one)));
    ::google::protobuf::Message* proto = nullptr;
    if constexpr (std::is_same_v<TypeParam, TracesSig>) {
      proto = one.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
    } else if constexpr (std::is_same_v<TypeParam, MetricsSig>) {
      proto = one.mutable_resource_metrics(0)->mutable_scope_metrics(0)->mutable_metrics(0);
    } else {
      proto = one.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records(0);
    }
    ASSERT_EQ(TypeParam::ItemSize(item), proto->ByteSizeLong());
    EXPECT_EQ(LengthDelimitedFieldSize(proto->ByteSizeLong()),
              1 + ::google::protobuf::io::CodedOutputStream::VarintSize64(proto->ByteSizeLong()) +
                  proto->ByteSizeLong());
  }
}

TYPED_TEST(OtlpEncoderTyped, ReaderAcceptsOutput) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE(seed);
    const RandomWorkload<TypeParam> w(seed * 1000, 50);
    std::string bytes;
    TypeParam::Encode(w.groups, &bytes);
    std::vector<const typename TypeParam::Item*> order;
    const auto expected = ExpectedRequest<TypeParam>(w.groups, &order);
    int64_t items = 0;
    for (const auto& item : w.items) items += TypeParam::ReaderItems(item);
    absl::StatusOr<ReadResult> r = ReadExportRequest(TypeParam::kSignal, bytes);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->items, items);
    EXPECT_EQ(r->rejected, 0) << r->error_message;
    int64_t resources = 0, scopes = 0;
    if constexpr (std::is_same_v<TypeParam, TracesSig>) {
      resources = expected.resource_spans_size();
      for (const auto& rs : expected.resource_spans()) scopes += rs.scope_spans_size();
    } else if constexpr (std::is_same_v<TypeParam, MetricsSig>) {
      resources = expected.resource_metrics_size();
      for (const auto& rm : expected.resource_metrics()) scopes += rm.scope_metrics_size();
    } else {
      resources = expected.resource_logs_size();
      for (const auto& rl : expected.resource_logs()) scopes += rl.scope_logs_size();
    }
    EXPECT_EQ(r->resources, resources);
    EXPECT_EQ(r->scopes, scopes);
  }
}

// ---- Splitting ------------------------------------------------------------------

template <typename Sig>
void CheckSplit(std::span<const ScopedItems<typename Sig::Item>> groups, size_t limit) {
  SCOPED_TRACE(limit);
  using Item = typename Sig::Item;
  std::vector<const Item*> want_order;
  ExpectedRequest<Sig>(groups, &want_order);
  const auto splits = Sig::Split(groups, limit);
  std::vector<const Item*> got_order;
  for (size_t i = 0; i < splits.size(); ++i) {
    const auto& split = splits[i];
    std::string bytes;
    Sig::Encode(split.groups, &bytes);
    EXPECT_EQ(bytes.size(), split.encoded_size);
    size_t items = 0;
    for (const auto& g : split.groups) {
      ASSERT_FALSE(g.items.empty());
      items += g.items.size();
    }
    // Only a lone item may exceed the limit.
    if (items > 1) {
      EXPECT_LE(bytes.size(), limit) << "request " << i << " of " << items << " items";
    }
    // Requests are full: the next request's first item would not have fit.
    if (i + 1 < splits.size()) {
      std::vector<ScopedItems<Item>> more = split.groups;
      const auto& next = splits[i + 1].groups[0];
      more.push_back({next.resource, next.scope, {next.items[0]}});
      EXPECT_GT(Sig::RequestSize(more), limit) << "request " << i;
    }
    // Each split's groups are distinct pairs in plan order, so encoding it
    // keeps its items in order.
    std::vector<const Item*> split_order;
    ExpectedRequest<Sig>(std::span<const ScopedItems<Item>>(split.groups), &split_order);
    std::vector<const Item*> flat;
    for (const auto& g : split.groups) flat.insert(flat.end(), g.items.begin(), g.items.end());
    EXPECT_EQ(split_order, flat);
    got_order.insert(got_order.end(), flat.begin(), flat.end());
  }
  EXPECT_EQ(got_order, want_order);  // every item once, in order
}

TYPED_TEST(OtlpEncoderTyped, SplitsUnderLimit) {
  const RandomWorkload<TypeParam> w(7, 300);
  const size_t whole = TypeParam::RequestSize(w.groups);
  for (size_t limit : {size_t{1}, size_t{200}, size_t{1000}, size_t{4096}, size_t{20000},
                       size_t{65536}, whole - 1, whole, whole * 2}) {
    CheckSplit<TypeParam>(w.groups, limit);
  }
  // A limit at least the whole request: one request, the same bytes.
  const auto one = TypeParam::Split(w.groups, whole);
  ASSERT_EQ(one.size(), 1u);
  std::string a, b;
  TypeParam::Encode(w.groups, &a);
  TypeParam::Encode(one[0].groups, &b);
  EXPECT_EQ(a, b);
}

TEST(OtlpEncoder, SplitKeepsOversizedItemAlone) {
  const Resource resource = MakeResource("svc");
  const InstrumentationScope scope = MakeScope("lib");
  std::vector<SpanData> spans(5);
  for (size_t i = 0; i < spans.size(); ++i) spans[i].name = "s" + std::to_string(i);
  spans[2].name = std::string(5000, 'b');
  ScopedItems<SpanData> g{&resource, &scope, {}};
  for (const auto& s : spans) g.items.push_back(&s);
  const std::vector<ScopedItems<SpanData>> groups = {g};
  const auto splits = SplitTracesRequest(groups, 1000);
  ASSERT_EQ(splits.size(), 3u);
  EXPECT_EQ(splits[0].groups[0].items.size(), 2u);
  ASSERT_EQ(splits[1].groups[0].items.size(), 1u);
  EXPECT_EQ(splits[1].groups[0].items[0], &spans[2]);
  EXPECT_GT(splits[1].encoded_size, 1000u);
  EXPECT_EQ(splits[2].groups[0].items.size(), 2u);
  for (const auto& s : splits) {
    EXPECT_EQ(s.groups[0].resource, &resource);
    EXPECT_EQ(s.groups[0].scope, &scope);
  }
  CheckSplit<TracesSig>(groups, 1000);
}

// The standard span of shared/bench/WORKLOAD.md against libprotobuf.
TEST(OtlpEncoder, StandardSpanMatchesLibprotobuf) {
  Resource resource = MakeResource("bench");
  InstrumentationScope scope;
  scope.name = "bench";
  scope.version = "1.0";
  SpanData s;
  s.trace_id = Id<16>(1);
  s.span_id = Id<8>(2);
  s.name = "GET /api/users";
  s.kind = SpanKind::kServer;
  s.flags = 1;
  s.start_time_unix_nano = 1700000000000000000ull;
  s.end_time_unix_nano = s.start_time_unix_nano + 1500000;
  s.attributes = {{"http.method", "GET"},
                  {"http.route", "/api/users"},
                  {"http.target", "/api/users?id=42"},
                  {"net.peer.name", "10.0.0.1"},
                  {"http.status_code", 200},
                  {"http.response_content_length", 1234},
                  {"duration_ratio", 0.75},
                  {"cache.hit", true}};
  s.events.push_back({s.start_time_unix_nano + 1000, "cache lookup", {{"cache.key", "user:42"}}});
  s.status_code = StatusCode::kOk;
  std::vector<ScopedItems<SpanData>> groups = {{&resource, &scope, {}}};
  for (int i = 0; i < 512; ++i) groups[0].items.push_back(&s);
  EncodeAndCheck<TracesSig>(groups);
}

}  // namespace
}  // namespace tracewire::wire
