#pragma once
// ServerTls: the receiver's TLS server credentials, following the
// certificate, key and client CA files as they are rotated, without a
// restart and without touching connections already established.
//
// How: Reload() (on a timer every `reload_interval`, and on demand: SIGHUP)
// reads the operator's files and checks them (LoadTlsMaterial: the key
// matches the certificate, the CA parses). Only then are they published, by
// rename, into a private staging directory that gRPC's
// FileWatcherCertificateProvider reads every second; gRPC builds a new
// handshaker factory from them for new handshakes, and connections already
// up keep the session they negotiated.
//
// Invariants:
//  - gRPC only ever reads checked material: the staging files change only by
//    rename of a complete, checked file. (gRPC 1.51 drops its working
//    factory before building a new one, so a bad pair there would fail every
//    handshake after it.)
//  - The key and its certificate chain are one staging file (identity.pem,
//    the key then the chain), so gRPC cannot read the key of one generation
//    with the chain of another. gRPC reads that file twice and compares its
//    modification time (seconds) around the reads, retrying on a change;
//    every published file therefore gets a modification time later than any
//    before it.
//  - Bad files (unreadable, not PEM, a key that is not the certificate's)
//    change nothing: the current credentials stay, the failure is counted
//    (tls_reload_failures) on every check and logged once per distinct
//    problem.
//  - The staging directory (mode 0700, files 0600; under /dev/shm when it
//    exists, so that the key copy stays in memory) is removed by the
//    destructor.
//  - TLS 1.2 is the minimum (gRPC's default for TLS credentials; tested).
//
// Thread-safe. Start() and Shutdown() from the owner's thread.

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/self_metrics.h"
#include "exporter/tls_material.h"

namespace grpc {
class ServerCredentials;
}  // namespace grpc

namespace tracewire::receiver {

struct ServerTlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set: clients must present a certificate it signed
  // How often the files are read again; zero: only on Reload().
  absl::Duration reload_interval = absl::Seconds(60);
};

class ServerTls {
 public:
  // Reads and checks the files and builds the credentials; an error names
  // the option (receiver.tls.*) and the file. `metrics` must outlive this.
  static absl::StatusOr<std::unique_ptr<ServerTls>> Create(ServerTlsOptions options,
                                                           common::ReceiverMetrics* metrics);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  std::shared_ptr<::grpc::ServerCredentials> credentials() const { return credentials_; }
  // The material in use now (checked; replaced, never changed, by a
  // reload): for listeners other than gRPC's (OTLP/HTTP) that build their
  // own TLS contexts from it. Compare pointers to see a rotation.
  std::shared_ptr<const exporter::TlsMaterial> material() const;

  // Starts the periodic check (if reload_interval > 0).
  void Start();
  // Stops it; idempotent.
  void Shutdown();

  // Reads the files now. Changed and good: published, and new handshakes use
  // them within a second. Unchanged: OK. Bad: the error (the current
  // credentials stay).
  [[nodiscard]] absl::Status Reload();

 private:
  ServerTls(ServerTlsOptions options, common::ReceiverMetrics* metrics, std::string dir);
  // Writes `content` to `name` in the staging directory by rename, with a
  // modification time later than any before.
  [[nodiscard]] absl::Status Publish(const std::string& name, const std::string& content)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  [[nodiscard]] absl::Status PublishAll(const exporter::TlsMaterial& m)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  void Run();

  const ServerTlsOptions options_;
  const exporter::TlsFiles files_;
  common::ReceiverMetrics* const metrics_;
  const std::string dir_;  // the staging directory
  std::shared_ptr<::grpc::ServerCredentials> credentials_;

  absl::Mutex reload_mu_;  // serializes reloads (the timer's and Reload()'s)
  exporter::TlsMaterial current_ ABSL_GUARDED_BY(reload_mu_);
  int64_t last_mtime_ ABSL_GUARDED_BY(reload_mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(reload_mu_);  // logged once
  // The material that failed the last check, and why: not checked again.
  exporter::TlsMaterial last_bad_ ABSL_GUARDED_BY(reload_mu_);
  absl::Status last_bad_error_ ABSL_GUARDED_BY(reload_mu_);

  mutable absl::Mutex material_mu_;  // a leaf lock
  std::shared_ptr<const exporter::TlsMaterial> material_ ABSL_GUARDED_BY(material_mu_);

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::jthread thread_;  // the periodic check; joined by Shutdown
};

}  // namespace tracewire::receiver
