#include "tools/store_commands.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tracewire::tools {
namespace {

using store::StoredLog;
using store::StoredSpan;
using store::StoreReader;

constexpr int kBarWidth = 24;

const char* const kKeyAttributes[] = {
    "http.request.method", "http.method",  "http.route", "http.response.status_code",
    "http.status_code",    "rpc.service",  "rpc.method", "rpc.grpc.status_code",
    "db.system",           "peer.service", "error",      "exception.message"};

std::string Json(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

// A time in ns since the epoch (~1.7e18) as a JSON string, as OTLP/JSON
// writes 64-bit integers: a JSON number above 2^53 loses digits in
// JavaScript and jq.
template <typename Int>
std::string Nanos(Int ns) {
  return absl::StrCat("\"", ns, "\"");
}

std::string JsonAttrs(const store::Attributes& attrs) {
  std::string out = "{";
  for (size_t i = 0; i < attrs.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", Json(attrs[i].first), ":", Json(attrs[i].second));
  }
  return out + "}";
}

std::string Dur(int64_t ns) {
  if (ns < 0) ns = 0;
  if (ns < 1000) return absl::StrCat(ns, "ns");
  if (ns < 1000000) return absl::StrFormat("%.1fus", ns / 1e3);
  if (ns < 1000000000) return absl::StrFormat("%.1fms", ns / 1e6);
  return absl::StrFormat("%.2fs", ns / 1e9);
}

std::string When(int64_t unix_ns) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::FromUnixNanos(unix_ns), absl::UTCTimeZone());
}

const char* SeverityName(uint32_t n) {
  if (n == 0) return "-";
  if (n <= 4) return "TRACE";
  if (n <= 8) return "DEBUG";
  if (n <= 12) return "INFO";
  if (n <= 16) return "WARN";
  if (n <= 20) return "ERROR";
  return "FATAL";
}

struct Paint {
  bool on;
  std::string operator()(const char* code, std::string_view s) const {
    if (!on) return std::string(s);
    return absl::StrCat("\033[", code, "m", std::string(s), "\033[0m");
  }
};

absl::StatusOr<std::unique_ptr<StoreReader>> OpenStore(const QueryOutput& o) {
  return StoreReader::Open(o.store_path);
}

int Fail(const QueryOutput& o, const absl::Status& st) {
  std::fprintf(o.err, "tracewire: %s\n", std::string(st.message()).c_str());
  return 1;
}

std::string Bar(int64_t trace_start, int64_t trace_end, int64_t start, int64_t end) {
  const double span = std::max<int64_t>(1, trace_end - trace_start);
  int a = static_cast<int>((start - trace_start) / span * kBarWidth);
  int b = static_cast<int>((end - trace_start) / span * kBarWidth + 0.999);
  a = std::clamp(a, 0, kBarWidth - 1);
  b = std::clamp(b, a + 1, kBarWidth);
  std::string bar(kBarWidth, ' ');
  for (int i = a; i < b; ++i) bar[i] = '=';
  return "|" + bar + "|";
}

}  // namespace

bool ParseDurationFlag(const std::string& text, int64_t* ns) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) return false;
  *ns = absl::ToInt64Nanoseconds(d);
  return true;
}

bool ParseTimeFlag(const std::string& text, int64_t* unix_ns) {
  absl::Duration d;
  if (absl::ParseDuration(text, &d)) {
    *unix_ns = absl::ToUnixNanos(absl::Now() - d);
    return true;
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    *unix_ns = absl::ToUnixNanos(t);
    return true;
  }
  return false;
}

bool ParseSeverityFlag(const std::string& text, uint32_t* severity) {
  const std::string s = absl::AsciiStrToLower(text);
  static const std::map<std::string, uint32_t> kNames = {
      {"trace", 1},    {"debug", 5},  {"info", 9},  {"warn", 13},
      {"warning", 13}, {"error", 17}, {"fatal", 21}};
  auto it = kNames.find(s);
  if (it != kNames.end()) {
    *severity = it->second;
    return true;
  }
  return absl::SimpleAtoi(s, severity) && *severity >= 1 && *severity <= 24;
}

int RunTracesQuery(const QueryOutput& o, const store::TraceFilter& filter) {
  auto reader = OpenStore(o);
  if (!reader.ok()) return Fail(o, reader.status());
  auto traces = (*reader)->FindTraces(filter);
  if (!traces.ok()) return Fail(o, traces.status());
  const Paint paint{o.color};
  if (o.json) {
    std::string out = "[";
    for (size_t i = 0; i < traces->size(); ++i) {
      const store::TraceSummary& t = (*traces)[i];
      absl::StrAppend(
          &out, i ? ",\n " : "", "{\"trace_id\":", Json(store::ToHex(t.trace_id)),
          ",\"start_unix_nano\":", Nanos(t.start_ns), ",\"duration_ns\":", t.end_ns - t.start_ns,
          ",\"root_service\":", Json(t.root_service), ",\"root_name\":", Json(t.root_name),
          ",\"root_found\":", t.root_found ? "true" : "false", ",\"spans\":", t.span_count,
          ",\"error_spans\":", t.error_spans, "}");
    }
    std::fprintf(o.out, "%s]\n", out.c_str());
    return 0;
  }
  if (traces->empty()) {
    std::fprintf(o.out, "no traces match\n");
    return 0;
  }
  for (const store::TraceSummary& t : *traces) {
    std::string root = absl::StrCat(t.root_service, " ", t.root_name);
    if (!t.root_found) root += " (root missing)";
    std::fprintf(o.out, "%s  %s  %10s  %4lld spans  %s%s\n", When(t.start_ns).c_str(),
                 store::ToHex(t.trace_id).c_str(), Dur(t.end_ns - t.start_ns).c_str(),
                 static_cast<long long>(t.span_count), root.c_str(),
                 t.error_spans > 0 ? paint("31", "  ERROR").c_str() : "");
  }
  return 0;
}

int RunTraceQuery(const QueryOutput& o, const std::string& trace_id_hex) {
  std::string trace_id;
  if (!store::FromHex(trace_id_hex, &trace_id) || trace_id.size() != 16) {
    std::fprintf(o.err, "tracewire: '%s' is not a trace id (32 hex digits)\n",
                 trace_id_hex.c_str());
    return 2;
  }
  auto reader = OpenStore(o);
  if (!reader.ok()) return Fail(o, reader.status());
  auto spans = (*reader)->GetTrace(trace_id);
  if (!spans.ok()) return Fail(o, spans.status());
  store::LogFilter lf;
  lf.trace_id = trace_id;
  lf.limit = 10000;
  auto logs = (*reader)->Logs(lf);
  if (!logs.ok()) return Fail(o, logs.status());

  // The tree: children by parent id, in start order (GetTrace sorts by start).
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < spans->size(); ++i) by_id.emplace((*spans)[i].span.span_id, i);
  std::map<std::string, std::vector<size_t>> children;
  std::vector<size_t> roots;
  std::vector<bool> orphan(spans->size(), false);
  for (size_t i = 0; i < spans->size(); ++i) {
    const store::SpanInfo& s = (*spans)[i].span;
    if (s.parent_span_id.empty() || s.parent_span_id == s.span_id) {
      roots.push_back(i);
    } else if (by_id.count(s.parent_span_id) == 0) {
      roots.push_back(i);
      orphan[i] = true;
    } else {
      children[s.parent_span_id].push_back(i);
    }
  }
  std::map<std::string, std::vector<const StoredLog*>> logs_by_span;
  std::vector<const StoredLog*> loose_logs;
  for (const StoredLog& l : *logs) {
    if (!l.log.span_id.empty() && by_id.count(l.log.span_id)) {
      logs_by_span[l.log.span_id].push_back(&l);
    } else {
      loose_logs.push_back(&l);
    }
  }
  int64_t t0 = INT64_MAX, t1 = 0;
  int64_t errors = 0;
  for (const StoredSpan& s : *spans) {
    t0 = std::min<int64_t>(t0, static_cast<int64_t>(s.span.start_time_unix_nano));
    t1 = std::max<int64_t>(t1, static_cast<int64_t>(s.span.end_time_unix_nano));
    errors += s.span.status_code == 2;
  }
  // Depth-first order, with cycles broken.
  std::vector<std::pair<size_t, int>> order;
  std::vector<bool> seen(spans->size(), false);
  std::vector<std::pair<size_t, int>> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0});
  while (!stack.empty()) {
    auto [i, depth] = stack.back();
    stack.pop_back();
    if (seen[i]) continue;
    seen[i] = true;
    order.push_back({i, depth});
    const auto& kids = children[(*spans)[i].span.span_id];
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back({*it, depth + 1});
  }
  for (size_t i = 0; i < spans->size(); ++i) {  // spans only reachable through a cycle
    if (!seen[i]) {
      orphan[i] = true;
      order.push_back({i, 0});
    }
  }

  const Paint paint{o.color};
  if (o.json) {
    std::string out =
        absl::StrCat("{\"trace_id\":", Json(trace_id_hex), ",\"start_unix_nano\":", Nanos(t0),
                     ",\"duration_ns\":", t1 - t0, ",\"spans\":[");
    bool first = true;
    for (auto [i, depth] : order) {
      const StoredSpan& ss = (*spans)[i];
      const store::SpanInfo& s = ss.span;
      absl::StrAppend(&out, first ? "\n " : ",\n ", "{\"span_id\":", Json(store::ToHex(s.span_id)),
                      ",\"parent_span_id\":", Json(store::ToHex(s.parent_span_id)),
                      ",\"depth\":", depth, ",\"orphan\":", orphan[i] ? "true" : "false",
                      ",\"service\":", Json(ss.service), ",\"scope\":", Json(ss.scope_name),
                      ",\"name\":", Json(s.name), ",\"kind\":", Json(store::SpanKindName(s.kind)),
                      ",\"start_unix_nano\":", Nanos(s.start_time_unix_nano),
                      ",\"duration_ns\":", s.end_time_unix_nano - s.start_time_unix_nano,
                      ",\"status\":",
                      Json(s.status_code == 2   ? "error"
                           : s.status_code == 1 ? "ok"
                                                : "unset"),
                      ",\"status_message\":", Json(s.status_message),
                      ",\"attributes\":", JsonAttrs(s.attributes), ",\"events\":[");
      first = false;
      for (size_t e = 0; e < s.events.size(); ++e) {
        absl::StrAppend(&out, e ? "," : "", "{\"name\":", Json(s.events[e].name),
                        ",\"time_unix_nano\":", Nanos(s.events[e].time_unix_nano),
                        ",\"attributes\":", JsonAttrs(s.events[e].attributes), "}");
      }
      absl::StrAppend(&out, "],\"links\":[");
      for (size_t k = 0; k < s.links.size(); ++k) {
        absl::StrAppend(&out, k ? "," : "",
                        "{\"trace_id\":", Json(store::ToHex(s.links[k].trace_id)),
                        ",\"span_id\":", Json(store::ToHex(s.links[k].span_id)), "}");
      }
      absl::StrAppend(&out, "],\"logs\":[");
      const auto& ls = logs_by_span[s.span_id];
      for (size_t k = 0; k < ls.size(); ++k) {
        absl::StrAppend(&out, k ? "," : "",
                        "{\"time_unix_nano\":", Nanos(ls[k]->log.time_unix_nano),
                        ",\"severity\":", Json(SeverityName(ls[k]->log.severity_number)),
                        ",\"body\":", Json(ls[k]->log.body), "}");
      }
      absl::StrAppend(&out, "]}");
    }
    absl::StrAppend(&out, "],\"logs_without_span\":[");
    for (size_t k = 0; k < loose_logs.size(); ++k) {
      absl::StrAppend(&out, k ? "," : "",
                      "{\"time_unix_nano\":", Nanos(loose_logs[k]->log.time_unix_nano),
                      ",\"severity\":", Json(SeverityName(loose_logs[k]->log.severity_number)),
                      ",\"body\":", Json(loose_logs[k]->log.body), "}");
    }
    std::fprintf(o.out, "%s]}\n", out.c_str());
    return 0;
  }

  std::fprintf(o.out, "trace %s  %zu spans  %s  %s%s\n", trace_id_hex.c_str(), spans->size(),
               Dur(t1 - t0).c_str(), When(t0).c_str(),
               errors > 0 ? paint("31", absl::StrCat("  ", errors, " ERROR")).c_str() : "");
  const std::string pad(kBarWidth + 2, ' ');
  for (auto [i, depth] : order) {
    const StoredSpan& ss = (*spans)[i];
    const store::SpanInfo& s = ss.span;
    const std::string indent(2 * depth, ' ');
    std::string line = absl::StrCat(
        Bar(t0, t1, s.start_time_unix_nano, s.end_time_unix_nano), " ", indent,
        paint("36", ss.service), " ", paint("1", s.name), " [", store::SpanKindName(s.kind), "] ",
        Dur(static_cast<int64_t>(s.end_time_unix_nano - s.start_time_unix_nano)));
    if (s.status_code == 2) {
      absl::StrAppend(&line, " ", paint("31", "ERROR"));
      if (!s.status_message.empty()) absl::StrAppend(&line, " \"", s.status_message, "\"");
    }
    for (const auto& [k, v] : s.attributes) {
      for (const char* key : kKeyAttributes) {
        if (k == key) absl::StrAppend(&line, " ", k, "=", v);
      }
    }
    if (orphan[i]) {
      absl::StrAppend(&line, " ",
                      paint("33", absl::StrCat("(orphan: parent ", store::ToHex(s.parent_span_id),
                                               " missing)")));
    }
    std::fprintf(o.out, "%s\n", line.c_str());
    for (const store::SpanEventInfo& e : s.events) {
      std::string ev = absl::StrCat(pad, indent, "  * ", e.name, " +",
                                    Dur(static_cast<int64_t>(e.time_unix_nano) -
                                        static_cast<int64_t>(s.start_time_unix_nano)));
      for (const auto& [k, v] : e.attributes) absl::StrAppend(&ev, " ", k, "=", v);
      std::fprintf(o.out, "%s\n", ev.c_str());
    }
    for (const StoredLog* l : logs_by_span[s.span_id]) {
      std::fprintf(o.out, "%s%s  > log %s %s\n", pad.c_str(), indent.c_str(),
                   SeverityName(l->log.severity_number), l->log.body.c_str());
    }
  }
  if (!loose_logs.empty()) {
    std::fprintf(o.out, "logs of the trace without a known span:\n");
    for (const StoredLog* l : loose_logs) {
      std::fprintf(o.out, "  > log %s %s\n", SeverityName(l->log.severity_number),
                   l->log.body.c_str());
    }
  }
  return 0;
}

int RunServicesQuery(const QueryOutput& o, int64_t since_ns) {
  auto reader = OpenStore(o);
  if (!reader.ok()) return Fail(o, reader.status());
  auto services = (*reader)->Services(since_ns);
  if (!services.ok()) return Fail(o, services.status());
  if (o.json) {
    std::string out = "[";
    for (size_t i = 0; i < services->size(); ++i) {
      const store::ServiceStats& s = (*services)[i];
      absl::StrAppend(&out, i ? ",\n " : "", "{\"service\":", Json(s.service),
                      ",\"spans\":", s.spans, ",\"errors\":", s.errors, ",\"p50_ns\":", s.p50_ns,
                      ",\"p99_ns\":", s.p99_ns, "}");
    }
    std::fprintf(o.out, "%s]\n", out.c_str());
    return 0;
  }
  std::fprintf(o.out, "%-30s %10s %8s %10s %10s\n", "SERVICE", "SPANS", "ERRORS", "P50", "P99");
  for (const store::ServiceStats& s : *services) {
    std::fprintf(o.out, "%-30s %10lld %7.1f%% %10s %10s\n", s.service.c_str(),
                 static_cast<long long>(s.spans), s.spans ? 100.0 * s.errors / s.spans : 0.0,
                 Dur(s.p50_ns).c_str(), Dur(s.p99_ns).c_str());
  }
  return 0;
}

int RunMetricsQuery(const QueryOutput& o, const std::string& name, const std::string& service,
                    int64_t points) {
  auto reader = OpenStore(o);
  if (!reader.ok()) return Fail(o, reader.status());
  auto series = (*reader)->Metrics(name, service, points);
  if (!series.ok()) return Fail(o, series.status());
  if (o.json) {
    std::string out = "[";
    for (size_t i = 0; i < series->size(); ++i) {
      const store::MetricSeries& m = (*series)[i];
      absl::StrAppend(&out, i ? ",\n " : "", "{\"name\":", Json(m.name), ",\"type\":", Json(m.type),
                      ",\"unit\":", Json(m.unit), ",\"service\":", Json(m.service),
                      ",\"points\":", m.point_count, ",\"recent\":[");
      for (size_t k = 0; k < m.recent.size(); ++k) {
        const store::PointInfo& p = m.recent[k];
        absl::StrAppend(&out, k ? "," : "", "{\"time_unix_nano\":", Nanos(p.time_unix_nano),
                        ",\"value\":", p.has_value ? absl::StrCat(p.value) : "null",
                        ",\"count\":", p.count, ",\"attributes\":", JsonAttrs(p.attributes), "}");
      }
      absl::StrAppend(&out, "]}");
    }
    std::fprintf(o.out, "%s]\n", out.c_str());
    return 0;
  }
  if (series->empty()) std::fprintf(o.out, "no metrics match\n");
  for (const store::MetricSeries& m : *series) {
    std::fprintf(o.out, "%s (%s%s%s) service=%s points=%lld\n", m.name.c_str(), m.type.c_str(),
                 m.unit.empty() ? "" : ", ", m.unit.c_str(), m.service.c_str(),
                 static_cast<long long>(m.point_count));
    for (const store::PointInfo& p : m.recent) {
      std::string line = absl::StrCat("  ", When(static_cast<int64_t>(p.time_unix_nano)), "  ");
      if (p.has_value) absl::StrAppend(&line, p.value);
      if (p.count > 0) absl::StrAppend(&line, " count=", p.count);
      for (const auto& [k, v] : p.attributes) absl::StrAppend(&line, " ", k, "=", v);
      std::fprintf(o.out, "%s\n", line.c_str());
    }
  }
  return 0;
}

int RunLogsQuery(const QueryOutput& o, const store::LogFilter& filter) {
  auto reader = OpenStore(o);
  if (!reader.ok()) return Fail(o, reader.status());
  auto logs = (*reader)->Logs(filter);
  if (!logs.ok()) return Fail(o, logs.status());
  const Paint paint{o.color};
  if (o.json) {
    std::string out = "[";
    for (size_t i = 0; i < logs->size(); ++i) {
      const StoredLog& l = (*logs)[i];
      absl::StrAppend(
          &out, i ? ",\n " : "", "{\"time_unix_nano\":", Nanos(l.log.time_unix_nano),
          ",\"service\":", Json(l.service), ",\"severity_number\":", l.log.severity_number,
          ",\"severity\":", Json(SeverityName(l.log.severity_number)),
          ",\"body\":", Json(l.log.body), ",\"trace_id\":", Json(store::ToHex(l.log.trace_id)),
          ",\"span_id\":", Json(store::ToHex(l.log.span_id)),
          ",\"attributes\":", JsonAttrs(l.log.attributes), "}");
    }
    std::fprintf(o.out, "%s]\n", out.c_str());
    return 0;
  }
  if (logs->empty()) std::fprintf(o.out, "no log records match\n");
  for (const StoredLog& l : *logs) {
    const char* sev = SeverityName(l.log.severity_number);
    const bool bad = l.log.severity_number >= 17;
    std::fprintf(
        o.out, "%s  %-5s  %s  %s%s\n", When(static_cast<int64_t>(l.log.time_unix_nano)).c_str(),
        bad ? paint("31", sev).c_str() : sev, l.service.c_str(), l.log.body.c_str(),
        l.log.trace_id.empty() ? ""
                               : absl::StrCat("  trace=", store::ToHex(l.log.trace_id)).c_str());
  }
  return 0;
}

}  // namespace tracewire::tools
