#include "exporter/http_transport.h"

#include <httplib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exporter/call_headers.h"
#include "exporter/grpc_transport.h"
#include "exporter/otlp_json.h"
#include "wire/otlp_signal.h"
#include "wire/proto_reader.h"
#include "zlib.h"

namespace tracewire::exporter {

struct HttpTransport::PooledClient {
  std::unique_ptr<httplib::Client> client;
  uint64_t generation = 0;
};

namespace {

// gzip (RFC 1952) or zlib (RFC 1950, HTTP's "deflate") of `data` at zlib's
// default level; false on a zlib error.
bool Compress(const std::string& data, bool gzip, std::string* out) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 | (gzip ? 16 : 0), 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  out->resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(out->size());
  const int r = deflate(&zs, Z_FINISH);
  out->resize(zs.total_out);
  deflateEnd(&zs);
  return r == Z_STREAM_END;
}

// The message of a serialized google.rpc.Status (field 2), or "".
std::string StatusMessage(const std::string& body) {
  wire::ProtoReader r(body);
  wire::Field f;
  std::string message;
  while (r.Next(&f)) {
    if (f.number == 2 && f.type == wire::WireType::kLen) message.assign(f.bytes);
  }
  return message;
}

absl::Status ErrorStatus(absl::StatusCode code, const std::string& url, const std::string& what) {
  return absl::Status(code, absl::StrCat("POST ", url, ": ", what));
}

}  // namespace

std::string HttpSignalUrl(const OtlpExporterOptions& options, wire::Signal signal) {
  if (options.endpoint_is_signal_url) return options.endpoint;
  std::string url = options.endpoint;
  if (url.empty() || url.back() != '/') url.push_back('/');
  return absl::StrCat(url, "v1/", wire::SignalName(signal));
}

absl::StatusOr<HttpUrl> ParseHttpUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", url, "': OTLP/HTTP needs an http:// or https:// URL"));
  }
  HttpUrl u;
  const std::string s = absl::AsciiStrToLower(url.substr(0, scheme));
  if (s != "http" && s != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", url, "': scheme must be http or https"));
  }
  u.tls = s == "https";
  const size_t host_start = scheme + 3;
  const size_t slash = url.find('/', host_start);
  const std::string hostport =
      url.substr(host_start, slash == std::string::npos ? std::string::npos : slash - host_start);
  if (hostport.empty() || hostport.find(',') != std::string::npos ||
      hostport.find_first_of(" \t?#") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", url, "': OTLP/HTTP needs one URL, scheme://host[:port]/path"));
  }
  u.origin = absl::StrCat(s, "://", hostport);
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  return u;
}

std::optional<absl::Duration> ParseRetryAfter(const std::string& value, absl::Time now) {
  const absl::string_view v = absl::StripAsciiWhitespace(value);
  if (v.empty()) return std::nullopt;
  int64_t seconds;
  if (absl::SimpleAtoi(v, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  // HTTP-date (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(v), absl::UTCTimeZone(), &t, &err)) {
    return std::max(t - now, absl::ZeroDuration());
  }
  return std::nullopt;
}

absl::StatusCode HttpStatusToCode(int http_status) {
  if (http_status >= 200 && http_status < 300) return absl::StatusCode::kOk;
  switch (http_status) {
    case 429:
    case 502:
    case 503:
    case 504:
      return absl::StatusCode::kUnavailable;
    case 413:
      return absl::StatusCode::kResourceExhausted;
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    default:
      break;
  }
  return http_status >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kFailedPrecondition;
}

absl::StatusOr<std::unique_ptr<HttpTransport>> HttpTransport::Create(
    const OtlpExporterOptions& options) {
  if (options.protocol != "http/protobuf" && options.protocol != "http/json") {
    return absl::InvalidArgumentError(
        absl::StrCat("exporter option protocol: '", options.protocol, "' is not an http one"));
  }
  absl::StatusOr<HttpUrl> base = ParseHttpUrl(options.endpoint);
  if (!base.ok()) return base.status();
  TlsMaterial tls;
  if (base->tls) {
    TlsFiles files{options.client_cert_file, options.client_key_file, options.ca_file,
                   "client_cert_file",       "client_key_file",       "ca_file"};
    if (!files.empty()) {
      absl::StatusOr<TlsMaterial> m = LoadTlsMaterial(files);
      if (!m.ok()) return m.status();
      tls = std::move(*m);
    }
  }
  return std::unique_ptr<HttpTransport>(new HttpTransport(options, *std::move(base), tls));
}

HttpTransport::HttpTransport(const OtlpExporterOptions& options, HttpUrl base, TlsMaterial tls)
    : options_(options),
      base_(std::move(base)),
      tls_files_(base_.tls
                     ? TlsFiles{options.client_cert_file, options.client_key_file, options.ca_file,
                                "client_cert_file", "client_key_file", "ca_file"}
                     : TlsFiles{}),
      json_(options.protocol == "http/json"),
      content_type_(json_ ? "application/json" : "application/x-protobuf") {
  for (wire::Signal signal : wire::kSignals) {
    const int i = static_cast<int>(signal);
    urls_[i] = HttpSignalUrl(options_, signal);
    absl::StatusOr<HttpUrl> u = ParseHttpUrl(urls_[i]);  // checked in Create
    paths_[i] = u.ok() ? u->path : base_.path;
  }
  absl::MutexLock reload(&reload_mu_);
  tls_ = std::move(tls);
  absl::MutexLock lock(&mu_);
  next_tls_check_ = absl::Now() + options_.tls_reload_interval;
  seen_reload_requests_ = TlsReloadRequests();
}

HttpTransport::~HttpTransport() = default;

void HttpTransport::MaybeReloadTls() {
  if (tls_files_.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    const uint64_t requests = TlsReloadRequests();
    const bool interval = options_.tls_reload_interval > absl::ZeroDuration();
    if (requests == seen_reload_requests_ && !(interval && now >= next_tls_check_)) return;
    seen_reload_requests_ = requests;
    if (interval) next_tls_check_ = now + options_.tls_reload_interval;
  }
  absl::MutexLock reload(&reload_mu_);
  absl::StatusOr<TlsMaterial> m = ReadTlsMaterial(tls_files_);
  if (m.ok() && *m == tls_) {
    last_tls_error_.clear();
    return;
  }
  absl::Status st = m.status();
  if (st.ok()) st = CheckTlsMaterial(tls_files_, *m);
  if (!st.ok()) {
    tls_reload_failures_.fetch_add(1, std::memory_order_relaxed);
    std::string line(st.message());
    if (line != last_tls_error_) {
      std::fprintf(stderr,
                   "tracewire exporter: %s: TLS files not reloaded, the previous ones stay in "
                   "use: %s\n",
                   options_.endpoint.c_str(), line.c_str());
      last_tls_error_ = std::move(line);
    }
    return;
  }
  tls_ = std::move(*m);
  last_tls_error_.clear();
  tls_reloads_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  ++generation_;
  idle_.clear();  // their connections used the old material
}

std::unique_ptr<HttpTransport::PooledClient> HttpTransport::Take() {
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return nullptr;
    if (!idle_.empty()) {
      std::unique_ptr<PooledClient> c = std::move(idle_.back());
      idle_.pop_back();
      busy_.push_back(c.get());
      return c;
    }
    generation = generation_;
  }
  auto c = std::make_unique<PooledClient>();
  c->generation = generation;
  if (base_.tls && !options_.client_cert_file.empty()) {
    c->client = std::make_unique<httplib::Client>(base_.origin, options_.client_cert_file,
                                                  options_.client_key_file);
  } else {
    c->client = std::make_unique<httplib::Client>(base_.origin);
  }
  if (base_.tls) {
    if (!options_.ca_file.empty()) c->client->set_ca_cert_path(options_.ca_file);
    c->client->enable_server_certificate_verification(true);
  }
  c->client->set_keep_alive(true);
  c->client->set_tcp_nodelay(true);
  c->client->set_decompress(true);
  clients_created_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  if (cancelled_) return nullptr;
  busy_.push_back(c.get());
  return c;
}

void HttpTransport::Return(std::unique_ptr<PooledClient> client) {
  absl::MutexLock lock(&mu_);
  busy_.erase(std::find(busy_.begin(), busy_.end(), client.get()));
  // Keep at most max_in_flight idle connections, of the current material.
  if (!cancelled_ && client->generation == generation_ &&
      static_cast<int>(idle_.size()) < std::max(options_.max_in_flight, 1)) {
    idle_.push_back(std::move(client));
  }
}

SendResult HttpTransport::Send(wire::Signal signal, const std::string& request,
                               absl::Time deadline) {
  SendResult result;
  const std::string& url = urls_[static_cast<int>(signal)];
  const std::string& path = paths_[static_cast<int>(signal)];

  // The body: the request as it is, or as OTLP/JSON; then compressed.
  std::string json, compressed;
  const std::string* body = &request;
  if (json_) {
    absl::Status st = OtlpRequestToJson(signal, request, &json);
    if (!st.ok()) {
      result.status =
          ErrorStatus(absl::StatusCode::kInvalidArgument, url, std::string(st.message()));
      return result;
    }
    body = &json;
  }
  httplib::Headers headers;
  if (options_.compression == "zstd") {
    compressed.resize(ZSTD_compressBound(body->size()));
    const size_t n = ZSTD_compress(compressed.data(), compressed.size(), body->data(), body->size(),
                                   /*level=*/3);
    if (ZSTD_isError(n)) {
      result.status = ErrorStatus(absl::StatusCode::kInternal, url, "zstd compression failed");
      return result;
    }
    compressed.resize(n);
    body = &compressed;
    headers.emplace("Content-Encoding", "zstd");
    result.compressed_bytes = static_cast<int64_t>(compressed.size());
  } else if (options_.compression == "gzip" || options_.compression == "deflate") {
    if (!Compress(*body, options_.compression == "gzip", &compressed)) {
      result.status = ErrorStatus(absl::StatusCode::kInternal, url, "compression failed");
      return result;
    }
    body = &compressed;
    headers.emplace("Content-Encoding", options_.compression);
    result.compressed_bytes = static_cast<int64_t>(compressed.size());
  }
  for (auto& [k, v] : CallHeaders(options_)) headers.emplace(std::move(k), std::move(v));
  headers.emplace("User-Agent", options_.user_agent);

  const ForkGate::Pass pass = fork_gate_.Enter();  // waits out a fork in progress

  MaybeReloadTls();
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    result.status = ErrorStatus(absl::StatusCode::kDeadlineExceeded, url, "deadline passed");
    return result;
  }
  std::unique_ptr<PooledClient> c = Take();
  if (c == nullptr) {
    result.status = absl::CancelledError("exporter is shutting down");
    return result;
  }
  // httplib's timeouts bound each step (connect, each read, each write).
  const auto timeout = absl::ToChronoMicroseconds(std::max(left, absl::Milliseconds(1)));
  c->client->set_connection_timeout(timeout);
  c->client->set_read_timeout(timeout);
  c->client->set_write_timeout(timeout);
  httplib::Result res =
      c->client->Post(path.c_str(), headers, body->data(), body->size(), content_type_.c_str());
  const httplib::Error err = res.error();
  Return(std::move(c));

  if (!res) {
    absl::StatusCode code = absl::StatusCode::kUnavailable;
    if (err == httplib::Error::Canceled) code = absl::StatusCode::kCancelled;
    if (absl::Now() >= deadline) code = absl::StatusCode::kDeadlineExceeded;
    if (err == httplib::Error::SSLLoadingCerts) code = absl::StatusCode::kFailedPrecondition;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) code = absl::StatusCode::kCancelled;
    }
    std::string what = httplib::to_string(err);
    if (err == httplib::Error::SSLConnection && !base_.tls) what += " (TLS)";
    if (err == httplib::Error::Read && base_.tls) {
      what += " (does the server speak TLS? use http:// for a plaintext endpoint)";
    }
    result.status = ErrorStatus(code, url, what);
    return result;
  }
  const int http_status = res->status;
  const absl::StatusCode code = HttpStatusToCode(http_status);
  if (code == absl::StatusCode::kOk) {
    if (json_ || res->get_header_value("Content-Type").find("json") != std::string::npos) {
      ParseJsonPartialSuccess(res->body, &result.rejected, &result.rejected_message);
    } else {
      ParsePartialSuccess(res->body, &result.rejected, &result.rejected_message);
    }
    return result;
  }
  std::string what = absl::StrCat("HTTP ", http_status);
  std::string message;
  if (res->get_header_value("Content-Type").find("protobuf") != std::string::npos) {
    message = StatusMessage(res->body);
  } else if (!res->body.empty() && res->body.size() <= 512) {
    message = res->body;
  }
  if (!message.empty()) absl::StrAppend(&what, ": ", message);
  result.status = ErrorStatus(code, url, what);
  // Retry-After only where a retry may follow (429, 502, 503, 504).
  if (code == absl::StatusCode::kUnavailable && res->has_header("Retry-After")) {
    result.retry_delay = ParseRetryAfter(res->get_header_value("Retry-After"), absl::Now());
  }
  return result;
}

void HttpTransport::CancelAll() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (PooledClient* c : busy_) c->client->stop();
  idle_.clear();
}

// The calls in flight end first (fork_gate.h); each is bounded by its
// deadline, and past this wait the fork goes on.
void HttpTransport::PrepareFork() { fork_gate_.Close(absl::Seconds(5)); }

void HttpTransport::AfterForkParent() { fork_gate_.Open(); }

}  // namespace tracewire::exporter
