#pragma once
// HeldPort: a TCP port on 127.0.0.1 that a test owns for as long as it holds
// the object, so that no other test running at the same time (ctest -j) can
// take it. The socket is bound and never listens, which makes the port useful
// twice over:
//
//  - An address nothing answers: a connection attempt is refused at once
//    (ECONNREFUSED). Use it instead of a fixed "dead" address such as
//    127.0.0.1:1, which the test does not own.
//  - A port a server listens on later, and again after a restart: the socket
//    is bound with SO_REUSEPORT, which gRPC servers also set (and the kernel
//    allows only for sockets of the same user), so a server can bind and
//    listen on the port while the test keeps it reserved between the server's
//    runs. Connections go to listening sockets only. Use it instead of reading
//    a server's port, stopping it and binding the port again, which another
//    test may have taken in the meantime.
//
// Header-only test helper; not copyable or movable.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace tracewire::testing {

class HeldPort {
 public:
  HeldPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    const int one = 1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~HeldPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  // "127.0.0.1:PORT".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace tracewire::testing
