#pragma once
// HttpTls: the OTLP/HTTP listener's TLS, following the receiver's
// certificate rotation (server_tls.h) as the gRPC listener does.
//
// cpp-httplib serves every connection from one SSL_CTX that it builds once.
// Instead of a certificate in that context, HttpTls installs a ClientHello
// hook: each handshake takes the identity (key, certificate chain) and the
// client CA built from ServerTls's current material, so a rotation reaches
// the next handshake and connections already up keep their session.
//
// Invariants:
//  - Only material that ServerTls checked and published is used; an
//    identity is built once per material (compared by pointer) and shared
//    by the handshakes that use it.
//  - TLS 1.2 is the minimum, as on the gRPC listener.
//  - With a client CA, a client must present a certificate it signed (the
//    handshake fails otherwise); the CA list sent to clients is the same CA.
//  - If the current material cannot be turned into OpenSSL objects (it was
//    checked, so only by running out of memory), the handshake is refused
//    with an internal_error alert; the previous identity is not reused.
//
// Thread-safe: handshakes run on cpp-httplib's workers at once.

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "exporter/tls_material.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace tracewire::receiver {

class ServerTls;

class HttpTls {
 public:
  // `tls` must outlive every handshake (the listener).
  explicit HttpTls(const ServerTls* tls) : tls_(tls) {}
  HttpTls(const HttpTls&) = delete;
  HttpTls& operator=(const HttpTls&) = delete;

  // Prepares a context made by cpp-httplib (httplib::SSLServer's set-up
  // callback): protocol floor, options and the ClientHello hook.
  bool SetUpContext(SSL_CTX& ctx);

  struct Identity;  // OpenSSL objects built from one TlsMaterial

 private:
  static int OnClientHello(SSL* ssl, int* alert, void* arg);
  // The identity for ServerTls's current material (built at most once).
  std::shared_ptr<const Identity> Current();

  const ServerTls* const tls_;
  absl::Mutex mu_;
  std::shared_ptr<const exporter::TlsMaterial> built_from_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Identity> identity_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracewire::receiver
