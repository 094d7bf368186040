#pragma once
// A known trace and its logs for the store and CLI tests: frontend "GET
// /checkout" (server, http.route) -> backend "charge" (client, ERROR "card
// declined", rpc.method, an event, a link) -> "db query"; an orphan "late
// work" whose parent never arrives; and a second trace, search "find".

#include <string>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "pipeline/batch.h"
#include "wire/otlp_reader.h"

namespace tracewire::testing_store {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

inline pipeline::Batch MakeBatch(wire::Signal signal, std::string bytes) {
  pipeline::Batch b;
  b.signal = signal;
  b.bytes = std::move(bytes);
  absl::StatusOr<wire::ReadResult> r = wire::ReadExportRequest(signal, b.bytes);
  b.items = r.ok() ? r->items : 0;
  return b;
}

inline std::string Id(int n, int len) {
  std::string s(len, '\0');
  s[len - 1] = static_cast<char>(n);
  s[0] = 0x7f;
  return s;
}

inline constexpr uint64_t kT0 = 1700000000000000000ull;

// A trace: root (frontend, server) -> child (backend, error, http.route) ->
// grandchild; plus an orphan whose parent never arrives.
inline std::string KnownTrace() {
  ExportTraceServiceRequest req;
  auto add_rs = [&req](const std::string& service) {
    auto* rs = req.add_resource_spans();
    auto* kv = rs->mutable_resource()->add_attributes();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(service);
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("test-scope");
    ss->mutable_scope()->set_version("1.2");
    return ss;
  };
  auto* front = add_rs("frontend");
  auto* back = add_rs("backend");
  auto span = [](auto* ss, int id, int parent, const char* name, int kind, uint64_t start_ms,
                 uint64_t end_ms) {
    auto* s = ss->add_spans();
    s->set_trace_id(Id(1, 16));
    s->set_span_id(Id(id, 8));
    if (parent) s->set_parent_span_id(Id(parent, 8));
    s->set_name(name);
    s->set_kind(static_cast<opentelemetry::proto::trace::v1::Span::SpanKind>(kind));
    s->set_start_time_unix_nano(kT0 + start_ms * 1000000);
    s->set_end_time_unix_nano(kT0 + end_ms * 1000000);
    return s;
  };
  auto* root = span(front, 1, 0, "GET /checkout", 2, 0, 100);
  auto* a = root->add_attributes();
  a->set_key("http.route");
  a->mutable_value()->set_string_value("/checkout");
  auto* child = span(back, 2, 1, "charge", 3, 10, 90);
  child->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  child->mutable_status()->set_message("card declined");
  auto* ca = child->add_attributes();
  ca->set_key("rpc.method");
  ca->mutable_value()->set_string_value("Charge");
  auto* ev = child->add_events();
  ev->set_name("retrying");
  ev->set_time_unix_nano(kT0 + 20 * 1000000);
  auto* link = child->add_links();
  link->set_trace_id(Id(9, 16));
  link->set_span_id(Id(9, 8));
  span(back, 3, 2, "db query", 1, 20, 40);
  span(back, 4, 77, "late work", 1, 50, 60);  // orphan: parent 77 never arrives
  // A second, fast trace of another service.
  auto* other = add_rs("search");
  auto* s = span(other, 5, 0, "find", 2, 200, 201);
  s->set_trace_id(Id(2, 16));
  return req.SerializeAsString();
}

inline std::string KnownLogs() {
  ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  auto* kv = rl->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("backend");
  auto* sl = rl->add_scope_logs();
  auto* l = sl->add_log_records();
  l->set_time_unix_nano(kT0 + 30 * 1000000);
  l->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  l->set_severity_text("ERROR");
  l->mutable_body()->set_string_value("payment failed: card declined");
  l->set_trace_id(Id(1, 16));
  l->set_span_id(Id(2, 8));
  auto* l2 = sl->add_log_records();
  l2->set_time_unix_nano(kT0 + 31 * 1000000);
  l2->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  l2->mutable_body()->set_string_value("unrelated");
  return req.SerializeAsString();
}

}  // namespace tracewire::testing_store
