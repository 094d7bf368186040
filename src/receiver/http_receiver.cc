#include "receiver/http_receiver.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/wildcard.h"
#include "httplib.h"
#include "receiver/daemon_config.h"
#include "receiver/decompress.h"
#include "receiver/http_tls.h"
#include "receiver/otlp_json.h"
#include "wire/proto_writer.h"

namespace tracewire::receiver {
namespace {

constexpr const char* kProtobuf = "application/x-protobuf";
constexpr const char* kJson = "application/json";

// The HTTP status of a handler's error.
int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 413;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

// The error as a google.rpc.Status, in the request's encoding.
void Error(httplib::Response& res, int http_status, const absl::Status& st, bool json = false) {
  res.status = http_status;
  if (json) {
    res.set_content(RpcStatusJson(st), kJson);
  } else {
    res.set_content(RpcStatusBytes(st), kProtobuf);
  }
}

// The media type of a Content-Type value, lower case, without parameters.
std::string MediaType(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(t));
}

}  // namespace

std::string RpcStatusBytes(const absl::Status& status) {
  std::string out;
  if (!status.ok()) {
    wire::AppendVarint(&out, (1 << 3) | 0);
    wire::AppendVarint(&out, static_cast<uint64_t>(status.code()));
  }
  if (!status.message().empty()) {
    wire::AppendLenField(&out, 2,
                         std::string_view(status.message().data(), status.message().size()));
  }
  return out;
}

HttpReceiver::HttpReceiver(HttpReceiverOptions options, ExportHandler* handler)
    : options_(std::move(options)), handler_(handler) {}

HttpReceiver::~HttpReceiver() { Shutdown(); }

std::string HttpReceiver::address() const { return absl::StrCat(host_, ":", port_); }

absl::Status HttpReceiver::Start() {
  if (http_) return absl::FailedPreconditionError("OTLP/HTTP receiver already started");
  int want_port;
  absl::Status st = SplitHostPort("receiver.http.listen", options_.listen, &host_, &want_port);
  if (!st.ok()) return st;
  std::string bind_host = host_;
  if (bind_host.size() > 2 && bind_host.front() == '[') {
    bind_host = bind_host.substr(1, bind_host.size() - 2);
  }
  if (options_.tls != nullptr) {
    tls_ = std::make_unique<HttpTls>(options_.tls);
    HttpTls* tls = tls_.get();
    auto ssl = std::make_unique<httplib::SSLServer>(
        [tls](SSL_CTX& ctx) { return tls->SetUpContext(ctx); });
    if (!ssl->is_valid()) {
      return absl::InternalError("receiver.tls: the OTLP/HTTP listener could not set up TLS");
    }
    http_ = std::move(ssl);
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  const int workers = std::max(1, options_.worker_threads);
  http_->new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  // Over the limit, cpp-httplib answers 413 before reading the body.
  http_->set_payload_max_length(static_cast<size_t>(options_.max_request_bytes));
  http_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
  // cpp-httplib writes an answer's headers and body apart: without this,
  // Nagle holds the body until the client's delayed ACK (~40 ms).
  http_->set_tcp_nodelay(true);
  http_->set_keep_alive_max_count(static_cast<size_t>(options_.keep_alive_max_requests));

  ExportHandler* handler = handler_;
  const int64_t max_request_bytes = options_.max_request_bytes;
  auto serve = [handler, max_request_bytes](wire::Signal signal) {
    return [handler, signal, max_request_bytes](const httplib::Request& req,
                                                httplib::Response& res) {
      const std::string media = MediaType(req.get_header_value("Content-Type"));
      const bool json = media == kJson;
      if (media != kProtobuf && !json) {
        Error(res, 415,
              absl::InvalidArgumentError(absl::StrCat("Content-Type must be ", kProtobuf, " or ",
                                                      kJson, ", got \"",
                                                      req.get_header_value("Content-Type"), "\"")),
              false);
        return;
      }
      ExportCall call;
      call.signal = signal;
      // cpp-httplib has inflated a gzip, deflate or br body already (its
      // output bounded by the payload limit); it passes another encoding
      // through as it came.
      const std::string encoding = absl::AsciiStrToLower(req.get_header_value("Content-Encoding"));
      // zstd, which it does not know, comes as it was sent: the handler
      // decompresses it with the same bound.
      if (encoding == "zstd") {
        call.encoding = ExportCall::Encoding::kZstd;
      } else if (encoding.empty() || encoding == "identity" || encoding == "gzip" ||
                 encoding == "deflate" || encoding == "br") {
        call.encoding = ExportCall::Encoding::kIdentity;
      } else {
        Error(
            res, 415,
            absl::InvalidArgumentError(absl::StrCat(
                "Content-Encoding \"", encoding, "\" is not supported (gzip, deflate, br, zstd)")),
            json);
        return;
      }
      const std::string authorization = req.get_header_value("Authorization");
      const std::string api_key = req.get_header_value("X-API-Key");
      call.authorization = authorization;
      call.api_key = api_key;
      // OTLP/JSON becomes the protobuf message the wire reader validates.
      std::string from_json;
      if (json) {
        std::string_view text = req.body;
        std::string unzstd;
        if (call.encoding == ExportCall::Encoding::kZstd) {
          absl::Status z = ZstdDecompress(text, max_request_bytes, &unzstd);
          if (!z.ok()) {
            handler->CountRefused(signal);
            Error(res, z.code() == absl::StatusCode::kResourceExhausted ? 413 : 400, z, true);
            return;
          }
          text = unzstd;
          call.encoding = ExportCall::Encoding::kIdentity;
        }
        absl::StatusOr<std::string> pb = OtlpJsonToProtobuf(signal, text);
        if (!pb.ok()) {
          handler->CountRefused(signal);
          Error(res, 400, pb.status(), true);
          return;
        }
        from_json = std::move(*pb);
        call.body = from_json;
      } else {
        call.body = req.body;
      }
      // The sink may answer on its own thread: this worker waits for it
      // (the pool bounds the requests in flight).
      absl::Notification answered;
      ExportAnswer answer;
      handler->Handle(call, [&answered, &answer](ExportAnswer a) {
        answer = std::move(a);
        answered.Notify();
      });
      answered.WaitForNotification();
      if (!answer.status.ok()) {
        if (answer.retry_after.has_value()) {
          const int64_t seconds = std::max<int64_t>(
              1, absl::ToInt64Seconds(absl::Ceil(*answer.retry_after, absl::Seconds(1))));
          res.set_header("Retry-After", std::to_string(seconds));
        }
        Error(res, HttpStatusOf(answer.status.code()), answer.status, json);
        return;
      }
      res.status = 200;
      if (json) {
        res.set_content(ExportResponseToJson(signal, answer.response), kJson);
      } else {
        res.set_content(answer.response, kProtobuf);
      }
    };
  };
  // CORS: a request from an allowed origin gets it back in
  // Access-Control-Allow-Origin; a preflight (OPTIONS) also gets the method
  // and headers it may use.
  if (!options_.cors_allowed_origins.empty()) {
    std::string allow_headers = "Content-Type, Content-Encoding, Accept, Authorization, X-API-Key";
    for (const std::string& h : options_.cors_allowed_headers)
      absl::StrAppend(&allow_headers, ", ", h);
    const std::vector<std::string> origins = options_.cors_allowed_origins;
    auto allowed = [origins](const std::string& origin) {
      if (origin.empty()) return false;
      for (const std::string& o : origins) {
        if (common::WildcardMatch(o, origin)) return true;
      }
      return false;
    };
    http_->set_post_routing_handler([allowed](const httplib::Request& req, httplib::Response& res) {
      const std::string origin = req.get_header_value("Origin");
      if (!allowed(origin)) return;
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
    });
    for (const char* path : {"/v1/traces", "/v1/metrics", "/v1/logs"}) {
      http_->Options(path,
                     [allowed, allow_headers](const httplib::Request& req, httplib::Response& res) {
                       res.status = 204;
                       if (!allowed(req.get_header_value("Origin")))
                         return;  // no CORS headers: refused
                       res.set_header("Access-Control-Allow-Methods", "POST");
                       res.set_header("Access-Control-Allow-Headers", allow_headers);
                       res.set_header("Access-Control-Max-Age", "7200");
                     });
    }
  }
  http_->Post("/v1/traces", serve(wire::Signal::kTraces));
  http_->Post("/v1/metrics", serve(wire::Signal::kMetrics));
  http_->Post("/v1/logs", serve(wire::Signal::kLogs));
  // Another method on an OTLP path: 405; another path: cpp-httplib's 404.
  auto not_post = [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Allow", "POST");
    Error(res, 405, absl::InvalidArgumentError("OTLP/HTTP takes POST"), false);
  };
  for (const char* path : {"/v1/traces", "/v1/metrics", "/v1/logs"}) {
    http_->Get(path, not_post);
    http_->Put(path, not_post);
    http_->Delete(path, not_post);
  }
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second process
  // bind the same port: SO_REUSEADDR only (restart over TIME_WAIT).
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  errno = 0;
  if (want_port == 0) {
    port_ = http_->bind_to_any_port(bind_host);
  } else {
    port_ = http_->bind_to_port(bind_host, want_port) ? want_port : -1;
  }
  if (port_ <= 0) {
    http_.reset();
    const int error = errno;
    return absl::UnavailableError(absl::StrCat("OTLP/HTTP: cannot listen on ", options_.listen,
                                               error != 0 ? ": " : "",
                                               error != 0 ? std::strerror(error) : ""));
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return absl::OkStatus();
}

namespace {

// cpp-httplib 0.11's stop() closes the listening socket, but a worker whose
// kept-alive connection is idle goes on waiting for a next request until
// keep_alive_timeout_s, and the listener's thread joins every worker: one
// idle client (a browser, a Collector) would hold Shutdown that long.
// cpp-httplib gives no handle on its connections, so this finds them: once
// the listener is closed, every TCP socket of this process whose local port
// is `port` is one of them. SHUT_RD ends the idle wait (the read sees end of
// file); an answer being written still goes out.
void EndIdleConnections(int port) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent* e = ::readdir(dir)) {
    int fd = -1;
    if (!absl::SimpleAtoi(e->d_name, &fd) || fd == ::dirfd(dir)) continue;
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    int type = 0, listening = 0;
    socklen_t olen = sizeof type;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
        ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) != 0 || type != SOCK_STREAM) {
      continue;
    }
    olen = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) != 0 || listening) continue;
    int local_port = -1;
    if (a.ss_family == AF_INET) {
      local_port = ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
    } else if (a.ss_family == AF_INET6) {
      local_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port);
    }
    if (local_port == port) ::shutdown(fd, SHUT_RD);
  }
  ::closedir(dir);
}

}  // namespace

void HttpReceiver::Shutdown() {
  if (!http_) return;
  http_->stop();
  if (port_ > 0) EndIdleConnections(port_);
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

}  // namespace tracewire::receiver
