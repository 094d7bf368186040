#pragma once
// TLS material read from PEM files and checked before gRPC sees it: the
// certificate chain, its private key and a CA bundle. Certificate rotation on
// both sides (the receiver's server certificate and client CA, the
// exporter's client certificate and CA) reads files with LoadTlsMaterial and
// hands gRPC only what passed: gRPC 1.51 itself has no "keep the old one"
// when a new pair is bad (its TLS security connector frees its handshaker
// factory first and then fails to build the new one, and every handshake
// after that fails), so nothing unchecked may reach it.
//
// Thread-safe: pure functions over files, plus one process-wide counter of
// reload requests (RequestTlsReload, what SIGHUP does in tracewired).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tracewire::exporter {

// Which files, and the option names that errors are to mention.
struct TlsFiles {
  std::string cert_file;  // PEM certificate chain, leaf first; empty: no identity
  std::string key_file;   // PEM private key of the leaf; set together with cert_file
  std::string ca_file;    // PEM CA bundle; empty: none (the peer's default applies)
  std::string cert_name = "cert_file";
  std::string key_name = "key_file";
  std::string ca_name = "ca_file";

  bool empty() const { return cert_file.empty() && ca_file.empty(); }
};

struct TlsMaterial {
  std::string cert_chain;
  std::string private_key;
  std::string ca;

  bool operator==(const TlsMaterial&) const = default;
  // A digest of the three, to tell apart channels built from different
  // material (not secret-safe; never shown).
  uint64_t Fingerprint() const;
};

// Reads the files, unchecked. InvalidArgument naming the option and the file
// when one cannot be read.
absl::StatusOr<TlsMaterial> ReadTlsMaterial(const TlsFiles& files);
// Checks material with the TLS stack gRPC uses (its own OpenSSL-backed TSI
// layer): the chain has a certificate, the key is a private key matching the
// leaf, the CA bundle has at least one certificate. InvalidArgument naming
// the option and the file on the first problem.
absl::Status CheckTlsMaterial(const TlsFiles& files, const TlsMaterial& material);
// ReadTlsMaterial, then CheckTlsMaterial.
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files);

// Asks every reloading user of TLS files in the process (receivers and
// exporters) to read them again at its next chance, whatever its reload
// interval. tracewired calls it on SIGHUP.
void RequestTlsReload();
// How many times RequestTlsReload was called: a user compares it with the
// value it saw at its last reload.
uint64_t TlsReloadRequests();

}  // namespace tracewire::exporter
