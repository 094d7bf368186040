// OtlpExporterOptions::FromEnv and Validate: the one place the exporter reads
// environment variables.

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/text.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire {
namespace {

absl::Status BadEnv(const std::string& var, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(var, ": '", value, "' ", why));
}

const char* SignalWord(ExportSignal s) {
  switch (s) {
    case ExportSignal::kTraces:
      return "TRACES";
    case ExportSignal::kMetrics:
      return "METRICS";
    case ExportSignal::kLogs:
      break;
  }
  return "LOGS";
}

}  // namespace

absl::StatusOr<OtlpExporterOptions> OtlpExporterOptions::FromEnv(ExportSignal signal) {
  return FromEnv(signal, [](const char* name) { return std::getenv(name); });
}

absl::StatusOr<OtlpExporterOptions> OtlpExporterOptions::FromEnv(
    ExportSignal signal, const std::function<const char*(const char*)>& getenv) {
  OtlpExporterOptions o;
  // Looks up the per-signal variable first, then the general one.
  auto lookup = [&](const std::string& suffix, std::string* var, std::string* value) {
    for (const std::string& name :
         {absl::StrCat("OTEL_EXPORTER_OTLP_", SignalWord(signal), "_", suffix),
          absl::StrCat("OTEL_EXPORTER_OTLP_", suffix)}) {
      const char* v = getenv(name.c_str());
      if (v != nullptr) {
        *var = name;
        *value = v;
        return true;
      }
    }
    return false;
  };
  std::string var, value;
  if (lookup("PROTOCOL", &var, &value)) {
    const std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
    if (v != "grpc" && v != "http/protobuf" && v != "http/json") {
      return BadEnv(var, value, "must be grpc, http/protobuf or http/json");
    }
    o.protocol = v;
  }
  const bool http = o.protocol != "grpc";
  if (http) o.endpoint = "http://localhost:4318";
  if (lookup("ENDPOINT", &var, &value)) {
    std::string e(absl::StripAsciiWhitespace(value));
    const size_t scheme = e.find("://");
    if (scheme != std::string::npos) {
      const std::string s = absl::AsciiStrToLower(e.substr(0, scheme));
      if (s != "http" && s != "https") {
        return BadEnv(var, value, "must use the http or https scheme");
      }
    }
    if (e.empty()) return BadEnv(var, value, "is empty");
    if (http && scheme == std::string::npos) {
      return BadEnv(var, value, "must be an http:// or https:// URL with OTLP/HTTP");
    }
    if (http && e.find(',') != std::string::npos) {
      return BadEnv(var, value, "must be one URL with OTLP/HTTP");
    }
    o.endpoint = e;
    // The specification: a per-signal endpoint is used as it is; the general
    // one is a base URL to which the transport appends v1/<signal>.
    o.endpoint_is_signal_url = http && var != "OTEL_EXPORTER_OTLP_ENDPOINT";
  }
  if (lookup("INSECURE", &var, &value)) {
    const std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
    if (v == "true") {
      o.insecure = true;
    } else if (v == "false") {
      o.insecure = false;
    } else {
      return BadEnv(var, value, "must be true or false");
    }
  }
  if (lookup("HEADERS", &var, &value)) {
    for (absl::string_view pair : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      const size_t eq = pair.find('=');
      if (eq == absl::string_view::npos) return BadEnv(var, value, "is not key=value,...");
      std::string key(absl::StripAsciiWhitespace(pair.substr(0, eq)));
      std::string raw(absl::StripAsciiWhitespace(pair.substr(eq + 1)));
      std::string decoded;
      if (key.empty()) return BadEnv(var, value, "has an empty header name");
      if (!common::PercentDecode(raw, &decoded)) {
        return BadEnv(var, value, "has a bad percent-encoding");
      }
      o.headers[absl::AsciiStrToLower(key)] = decoded;
    }
  }
  if (lookup("TIMEOUT", &var, &value)) {
    int64_t ms;
    if (!absl::SimpleAtoi(value, &ms) || ms <= 0) {
      return BadEnv(var, value, "is not a positive number of milliseconds");
    }
    o.timeout = absl::Milliseconds(ms);
  }
  if (lookup("COMPRESSION", &var, &value)) {
    const std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
    if (v != "gzip" && v != "none" && v != "deflate" && v != "zstd") {
      return BadEnv(var, value, "must be gzip, zstd (http protocols) or none");
    }
    o.compression = v;
  }
  if (lookup("CERTIFICATE", &var, &value)) o.ca_file = value;
  if (lookup("CLIENT_CERTIFICATE", &var, &value)) o.client_cert_file = value;
  if (lookup("CLIENT_KEY", &var, &value)) o.client_key_file = value;
  if (const char* t = getenv("OTLP_AUTH_TOKEN")) o.bearer_token = t;
  if (const char* k = getenv("OTLP_API_KEY")) o.api_key = k;
  absl::Status st = o.Validate();
  if (!st.ok()) return st;
  return o;
}

absl::Status OtlpExporterOptions::Validate() const {
  auto bad = [](const std::string& opt, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("exporter option ", opt, ": ", why));
  };
  if (endpoint.empty()) return bad("endpoint", "is empty");
  if (protocol != "grpc" && protocol != "http/protobuf" && protocol != "http/json") {
    return bad("protocol",
               absl::StrCat("'", protocol, "' is not grpc, http/protobuf or http/json"));
  }
  if (timeout <= absl::ZeroDuration()) return bad("timeout", "must be positive");
  if (compression != "none" && compression != "gzip" && compression != "deflate" &&
      compression != "zstd") {
    return bad("compression",
               absl::StrCat("'", compression, "' is not none, gzip, deflate or zstd"));
  }
  if (compression == "zstd" && protocol == "grpc") {
    return bad("compression", "zstd needs an http protocol (gRPC 1.51 cannot negotiate it)");
  }
  if (client_cert_file.empty() != client_key_file.empty()) {
    return bad("client_cert_file", "client certificate and key go together");
  }
  if (tls_reload_interval < absl::ZeroDuration()) {
    return bad("tls_reload_interval", "must not be negative");
  }
  if (max_in_flight < 1) return bad("max_in_flight", "must be at least 1");
  if (max_queue_items < 1 || max_queue_bytes < 1) return bad("max_queue_*", "must be positive");
  if (max_request_bytes < 1024) return bad("max_request_bytes", "must be at least 1024");
  if (retry.initial_backoff <= absl::ZeroDuration() || retry.multiplier < 1.0 ||
      retry.max_backoff < retry.initial_backoff || retry.jitter < 0 || retry.jitter >= 1) {
    return bad("retry",
               "needs initial_backoff > 0, multiplier >= 1, max >= initial, "
               "0 <= jitter < 1");
  }
  if (breaker.consecutive_failures < 1 || breaker.half_open_probes < 1 ||
      breaker.failure_ratio <= 0 || breaker.failure_ratio > 1) {
    return bad("breaker",
               "needs consecutive_failures >= 1, half_open_probes >= 1, "
               "0 < failure_ratio <= 1");
  }
  for (const auto& [k, v] : headers) {
    if (k.empty() || absl::AsciiStrToLower(k) != k) {
      return bad("headers", absl::StrCat("'", k, "' must be a lowercase metadata key"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tracewire
