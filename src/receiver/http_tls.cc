#include "receiver/http_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>

#include "receiver/server_tls.h"

namespace tracewire::receiver {

struct HttpTls::Identity {
  X509* leaf = nullptr;
  STACK_OF(X509) * chain = nullptr;  // the certificates after the leaf
  EVP_PKEY* key = nullptr;
  X509_STORE* client_ca = nullptr;  // null: no client certificate asked
  STACK_OF(X509_NAME) * client_ca_names = nullptr;

  Identity() = default;
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;
  ~Identity() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_ca);
    sk_X509_NAME_pop_free(client_ca_names, X509_NAME_free);
  }
};

namespace {

// A read-only memory BIO over `pem`, freed with the guard.
struct PemBio {
  explicit PemBio(const std::string& pem)
      : bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))) {}
  ~PemBio() { BIO_free(bio); }
  BIO* bio;
};

// Null when the material cannot be turned into OpenSSL objects.
std::unique_ptr<HttpTls::Identity> Build(const exporter::TlsMaterial& m) {
  auto id = std::make_unique<HttpTls::Identity>();
  {
    PemBio in(m.cert_chain);
    if (in.bio == nullptr) return nullptr;
    id->leaf = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr);
    if (id->leaf == nullptr) return nullptr;
    id->chain = sk_X509_new_null();
    if (id->chain == nullptr) return nullptr;
    while (X509* c = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
      if (sk_X509_push(id->chain, c) == 0) {
        X509_free(c);
        return nullptr;
      }
    }
  }
  {
    PemBio in(m.private_key);
    if (in.bio == nullptr) return nullptr;
    id->key = PEM_read_bio_PrivateKey(in.bio, nullptr, nullptr, nullptr);
    if (id->key == nullptr) return nullptr;
  }
  if (!m.ca.empty()) {
    PemBio in(m.ca);
    id->client_ca = X509_STORE_new();
    id->client_ca_names = sk_X509_NAME_new_null();
    if (in.bio == nullptr || id->client_ca == nullptr || id->client_ca_names == nullptr) {
      return nullptr;
    }
    int n = 0;
    while (X509* c = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
      const bool ok = X509_STORE_add_cert(id->client_ca, c) == 1;
      X509_NAME* name = ok ? X509_NAME_dup(X509_get_subject_name(c)) : nullptr;
      X509_free(c);
      if (name == nullptr || sk_X509_NAME_push(id->client_ca_names, name) == 0) {
        X509_NAME_free(name);
        return nullptr;
      }
      ++n;
    }
    if (n == 0) return nullptr;
  }
  ERR_clear_error();  // the end of each PEM sequence leaves a "no start line"
  return id;
}

}  // namespace

bool HttpTls::SetUpContext(SSL_CTX& ctx) {
  if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1) return false;
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_client_hello_cb(&ctx, &HttpTls::OnClientHello, this);
  return true;
}

std::shared_ptr<const HttpTls::Identity> HttpTls::Current() {
  std::shared_ptr<const exporter::TlsMaterial> m = tls_->material();
  absl::MutexLock lock(&mu_);
  if (m != built_from_) {
    identity_ = m ? std::shared_ptr<const Identity>(Build(*m)) : nullptr;
    built_from_ = std::move(m);
  }
  return identity_;
}

int HttpTls::OnClientHello(SSL* ssl, int* alert, void* arg) {
  std::shared_ptr<const Identity> id = static_cast<HttpTls*>(arg)->Current();
  // SSL_use_* and SSL_set1_* take references of their own: the identity may
  // go with the next rotation while this connection lives on.
  if (id == nullptr || SSL_use_certificate(ssl, id->leaf) != 1 ||
      SSL_use_PrivateKey(ssl, id->key) != 1 || SSL_set1_chain(ssl, id->chain) != 1) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (id->client_ca != nullptr) {
    STACK_OF(X509_NAME)* names = SSL_dup_CA_list(id->client_ca_names);
    if (names == nullptr || SSL_set1_verify_cert_store(ssl, id->client_ca) != 1) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    SSL_set_client_CA_list(ssl, names);  // takes `names`
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace tracewire::receiver
