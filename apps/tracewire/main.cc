// tracewire: the command-line companion of tracewired.
//
//   tracewire send --endpoint URL [--traces N] [--metrics N] [--logs N] [--gzip]
//                  [--header K=V]... [--ca F] [--client-cert F --client-key F]
//
// Sends synthetic telemetry of every kind, prints what it sent and what the
// server answered (incl. partial_success), and exits non-zero when an export
// fails.

#include <cstdio>
#include <fstream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

namespace {

namespace ct = ::opentelemetry::proto::collector::trace::v1;
namespace cm = ::opentelemetry::proto::collector::metrics::v1;
namespace cl = ::opentelemetry::proto::collector::logs::v1;
using tracewire::tools::CallResult;

struct SendFlags {
  std::string endpoint = "http://127.0.0.1:4317";
  int traces = 0, metrics = 0, logs = 0, invalid = 0, batch = 512;
  bool gzip = false;
  std::vector<std::string> headers;
  std::string ca, client_cert, client_key;
  double timeout_s = 10;
};

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Parses the partial_success of any Export*ServiceResponse (same shape).
template <typename Resp>
std::string DescribeResponse(const std::string& bytes, int64_t (*rejected)(const Resp&)) {
  Resp r;
  if (!r.ParseFromString(bytes)) return "unparsable response";
  if (!r.has_partial_success()) return "OK";
  return "OK, partial_success rejected=" + std::to_string(rejected(r)) + " error_message=\"" +
         r.partial_success().error_message() + "\"";
}

int Send(const SendFlags& f) {
  std::string target = f.endpoint;
  bool tls = !f.ca.empty() || !f.client_cert.empty();
  if (target.rfind("https://", 0) == 0) {
    tls = true;
    target = target.substr(8);
  } else if (target.rfind("http://", 0) == 0) {
    target = target.substr(7);
  }
  while (!target.empty() && target.back() == '/') target.pop_back();

  std::shared_ptr<::grpc::ChannelCredentials> creds;
  if (tls) {
    ::grpc::SslCredentialsOptions ssl;
    if (!f.ca.empty() && !ReadFile(f.ca, &ssl.pem_root_certs)) {
      std::fprintf(stderr, "tracewire: --ca: cannot read %s\n", f.ca.c_str());
      return 2;
    }
    if (!f.client_cert.empty() && (!ReadFile(f.client_cert, &ssl.pem_cert_chain) ||
                                   !ReadFile(f.client_key, &ssl.pem_private_key))) {
      std::fprintf(stderr, "tracewire: cannot read --client-cert / --client-key\n");
      return 2;
    }
    creds = ::grpc::SslCredentials(ssl);
  } else {
    creds = ::grpc::InsecureChannelCredentials();
  }
  std::vector<std::pair<std::string, std::string>> md;
  for (const auto& h : f.headers) {
    const size_t eq = h.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "tracewire: --header '%s' is not KEY=VALUE\n", h.c_str());
      return 2;
    }
    std::string key = h.substr(0, eq);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    md.emplace_back(key, h.substr(eq + 1));
  }
  tracewire::tools::GenericCaller caller(::grpc::CreateChannel(target, creds));

  int failures = 0, requests = 0;
  int64_t sent_items = 0, rejected_items = 0;
  auto run = [&](const char* signal, const char* item, int count, const char* method,
                 std::string (*make)(int, const tracewire::tools::SyntheticOptions&),
                 int64_t per_unit, auto describe) {
    int invalid_left = f.invalid;
    for (int done = 0, seq = 0; done < count; ++seq) {
      const int n = std::min(f.batch, count - done);
      tracewire::tools::SyntheticOptions o;
      o.seed = 1000 + seq;
      o.invalid_items = std::min(invalid_left, n);
      invalid_left -= o.invalid_items;
      const std::string req = make(n, o);
      ::grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000)));
      if (f.gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
      for (const auto& [k, v] : md) ctx.AddMetadata(k, v);
      CallResult r = caller.Call(&ctx, method, req);
      ++requests;
      const int64_t items = n * per_unit;
      sent_items += items;
      if (r.status.ok()) {
        std::string d = describe(r.response, &rejected_items);
        std::printf("%s: sent %lld %s in %zu bytes%s: %s\n", signal,
                    static_cast<long long>(items), item, req.size(), f.gzip ? " (gzip)" : "",
                    d.c_str());
      } else {
        ++failures;
        std::printf("%s: sent %lld %s in %zu bytes: FAILED %d (%s)\n", signal,
                    static_cast<long long>(items), item, req.size(),
                    static_cast<int>(r.status.error_code()), r.status.error_message().c_str());
      }
      done += n;
    }
  };
  run("traces", "spans", f.traces, tracewire::tools::kTraceExportMethod,
      &tracewire::tools::MakeTracesRequest, 1, [](const std::string& b, int64_t* rej) {
        ct::ExportTraceServiceResponse r;
        r.ParseFromString(b);
        *rej += r.partial_success().rejected_spans();
        return DescribeResponse<ct::ExportTraceServiceResponse>(
            b, [](const ct::ExportTraceServiceResponse& x) {
              return static_cast<int64_t>(x.partial_success().rejected_spans());
            });
      });
  run("metrics", "data points", f.metrics, tracewire::tools::kMetricsExportMethod,
      &tracewire::tools::MakeMetricsRequest, tracewire::tools::DataPointsPerMetric(),
      [](const std::string& b, int64_t* rej) {
        cm::ExportMetricsServiceResponse r;
        r.ParseFromString(b);
        *rej += r.partial_success().rejected_data_points();
        return DescribeResponse<cm::ExportMetricsServiceResponse>(
            b, [](const cm::ExportMetricsServiceResponse& x) {
              return static_cast<int64_t>(x.partial_success().rejected_data_points());
            });
      });
  run("logs", "log records", f.logs, tracewire::tools::kLogsExportMethod,
      &tracewire::tools::MakeLogsRequest, 1, [](const std::string& b, int64_t* rej) {
        cl::ExportLogsServiceResponse r;
        r.ParseFromString(b);
        *rej += r.partial_success().rejected_log_records();
        return DescribeResponse<cl::ExportLogsServiceResponse>(
            b, [](const cl::ExportLogsServiceResponse& x) {
              return static_cast<int64_t>(x.partial_success().rejected_log_records());
            });
      });
  std::printf("sent requests=%d failed=%d items=%lld rejected=%lld\n", requests, failures,
              static_cast<long long>(sent_items), static_cast<long long>(rejected_items));
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tracewire: send OTLP telemetry to a receiver"};
  app.require_subcommand(1);
  SendFlags f;
  CLI::App* send = app.add_subcommand("send", "send synthetic telemetry of every kind");
  send->add_option("--endpoint", f.endpoint, "http://HOST:PORT or https://HOST:PORT");
  send->add_option("--traces", f.traces, "spans to send");
  send->add_option("--metrics", f.metrics, "metrics to send (2 data points each)");
  send->add_option("--logs", f.logs, "log records to send");
  send->add_option("--invalid", f.invalid, "items per signal made invalid on purpose");
  send->add_option("--batch", f.batch, "items per request (default 512)");
  send->add_flag("--gzip", f.gzip, "compress requests with gzip");
  send->add_option("--header", f.headers, "extra metadata KEY=VALUE (repeatable)");
  send->add_option("--ca", f.ca, "CA certificate (PEM) to verify the server; implies TLS");
  send->add_option("--client-cert", f.client_cert, "client certificate (PEM) for mTLS");
  send->add_option("--client-key", f.client_key, "client private key (PEM) for mTLS");
  send->add_option("--timeout", f.timeout_s, "seconds per request (default 10)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (f.batch < 1) {
    std::fprintf(stderr, "tracewire: --batch must be at least 1\n");
    return 2;
  }
  if (f.client_cert.empty() != f.client_key.empty()) {
    std::fprintf(stderr, "tracewire: --client-cert and --client-key go together\n");
    return 2;
  }
  return Send(f);
}
