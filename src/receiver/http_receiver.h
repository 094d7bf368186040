#pragma once
// HttpReceiver serves OTLP/HTTP: POST /v1/traces, /v1/metrics and /v1/logs
// with application/x-protobuf or application/json (OTLP/JSON, otlp_json.h)
// bodies, answered in the request's encoding. Content-Encoding gzip, deflate
// and zstd are inflated by the ExportHandler with max_request_bytes as the
// bound. On a listener of its own (the Collector's port 4318), served by our
// HttpServer (http_server.h: large reads, tracked connections). Every request goes
// through the same ExportHandler as OTLP/gRPC (export_handler.h):
// authentication (Authorization: Bearer, X-API-Key), the memory budget,
// bounded inflating, validation, partial success, the sinks and their
// backpressure. The answers are the OTLP/HTTP specification's:
//   200  Export*ServiceResponse (partial_success when items were rejected)
//   400  google.rpc.Status: malformed body, or a compressed body that does
//        not inflate
//   401  missing or wrong credentials        404  another path
//   405  another method than POST (OPTIONS: a CORS preflight, 204)
//   413  over max_request_bytes
//   415  another Content-Type or Content-Encoding (br among them)
//   503  with Retry-After: the sinks or the memory budget push back
// Error bodies are google.rpc.Status{code, message} in protobuf.
//
// Threads: HttpServer's listener and its workers; a worker serves
// one connection at a time, kept alive for up to keep_alive_max_requests
// requests or until idle for keep_alive_timeout_s, and waits for the sink's
// answer (a persistent queue answers after its fsync), so the pool bounds
// the connections served and the requests in flight at once. Connections
// past the pool wait in the server's queue until a worker is free.
//
// Lifecycle: Start() binds and serves; Shutdown() stops accepting, lets the
// requests in flight be answered and joins the listener. Thread-safe.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "receiver/export_handler.h"

namespace tracewire::receiver {

class HttpServer;
class HttpTls;
class ServerTls;
struct HttpRequest;
struct HttpResponse;

struct HttpReceiverOptions {
  std::string listen = "127.0.0.1:4318";  // port 0 picks a free port
  int64_t max_request_bytes = 64ll << 20;
  // TLS (null: plain HTTP): the receiver's certificate, key and client CA
  // (set: clients must present a certificate it signed), following their
  // rotation (http_tls.h). Must outlive the receiver.
  const ServerTls* tls = nullptr;
  // Connections served at once (cpp-httplib gives a worker to a connection
  // for as long as it is kept alive), hence also the requests in flight.
  int worker_threads = 32;
  // A kept-alive connection idle this long is closed, freeing its worker.
  int keep_alive_timeout_s = 5;
  int keep_alive_max_requests = 1000;
  // CORS, for browser SDKs: the origins allowed to send (globs: "*",
  // "https://*.example.com"; empty: no CORS headers, browsers refuse), and
  // request headers allowed beyond Content-Type, Content-Encoding, Accept,
  // Authorization and X-API-Key.
  std::vector<std::string> cors_allowed_origins;
  std::vector<std::string> cors_allowed_headers;
};

class HttpReceiver {
 public:
  // `handler` must outlive the receiver.
  HttpReceiver(HttpReceiverOptions options, ExportHandler* handler);
  ~HttpReceiver();

  [[nodiscard]] absl::Status Start();
  int port() const { return port_; }
  std::string address() const;
  void Shutdown();

 private:
  const HttpReceiverOptions options_;
  ExportHandler* const handler_;
  // Answers one request (http_server.h's handler): the path, CORS, the
  // method, then Export.
  void Route(const HttpRequest& req, HttpResponse* res);
  void Export(wire::Signal signal, const HttpRequest& req, HttpResponse* res);
  bool OriginAllowed(std::string_view origin) const;

  std::unique_ptr<HttpTls> tls_;  // set by Start when options_.tls is
  std::unique_ptr<HttpServer> server_;
  std::string host_;
  int port_ = 0;
};

// google.rpc.Status{code (1), message (2)}, serialized.
std::string RpcStatusBytes(const absl::Status& status);

}  // namespace tracewire::receiver
