#pragma once
// HttpTransport sends Export requests with OTLP/HTTP: a POST of the encoded
// request (Content-Type application/x-protobuf, or application/json for
// http/json) to the signal's URL, with cpp-httplib's client. Compression
// "gzip" (or "deflate") compresses the body here (Content-Encoding), so the
// compressed size is always counted.
//
// Answers become the absl codes the engine's retry policy (retry_policy.h)
// already decides on, so that it behaves as the OTLP/HTTP specification
// asks:
//   2xx                 OK, partial_success read from the body
//   429, 502, 503, 504  UNAVAILABLE (retried), Retry-After as the delay
//   413                 RESOURCE_EXHAUSTED without a delay (split, or dropped)
//   400                 INVALID_ARGUMENT (dropped), google.rpc.Status message
//   401 / 403           UNAUTHENTICATED / PERMISSION_DENIED (dropped)
//   404                 NOT_FOUND (dropped); other 4xx FAILED_PRECONDITION,
//                       other 5xx INTERNAL (dropped)
//   no connection, timeout  UNAVAILABLE / DEADLINE_EXCEEDED (retried)
//
// Connections: a pool of keep-alive clients, one per concurrent call (at most
// max_in_flight are in use, as the engine's workers are). A call takes an
// idle client (or makes one), sends, and puts it back, so connections are
// reused across calls. Thread-safe.
//
// TLS: an https:// URL; ca_file verifies the server (empty: the system's
// roots), client_cert_file and client_key_file give mTLS. The files are read
// again every tls_reload_interval (or on RequestTlsReload): changed files
// that pass the checks make later calls use new clients; calls in flight
// finish on theirs.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exporter/fork_gate.h"
#include "exporter/tls_material.h"
#include "exporter/transport.h"
#include "tracewire/otlp_exporter_options.h"
#include "wire/otlp_signal.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace tracewire::exporter {

// The URL a signal's requests are POSTed to: `endpoint` itself when
// endpoint_is_signal_url, else endpoint + "v1/<signal>" (with one '/' between
// them), as the OTLP specification builds it from OTEL_EXPORTER_OTLP_ENDPOINT.
std::string HttpSignalUrl(const OtlpExporterOptions& options, wire::Signal signal);

// A URL split for the client: "http://host:port" (the scheme, host and port)
// and the path ("/" when none).
struct HttpUrl {
  std::string origin;
  std::string path;
  bool tls = false;
};
absl::StatusOr<HttpUrl> ParseHttpUrl(const std::string& url);

// The delay a Retry-After header value asks for: delay-seconds, or an
// HTTP-date (relative to `now`). nullopt when empty or unreadable.
std::optional<absl::Duration> ParseRetryAfter(const std::string& value, absl::Time now);

// The absl code for an HTTP status (see the table above).
absl::StatusCode HttpStatusToCode(int http_status);

class HttpTransport : public Transport {
 public:
  // Checks the endpoint and the TLS files. InvalidArgument naming the option.
  static absl::StatusOr<std::unique_ptr<HttpTransport>> Create(const OtlpExporterOptions& options);
  ~HttpTransport() override;

  SendResult Send(wire::Signal signal, const std::string& request, absl::Time deadline) override;
  void CancelAll() override;
  // No call starts between PrepareFork and AfterForkParent; PrepareFork waits
  // for the calls in flight.
  void PrepareFork() override;
  void AfterForkParent() override;

  int64_t tls_reloads() const override { return tls_reloads_.load(std::memory_order_relaxed); }
  int64_t tls_reload_failures() const override {
    return tls_reload_failures_.load(std::memory_order_relaxed);
  }
  // Connections made so far (clients built): for tests of keep-alive.
  int64_t clients_created() const { return clients_created_.load(std::memory_order_relaxed); }

 private:
  struct PooledClient;
  HttpTransport(const OtlpExporterOptions& options, HttpUrl base, TlsMaterial tls);

  std::unique_ptr<PooledClient> Take() ABSL_LOCKS_EXCLUDED(mu_);
  void Return(std::unique_ptr<PooledClient> client) ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the TLS files again when due; a change bumps generation_.
  void MaybeReloadTls();

  const OtlpExporterOptions options_;
  const HttpUrl base_;  // origin, and the path of endpoint_is_signal_url
  const TlsFiles tls_files_;
  const bool json_;
  const std::string content_type_;
  std::string urls_[wire::kSignalCount];   // each signal's URL (for messages)
  std::string paths_[wire::kSignalCount];  // and the path it is POSTed to

  absl::Mutex mu_;
  std::vector<std::unique_ptr<PooledClient>> idle_ ABSL_GUARDED_BY(mu_);
  std::vector<PooledClient*> busy_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // TLS material version
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_tls_check_ ABSL_GUARDED_BY(mu_);
  uint64_t seen_reload_requests_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  TlsMaterial tls_ ABSL_GUARDED_BY(reload_mu_);
  std::string last_tls_error_ ABSL_GUARDED_BY(reload_mu_);

  std::atomic<int64_t> tls_reloads_{0}, tls_reload_failures_{0}, clients_created_{0};
  ForkGate fork_gate_;  // calls against fork() (PrepareFork, AfterForkParent)
};

}  // namespace tracewire::exporter
