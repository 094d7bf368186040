#include "receiver/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracewire::receiver {
namespace {

constexpr size_t kMaxHead = 64 << 10;    // request line and headers
constexpr size_t kReadChunk = 64 << 10;  // one read of a head, or of a body without a length

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

// One accepted socket, plain or TLS, with the bytes read past what was
// consumed so far.
class HttpServer::Connection {
 public:
  Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Connection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // > 0 bytes read, 0 at the end of the stream, < 0 on an error or timeout.
  ssize_t Read(char* p, size_t n) {
    if (ssl_ != nullptr) {
      const int r = SSL_read(ssl_, p, static_cast<int>(std::min<size_t>(n, INT_MAX)));
      if (r > 0) return r;
      return SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    for (;;) {
      const ssize_t r = ::recv(fd_, p, n, 0);
      if (r < 0 && errno == EINTR) continue;
      return r;
    }
  }
  bool WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t w;
      if (ssl_ != nullptr) {
        const int r =
            SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), INT_MAX)));
        w = r > 0 ? r : -1;
      } else {
        w = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
      }
      if (w <= 0) return false;
      data.remove_prefix(static_cast<size_t>(w));
    }
    return true;
  }
  // Bytes already read and not consumed (ours or TLS's).
  bool HasBuffered() const {
    return off_ < in_.size() || (ssl_ != nullptr && SSL_pending(ssl_) > 0);
  }
  // Reads more into the buffer; false at the end of the stream or an error.
  bool Fill() {
    if (off_ > 0 && off_ == in_.size()) {
      in_.clear();
      off_ = 0;
    }
    const size_t old = in_.size();
    in_.resize(old + kReadChunk);
    const ssize_t r = Read(in_.data() + old, kReadChunk);
    in_.resize(old + (r > 0 ? static_cast<size_t>(r) : 0));
    return r > 0;
  }
  // A line ending in CRLF (or LF), without it; false past `limit` bytes or
  // at the end of the stream.
  bool ReadLine(std::string* line, size_t limit) {
    for (;;) {
      const size_t nl = in_.find('\n', off_);
      if (nl != std::string::npos) {
        size_t end = nl;
        if (end > off_ && in_[end - 1] == '\r') --end;
        line->assign(in_, off_, end - off_);
        off_ = nl + 1;
        return true;
      }
      if (in_.size() - off_ > limit || !Fill()) return false;
    }
  }
  // Appends exactly `n` bytes to `out`: first what is buffered, then large
  // reads straight into `out`.
  bool ReadExact(size_t n, std::string* out) {
    const size_t take = std::min(n, in_.size() - off_);
    out->append(in_, off_, take);
    off_ += take;
    n -= take;
    size_t at = out->size();
    out->resize(at + n);
    while (n > 0) {
      const ssize_t r = Read(out->data() + at, n);
      if (r <= 0) return false;
      at += static_cast<size_t>(r);
      n -= static_cast<size_t>(r);
    }
    return true;
  }

 private:
  const int fd_;
  SSL* const ssl_;
  std::string in_;
  size_t off_ = 0;
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { Shutdown(); }

absl::Status HttpServer::Start() {
  if (listen_fd_ >= 0) return absl::FailedPreconditionError("HTTP server already started");
  if (options_.tls_setup) {
    ssl_ctx_ = SSL_CTX_new(TLS_server_method());
    if (ssl_ctx_ == nullptr || !options_.tls_setup(*ssl_ctx_)) {
      return absl::InternalError("cannot set up TLS");
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(options_.port);
  const int gai = ::getaddrinfo(options_.host.empty() ? nullptr : options_.host.c_str(),
                                port.c_str(), &hints, &res);
  if (gai != 0) return absl::UnavailableError(::gai_strerror(gai));
  int error = 0;
  for (addrinfo* a = res; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    // SO_REUSEADDR only (a restart over TIME_WAIT), never SO_REUSEPORT: a
    // second process must not share the port.
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      error = errno;
      ::close(fd);
      continue;
    }
    listen_fd_ = fd;
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0) return absl::UnavailableError(std::strerror(error != 0 ? error : EINVAL));
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6
              ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
              : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(wake_fd_, O_CLOEXEC) != 0) return absl::InternalError(std::strerror(errno));
  acceptor_ = std::thread([this] { AcceptLoop(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  return absl::OkStatus();
}

void HttpServer::AcceptLoop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;  // Shutdown
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) ::usleep(10'000);  // bounded retry pace
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_.insert(fd);
    pending_.push_back(fd);
  }
}

void HttpServer::WorkerLoop() {
  // A write to a connection the peer closed fails with EPIPE instead of
  // raising SIGPIPE (TLS writes cannot pass MSG_NOSIGNAL).
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  for (;;) {
    int fd;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](HttpServer* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return s->stopping_ || !s->pending_.empty();
          },
          this));
      if (stopping_) return;  // Shutdown closes what is still pending
      fd = pending_.front();
      pending_.pop_front();
    }
    Serve(fd);
  }
}

void HttpServer::Close(int fd) {
  absl::MutexLock lock(&mu_);
  open_.erase(fd);
  ::close(fd);
}

void HttpServer::Serve(int fd) {
  const int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  timeval tv{options_.read_timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL* ssl = nullptr;
  if (ssl_ctx_ != nullptr) {
    ssl = SSL_new(ssl_ctx_);
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
      if (ssl != nullptr) SSL_free(ssl);
      Close(fd);
      return;
    }
  }
  {
    Connection c(fd, ssl);
    for (int served = 0; served < std::max(1, options_.keep_alive_max_requests); ++served) {
      if (!c.HasBuffered()) {
        // The next request: within the keep-alive timeout once one was served.
        pollfd p{fd, POLLIN, 0};
        const int wait_s = served == 0 ? options_.read_timeout_s : options_.keep_alive_timeout_s;
        int r;
        do {
          r = ::poll(&p, 1, wait_s * 1000);
        } while (r < 0 && errno == EINTR);
        if (r <= 0) break;
      }
      HttpRequest req;
      std::string line;
      if (!c.ReadLine(&line, kMaxHead)) break;  // closed, or a head past the limit
      // METHOD SP target SP HTTP/1.x
      const size_t sp1 = line.find(' ');
      const size_t sp2 = line.rfind(' ');
      if (sp1 == std::string::npos || sp2 <= sp1 ||
          !absl::StartsWith(line.substr(sp2 + 1), "HTTP/1.")) {
        c.WriteAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        break;
      }
      req.method = line.substr(0, sp1);
      req.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
      req.path = req.path.substr(0, req.path.find('?'));
      const bool http10 = line.compare(sp2 + 1, std::string::npos, "HTTP/1.0") == 0;
      size_t head = line.size();
      bool bad = false;
      for (;;) {
        if (!c.ReadLine(&line, kMaxHead) || (head += line.size()) > kMaxHead) {
          bad = true;
          break;
        }
        if (line.empty()) break;
        const size_t colon = line.find(':');
        if (colon == std::string::npos || colon == 0) {
          bad = true;
          break;
        }
        req.headers.emplace_back(absl::AsciiStrToLower(line.substr(0, colon)),
                                 std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
      }
      if (bad) {
        c.WriteAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        break;
      }
      const std::string connection = absl::AsciiStrToLower(std::string(req.Header("connection")));
      bool keep_alive = http10 ? absl::StrContains(connection, "keep-alive")
                               : !absl::StrContains(connection, "close");
      const bool chunked = absl::StrContains(
          absl::AsciiStrToLower(std::string(req.Header("transfer-encoding"))), "chunked");
      int64_t length = 0;
      const std::string length_text(req.Header("content-length"));
      if (!chunked && !length_text.empty() &&
          (!absl::SimpleAtoi(length_text, &length) || length < 0)) {
        c.WriteAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        break;
      }
      HttpResponse res;
      bool too_large = length > options_.max_body_bytes;
      if (!too_large && absl::EqualsIgnoreCase(std::string(req.Header("expect")), "100-continue")) {
        if (!c.WriteAll("HTTP/1.1 100 Continue\r\n\r\n")) break;
      }
      bool body_ok = true;
      if (too_large) {
        // Read and dropped, not kept: a client that is still sending when
        // the connection closes would see a reset instead of the 413.
        std::string scratch;
        for (int64_t left = length; left > 0 && body_ok;) {
          const size_t n = static_cast<size_t>(std::min<int64_t>(left, kReadChunk));
          scratch.clear();
          body_ok = c.ReadExact(n, &scratch);
          left -= static_cast<int64_t>(n);
        }
      } else if (chunked) {
        for (;;) {
          if (!c.ReadLine(&line, 1024)) {
            body_ok = false;
            break;
          }
          uint64_t size = 0;
          const std::string hex = line.substr(0, line.find(';'));
          if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(hex), &size)) {
            body_ok = false;
            break;
          }
          if (size == 0) {  // trailers, up to the empty line
            while (c.ReadLine(&line, kMaxHead) && !line.empty()) {
            }
            break;
          }
          // body.size() <= max_body_bytes here, so this cannot wrap (a
          // chunk size near 2^64 would, written as a sum).
          if (size > static_cast<uint64_t>(options_.max_body_bytes) - req.body.size()) {
            too_large = true;
            keep_alive = false;
            break;
          }
          if (!c.ReadExact(size, &req.body) || !c.ReadLine(&line, 2) || !line.empty()) {
            body_ok = false;
            break;
          }
        }
      } else if (length > 0) {
        req.body.reserve(static_cast<size_t>(length));
        body_ok = c.ReadExact(static_cast<size_t>(length), &req.body);
      }
      if (!body_ok) break;  // the peer went away mid-body: nothing to answer
      if (too_large) {
        req.body.clear();
        res.status = 413;
        handler_(req, &res);  // formats the 413 (the body is not there)
        res.status = 413;
      } else {
        handler_(req, &res);
      }
      if (served + 1 >= options_.keep_alive_max_requests) keep_alive = false;
      std::string out = absl::StrCat("HTTP/1.1 ", res.status, " ", Reason(res.status), "\r\n");
      for (const auto& [k, v] : res.headers) absl::StrAppend(&out, k, ": ", v, "\r\n");
      if (res.status != 204) absl::StrAppend(&out, "Content-Length: ", res.body.size(), "\r\n");
      if (!keep_alive) {
        out += "Connection: close\r\n";
      } else if (http10) {
        out += "Connection: keep-alive\r\n";
      }
      out += "\r\n";
      out += res.body;
      if (!c.WriteAll(out) || !keep_alive) break;
    }
  }  // frees the TLS session before the socket closes
  Close(fd);
}

void HttpServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || listen_fd_ < 0) {
      stopping_ = true;
      return;
    }
    stopping_ = true;
    // Ends every wait on a connection: an idle one reads the end of the
    // stream, one in the middle of a request fails it (never acknowledged);
    // an answer being written still goes out.
    for (int fd : open_) ::shutdown(fd, SHUT_RD);
  }
  if (wake_fd_[1] >= 0) (void)!::write(wake_fd_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  {
    absl::MutexLock lock(&mu_);
    for (int fd : pending_) {
      open_.erase(fd);
      ::close(fd);
    }
    pending_.clear();
  }
  ::close(listen_fd_);
  for (int& fd : wake_fd_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ctx_ = nullptr;
}

}  // namespace tracewire::receiver
