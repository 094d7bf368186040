#include "receiver/http_receiver.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/wildcard.h"
#include "receiver/daemon_config.h"
#include "receiver/decompress.h"
#include "receiver/http_server.h"
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
void Error(HttpResponse* res, int http_status, const absl::Status& st, bool json = false) {
  res->status = http_status;
  res->Set("Content-Type", json ? kJson : kProtobuf);
  res->body = json ? RpcStatusJson(st) : RpcStatusBytes(st);
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
  if (server_) return absl::FailedPreconditionError("OTLP/HTTP receiver already started");
  int want_port;
  absl::Status st = SplitHostPort("receiver.http.listen", options_.listen, &host_, &want_port);
  if (!st.ok()) return st;
  HttpServerOptions so;
  so.host = host_;
  if (so.host.size() > 2 && so.host.front() == '[') so.host = so.host.substr(1, so.host.size() - 2);
  so.port = want_port;
  so.workers = std::max(1, options_.worker_threads);
  so.keep_alive_timeout_s = options_.keep_alive_timeout_s;
  so.keep_alive_max_requests = options_.keep_alive_max_requests;
  so.max_body_bytes = options_.max_request_bytes;
  if (options_.tls != nullptr) {
    tls_ = std::make_unique<HttpTls>(options_.tls);
    so.tls_setup = [tls = tls_.get()](SSL_CTX& ctx) { return tls->SetUpContext(ctx); };
  }
  server_ = std::make_unique<HttpServer>(
      so, [this](const HttpRequest& req, HttpResponse* res) { Route(req, res); });
  st = server_->Start();
  if (!st.ok()) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("OTLP/HTTP: cannot listen on ", options_.listen, ": ", st.message()));
  }
  port_ = server_->port();
  return absl::OkStatus();
}

bool HttpReceiver::OriginAllowed(std::string_view origin) const {
  if (origin.empty()) return false;
  for (const std::string& o : options_.cors_allowed_origins) {
    if (common::WildcardMatch(o, origin)) return true;
  }
  return false;
}

void HttpReceiver::Route(const HttpRequest& req, HttpResponse* res) {
  wire::Signal signal;
  if (req.path == "/v1/traces") {
    signal = wire::Signal::kTraces;
  } else if (req.path == "/v1/metrics") {
    signal = wire::Signal::kMetrics;
  } else if (req.path == "/v1/logs") {
    signal = wire::Signal::kLogs;
  } else {
    res->status = 404;
    res->Set("Content-Type", "text/plain");
    res->body = "Not Found";
    return;
  }
  // CORS: a request from an allowed origin gets it back in
  // Access-Control-Allow-Origin; a preflight (OPTIONS) also gets the method
  // and headers it may use. Without allowed origins: no CORS headers.
  const std::string origin(req.Header("origin"));
  const bool cors = OriginAllowed(origin);
  if (cors) {
    res->Set("Access-Control-Allow-Origin", origin);
    res->Set("Vary", "Origin");
  }
  if (req.method == "OPTIONS" && !options_.cors_allowed_origins.empty()) {
    res->status = 204;
    if (!cors) return;  // no CORS headers: refused
    std::string allow_headers = "Content-Type, Content-Encoding, Accept, Authorization, X-API-Key";
    for (const std::string& h : options_.cors_allowed_headers) {
      absl::StrAppend(&allow_headers, ", ", h);
    }
    res->Set("Access-Control-Allow-Methods", "POST");
    res->Set("Access-Control-Allow-Headers", allow_headers);
    res->Set("Access-Control-Max-Age", "7200");
    return;
  }
  if (req.method != "POST") {
    res->Set("Allow", "POST");
    Error(res, 405, absl::InvalidArgumentError("OTLP/HTTP takes POST"), false);
    return;
  }
  Export(signal, req, res);
}

void HttpReceiver::Export(wire::Signal signal, const HttpRequest& req, HttpResponse* res) {
  const std::string media = MediaType(std::string(req.Header("content-type")));
  const bool json = media == kJson;
  if (res->status == 413) {  // the server did not read a body past the limit
    handler_->CountRefused(signal);
    Error(res, 413,
          absl::ResourceExhaustedError(
              absl::StrCat("request larger than ", options_.max_request_bytes, " bytes")),
          json);
    return;
  }
  if (media != kProtobuf && !json) {
    Error(res, 415,
          absl::InvalidArgumentError(absl::StrCat("Content-Type must be ", kProtobuf, " or ", kJson,
                                                  ", got \"",
                                                  std::string(req.Header("content-type")), "\"")),
          false);
    return;
  }
  ExportCall call;
  call.signal = signal;
  // Compressed bodies come as they were sent: the handler inflates them
  // with the request limit as the bound.
  const std::string encoding = absl::AsciiStrToLower(std::string(req.Header("content-encoding")));
  if (encoding == "zstd") {
    call.encoding = ExportCall::Encoding::kZstd;
  } else if (encoding == "gzip") {
    call.encoding = ExportCall::Encoding::kGzip;
  } else if (encoding == "deflate") {
    call.encoding = ExportCall::Encoding::kDeflate;
  } else if (encoding.empty() || encoding == "identity") {
    call.encoding = ExportCall::Encoding::kIdentity;
  } else {
    Error(res, 415,
          absl::InvalidArgumentError(absl::StrCat("Content-Encoding \"", encoding,
                                                  "\" is not supported (gzip, deflate, zstd)")),
          json);
    return;
  }
  call.authorization = req.Header("authorization");  // live as long as `req`
  call.api_key = req.Header("x-api-key");
  // OTLP/JSON becomes the protobuf message the wire reader validates.
  std::string from_json;
  if (json) {
    std::string_view text = req.body;
    std::string inflated;
    if (call.encoding != ExportCall::Encoding::kIdentity) {
      absl::Status z = call.encoding == ExportCall::Encoding::kZstd
                           ? ZstdDecompress(text, options_.max_request_bytes, &inflated)
                           : Inflate(text, options_.max_request_bytes, &inflated);
      if (!z.ok()) {
        handler_->CountRefused(signal);
        Error(res, z.code() == absl::StatusCode::kResourceExhausted ? 413 : 400, z, true);
        return;
      }
      text = inflated;
      call.encoding = ExportCall::Encoding::kIdentity;
    }
    absl::StatusOr<std::string> pb = OtlpJsonToProtobuf(signal, text);
    if (!pb.ok()) {
      handler_->CountRefused(signal);
      Error(res, 400, pb.status(), true);
      return;
    }
    from_json = std::move(*pb);
    call.body = from_json;
  } else {
    call.body = req.body;
  }
  // The sink may answer on its own thread: this worker waits for it (the
  // workers bound the requests in flight).
  absl::Notification answered;
  ExportAnswer answer;
  handler_->Handle(call, [&answered, &answer](ExportAnswer a) {
    answer = std::move(a);
    answered.Notify();
  });
  answered.WaitForNotification();
  if (!answer.status.ok()) {
    if (answer.retry_after.has_value()) {
      const int64_t seconds = std::max<int64_t>(
          1, absl::ToInt64Seconds(absl::Ceil(*answer.retry_after, absl::Seconds(1))));
      res->Set("Retry-After", std::to_string(seconds));
    }
    Error(res, HttpStatusOf(answer.status.code()), answer.status, json);
    return;
  }
  res->status = 200;
  res->Set("Content-Type", json ? kJson : kProtobuf);
  res->body = json ? ExportResponseToJson(signal, answer.response) : std::move(answer.response);
}

void HttpReceiver::Shutdown() {
  if (!server_) return;
  server_->Shutdown();
  server_.reset();
}

}  // namespace tracewire::receiver
