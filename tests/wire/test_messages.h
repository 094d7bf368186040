#pragma once
// Test helpers that build OTLP requests with libprotobuf: requests with every
// field of every message type set, and seeded random requests. Header-only
// (only *_test.cc files are compiled into the test binary).

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tw_test {

namespace otc = ::opentelemetry::proto::common::v1;
namespace otr = ::opentelemetry::proto::resource::v1;
namespace ott = ::opentelemetry::proto::trace::v1;
namespace otm = ::opentelemetry::proto::metrics::v1;
namespace otl = ::opentelemetry::proto::logs::v1;
using TraceRequest = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using MetricsRequest = ::opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using LogsRequest = ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using KeyValues = ::google::protobuf::RepeatedPtrField<otc::KeyValue>;

// A copy of `s` in a heap block of exactly s.size() bytes, so that
// AddressSanitizer reports any read past its end (std::string has slack).
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view s)
      : size_(s.size()), data_(new char[s.size() == 0 ? 1 : s.size()]) {
    if (!s.empty()) std::memcpy(data_.get(), s.data(), s.size());
  }
  std::string_view view() const { return std::string_view(data_.get(), size_); }

 private:
  size_t size_;
  std::unique_ptr<char[]> data_;
};

// `n` bytes counting up from `first`.
inline std::string SeqBytes(size_t n, uint8_t first) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + i);
  return s;
}

inline std::string Hex(std::string_view b) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// ---- Counting ---------------------------------------------------------------

inline int64_t CountSpans(const TraceRequest& r) {
  int64_t n = 0;
  for (const auto& rs : r.resource_spans())
    for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  return n;
}

inline int64_t DataPointsOf(const otm::Metric& m) {
  switch (m.data_case()) {
    case otm::Metric::kGauge:
      return m.gauge().data_points_size();
    case otm::Metric::kSum:
      return m.sum().data_points_size();
    case otm::Metric::kHistogram:
      return m.histogram().data_points_size();
    case otm::Metric::kExponentialHistogram:
      return m.exponential_histogram().data_points_size();
    case otm::Metric::kSummary:
      return m.summary().data_points_size();
    default:
      return 0;
  }
}

inline int64_t CountDataPoints(const MetricsRequest& r) {
  int64_t n = 0;
  for (const auto& rm : r.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics()) n += DataPointsOf(m);
  return n;
}

inline int64_t CountLogRecords(const LogsRequest& r) {
  int64_t n = 0;
  for (const auto& rl : r.resource_logs())
    for (const auto& sl : rl.scope_logs()) n += sl.log_records_size();
  return n;
}

inline int64_t CountScopes(const TraceRequest& r) {
  int64_t n = 0;
  for (const auto& rs : r.resource_spans()) n += rs.scope_spans_size();
  return n;
}
inline int64_t CountScopes(const MetricsRequest& r) {
  int64_t n = 0;
  for (const auto& rm : r.resource_metrics()) n += rm.scope_metrics_size();
  return n;
}
inline int64_t CountScopes(const LogsRequest& r) {
  int64_t n = 0;
  for (const auto& rl : r.resource_logs()) n += rl.scope_logs_size();
  return n;
}

// ---- Every field set --------------------------------------------------------

// One attribute of each AnyValue kind, nested arrays and kvlists included,
// plus a KeyValue without a value and one with an empty AnyValue.
inline void FillEveryAttribute(KeyValues* attrs, const std::string& prefix) {
  auto add = [&](const std::string& key) {
    otc::KeyValue* kv = attrs->Add();
    kv->set_key(prefix + key);
    return kv->mutable_value();
  };
  add("string")->set_string_value("v\"q\\ \n\t\x01\x1f caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  add("empty_string")->set_string_value("");
  add("bool")->set_bool_value(true);
  add("false")->set_bool_value(false);
  add("int")->set_int_value(std::numeric_limits<int64_t>::min());
  add("int_zero")->set_int_value(0);
  add("double")->set_double_value(-1.5e-300);
  add("double_zero")->set_double_value(0.0);
  add("nan")->set_double_value(std::numeric_limits<double>::quiet_NaN());
  add("inf")->set_double_value(std::numeric_limits<double>::infinity());
  add("bytes")->set_bytes_value(std::string("\x00\xff\x10\x80\x7f", 5));
  add("empty_bytes")->set_bytes_value("");
  otc::ArrayValue* arr = add("array")->mutable_array_value();
  arr->add_values()->set_string_value("a");
  arr->add_values()->set_int_value(42);
  arr->add_values();  // an empty AnyValue
  otc::ArrayValue* inner = arr->add_values()->mutable_array_value();
  inner->add_values()->set_double_value(2.5);
  inner->add_values()->mutable_kvlist_value()->add_values()->set_key("deep");
  otc::KeyValueList* kvl = arr->add_values()->mutable_kvlist_value();
  otc::KeyValue* kv = kvl->add_values();
  kv->set_key("k");
  kv->mutable_value()->set_bytes_value("xyz");
  add("empty_array")->mutable_array_value();
  otc::KeyValueList* list = add("kvlist")->mutable_kvlist_value();
  otc::KeyValue* e = list->add_values();
  e->set_key("nested");
  e->mutable_value()->mutable_array_value()->add_values()->set_bool_value(false);
  list->add_values()->set_key("no_value");
  add("empty_kvlist")->mutable_kvlist_value();
  add("empty_anyvalue");
  attrs->Add()->set_key(prefix + "no_value");
}

inline void FillEveryResourceField(otr::Resource* r) {
  FillEveryAttribute(r->mutable_attributes(), "res.");
  r->set_dropped_attributes_count(7);
  otc::EntityRef* e = r->add_entity_refs();
  e->set_schema_url("https://example.com/schema");
  e->set_type("service");
  e->add_id_keys("service.name");
  e->add_id_keys("service.namespace");
  e->add_description_keys("service.version");
  r->add_entity_refs()->set_type("host");
}

inline void FillEveryScopeField(otc::InstrumentationScope* s) {
  s->set_name("io.tracewire.test");
  s->set_version("1.2.3");
  FillEveryAttribute(s->mutable_attributes(), "scope.");
  s->set_dropped_attributes_count(4294967295u);
}

inline void FillEverySpanField(ott::Span* s, uint8_t seed) {
  s->set_trace_id(SeqBytes(16, seed));
  s->set_span_id(SeqBytes(8, static_cast<uint8_t>(seed + 100)));
  s->set_trace_state("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  s->set_parent_span_id(SeqBytes(8, static_cast<uint8_t>(seed + 200)));
  s->set_flags(0x301);
  s->set_name("GET /api/\"users\"");
  s->set_kind(ott::Span::SPAN_KIND_SERVER);
  s->set_start_time_unix_nano(1700000000123456789ull);
  s->set_end_time_unix_nano(18446744073709551615ull);
  FillEveryAttribute(s->mutable_attributes(), "span.");
  s->set_dropped_attributes_count(1);
  ott::Span::Event* ev = s->add_events();
  ev->set_time_unix_nano(1700000000200000000ull);
  ev->set_name("exception");
  FillEveryAttribute(ev->mutable_attributes(), "event.");
  ev->set_dropped_attributes_count(2);
  s->add_events()->set_name("bare");
  s->set_dropped_events_count(3);
  ott::Span::Link* l = s->add_links();
  l->set_trace_id(SeqBytes(16, 0xF0));
  l->set_span_id(SeqBytes(8, 0xE0));
  l->set_trace_state("k=v");
  FillEveryAttribute(l->mutable_attributes(), "link.");
  l->set_dropped_attributes_count(5);
  l->set_flags(0xFFFFFFFFu);
  s->add_links();  // an empty link
  s->set_dropped_links_count(6);
  s->mutable_status()->set_message("it \"failed\"");
  s->mutable_status()->set_code(ott::Status::STATUS_CODE_ERROR);
}

inline TraceRequest EveryFieldTraceRequest() {
  TraceRequest req;
  uint8_t seed = 1;
  for (int r = 0; r < 2; ++r) {
    ott::ResourceSpans* rs = req.add_resource_spans();
    FillEveryResourceField(rs->mutable_resource());
    rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
    for (int s = 0; s < 2; ++s) {
      ott::ScopeSpans* ss = rs->add_scope_spans();
      FillEveryScopeField(ss->mutable_scope());
      ss->set_schema_url("https://opentelemetry.io/schemas/1.20.0");
      for (int i = 0; i < 2; ++i) FillEverySpanField(ss->add_spans(), seed++);
      // A minimal span too.
      ott::Span* m = ss->add_spans();
      m->set_trace_id(SeqBytes(16, seed));
      m->set_span_id(SeqBytes(8, seed++));
    }
  }
  // A resource with an empty scope and a scope-less, resource-less entry.
  ott::ResourceSpans* rs = req.add_resource_spans();
  rs->add_scope_spans();
  req.add_resource_spans();
  return req;
}

inline void FillEveryExemplarField(otm::Exemplar* e, bool as_int) {
  FillEveryAttribute(e->mutable_filtered_attributes(), "ex.");
  e->set_time_unix_nano(1700000000000000001ull);
  if (as_int) {
    e->set_as_int(-123456789012345ll);
  } else {
    e->set_as_double(0.001);
  }
  e->set_span_id(SeqBytes(8, 0x30));
  e->set_trace_id(SeqBytes(16, 0x40));
}

inline void FillEveryNumberPointField(otm::NumberDataPoint* p, bool as_int) {
  FillEveryAttribute(p->mutable_attributes(), "dp.");
  p->set_start_time_unix_nano(1700000000000000000ull);
  p->set_time_unix_nano(1700000001000000000ull);
  if (as_int) {
    p->set_as_int(std::numeric_limits<int64_t>::max());
  } else {
    p->set_as_double(1e100);
  }
  FillEveryExemplarField(p->add_exemplars(), false);
  FillEveryExemplarField(p->add_exemplars(), true);
  p->add_exemplars();
  p->set_flags(1);
}

inline void FillEveryMetricField(otm::Metric* m, int kind) {
  static const char* const kNames[] = {"gauge", "sum", "histogram", "exp_histogram", "summary"};
  m->set_name(std::string("test.") + kNames[kind]);
  m->set_description("A \"description\" with\nnewline");
  m->set_unit("ms");
  FillEveryAttribute(m->mutable_metadata(), "meta.");
  switch (kind) {
    case 0: {
      otm::Gauge* g = m->mutable_gauge();
      FillEveryNumberPointField(g->add_data_points(), false);
      FillEveryNumberPointField(g->add_data_points(), true);
      g->add_data_points();  // no value
      break;
    }
    case 1: {
      otm::Sum* s = m->mutable_sum();
      FillEveryNumberPointField(s->add_data_points(), true);
      FillEveryNumberPointField(s->add_data_points(), false);
      s->set_aggregation_temporality(otm::AGGREGATION_TEMPORALITY_CUMULATIVE);
      s->set_is_monotonic(true);
      break;
    }
    case 2: {
      otm::Histogram* h = m->mutable_histogram();
      otm::HistogramDataPoint* p = h->add_data_points();
      FillEveryAttribute(p->mutable_attributes(), "hdp.");
      p->set_start_time_unix_nano(1);
      p->set_time_unix_nano(2);
      p->set_count(18446744073709551615ull);
      p->set_sum(0.0);  // optional: present although zero
      for (double b : {-1.0, 0.0, 2.5, 1e300}) p->add_explicit_bounds(b);
      for (uint64_t c : {0ull, 1ull, 2ull, 3ull, 18446744073709551615ull}) p->add_bucket_counts(c);
      FillEveryExemplarField(p->add_exemplars(), false);
      p->set_flags(1);
      p->set_min(-0.5);
      p->set_max(std::numeric_limits<double>::infinity());
      otm::HistogramDataPoint* q = h->add_data_points();  // no buckets at all
      q->set_count(0);
      h->add_data_points()->add_explicit_bounds(5);  // bounds but no counts: valid
      h->set_aggregation_temporality(otm::AGGREGATION_TEMPORALITY_DELTA);
      break;
    }
    case 3: {
      otm::ExponentialHistogram* h = m->mutable_exponential_histogram();
      otm::ExponentialHistogramDataPoint* p = h->add_data_points();
      FillEveryAttribute(p->mutable_attributes(), "edp.");
      p->set_start_time_unix_nano(3);
      p->set_time_unix_nano(4);
      p->set_count(100);
      p->set_sum(-12.75);
      p->set_scale(-7);
      p->set_zero_count(9);
      p->mutable_positive()->set_offset(-2147483647 - 1);
      for (uint64_t c : {1ull, 0ull, 18446744073709551615ull}) p->mutable_positive()->add_bucket_counts(c);
      p->mutable_negative()->set_offset(2147483647);
      p->mutable_negative()->add_bucket_counts(5);
      p->set_flags(1);
      FillEveryExemplarField(p->add_exemplars(), true);
      p->set_min(-1e-320);
      p->set_max(1.7976931348623157e308);
      p->set_zero_threshold(1e-9);
      otm::ExponentialHistogramDataPoint* q = h->add_data_points();
      q->set_scale(20);
      q->mutable_positive();  // present but empty
      h->set_aggregation_temporality(otm::AGGREGATION_TEMPORALITY_CUMULATIVE);
      break;
    }
    case 4: {
      otm::Summary* s = m->mutable_summary();
      otm::SummaryDataPoint* p = s->add_data_points();
      FillEveryAttribute(p->mutable_attributes(), "sdp.");
      p->set_start_time_unix_nano(5);
      p->set_time_unix_nano(6);
      p->set_count(10);
      p->set_sum(123.456);
      for (double q : {0.0, 0.5, 0.99, 1.0}) {
        otm::SummaryDataPoint::ValueAtQuantile* v = p->add_quantile_values();
        v->set_quantile(q);
        v->set_value(q * 1000 + 0.1);
      }
      p->add_quantile_values();  // an empty one
      p->set_flags(1);
      s->add_data_points();
      break;
    }
  }
}

inline MetricsRequest EveryFieldMetricsRequest() {
  MetricsRequest req;
  for (int r = 0; r < 2; ++r) {
    otm::ResourceMetrics* rm = req.add_resource_metrics();
    FillEveryResourceField(rm->mutable_resource());
    rm->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
    for (int s = 0; s < 2; ++s) {
      otm::ScopeMetrics* sm = rm->add_scope_metrics();
      FillEveryScopeField(sm->mutable_scope());
      sm->set_schema_url("https://opentelemetry.io/schemas/1.20.0");
      for (int k = 0; k < 5; ++k) FillEveryMetricField(sm->add_metrics(), k);
      // A metric whose data field is present but holds no points.
      otm::Metric* m = sm->add_metrics();
      m->set_name("empty.sum");
      m->mutable_sum();
    }
  }
  otm::ResourceMetrics* rm = req.add_resource_metrics();
  rm->add_scope_metrics();
  req.add_resource_metrics();
  return req;
}

inline void FillEveryLogField(otl::LogRecord* l, uint8_t seed) {
  l->set_time_unix_nano(1700000000000000000ull + seed);
  l->set_observed_time_unix_nano(1700000000500000000ull);
  l->set_severity_number(otl::SEVERITY_NUMBER_FATAL4);
  l->set_severity_text("FATAL");
  FillEveryAttribute(l->mutable_body()->mutable_kvlist_value()->mutable_values(), "body.");
  FillEveryAttribute(l->mutable_attributes(), "log.");
  l->set_dropped_attributes_count(8);
  l->set_flags(1);
  l->set_trace_id(SeqBytes(16, seed));
  l->set_span_id(SeqBytes(8, static_cast<uint8_t>(seed + 50)));
  l->set_event_name("browser.page_view");
}

inline LogsRequest EveryFieldLogsRequest() {
  LogsRequest req;
  uint8_t seed = 1;
  for (int r = 0; r < 2; ++r) {
    otl::ResourceLogs* rl = req.add_resource_logs();
    FillEveryResourceField(rl->mutable_resource());
    rl->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
    for (int s = 0; s < 2; ++s) {
      otl::ScopeLogs* sl = rl->add_scope_logs();
      FillEveryScopeField(sl->mutable_scope());
      sl->set_schema_url("https://opentelemetry.io/schemas/1.20.0");
      for (int i = 0; i < 2; ++i) FillEveryLogField(sl->add_log_records(), seed++);
      sl->add_log_records();  // an empty record: valid (ids are optional)
      sl->add_log_records()->mutable_body()->set_string_value("just a body");
    }
  }
  otl::ResourceLogs* rl = req.add_resource_logs();
  rl->add_scope_logs();
  req.add_resource_logs();
  return req;
}

// ---- Random requests ---------------------------------------------------------

// Builds random, valid requests (every span, metric and log record passes the
// reader's item rules) from a fixed seed.
class RandomOtlp {
 public:
  explicit RandomOtlp(uint64_t seed) : rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  uint64_t U64() {
    switch (Uniform(0, 5)) {
      case 0:
        return 0;
      case 1:
        return static_cast<uint64_t>(Uniform(1, 1000));
      case 2:
        return std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(Uniform(0, 2));
      case 3:
        return 1700000000000000000ull + rng_() % 1000000000000ull;
      default:
        return rng_();
    }
  }
  uint32_t U32() {
    switch (Uniform(0, 3)) {
      case 0:
        return 0;
      case 1:
        return static_cast<uint32_t>(Uniform(1, 300));
      case 2:
        return 0xFFFFFFFFu;
      default:
        return static_cast<uint32_t>(rng_());
    }
  }
  int64_t I64() {
    switch (Uniform(0, 5)) {
      case 0:
        return 0;
      case 1:
        return Uniform(-1000, 1000);
      case 2:
        return std::numeric_limits<int64_t>::min();
      case 3:
        return std::numeric_limits<int64_t>::max();
      default:
        return static_cast<int64_t>(rng_());
    }
  }
  int32_t I32() {
    switch (Uniform(0, 4)) {
      case 0:
        return 0;
      case 1:
        return Uniform(-30, 30);
      case 2:
        return std::numeric_limits<int32_t>::min();
      case 3:
        return std::numeric_limits<int32_t>::max();
      default:
        return static_cast<int32_t>(rng_());
    }
  }
  double Double() {
    switch (Uniform(0, 11)) {
      case 0:
        return 0.0;
      case 1:
        return -0.0;
      case 2:
        return std::numeric_limits<double>::quiet_NaN();
      case 3:
        return std::numeric_limits<double>::infinity();
      case 4:
        return -std::numeric_limits<double>::infinity();
      case 5:
        return std::numeric_limits<double>::denorm_min();
      case 6:
        return std::numeric_limits<double>::max();
      case 7:
        return static_cast<double>(Uniform(-100000, 100000));
      case 8:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
      default: {  // arbitrary bits (NaN payloads included)
        uint64_t bits = rng_();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
      }
    }
  }
  std::string Bytes(int max_len) {
    std::string s(static_cast<size_t>(Uniform(0, max_len)), '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }
  // Random bytes of length n, not all zero.
  std::string NonZeroId(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(Chance(0.2) ? 0 : rng_());
    s[static_cast<size_t>(Uniform(0, static_cast<int>(n) - 1))] = static_cast<char>(Uniform(1, 255));
    return s;
  }
  // Valid UTF-8 with ASCII, JSON escapes, control characters and multi-byte
  // code points.
  std::string String(int max_len = 12) {
    static const char kSpecial[] = {'"', '\\', '\n', '\r', '\t', '\b', '\f', '\x01', '\x1f',
                                    '\x7f', '/', '<', '>', '&', '\'', '\0'};
    std::string s;
    const int n = Uniform(0, max_len);
    for (int i = 0; i < n; ++i) {
      const int k = Uniform(0, 9);
      if (k < 5) {
        s.push_back(static_cast<char>(Uniform(0x20, 0x7E)));
      } else if (k < 7) {
        s.push_back(kSpecial[Uniform(0, sizeof(kSpecial) - 1)]);
      } else if (k == 7) {
        AppendUtf8(static_cast<uint32_t>(Uniform(0x80, 0x7FF)), &s);
      } else if (k == 8) {
        uint32_t cp = static_cast<uint32_t>(Uniform(0x800, 0xFFFF));
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x2028;
        AppendUtf8(cp, &s);
      } else {
        AppendUtf8(static_cast<uint32_t>(Uniform(0x10000, 0x10FFFF)), &s);
      }
    }
    return s;
  }

  void AnyValue(otc::AnyValue* v, int depth) {
    const int k = Uniform(0, depth >= 3 ? 5 : 7);
    switch (k) {
      case 0:
        break;  // unset
      case 1:
        v->set_string_value(String());
        break;
      case 2:
        v->set_bool_value(Chance(0.5));
        break;
      case 3:
        v->set_int_value(I64());
        break;
      case 4:
        v->set_double_value(Double());
        break;
      case 5:
        v->set_bytes_value(Bytes(10));
        break;
      case 6: {
        otc::ArrayValue* a = v->mutable_array_value();
        for (int i = Uniform(0, 3); i > 0; --i) AnyValue(a->add_values(), depth + 1);
        break;
      }
      case 7: {
        otc::KeyValueList* l = v->mutable_kvlist_value();
        for (int i = Uniform(0, 3); i > 0; --i) KeyValue(l->add_values(), depth + 1);
        break;
      }
    }
  }
  void KeyValue(otc::KeyValue* kv, int depth) {
    kv->set_key(String(8));
    if (Chance(0.9)) AnyValue(kv->mutable_value(), depth);
  }
  void Attributes(KeyValues* attrs, int max = 4) {
    for (int i = Uniform(0, max); i > 0; --i) KeyValue(attrs->Add(), 0);
  }
  void Resource(otr::Resource* r) {
    Attributes(r->mutable_attributes());
    if (Chance(0.3)) r->set_dropped_attributes_count(U32());
    for (int i = Uniform(0, Chance(0.8) ? 0 : 2); i > 0; --i) {
      otc::EntityRef* e = r->add_entity_refs();
      if (Chance(0.5)) e->set_schema_url(String());
      e->set_type(String());
      for (int j = Uniform(0, 2); j > 0; --j) e->add_id_keys(String());
      for (int j = Uniform(0, 2); j > 0; --j) e->add_description_keys(String());
    }
  }
  void Scope(otc::InstrumentationScope* s) {
    if (Chance(0.8)) s->set_name(String());
    if (Chance(0.5)) s->set_version(String());
    Attributes(s->mutable_attributes(), 2);
    if (Chance(0.2)) s->set_dropped_attributes_count(U32());
  }

  void Span(ott::Span* s) {
    s->set_trace_id(NonZeroId(16));
    s->set_span_id(NonZeroId(8));
    if (Chance(0.3)) s->set_trace_state(String());
    if (Chance(0.6)) s->set_parent_span_id(Chance(0.9) ? NonZeroId(8) : std::string(8, '\0'));
    if (Chance(0.5)) s->set_flags(U32());
    s->set_name(String(20));
    s->set_kind(static_cast<ott::Span::SpanKind>(Chance(0.95) ? Uniform(0, 5) : Uniform(6, 1000)));
    const uint64_t start = U64();
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(start + (std::numeric_limits<uint64_t>::max() - start) /
                                          static_cast<uint64_t>(Uniform(1, 1000000)));
    Attributes(s->mutable_attributes());
    if (Chance(0.2)) s->set_dropped_attributes_count(U32());
    for (int i = Uniform(0, Chance(0.7) ? 0 : 3); i > 0; --i) {
      ott::Span::Event* e = s->add_events();
      e->set_time_unix_nano(U64());
      e->set_name(String());
      Attributes(e->mutable_attributes(), 2);
      if (Chance(0.2)) e->set_dropped_attributes_count(U32());
    }
    if (Chance(0.2)) s->set_dropped_events_count(U32());
    for (int i = Uniform(0, Chance(0.7) ? 0 : 2); i > 0; --i) {
      ott::Span::Link* l = s->add_links();
      // Link ids are not checked by the reader: any length.
      l->set_trace_id(Chance(0.8) ? NonZeroId(16) : Bytes(20));
      l->set_span_id(Chance(0.8) ? NonZeroId(8) : Bytes(10));
      if (Chance(0.3)) l->set_trace_state(String());
      Attributes(l->mutable_attributes(), 2);
      if (Chance(0.2)) l->set_dropped_attributes_count(U32());
      if (Chance(0.5)) l->set_flags(U32());
    }
    if (Chance(0.2)) s->set_dropped_links_count(U32());
    if (Chance(0.5)) {
      ott::Status* st = s->mutable_status();
      if (Chance(0.5)) st->set_message(String());
      st->set_code(static_cast<ott::Status::StatusCode>(Uniform(0, 2)));
    }
  }

  TraceRequest Traces() {
    TraceRequest req;
    for (int r = Uniform(0, 3); r > 0; --r) {
      ott::ResourceSpans* rs = req.add_resource_spans();
      if (Chance(0.8)) Resource(rs->mutable_resource());
      if (Chance(0.3)) rs->set_schema_url(String());
      for (int s = Uniform(0, 3); s > 0; --s) {
        ott::ScopeSpans* ss = rs->add_scope_spans();
        if (Chance(0.8)) Scope(ss->mutable_scope());
        if (Chance(0.3)) ss->set_schema_url(String());
        for (int i = Uniform(0, 5); i > 0; --i) Span(ss->add_spans());
      }
    }
    return req;
  }

  void Exemplar(otm::Exemplar* e) {
    Attributes(e->mutable_filtered_attributes(), 2);
    e->set_time_unix_nano(U64());
    switch (Uniform(0, 2)) {
      case 0:
        e->set_as_double(Double());
        break;
      case 1:
        e->set_as_int(I64());
        break;
      default:
        break;
    }
    if (Chance(0.7)) e->set_span_id(NonZeroId(8));
    if (Chance(0.7)) e->set_trace_id(NonZeroId(16));
  }
  void Exemplars(::google::protobuf::RepeatedPtrField<otm::Exemplar>* ex) {
    for (int i = Uniform(0, Chance(0.7) ? 0 : 2); i > 0; --i) Exemplar(ex->Add());
  }
  void NumberPoint(otm::NumberDataPoint* p) {
    Attributes(p->mutable_attributes(), 3);
    p->set_start_time_unix_nano(U64());
    p->set_time_unix_nano(U64());
    switch (Uniform(0, 2)) {
      case 0:
        p->set_as_double(Double());
        break;
      case 1:
        p->set_as_int(I64());
        break;
      default:
        break;
    }
    Exemplars(p->mutable_exemplars());
    if (Chance(0.2)) p->set_flags(U32());
  }
  void HistogramPoint(otm::HistogramDataPoint* p) {
    Attributes(p->mutable_attributes(), 3);
    p->set_start_time_unix_nano(U64());
    p->set_time_unix_nano(U64());
    p->set_count(U64());
    if (Chance(0.6)) p->set_sum(Double());
    const int bounds = Uniform(0, 5);
    for (int i = 0; i < bounds; ++i) p->add_explicit_bounds(Double());
    if (Chance(0.85)) {
      for (int i = 0; i <= bounds; ++i) p->add_bucket_counts(U64());
    }
    Exemplars(p->mutable_exemplars());
    if (Chance(0.2)) p->set_flags(U32());
    if (Chance(0.5)) p->set_min(Double());
    if (Chance(0.5)) p->set_max(Double());
  }
  void Buckets(otm::ExponentialHistogramDataPoint::Buckets* b) {
    b->set_offset(I32());
    for (int i = Uniform(0, 5); i > 0; --i) b->add_bucket_counts(U64());
  }
  void ExpHistogramPoint(otm::ExponentialHistogramDataPoint* p) {
    Attributes(p->mutable_attributes(), 3);
    p->set_start_time_unix_nano(U64());
    p->set_time_unix_nano(U64());
    p->set_count(U64());
    if (Chance(0.6)) p->set_sum(Double());
    p->set_scale(I32());
    p->set_zero_count(U64());
    if (Chance(0.7)) Buckets(p->mutable_positive());
    if (Chance(0.5)) Buckets(p->mutable_negative());
    if (Chance(0.2)) p->set_flags(U32());
    Exemplars(p->mutable_exemplars());
    if (Chance(0.5)) p->set_min(Double());
    if (Chance(0.5)) p->set_max(Double());
    if (Chance(0.5)) p->set_zero_threshold(Double());
  }
  void SummaryPoint(otm::SummaryDataPoint* p) {
    Attributes(p->mutable_attributes(), 3);
    p->set_start_time_unix_nano(U64());
    p->set_time_unix_nano(U64());
    p->set_count(U64());
    p->set_sum(Double());
    for (int i = Uniform(0, 4); i > 0; --i) {
      otm::SummaryDataPoint::ValueAtQuantile* q = p->add_quantile_values();
      q->set_quantile(Double());
      q->set_value(Double());
    }
    if (Chance(0.2)) p->set_flags(U32());
  }
  void Metric(otm::Metric* m) {
    std::string name = String();
    if (name.empty()) name = "m";
    m->set_name(name);
    if (Chance(0.5)) m->set_description(String(30));
    if (Chance(0.5)) m->set_unit(String(4));
    if (Chance(0.2)) Attributes(m->mutable_metadata(), 2);
    const int points = Uniform(0, 4);
    switch (Uniform(0, 4)) {
      case 0: {
        otm::Gauge* g = m->mutable_gauge();
        for (int i = 0; i < points; ++i) NumberPoint(g->add_data_points());
        break;
      }
      case 1: {
        otm::Sum* s = m->mutable_sum();
        for (int i = 0; i < points; ++i) NumberPoint(s->add_data_points());
        s->set_aggregation_temporality(static_cast<otm::AggregationTemporality>(Uniform(0, 2)));
        s->set_is_monotonic(Chance(0.5));
        break;
      }
      case 2: {
        otm::Histogram* h = m->mutable_histogram();
        for (int i = 0; i < points; ++i) HistogramPoint(h->add_data_points());
        h->set_aggregation_temporality(static_cast<otm::AggregationTemporality>(Uniform(0, 2)));
        break;
      }
      case 3: {
        otm::ExponentialHistogram* h = m->mutable_exponential_histogram();
        for (int i = 0; i < points; ++i) ExpHistogramPoint(h->add_data_points());
        h->set_aggregation_temporality(static_cast<otm::AggregationTemporality>(Uniform(0, 2)));
        break;
      }
      default: {
        otm::Summary* s = m->mutable_summary();
        for (int i = 0; i < points; ++i) SummaryPoint(s->add_data_points());
        break;
      }
    }
  }

  MetricsRequest Metrics() {
    MetricsRequest req;
    for (int r = Uniform(0, 3); r > 0; --r) {
      otm::ResourceMetrics* rm = req.add_resource_metrics();
      if (Chance(0.8)) Resource(rm->mutable_resource());
      if (Chance(0.3)) rm->set_schema_url(String());
      for (int s = Uniform(0, 3); s > 0; --s) {
        otm::ScopeMetrics* sm = rm->add_scope_metrics();
        if (Chance(0.8)) Scope(sm->mutable_scope());
        if (Chance(0.3)) sm->set_schema_url(String());
        for (int i = Uniform(0, 4); i > 0; --i) Metric(sm->add_metrics());
      }
    }
    return req;
  }

  void LogRecord(otl::LogRecord* l) {
    if (Chance(0.8)) l->set_time_unix_nano(U64());
    if (Chance(0.8)) l->set_observed_time_unix_nano(U64());
    l->set_severity_number(static_cast<otl::SeverityNumber>(Chance(0.95) ? Uniform(0, 24)
                                                                           : Uniform(25, 100000)));
    if (Chance(0.5)) l->set_severity_text(String(6));
    if (Chance(0.8)) AnyValue(l->mutable_body(), 0);
    Attributes(l->mutable_attributes());
    if (Chance(0.2)) l->set_dropped_attributes_count(U32());
    if (Chance(0.5)) l->set_flags(U32());
    if (Chance(0.6)) l->set_trace_id(NonZeroId(16));
    if (Chance(0.6)) l->set_span_id(NonZeroId(8));
    if (Chance(0.3)) l->set_event_name(String());
  }

  LogsRequest Logs() {
    LogsRequest req;
    for (int r = Uniform(0, 3); r > 0; --r) {
      otl::ResourceLogs* rl = req.add_resource_logs();
      if (Chance(0.8)) Resource(rl->mutable_resource());
      if (Chance(0.3)) rl->set_schema_url(String());
      for (int s = Uniform(0, 3); s > 0; --s) {
        otl::ScopeLogs* sl = rl->add_scope_logs();
        if (Chance(0.8)) Scope(sl->mutable_scope());
        if (Chance(0.3)) sl->set_schema_url(String());
        for (int i = Uniform(0, 5); i > 0; --i) LogRecord(sl->add_log_records());
      }
    }
    return req;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace tw_test
