// The OTLP/HTTP listener's HTTP/1.1 server (receiver/http_server.h) on a
// real loopback socket: each input is what one client sends on a new
// connection before it closes its side.
//
// Invariants: the server never crashes or hangs on any input; the handler
// only ever sees a request whose body is within the limit; whatever it
// answers is a sequence of HTTP/1.1 responses (each starts "HTTP/1.1 "
// followed by a three-digit status).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_check.h"
#include "receiver/http_server.h"

using tracewire::fuzz::FuzzCheck;
namespace receiver = tracewire::receiver;

namespace {

constexpr int64_t kMaxBody = 4096;

receiver::HttpServer* Server() {
  static receiver::HttpServer* server = [] {
    receiver::HttpServerOptions o;
    o.port = 0;
    o.workers = 2;
    o.read_timeout_s = 2;
    o.keep_alive_timeout_s = 2;
    o.max_body_bytes = kMaxBody;
    auto* s = new receiver::HttpServer(
        o, [](const receiver::HttpRequest& req, receiver::HttpResponse* res) {
          FuzzCheck(static_cast<int64_t>(req.body.size()) <= kMaxBody, "body past the limit");
          if (res->status == 413) return;
          res->Set("Content-Type", "text/plain");
          res->body = req.method + " " + req.path + " " + std::to_string(req.body.size());
        });
    FuzzCheck(s->Start().ok(), "start");
    return s;
  }();
  return server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  receiver::HttpServer* server = Server();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FuzzCheck(fd >= 0, "socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};  // past the server's own timeouts: a hang is a finding
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int connected = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (connected != 0 && errno == EINTR) {  // the handshake goes on: wait for its end
    pollfd p{fd, POLLOUT, 0};
    while (::poll(&p, 1, 5000) < 0 && errno == EINTR) {
    }
    int error = -1;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    connected = error == 0 ? 0 : -1;
  }
  FuzzCheck(connected == 0, "connect");
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;  // libFuzzer's timer signal
    if (n <= 0) break;                      // the server closed early (a bad head): fine
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  // libFuzzer's -timeout timer (SIGALRM, once a second) interrupts a recv
  // that waits: not an end of stream, wait on.
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  FuzzCheck(n == 0 || errno == ECONNRESET, "no end of stream within 5 s");
  ::close(fd);
  // Every answer starts a response line.
  FuzzCheck(out.empty() || out.rfind("HTTP/1.1 ", 0) == 0, "answer is not HTTP/1.1");
  for (size_t at = 0; (at = out.find("HTTP/1.1 ", at)) != std::string::npos; at += 9) {
    if (at + 12 > out.size()) break;
    (void)std::strtol(out.substr(at + 9, 3).c_str(), nullptr, 10);
  }
  return 0;
}
