#include "exporter/tls_material.h"

#include <atomic>
#include <cstddef>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/text.h"

// gRPC's TSI layer (src/core/tsi/ssl_transport_security.h): exported by
// libgrpc, declared in no public header (like grpc_prefork in
// grpc_transport.cc). Building a handshaker factory is exactly what gRPC does
// with new material, so a factory that builds here builds there. The return
// value is TSI's tsi_result, an int-sized enum whose TSI_OK is 0.
struct tsi_ssl_pem_key_cert_pair {
  const char* private_key;
  const char* cert_chain;
};
struct tsi_ssl_server_handshaker_factory;
struct tsi_ssl_client_handshaker_factory;
int tsi_create_ssl_server_handshaker_factory(const tsi_ssl_pem_key_cert_pair* pem_key_cert_pairs,
                                             size_t num_key_cert_pairs,
                                             const char* pem_client_root_certs,
                                             int force_client_auth, const char* cipher_suites,
                                             const char** alpn_protocols,
                                             uint16_t num_alpn_protocols,
                                             tsi_ssl_server_handshaker_factory** factory);
void tsi_ssl_server_handshaker_factory_unref(tsi_ssl_server_handshaker_factory* factory);
int tsi_create_ssl_client_handshaker_factory(const tsi_ssl_pem_key_cert_pair* pem_key_cert_pair,
                                             const char* pem_root_certs, const char* cipher_suites,
                                             const char** alpn_protocols,
                                             uint16_t num_alpn_protocols,
                                             tsi_ssl_client_handshaker_factory** factory);
void tsi_ssl_client_handshaker_factory_unref(tsi_ssl_client_handshaker_factory* factory);

namespace tracewire::exporter {
namespace {

constexpr int kTsiOk = 0;

// Process-wide count of reload requests (RequestTlsReload). Relaxed: it
// orders nothing; a reader only compares it with the value it saw before.
std::atomic<uint64_t> g_reload_requests{0};

// Whether a server handshaker factory builds from this pair (a null key
// checks the chain alone).
bool ServerFactoryBuilds(const char* chain, const char* key) {
  tsi_ssl_pem_key_cert_pair pair{key, chain};
  tsi_ssl_server_handshaker_factory* f = nullptr;
  const int r =
      tsi_create_ssl_server_handshaker_factory(&pair, 1, nullptr, 0, nullptr, nullptr, 0, &f);
  if (f != nullptr) tsi_ssl_server_handshaker_factory_unref(f);
  return r == kTsiOk && f != nullptr;
}

bool ClientFactoryBuilds(const char* roots) {
  tsi_ssl_client_handshaker_factory* f = nullptr;
  const int r = tsi_create_ssl_client_handshaker_factory(nullptr, roots, nullptr, nullptr, 0, &f);
  if (f != nullptr) tsi_ssl_client_handshaker_factory_unref(f);
  return r == kTsiOk && f != nullptr;
}

}  // namespace

uint64_t TlsMaterial::Fingerprint() const {
  const std::hash<std::string> h;
  uint64_t x = h(cert_chain);
  x = x * 1000003u ^ h(private_key);
  x = x * 1000003u ^ h(ca);
  return x;
}

absl::StatusOr<TlsMaterial> ReadTlsMaterial(const TlsFiles& f) {
  TlsMaterial m;
  if (f.cert_file.empty() != f.key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(f.cert_name, " and ", f.key_name, " must be given together"));
  }
  absl::Status st;
  if (!f.cert_file.empty()) {
    st = common::ReadWholeFile(f.cert_name, f.cert_file, &m.cert_chain);
    if (st.ok()) st = common::ReadWholeFile(f.key_name, f.key_file, &m.private_key);
  }
  if (st.ok() && !f.ca_file.empty()) st = common::ReadWholeFile(f.ca_name, f.ca_file, &m.ca);
  if (!st.ok()) return st;
  return m;
}

absl::Status CheckTlsMaterial(const TlsFiles& f, const TlsMaterial& m) {
  if (!f.cert_file.empty()) {
    if (!ServerFactoryBuilds(m.cert_chain.c_str(), nullptr)) {
      return absl::InvalidArgumentError(
          absl::StrCat(f.cert_name, ": '", f.cert_file, "' is not a PEM certificate chain"));
    }
    if (!ServerFactoryBuilds(m.cert_chain.c_str(), m.private_key.c_str())) {
      return absl::InvalidArgumentError(absl::StrCat(f.key_name, ": '", f.key_file,
                                                     "' is not a PEM private key, or not the key "
                                                     "of the certificate in '",
                                                     f.cert_file, "'"));
    }
  }
  if (!f.ca_file.empty() && !ClientFactoryBuilds(m.ca.c_str())) {
    return absl::InvalidArgumentError(
        absl::StrCat(f.ca_name, ": '", f.ca_file, "' has no PEM certificate"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& f) {
  absl::StatusOr<TlsMaterial> m = ReadTlsMaterial(f);
  if (!m.ok()) return m;
  absl::Status st = CheckTlsMaterial(f, *m);
  if (!st.ok()) return st;
  return m;
}

void RequestTlsReload() { g_reload_requests.fetch_add(1, std::memory_order_relaxed); }

uint64_t TlsReloadRequests() { return g_reload_requests.load(std::memory_order_relaxed); }

}  // namespace tracewire::exporter
