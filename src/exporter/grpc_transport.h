#pragma once
// GrpcTransport sends Export requests as bytes with gRPC's generic stub over
// a channel shared by every exporter with the same endpoint and credentials
// (ChannelPool), with per-attempt deadline, headers, credentials and
// compression. Thread-safe.
//
// Certificate rotation: with TLS files (ca_file, client_cert_file), a call
// first reads them again when tls_reload_interval has passed or
// RequestTlsReload() was called (tls_material.h). Changed files that pass the
// checks get a new channel (from the pool, shared with every transport that
// has the same material); calls in flight finish on the old one, whose
// connections close when its last call ends. Bad files keep the current
// channel, and are logged once and counted (tls_reload_failures()).
//
// Each call runs on a completion queue that the calling thread drives, not on
// gRPC's callback threads: those do not run in a forked child, and a call
// made there must still complete.

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exporter/fork_gate.h"
#include "exporter/tls_material.h"
#include "exporter/transport.h"
#include "grpcpp/generic/generic_stub.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire::exporter {

// The gRPC target and whether it needs TLS, from an endpoint option:
// "http://h:p" plaintext, "https://h:p" TLS, "h:p" TLS unless insecure;
// several comma-separated IP endpoints become one round-robin target.
struct ParsedEndpoint {
  std::string target;
  bool tls = false;
  bool scheme = false;  // the endpoint said http:// or https://
};
absl::StatusOr<ParsedEndpoint> ParseEndpoint(const std::string& endpoint, bool insecure);

// Channels shared per endpoint and credentials. Thread-safe. A forked child
// starts with an empty Default() pool: the parent's channels (and their
// connections) are the parent's.
class ChannelPool {
 public:
  static ChannelPool& Default();
  // Reads (and checks) the TLS files of `options` itself.
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> Get(const OtlpExporterOptions& options);
  // With TLS material already loaded (LoadTlsMaterial): channels are shared
  // per endpoint, options and material, so a rotated certificate gets a new
  // channel. `tls` is ignored for a plaintext endpoint.
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> Get(const OtlpExporterOptions& options,
                                                       const TlsMaterial& tls);

 private:
  absl::Mutex mu_;
  std::map<std::string, std::weak_ptr<::grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

class GrpcTransport : public Transport {
 public:
  // Builds (or shares) the channel; fails on unreadable or bad TLS files or
  // a bad endpoint. `pool` (default: ChannelPool::Default()) must outlive the
  // transport.
  static absl::StatusOr<std::unique_ptr<GrpcTransport>> Create(const OtlpExporterOptions& options,
                                                               ChannelPool* pool = nullptr);
  ~GrpcTransport() override;

  SendResult Send(wire::Signal signal, const std::string& request, absl::Time deadline) override;
  // Any unary method with raw bytes; `response` receives the reply on OK.
  SendResult Call(const std::string& method, const std::string& request, absl::Time deadline,
                  std::string* response);
  void CancelAll() override;
  void PrepareFork() override;
  void AfterForkParent() override;

  // The current channel (it changes when rotated TLS files are reloaded).
  std::shared_ptr<::grpc::Channel> channel() const;

  // Reads the TLS files now: changed and good, later calls use a channel
  // built from them; bad, the current channel stays, and the error is
  // returned (and logged once, and counted). OK when unchanged or without
  // TLS files.
  [[nodiscard]] absl::Status ReloadTls();
  int64_t tls_reloads() const override { return tls_reloads_.load(std::memory_order_relaxed); }
  int64_t tls_reload_failures() const override {
    return tls_reload_failures_.load(std::memory_order_relaxed);
  }

 private:
  GrpcTransport(const OtlpExporterOptions& options, std::shared_ptr<::grpc::Channel> channel,
                ChannelPool* pool, TlsMaterial tls);
  // Whether a call is to read the TLS files first; moves the next check on.
  bool TlsCheckDueLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A failed call's status, with what the user can do about it where we
  // know: TLS to a peer that does not speak it because the endpoint had no
  // scheme.
  absl::Status Explain(const ::grpc::Status& status) const;

  const OtlpExporterOptions options_;
  // TLS because the endpoint has no scheme (the OTLP specification's
  // default), not because it said https://: how to ask for plaintext, else "".
  std::string implicit_tls_hint_;
  ChannelPool* const pool_;
  const TlsFiles tls_files_;  // empty(): nothing to reload
  mutable absl::Mutex mu_;
  std::shared_ptr<::grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<::grpc::GenericStub> stub_ ABSL_GUARDED_BY(mu_);
  absl::Time next_tls_check_ ABSL_GUARDED_BY(mu_);
  uint64_t seen_reload_requests_ ABSL_GUARDED_BY(mu_) = 0;
  // Serializes reloads; held across the file reads, never by a call's path
  // otherwise.
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  TlsMaterial tls_ ABSL_GUARDED_BY(reload_mu_);
  std::string last_tls_error_ ABSL_GUARDED_BY(reload_mu_);  // logged once
  std::atomic<int64_t> tls_reloads_{0};                     // counters: relaxed
  std::atomic<int64_t> tls_reload_failures_{0};
  std::set<::grpc::ClientContext*> active_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  ForkGate fork_gate_;  // calls against fork() (PrepareFork, AfterForkParent)
};

// Sets GRPC_ENABLE_FORK_SUPPORT=1 unless the variable is set already (to 0 to
// opt out), so that gRPC gives a forked child fresh polling state and
// threads, and runs gRPC's fork handlers from ours. Called before the first
// channel is built; gRPC reads the variable at its first use, so a process
// that used gRPC before sets the variable itself.
void EnableGrpcForkSupportByDefault();

// The size of `data` compressed as gRPC compresses a message (gzip or zlib).
int64_t CompressedSize(const std::string& data, bool gzip);

// Reads the RetryInfo delay from serialized google.rpc.Status details.
std::optional<absl::Duration> ParseRetryInfo(const std::string& status_details);
// Reads partial_success from a serialized Export*ServiceResponse.
void ParsePartialSuccess(const std::string& response, int64_t* rejected, std::string* message);

}  // namespace tracewire::exporter
