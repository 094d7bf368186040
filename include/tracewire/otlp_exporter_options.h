#pragma once
// Options of the OTLP/gRPC exporter, set in code or read from the standard
// OTEL_EXPORTER_OTLP_* environment variables (FromEnv). Defaults follow the
// OpenTelemetry specification and tracewire's seed documents.
//
// Thread safety: a plain value type: thread-compatible. The
// bearer_token_source callback, when set, is called from the exporter's own
// threads (before each attempt, possibly several at once) and must be
// thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracewire/export.h"
#include "tracewire/export_signal.h"
#include "tracewire/version.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

struct RetryOptions {
  bool enabled = true;
  absl::Duration initial_backoff = absl::Seconds(1);
  double multiplier = 2.0;
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration max_elapsed = absl::Minutes(5);  // all attempts of one request
  double jitter = 0.2;                            // each wait is backoff * (1 +- jitter), uniformly
};

struct CircuitBreakerOptions {
  bool enabled = true;
  int consecutive_failures = 5;  // failed exports (after retries) that open it
  int window_requests = 20;      // or: this many exports in the window ...
  double failure_ratio = 0.5;    // ... of which at least this share failed
  absl::Duration window = absl::Seconds(10);
  absl::Duration cool_down = absl::Seconds(30);  // open -> half-open
  int half_open_probes = 3;                      // successes in half-open that close it
  // While open, requests go to an on-disk spill buffer in this directory
  // (empty: no spill; they are dropped and counted).
  std::string spill_dir;
  int64_t spill_max_bytes = 256ll << 20;
  bool spill_fsync = false;  // fsync each spilled request
};

struct OtlpExporterOptions {
  // The OTLP transport: "grpc" (the default), "http/protobuf" or "http/json"
  // (OTLP/HTTP, POST with the request as binary protobuf or as OTLP/JSON).
  std::string protocol = "grpc";
  // gRPC: http://host:port (plaintext) or https://host:port (TLS); several
  // comma-separated endpoints, or a DNS name with several addresses, are
  // balanced round-robin.
  // OTLP/HTTP: one http:// or https:// URL (default port 4318). Unless
  // endpoint_is_signal_url, it is a base URL to which v1/traces, v1/metrics
  // or v1/logs is appended (as the specification does with
  // OTEL_EXPORTER_OTLP_ENDPOINT), so one set of options serves every signal.
  std::string endpoint = "http://localhost:4317";
  // OTLP/HTTP: POST to `endpoint` exactly as written (a per-signal
  // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); only for one signal's exporter.
  bool endpoint_is_signal_url = false;
  std::map<std::string, std::string> headers;  // extra metadata, keys lowercase
  absl::Duration timeout = absl::Seconds(10);  // per attempt
  // none | gzip | deflate | zstd (OTLP/HTTP: the Content-Encoding; the
  // specification names gzip only; zstd with an http protocol only)
  std::string compression = "none";
  // gRPC compresses inside the library and reports no compressed size; with
  // this set the exporter compresses each request a second time, the way
  // gRPC does (zlib, default level), to count the bytes after compression.
  // Costs CPU: off by default.
  bool count_compressed_bytes = false;

  // TLS: CA bundle to verify the server (empty: system roots), and a client
  // certificate and key for mTLS. `insecure` forces plaintext for a
  // scheme-less endpoint.
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  bool insecure = false;
  // Certificate rotation: how often an export reads these files again. When
  // they changed and pass the checks (a certificate and its key, CA
  // certificates), new connections use them; calls in flight finish on the
  // old ones; bad files keep the previous certificates. Zero: never on a
  // timer, only when the process asks (tracewired's SIGHUP).
  absl::Duration tls_reload_interval = absl::Seconds(60);

  // Credentials sent as `authorization: Bearer <token>` and `x-api-key`.
  std::string bearer_token;
  std::string api_key;
  // Called before each attempt when set; its result replaces bearer_token.
  std::function<std::string()> bearer_token_source;

  RetryOptions retry;
  CircuitBreakerOptions breaker;

  int max_in_flight = 4;                                // concurrent export requests
  int64_t max_queue_items = 65536;                      // items waiting to be sent
  int64_t max_queue_bytes = 64ll << 20;                 // bytes waiting to be sent
  absl::Duration block_on_full = absl::ZeroDuration();  // >0: Export waits this long
  int64_t max_request_bytes = 64ll << 20;               // larger batches are split before sending

  // Channel keepalive (seed 000 §6.1).
  absl::Duration keepalive_time = absl::Seconds(10);
  absl::Duration keepalive_timeout = absl::Seconds(3);
  bool keepalive_without_calls = true;

  std::string user_agent = "OTel-OTLP-Exporter-Cpp-tracewire/" TRACEWIRE_VERSION_STRING;

  // Reads OTEL_EXPORTER_OTLP_{PROTOCOL,ENDPOINT,HEADERS,TIMEOUT,COMPRESSION,
  // CERTIFICATE,CLIENT_KEY,CLIENT_CERTIFICATE,INSECURE} and the per-signal
  // forms (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, ...; the per-signal one wins),
  // plus OTLP_AUTH_TOKEN and OTLP_API_KEY, over these defaults. With an http
  // protocol, OTEL_EXPORTER_OTLP_ENDPOINT gets "v1/<signal>" appended (the
  // default becomes http://localhost:4318/v1/<signal>) and a per-signal
  // endpoint is taken as it is (endpoint_is_signal_url). A bad value is
  // InvalidArgument naming the variable and the value.
  static absl::StatusOr<OtlpExporterOptions> FromEnv(ExportSignal signal);
  // The same with a custom lookup (tests); `getenv` returns nullptr if unset.
  static absl::StatusOr<OtlpExporterOptions> FromEnv(
      ExportSignal signal, const std::function<const char*(const char*)>& getenv);

  // Checks ranges and combinations; names the option and the problem.
  [[nodiscard]] absl::Status Validate() const;
};

TRACEWIRE_END_API

}  // namespace tracewire
