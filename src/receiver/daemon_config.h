#pragma once
// DaemonConfig: everything tracewired is configured with, parsed from a YAML
// file (LoadDaemonConfigYaml) and then overridden by command-line flags.
// Validate() names the key and the problem of the first bad value.
//
// A plain value type: thread-compatible.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire::receiver {

struct DaemonConfig {
  // receiver
  std::string listen = "127.0.0.1:4317";
  int64_t max_request_mib = 64;  // the OTLP specification's recommendation
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;  // set: clients must present a certificate it signed
  // receiver.tls.reload_interval_s: how often the three files are read again
  // (certificate rotation; SIGHUP reads them at once). 0: only on SIGHUP.
  int64_t tls_reload_interval_s = 60;
  std::vector<std::string> bearer_tokens;
  std::vector<std::string> api_keys;
  int64_t retry_after_ms = 1000;  // RetryInfo delay sent with backpressure
  // Bytes of requests held in memory at once, in flight and queued across all
  // connections and sinks; above it new requests get UNAVAILABLE with
  // RetryInfo before they are inflated. 0: no limit.
  int64_t max_inflight_mib = 256;
  int64_t max_concurrent_streams = 100;  // per connection (HTTP/2 streams)
  // receiver.http.listen: OTLP/HTTP (http_receiver.h). Unset: the host of
  // `listen` with port 4318, or port 0 when `listen`'s port is 0 (a free
  // port for each). Empty: no OTLP/HTTP listener.
  std::optional<std::string> http_listen;
  // receiver.http.cors: origins allowed (globs) and extra request headers.
  std::vector<std::string> http_cors_allowed_origins;
  std::vector<std::string> http_cors_allowed_headers;
  // The address OTLP/HTTP is served on, "" for none (see http_listen).
  std::string HttpListen() const;

  // sink
  // One sink type, or several separated by commas ("store,forward"): each
  // sink gets every accepted request, through a queue of its own.
  std::string sink = "store";  // none | debug | file | forward | store

  int64_t queue_max_batches = 1024;  // memory queue only
  int64_t queue_max_mib = 256;       // memory queue, or the persistent queue's log
  // sink.queue.persistent: a write-ahead log on disk in front of each sink
  // (PersistentQueue). Unset: on for file, store and forward (the default
  // configuration keeps every acknowledged request across a SIGKILL), off for
  // debug; `none` has no queue.
  std::optional<bool> queue_persistent;
  // Empty: <sink.file.dir>/queue/file, <directory of sink.store.path>/queue/store,
  // ./tracewire-data/queue/forward (and /debug). Set: <dir>/<sink type>.
  std::string queue_dir;
  std::string queue_fsync = "batch";  // batch | interval | none
  int64_t queue_fsync_interval_ms = 1000;
  std::string file_dir = "./tracewire-data";
  int64_t file_rotate_mib = 256;    // 0: never rotate
  int64_t file_max_files = 0;       // rotated files kept per signal; 0: all
  std::string file_fsync = "none";  // none | batch | interval
  int64_t file_fsync_interval_ms = 1000;
  int64_t file_encoders = 0;  // OTLP/JSON encoder threads; 0: one per core

  // sink.store: the embedded SQLite store (src/store)
  std::string store_path = "./tracewire-data/tracewire.db";
  int64_t store_retention_hours = 72;  // 0: keep forever
  int64_t store_max_mib = 0;           // 0: no size limit
  std::vector<std::string> store_attribute_keys = {"http.route", "rpc.method", "error"};

  // sink.forward: the next hop of a gateway (the exporter's options)
  std::string forward_endpoint;
  // grpc | http/protobuf | http/json. With OTLP/HTTP, forward_endpoint is the
  // base URL: requests go to <endpoint>/v1/traces, /v1/metrics, /v1/logs.
  std::string forward_protocol = "grpc";
  std::map<std::string, std::string> forward_headers;
  std::string forward_compression = "none";
  int64_t forward_timeout_ms = 10000;
  std::string forward_ca_file;
  std::string forward_client_cert_file;
  std::string forward_client_key_file;
  int64_t forward_tls_reload_interval_s = 60;  // as tls_reload_interval_s, for the next hop
  std::string forward_bearer_token;
  std::string forward_api_key;
  int64_t forward_max_in_flight = 4;
  int64_t forward_retry_initial_ms = 1000;
  int64_t forward_retry_max_ms = 30000;
  int64_t forward_retry_max_elapsed_s = 300;
  bool forward_breaker_enabled = true;
  int64_t forward_breaker_failures = 5;
  int64_t forward_breaker_cool_down_s = 30;
  std::string forward_spill_dir;
  int64_t forward_spill_max_mib = 256;
  bool forward_spill_fsync = false;

  // telemetry
  std::string metrics_listen = "127.0.0.1:8888";  // empty: no metrics endpoint
  // telemetry.health_listen: GET /health alone, up before the sinks (so
  // "starting" is seen) and down last; empty: none (/health is also served
  // next to /metrics). The Collector's health_check uses port 13133.
  std::string health_listen;
  // The same counters over OTLP/gRPC (tracewired's SelfExport), to this
  // endpoint (e.g. http://127.0.0.1:4317, tracewired itself); empty: off.
  std::string telemetry_otlp_endpoint;
  int64_t telemetry_otlp_interval_ms = 10000;

  int64_t shutdown_timeout_s = 30;

  [[nodiscard]] absl::Status Validate() const;
  // The sink types of `sink`, split at commas and trimmed.
  std::vector<std::string> SinkTypes() const;
  bool HasSink(const std::string& type) const;
  // The exporter options of the forward sink.
  OtlpExporterOptions ForwardOptions() const;
  // Whether the sink of this type has a persistent queue, and its directory.
  bool QueuePersistent(const std::string& type) const;
  std::string QueueDir(const std::string& type) const;
};

// Parses YAML text. Unknown keys and values of the wrong type fail with the
// key's dotted path. Missing keys keep their defaults.
absl::StatusOr<DaemonConfig> ParseDaemonConfigYaml(const std::string& text);
// Reads and parses a file.
absl::StatusOr<DaemonConfig> LoadDaemonConfigFile(const std::string& path);
// Every key the parser accepts, as dotted paths ("sink.forward.tls.ca_file"),
// maps included: config/tracewired.example.yaml shows each one.
std::vector<std::string> DaemonConfigKeys();

// Splits "host:port" or "[v6]:port". Returns InvalidArgument naming `key`.
absl::Status SplitHostPort(const std::string& key, const std::string& value, std::string* host,
                           int* port);

}  // namespace tracewire::receiver
