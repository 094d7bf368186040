#include "tools/synthetic.h"

#include <random>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tracewire::tools {
namespace {

namespace common = ::opentelemetry::proto::common::v1;
namespace trace = ::opentelemetry::proto::trace::v1;
namespace metrics = ::opentelemetry::proto::metrics::v1;
namespace logs = ::opentelemetry::proto::logs::v1;
namespace collector_trace = ::opentelemetry::proto::collector::trace::v1;
namespace collector_metrics = ::opentelemetry::proto::collector::metrics::v1;
namespace collector_logs = ::opentelemetry::proto::collector::logs::v1;

std::string RandomId(std::mt19937_64& rng, size_t n) {
  std::string id(n, '\0');
  do {
    for (auto& c : id) c = static_cast<char>(rng());
  } while (id.find_first_not_of('\0') == std::string::npos);
  return id;
}

void Attr(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, const std::string& key,
          const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(v);
}
void AttrInt(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, const std::string& key,
             int64_t v) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(v);
}

// One attribute of every AnyValue kind, nested arrays and maps included.
void AllKindsOfAttributes(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, int i) {
  Attr(attrs, "str", "value-" + std::to_string(i));
  AttrInt(attrs, "int", -1234567890123ll + i);
  auto* b = attrs->Add();
  b->set_key("bool");
  b->mutable_value()->set_bool_value(i % 2 == 0);
  auto* d = attrs->Add();
  d->set_key("double");
  d->mutable_value()->set_double_value(0.25 + i);
  auto* by = attrs->Add();
  by->set_key("bytes");
  by->mutable_value()->set_bytes_value(std::string("\x00\x01\xfe\xff", 4));
  auto* arr = attrs->Add();
  arr->set_key("array");
  auto* av = arr->mutable_value()->mutable_array_value();
  av->add_values()->set_string_value("a");
  av->add_values()->set_int_value(2);
  av->add_values()->set_double_value(3.5);
  av->add_values()->set_bool_value(true);
  auto* kvl = attrs->Add();
  kvl->set_key("kvlist");
  auto* m = kvl->mutable_value()->mutable_kvlist_value();
  auto* inner = m->add_values();
  inner->set_key("nested");
  inner->mutable_value()->mutable_array_value()->add_values()->set_string_value("deep");
  auto* inner2 = m->add_values();
  inner2->set_key("n");
  inner2->mutable_value()->set_int_value(7);
}

void FillResource(::opentelemetry::proto::resource::v1::Resource* r, const std::string& svc) {
  Attr(r->mutable_attributes(), "service.name", svc);
  Attr(r->mutable_attributes(), "service.version", "1.0");
  Attr(r->mutable_attributes(), "telemetry.sdk.name", "tracewire-cli");
}

void FillScope(common::InstrumentationScope* s) {
  s->set_name("tracewire.synthetic");
  s->set_version("0.1.0");
}

}  // namespace

std::string MakeTracesRequest(int spans, const SyntheticOptions& o) {
  std::mt19937_64 rng(o.seed);
  collector_trace::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  FillResource(rs->mutable_resource(), "tracewire-send");
  rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  auto* ss = rs->add_scope_spans();
  FillScope(ss->mutable_scope());
  std::string trace_id = RandomId(rng, 16);
  std::string root_id;
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    if (i % 4 == 0) {  // Every fourth span starts a new trace.
      trace_id = RandomId(rng, 16);
      root_id.clear();
    }
    s->set_trace_id(trace_id);
    s->set_span_id(RandomId(rng, 8));
    if (!root_id.empty()) s->set_parent_span_id(root_id);
    if (root_id.empty()) root_id = s->span_id();
    s->set_name("operation-" + std::to_string(i));
    s->set_kind(static_cast<trace::Span::SpanKind>(1 + i % 5));
    s->set_flags(0x101);
    s->set_trace_state("vendor=value");
    const uint64_t start = o.base_time_unix_nano + static_cast<uint64_t>(i) * kSyntheticSpanStepNs;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(start + 250000 + i);
    AllKindsOfAttributes(s->mutable_attributes(), i);
    auto* ev = s->add_events();
    ev->set_name("event");
    ev->set_time_unix_nano(start + 1000);
    Attr(ev->mutable_attributes(), "event.key", "event-value");
    auto* link = s->add_links();
    link->set_trace_id(RandomId(rng, 16));
    link->set_span_id(RandomId(rng, 8));
    link->set_flags(1);
    Attr(link->mutable_attributes(), "link.key", "link-value");
    auto* st = s->mutable_status();
    if (i % 3 == 2) {
      st->set_code(trace::Status::STATUS_CODE_ERROR);
      st->set_message("synthetic failure");
    } else {
      st->set_code(trace::Status::STATUS_CODE_OK);
    }
    if (i < o.invalid_items) s->set_trace_id(std::string(16, '\0'));  // Invalid on purpose.
  }
  return req.SerializeAsString();
}

std::string MakeMetricsRequest(int n, const SyntheticOptions& o) {
  collector_metrics::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  FillResource(rm->mutable_resource(), "tracewire-send");
  auto* sm = rm->add_scope_metrics();
  FillScope(sm->mutable_scope());
  for (int i = 0; i < n; ++i) {
    auto* m = sm->add_metrics();
    m->set_name("synthetic.metric." + std::to_string(i));
    m->set_description("a synthetic metric");
    m->set_unit("1");
    const uint64_t t = o.base_time_unix_nano + static_cast<uint64_t>(i) * kSyntheticMetricStepNs;
    for (int p = 0; p < 2; ++p) {
      auto set_common = [&](auto* dp) {
        dp->set_start_time_unix_nano(o.base_time_unix_nano);
        dp->set_time_unix_nano(t);
        Attr(dp->mutable_attributes(), "point", std::to_string(p));
      };
      switch (i % 5) {
        case 0: {
          auto* dp = m->mutable_gauge()->add_data_points();
          set_common(dp);
          dp->set_as_double(1.5 * (i + p));
          break;
        }
        case 1: {
          auto* sum = m->mutable_sum();
          sum->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
          sum->set_is_monotonic(true);
          auto* dp = sum->add_data_points();
          set_common(dp);
          dp->set_as_int(100 * (i + 1) + p);
          auto* ex = dp->add_exemplars();
          ex->set_time_unix_nano(t);
          ex->set_as_int(5);
          ex->set_trace_id(std::string(15, 'x') + "t");
          ex->set_span_id(std::string(7, 'y') + "s");
          break;
        }
        case 2: {
          auto* h = m->mutable_histogram();
          h->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_DELTA);
          auto* dp = h->add_data_points();
          set_common(dp);
          dp->set_count(6);
          dp->set_sum(21.0);
          dp->set_min(1.0);
          dp->set_max(9.0);
          for (double b : {2.0, 5.0}) dp->add_explicit_bounds(b);
          for (uint64_t c : {1, 2, 3}) dp->add_bucket_counts(c);
          break;
        }
        case 3: {
          auto* h = m->mutable_exponential_histogram();
          h->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_DELTA);
          auto* dp = h->add_data_points();
          set_common(dp);
          dp->set_count(7);
          dp->set_sum(30.5);
          dp->set_scale(-1);
          dp->set_zero_count(1);
          dp->set_zero_threshold(0.001);
          dp->mutable_positive()->set_offset(-2);
          for (uint64_t c : {1, 2, 3}) dp->mutable_positive()->add_bucket_counts(c);
          dp->mutable_negative()->set_offset(1);
          break;
        }
        default: {
          auto* dp = m->mutable_summary()->add_data_points();
          set_common(dp);
          dp->set_count(10);
          dp->set_sum(55.0);
          for (double q : {0.0, 0.5, 1.0}) {
            auto* vq = dp->add_quantile_values();
            vq->set_quantile(q);
            vq->set_value(q * 10);
          }
        }
      }
    }
    if (i < o.invalid_items) m->clear_name();  // Invalid on purpose.
  }
  return req.SerializeAsString();
}

std::string MakeLogsRequest(int n, const SyntheticOptions& o) {
  std::mt19937_64 rng(o.seed);
  collector_logs::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  FillResource(rl->mutable_resource(), "tracewire-send");
  auto* sl = rl->add_scope_logs();
  FillScope(sl->mutable_scope());
  for (int i = 0; i < n; ++i) {
    auto* r = sl->add_log_records();
    const uint64_t t = o.base_time_unix_nano + static_cast<uint64_t>(i) * kSyntheticLogStepNs;
    r->set_time_unix_nano(t);
    r->set_observed_time_unix_nano(t + 10);
    r->set_severity_number(static_cast<logs::SeverityNumber>(1 + i % 24));
    r->set_severity_text(i % 2 ? "INFO" : "ERROR");
    switch (i % 3) {
      case 0:
        r->mutable_body()->set_string_value("log line " + std::to_string(i));
        break;
      case 1: {
        auto* kv = r->mutable_body()->mutable_kvlist_value()->add_values();
        kv->set_key("message");
        kv->mutable_value()->set_string_value("structured");
        break;
      }
      default:
        r->mutable_body()->set_bytes_value(std::string("\x01\x02\x03", 3));
    }
    AllKindsOfAttributes(r->mutable_attributes(), i);
    r->set_trace_id(RandomId(rng, 16));
    r->set_span_id(RandomId(rng, 8));
    r->set_flags(1);
    r->set_event_name(i % 2 ? "app.event" : "");
    if (i < o.invalid_items) r->set_span_id(std::string(3, 'x'));  // Invalid on purpose.
  }
  return req.SerializeAsString();
}

std::string MakeStandardSpansRequest(int spans, uint64_t seed) {
  std::mt19937_64 rng(seed);
  collector_trace::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  Attr(rs->mutable_resource()->mutable_attributes(), "service.name", "bench");
  Attr(rs->mutable_resource()->mutable_attributes(), "service.version", "1.0");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("bench");
  ss->mutable_scope()->set_version("1.0");
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(RandomId(rng, 16));
    s->set_span_id(RandomId(rng, 8));
    s->set_name("GET /api/users");
    s->set_kind(trace::Span::SPAN_KIND_SERVER);
    s->set_flags(1);
    const uint64_t start = kSyntheticBaseTime + static_cast<uint64_t>(i) * 1000;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(start + 1500000);
    auto* a = s->mutable_attributes();
    Attr(a, "http.method", "GET");
    Attr(a, "http.route", "/api/users");
    Attr(a, "http.target", "/api/users?id=42");
    Attr(a, "net.peer.name", "10.0.0.1");
    AttrInt(a, "http.status_code", 200);
    AttrInt(a, "http.response_content_length", 1234);
    auto* d = a->Add();
    d->set_key("duration_ratio");
    d->mutable_value()->set_double_value(0.75);
    auto* b = a->Add();
    b->set_key("cache.hit");
    b->mutable_value()->set_bool_value(true);
    auto* ev = s->add_events();
    ev->set_name("cache lookup");
    ev->set_time_unix_nano(start + 1000);
    Attr(ev->mutable_attributes(), "cache.key", "user:42");
    s->mutable_status()->set_code(trace::Status::STATUS_CODE_OK);
  }
  return req.SerializeAsString();
}

}  // namespace tracewire::tools
