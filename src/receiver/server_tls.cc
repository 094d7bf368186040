#include "receiver/server_tls.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace tracewire::receiver {
namespace {

constexpr char kIdentity[] = "identity.pem";
constexpr char kClientCa[] = "client_ca.pem";
// How often gRPC's provider reads the staging files (its unit is seconds).
constexpr unsigned kProviderRefreshSeconds = 1;

// A private directory for the staging files: in memory (/dev/shm) when
// there is one, else the system's temporary directory. mkdtemp makes it 0700.
absl::StatusOr<std::string> MakeStagingDir() {
  std::error_code ec;
  std::string base = "/dev/shm";
  if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0) {
    base = std::filesystem::temp_directory_path(ec).string();
    if (ec) base = "/tmp";
  }
  std::string tmpl = base + "/tracewired-tls-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("receiver.tls: cannot make a staging directory in ",
                                               base, ": ", std::strerror(errno)));
  }
  return tmpl;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Create(ServerTlsOptions options,
                                                             common::ReceiverMetrics* metrics) {
  if (options.reload_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("receiver.tls.reload_interval_s: must not be negative");
  }
  absl::StatusOr<std::string> dir = MakeStagingDir();
  if (!dir.ok()) return dir.status();
  std::unique_ptr<ServerTls> t(new ServerTls(std::move(options), metrics, std::move(*dir)));
  absl::StatusOr<exporter::TlsMaterial> m = exporter::LoadTlsMaterial(t->files_);
  if (!m.ok()) return m.status();
  {
    absl::MutexLock lock(&t->reload_mu_);
    absl::Status st = t->PublishAll(*m);
    if (!st.ok()) return st;
    t->current_ = std::move(*m);
    absl::MutexLock material_lock(&t->material_mu_);
    t->material_ = std::make_shared<const exporter::TlsMaterial>(t->current_);
  }
  // The key and the chain are both in identity.pem: gRPC reads the key's
  // PEM block from it as the key and the certificates as the chain.
  const std::string identity = t->dir_ + "/" + kIdentity;
  const std::string ca = t->options_.client_ca_file.empty() ? "" : t->dir_ + "/" + kClientCa;
  auto provider = std::make_shared<::grpc::experimental::FileWatcherCertificateProvider>(
      identity, identity, ca, kProviderRefreshSeconds);
  ::grpc::experimental::TlsServerCredentialsOptions o(provider);
  // No check after the handshake beyond what SslServerCredentials did: the
  // client's chain is verified against the client CA in the handshake
  // itself (REQUEST_AND_REQUIRE_..._AND_VERIFY). gRPC 1.51 calls the
  // verifier on every server handshake and sets none by default.
  o.set_certificate_verifier(std::make_shared<::grpc::experimental::NoOpCertificateVerifier>());
  o.watch_identity_key_cert_pairs();
  if (!ca.empty()) {
    o.watch_root_certs();
    o.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  t->credentials_ = ::grpc::experimental::TlsServerCredentials(o);
  if (!t->credentials_) return absl::InternalError("receiver.tls: gRPC built no credentials");
  return t;
}

ServerTls::ServerTls(ServerTlsOptions options, common::ReceiverMetrics* metrics, std::string dir)
    : options_(std::move(options)),
      files_{.cert_file = options_.cert_file,
             .key_file = options_.key_file,
             .ca_file = options_.client_ca_file,
             .cert_name = "receiver.tls.cert_file",
             .key_name = "receiver.tls.key_file",
             .ca_name = "receiver.tls.client_ca_file"},
      metrics_(metrics),
      dir_(std::move(dir)) {}

ServerTls::~ServerTls() {
  Shutdown();
  // The provider (and its thread reading the staging files) goes with the
  // last reference to the credentials: ours, once the server is gone.
  credentials_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void ServerTls::Start() {
  if (options_.reload_interval <= absl::ZeroDuration() || thread_.joinable()) return;
  thread_ = std::jthread([this] { Run(); });
}

void ServerTls::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ServerTls::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.reload_interval);
      if (stopping_) return;
    }
    // Counted and logged in Reload; the current credentials stay.
    Reload().IgnoreError();
  }
}

absl::Status ServerTls::Reload() {
  absl::MutexLock lock(&reload_mu_);
  absl::StatusOr<exporter::TlsMaterial> m = exporter::ReadTlsMaterial(files_);
  absl::Status st = m.status();
  if (st.ok() && *m == current_) {  // unchanged: nothing to check or publish
    last_error_.clear();
    return absl::OkStatus();
  }
  if (st.ok() && !last_bad_error_.ok() && *m == last_bad_) {
    st = last_bad_error_;  // checked before: the same answer
  } else if (st.ok()) {
    st = exporter::CheckTlsMaterial(files_, *m);
    if (!st.ok()) {
      last_bad_ = *m;
      last_bad_error_ = st;
    }
  }
  if (st.ok()) st = PublishAll(*m);
  if (!st.ok()) {
    metrics_->tls_reload_failures.fetch_add(1, std::memory_order_relaxed);
    std::string line(st.message());
    if (line != last_error_) {  // once per distinct problem, not per check
      std::fprintf(stderr,
                   "tracewired: TLS files not reloaded, the previous certificates stay in use: "
                   "%s\n",
                   line.c_str());
      last_error_ = std::move(line);
    }
    return st;
  }
  current_ = std::move(*m);
  {
    absl::MutexLock material_lock(&material_mu_);
    material_ = std::make_shared<const exporter::TlsMaterial>(current_);
  }
  last_error_.clear();
  metrics_->tls_reloads.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "tracewired: TLS files reloaded (%s)\n", options_.cert_file.c_str());
  return absl::OkStatus();
}

std::shared_ptr<const exporter::TlsMaterial> ServerTls::material() const {
  absl::MutexLock lock(&material_mu_);
  return material_;
}

absl::Status ServerTls::PublishAll(const exporter::TlsMaterial& m) {
  // The client CA first: a handshake between the two renames sees the new
  // CA with the old identity, both of them checked.
  if (!options_.client_ca_file.empty()) {
    absl::Status st = Publish(kClientCa, m.ca);
    if (!st.ok()) return st;
  }
  std::string identity = m.private_key;
  if (!identity.empty() && identity.back() != '\n') identity += '\n';
  identity += m.cert_chain;
  return Publish(kIdentity, identity);
}

absl::Status ServerTls::Publish(const std::string& name, const std::string& content) {
  const std::string path = dir_ + "/" + name;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("receiver.tls: cannot write '", tmp, "': ", std::strerror(errno)));
  }
  // Later than every earlier generation, even within the same second (see
  // the header: gRPC compares modification times in seconds).
  last_mtime_ = std::max<int64_t>(static_cast<int64_t>(std::time(nullptr)), last_mtime_ + 1);
  timespec times[2];
  times[0].tv_sec = last_mtime_;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  const bool ok = WriteAll(fd, content) && ::futimens(fd, times) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : write_errno;
    ::unlink(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("receiver.tls: cannot write '", path, "': ", std::strerror(e)));
  }
  return absl::OkStatus();
}

}  // namespace tracewire::receiver
