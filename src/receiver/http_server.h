#pragma once
// HttpServer: the small HTTP/1.1 server under OTLP/HTTP (http_receiver.h).
//
// Why not cpp-httplib's server: it reads a request body 4 KiB at a time with
// a poll() before every recv() (fixed when Debian built it), ~45 system call
// pairs for a 180 kB export request, a quarter of the receiver's CPU; and its
// stop() leaves idle kept-alive connections waiting out their timeout. This
// server reads the head into a buffer and the body straight into the
// request's string with large reads, and tracks its connections.
//
// What it does: persistent connections (HTTP/1.1 keep-alive; "Connection:
// close" and HTTP/1.0 honoured), Content-Length and chunked request bodies,
// "Expect: 100-continue", a body limit checked before the body is read (413;
// the body is read and dropped), TLS through HttpTls (http_tls.h), one
// write per answer with TCP_NODELAY. Bodies are handed over as they came:
// Content-Encoding is the handler's business.
//
// Threads: one accepting thread and `workers` threads; a worker serves one
// connection at a time for as long as it is kept alive, so the workers bound
// the connections served and the requests in flight; connections past them
// wait in a queue. Blocking I/O with per-socket timeouts (read_timeout_s);
// the wait for a kept-alive connection's next request is a poll() bounded
// by keep_alive_timeout_s.
//
// Invariants:
//  - Every accepted socket is in `open_` until its worker (or Shutdown)
//    closes it; Shutdown ends the waits of all of them (shutdown(SHUT_RD)),
//    so it returns once the requests in flight are answered.
//  - A request is handed to the handler whole: head parsed, body complete
//    and within max_body_bytes.
//
// Lifecycle: Start() binds (SO_REUSEADDR, never SO_REUSEPORT: one owner per
// port) and serves; Shutdown() stops accepting, lets the requests in flight
// be answered, closes every connection and joins the threads. Thread-safe.

#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace tracewire::receiver {

struct HttpRequest {
  std::string method;
  std::string path;                                          // the target without its query
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  // The first value of header `name` (lower case), "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  void Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // without brackets for IPv6
  int port = 0;                    // 0: a free port
  int workers = 32;
  int keep_alive_timeout_s = 5;
  int keep_alive_max_requests = 1000;
  int read_timeout_s = 30;  // a request's head or body, and an answer's write
  int64_t max_body_bytes = 64ll << 20;
  // Set: https, with a context this prepares (HttpTls::SetUpContext: the
  // protocol floor and the certificate hook); called once, at Start.
  std::function<bool(SSL_CTX&)> tls_setup;
};

class HttpServer {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpResponse*)>;
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. The error names the cause (errno's text).
  [[nodiscard]] absl::Status Start();
  int port() const { return port_; }
  void Shutdown();

 private:
  class Connection;
  void AcceptLoop();
  void WorkerLoop();
  void Serve(int fd);
  // Closes `fd` and forgets it.
  void Close(int fd);

  const HttpServerOptions options_;
  const Handler handler_;
  SSL_CTX* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};  // wakes the accepting thread at Shutdown
  int port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<int> pending_ ABSL_GUARDED_BY(mu_);  // accepted, not yet served
  std::set<int> open_ ABSL_GUARDED_BY(mu_);       // every accepted socket not closed
};

}  // namespace tracewire::receiver
