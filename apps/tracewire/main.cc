// tracewire: the command-line companion of tracewired.
//
//   tracewire send [--endpoint URL] [--protocol grpc|http/protobuf|http/json]
//                  [--traces N] [--metrics N] [--logs N] [--gzip]
//                  [--header K=V]... [--timeout S] [--ca F] [--client-cert F --client-key F]
//                  [--rate N --duration S] [--seed N]
//
// Sends synthetic telemetry of every kind through tracewire's OTLP exporter
// (so every exporter option, and the OTEL_EXPORTER_OTLP_* variables, apply;
// flags win over the variables), prints what it sent and what came back
// (incl. partial_success; the exporter prints each rejection reason once),
// and ends with one line of sent, delivered, rejected, retried and dropped
// counts. Exits non-zero when items could not be delivered.
//
// Without counts it sends 10 of each signal. Each run has new random ids and
// the current time, so runs do not collide in a backend; --seed N makes the
// data repeatable (the same ids, and a fixed time: 2023-11-14).
//
//   tracewire traces   [--service S] [--name N] [--min-duration D] [--errors]
//                      [--since T] [--until T] [--attr K=V] [--limit N] [--sort duration|start]
//   tracewire trace ID
//   tracewire services [--since T]
//   tracewire metrics  [--name N] [--service S] [--points N]
//   tracewire logs     [--severity S] [--service S] [--trace ID] [--grep TEXT] [--since T]
//
// Query the store file tracewired's store sink writes (--store PATH, default
// ./tracewire-data/tracewire.db); human text (coloured on a terminal) or --json.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "exporter/grpc_log.h"
#include "tools/store_commands.h"
#include "tools/synthetic.h"
#include "tracewire/otlp_exporter.h"
#include "tracewire/version.h"

namespace {

using tracewire::ExporterStats;
using tracewire::ExportSignal;
using tracewire::OtlpExporter;
using tracewire::OtlpExporterOptions;

struct SendFlags {
  std::string endpoint;
  std::string protocol;  // empty: OTEL_EXPORTER_OTLP_PROTOCOL or grpc
  int traces = 0, metrics = 0, logs = 0, invalid = 0, batch = 512;
  bool gzip = false;
  std::vector<std::string> headers;
  std::string ca, client_cert, client_key;
  double timeout_s = 0;
  double rate = 0;       // items per second per signal; 0: as fast as possible
  double duration = 0;   // seconds of steady load (with --rate)
  double max_wait = 30;  // seconds to wait for delivery at the end
  bool seeded = false;   // --seed: repeatable ids and times
  uint64_t seed = 0;
};

// Sent when no count is given.
constexpr int kDefaultCount = 10;

struct SignalPlan {
  ExportSignal signal;
  const char* name;
  const char* item;
  int count;
  std::string (*make)(int, const tracewire::tools::SyntheticOptions&);
  int64_t items_per_unit;
  int64_t step_ns;  // the time between two items of a request
};

absl::StatusOr<OtlpExporterOptions> BuildOptions(ExportSignal s, const SendFlags& f) {
  absl::StatusOr<OtlpExporterOptions> o = OtlpExporterOptions::FromEnv(s);
  if (!o.ok()) return o.status();
  if (!f.protocol.empty()) {
    // The default endpoint follows the protocol (4317 for gRPC, 4318 for
    // OTLP/HTTP) unless the environment or --endpoint names one.
    const bool was_http = o->protocol != "grpc";
    o->protocol = f.protocol;
    const bool is_http = o->protocol != "grpc";
    if (was_http != is_http && f.endpoint.empty()) {
      if (o->endpoint == "http://localhost:4317" && is_http) o->endpoint = "http://localhost:4318";
      if (o->endpoint == "http://localhost:4318" && !is_http) o->endpoint = "http://localhost:4317";
      o->endpoint_is_signal_url = false;
    }
  }
  if (!f.endpoint.empty()) {
    o->endpoint = f.endpoint;
    o->endpoint_is_signal_url = false;  // a base URL: /v1/<signal> is appended over HTTP
  }
  if (f.gzip) o->compression = "gzip";
  if (f.timeout_s > 0) o->timeout = absl::Milliseconds(static_cast<int64_t>(f.timeout_s * 1000));
  if (!f.ca.empty()) o->ca_file = f.ca;
  if (!f.client_cert.empty()) {
    o->client_cert_file = f.client_cert;
    o->client_key_file = f.client_key;
  }
  if ((!f.ca.empty() || !f.client_cert.empty()) && o->endpoint.rfind("http://", 0) == 0) {
    o->endpoint = "https://" + o->endpoint.substr(7);  // TLS files imply TLS
  }
  for (const auto& h : f.headers) {
    const size_t eq = h.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError("--header '" + h + "' is not KEY=VALUE");
    }
    o->headers[absl::AsciiStrToLower(h.substr(0, eq))] = h.substr(eq + 1);
  }
  // A CLI waits for room rather than dropping its own data.
  o->block_on_full = absl::Seconds(30);
  if (absl::Status st = o->Validate(); !st.ok()) return st;
  return o;
}

int Send(const SendFlags& f) {
  const SignalPlan plans[] = {
      {ExportSignal::kTraces, "traces", "spans", f.traces, &tracewire::tools::MakeTracesRequest, 1,
       tracewire::tools::kSyntheticSpanStepNs},
      {ExportSignal::kMetrics, "metrics", "data points", f.metrics,
       &tracewire::tools::MakeMetricsRequest, tracewire::tools::DataPointsPerMetric(),
       tracewire::tools::kSyntheticMetricStepNs},
      {ExportSignal::kLogs, "logs", "log records", f.logs, &tracewire::tools::MakeLogsRequest, 1,
       tracewire::tools::kSyntheticLogStepNs},
  };
  // Fresh ids for each run unless --seed; each signal and batch its own.
  std::random_device random;
  uint64_t next_seed = f.seeded ? f.seed : (uint64_t{random()} << 32) | random();
  int64_t total_sent = 0, total_delivered = 0, total_retries = 0, total_dropped = 0,
          total_rejected = 0;
  bool failed = false;
  for (const SignalPlan& p : plans) {
    if (p.count <= 0) continue;
    absl::StatusOr<OtlpExporterOptions> o = BuildOptions(p.signal, f);
    if (!o.ok()) {
      std::fprintf(stderr, "tracewire: %s\n", std::string(o.status().message()).c_str());
      return 2;
    }
    absl::StatusOr<std::unique_ptr<OtlpExporter>> e = OtlpExporter::Create(p.signal, *o);
    if (!e.ok()) {
      std::fprintf(stderr, "tracewire: %s\n", std::string(e.status().message()).c_str());
      return 2;
    }
    int64_t sent = 0, requests = 0, bytes = 0;
    int invalid_left = f.invalid;
    auto send_some = [&](int n) {
      tracewire::tools::SyntheticOptions so;
      so.seed = next_seed++;
      if (!f.seeded) {
        // Now: the request's last item ends about now.
        so.base_time_unix_nano =
            static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()) - p.step_ns * n);
      }
      so.invalid_items = std::min(invalid_left, n);
      invalid_left -= so.invalid_items;
      std::string req = p.make(n, so);
      bytes += static_cast<int64_t>(req.size());
      ++requests;
      sent += n * p.items_per_unit;
      absl::Status st = (*e)->ExportEncoded(std::move(req));
      if (!st.ok()) std::fprintf(stderr, "tracewire: %s\n", std::string(st.message()).c_str());
    };
    if (f.rate > 0 && f.duration > 0) {
      // Steady load: a tick every 100 ms, bounded by --duration.
      const absl::Time start = absl::Now();
      const absl::Time end = start + absl::Milliseconds(static_cast<int64_t>(f.duration * 1000));
      double owed = 0;
      for (absl::Time tick = start; tick < end; tick += absl::Milliseconds(100)) {
        absl::SleepFor(tick - absl::Now());
        owed += f.rate / 10;
        while (owed >= 1) {
          const int n = static_cast<int>(std::min<double>(owed, f.batch));
          send_some(n);
          owed -= n;
        }
      }
    } else {
      for (int done = 0; done < p.count;) {
        const int n = std::min(f.batch, p.count - done);
        send_some(n);
        done += n;
      }
    }
    absl::Status st =
        (*e)->Shutdown(absl::Now() + absl::Milliseconds(static_cast<int64_t>(f.max_wait * 1000)));
    const ExporterStats s = (*e)->Stats();
    const int64_t rejected = s.dropped_items.at("rejected");
    const int64_t dropped = s.dropped_total() - rejected;
    std::printf("%s: sent %lld %s in %lld requests (%lld bytes%s) to %s: delivered %lld", p.name,
                static_cast<long long>(sent), p.item, static_cast<long long>(requests),
                static_cast<long long>(bytes), o->compression == "gzip" ? ", gzip" : "",
                o->endpoint.c_str(), static_cast<long long>(s.exported_items));
    if (rejected > 0 || !s.last_rejected_message.empty()) {
      // The reasons: the exporter printed each one once, as it came back.
      std::printf(", partial_success rejected=%lld", static_cast<long long>(rejected));
    }
    if (s.retries > 0) std::printf(", %lld retries", static_cast<long long>(s.retries));
    if (dropped > 0) {
      std::printf(", FAILED: %lld dropped (", static_cast<long long>(dropped));
      bool first = true;
      for (const auto& [reason, n] : s.dropped_items) {
        if (n == 0 || reason == "rejected") continue;
        std::printf("%s%s=%lld", first ? "" : " ", reason.c_str(), static_cast<long long>(n));
        first = false;
      }
      std::printf(")%s%s", s.last_error.empty() ? "" : ", last error ", s.last_error.c_str());
    }
    std::printf("\n");
    if (dropped > 0 || !st.ok()) failed = true;
    total_sent += sent;
    total_delivered += s.exported_items;
    total_retries += s.retries;
    total_dropped += dropped;
    total_rejected += rejected;
  }
  std::printf("sent=%lld delivered=%lld rejected=%lld retried=%lld dropped=%lld\n",
              static_cast<long long>(total_sent), static_cast<long long>(total_delivered),
              static_cast<long long>(total_rejected), static_cast<long long>(total_retries),
              static_cast<long long>(total_dropped));
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  tracewire::exporter::InstallGrpcLogSink("tracewire");
  CLI::App app{"tracewire: send OTLP telemetry to a receiver"};
  app.set_version_flag("--version", "tracewire " TRACEWIRE_VERSION_STRING);
  app.require_subcommand(1);
  SendFlags f;
  CLI::App* send = app.add_subcommand("send", "send synthetic telemetry of every kind");
  send->add_option("--endpoint", f.endpoint,
                   "http://HOST:PORT or https://HOST:PORT (default: OTEL_EXPORTER_OTLP_ENDPOINT "
                   "or http://localhost:4317)");
  send->add_option("--protocol", f.protocol,
                   "grpc | http/protobuf | http/json (default: OTEL_EXPORTER_OTLP_PROTOCOL, "
                   "else grpc)")
      ->check(CLI::IsMember({"grpc", "http/protobuf", "http/json"}));
  send->add_option("--traces", f.traces,
                   "spans to send (without --traces, --metrics or --logs: " +
                       std::to_string(kDefaultCount) + " of each signal)");
  send->add_option("--metrics", f.metrics, "metrics to send (2 data points each)");
  send->add_option("--logs", f.logs, "log records to send");
  send->add_option("--seed", f.seed,
                   "repeatable data: ids from this seed and a fixed time (default: new random "
                   "ids and the current time)");
  send->add_option("--timeout", f.timeout_s,
                   "seconds per attempt (default: OTEL_EXPORTER_OTLP_TIMEOUT or 10)");
  send->add_option("--header", f.headers, "extra metadata KEY=VALUE (repeatable)");
  // The options below show their defaults in --help.
  send->option_defaults()->always_capture_default();
  send->add_option("--invalid", f.invalid, "items per signal made invalid on purpose");
  send->add_option("--batch", f.batch, "items per request");
  send->add_flag("--gzip", f.gzip, "compress requests with gzip");
  send->add_option("--ca", f.ca, "CA certificate (PEM) to verify the server; implies TLS");
  send->add_option("--client-cert", f.client_cert, "client certificate (PEM) for mTLS");
  send->add_option("--client-key", f.client_key, "client private key (PEM) for mTLS");
  send->add_option("--rate", f.rate, "steady load: items per second per signal (0: at once)");
  send->add_option("--duration", f.duration, "steady load: seconds");
  send->add_option("--max-wait", f.max_wait, "seconds to wait at the end for delivery and retries");
  // The store queries.
  tracewire::tools::QueryOutput q;
  q.store_path = "./tracewire-data/tracewire.db";
  auto store_flags = [&q](CLI::App* c) {
    c->add_option("--store", q.store_path, "store file (default ./tracewire-data/tracewire.db)");
    c->add_flag("--json", q.json, "JSON output for scripts");
  };
  tracewire::store::TraceFilter tf;
  std::string min_duration, since, until, attr, sort = "start";
  CLI::App* traces = app.add_subcommand("traces", "recent traces from the store, one a line");
  store_flags(traces);
  traces->add_option("--service", tf.service, "with a span of this service");
  traces->add_option("--name", tf.name, "with a span of this name");
  traces->add_option("--min-duration", min_duration, "with a span at least this long (250ms)");
  traces->add_flag("--errors", tf.errors_only, "with a span whose status is ERROR");
  traces->add_option("--since", since, "spans starting after: 15m (ago) or RFC 3339");
  traces->add_option("--until", until, "spans starting before: 5m (ago) or RFC 3339");
  traces->add_option("--attr", attr, "with a span attribute KEY=VALUE (an indexed key)");
  traces->add_option("--limit", tf.limit, "at most this many traces (default 20)");
  traces->add_option("--sort", sort, "start (newest first) or duration (longest first)");
  std::string trace_id;
  CLI::App* trace = app.add_subcommand("trace", "one trace from the store, as a tree");
  store_flags(trace);
  trace->add_option("id", trace_id, "trace id (32 hex digits)")->required();
  std::string services_since = "1h";
  CLI::App* services = app.add_subcommand("services", "services with span counts, errors, p50/p99");
  store_flags(services);
  services->add_option("--since", services_since,
                       "window: 1h (ago, default), 0s for all, or RFC 3339");
  std::string metric_name, metric_service;
  int64_t metric_points = 5;
  CLI::App* metrics = app.add_subcommand("metrics", "metric series and recent points");
  store_flags(metrics);
  metrics->add_option("--name", metric_name, "metric name");
  metrics->add_option("--service", metric_service, "service name");
  metrics->add_option("--points", metric_points, "recent points per series (default 5)");
  tracewire::store::LogFilter lf;
  std::string severity, log_trace, log_since;
  CLI::App* logs = app.add_subcommand("logs", "log records from the store, newest first");
  store_flags(logs);
  logs->add_option("--severity", severity, "at least: trace|debug|info|warn|error|fatal or 1-24");
  logs->add_option("--service", lf.service, "service name");
  logs->add_option("--trace", log_trace, "trace id: the trace's records, oldest first");
  logs->add_option("--grep", lf.grep, "body contains this text");
  logs->add_option("--since", log_since, "records after: 15m (ago) or RFC 3339");
  logs->add_option("--limit", lf.limit, "at most this many records (default 100)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  q.color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr && !q.json;
  auto bad = [](const std::string& what) {
    std::fprintf(stderr, "tracewire: %s\n", what.c_str());
    return 2;
  };
  if (traces->parsed()) {
    if (!min_duration.empty() &&
        !tracewire::tools::ParseDurationFlag(min_duration, &tf.min_duration_ns)) {
      return bad("--min-duration '" + min_duration + "' is not a duration such as 250ms");
    }
    if (!since.empty() && !tracewire::tools::ParseTimeFlag(since, &tf.since_ns)) {
      return bad("--since '" + since + "' is not a duration (15m) or an RFC 3339 time");
    }
    if (!until.empty() && !tracewire::tools::ParseTimeFlag(until, &tf.until_ns)) {
      return bad("--until '" + until + "' is not a duration (15m) or an RFC 3339 time");
    }
    if (!attr.empty()) {
      const size_t eq = attr.find('=');
      if (eq == std::string::npos || eq == 0) return bad("--attr '" + attr + "' is not KEY=VALUE");
      tf.attr_key = attr.substr(0, eq);
      tf.attr_value = attr.substr(eq + 1);
    }
    if (sort != "start" && sort != "duration") return bad("--sort is start or duration");
    tf.sort_by_duration = sort == "duration";
    if (tf.limit < 1) return bad("--limit must be at least 1");
    return tracewire::tools::RunTracesQuery(q, tf);
  }
  if (trace->parsed()) return tracewire::tools::RunTraceQuery(q, trace_id);
  if (services->parsed()) {
    int64_t since_ns = 0;
    if (services_since != "0s" && services_since != "0" &&
        !tracewire::tools::ParseTimeFlag(services_since, &since_ns)) {
      return bad("--since '" + services_since + "' is not a duration (1h) or an RFC 3339 time");
    }
    return tracewire::tools::RunServicesQuery(q, since_ns);
  }
  if (metrics->parsed()) {
    return tracewire::tools::RunMetricsQuery(q, metric_name, metric_service, metric_points);
  }
  if (logs->parsed()) {
    if (!severity.empty() && !tracewire::tools::ParseSeverityFlag(severity, &lf.min_severity)) {
      return bad("--severity '" + severity + "' is not trace, debug, info, warn, error or fatal");
    }
    if (!log_trace.empty() &&
        (!tracewire::store::FromHex(log_trace, &lf.trace_id) || lf.trace_id.size() != 16)) {
      return bad("--trace '" + log_trace + "' is not a trace id (32 hex digits)");
    }
    if (!log_since.empty() && !tracewire::tools::ParseTimeFlag(log_since, &lf.since_ns)) {
      return bad("--since '" + log_since + "' is not a duration (15m) or an RFC 3339 time");
    }
    return tracewire::tools::RunLogsQuery(q, lf);
  }
  if (f.batch < 1) {
    std::fprintf(stderr, "tracewire: --batch must be at least 1\n");
    return 2;
  }
  if (f.client_cert.empty() != f.client_key.empty()) {
    std::fprintf(stderr, "tracewire: --client-cert and --client-key go together\n");
    return 2;
  }
  if ((f.rate > 0) != (f.duration > 0)) {
    std::fprintf(stderr, "tracewire: --rate and --duration go together\n");
    return 2;
  }
  f.seeded = send->count("--seed") > 0;
  const bool counted =
      send->count("--traces") + send->count("--metrics") + send->count("--logs") > 0;
  if (!counted) {
    if (f.rate > 0) {
      f.traces = 1;  // steady load of spans
    } else {
      f.traces = f.metrics = f.logs = kDefaultCount;
    }
  }
  return Send(f);
}
