#pragma once
// HeldPort: a TCP port on 127.0.0.1 that a test owns for as long as it holds
// the object, so that no other test running at the same time (ctest -j) can
// take it. The socket is bound and never listens, which makes the port useful
// twice over:
//
//  - An address nothing answers: a connection attempt is refused at once
//    (ECONNREFUSED). Use it instead of a fixed "dead" address such as
//    127.0.0.1:1, which the test does not own.
//  - A port a server listens on later, and again after a restart: Release()
//    the port just before the server starts on it, and Hold() it again as
//    soon as the server has stopped, so that no other test can take it while
//    the server is down. tracewired refuses to share a port (it turns
//    SO_REUSEPORT off), so the port is free only in those short windows.
//    Use it instead of reading a server's port, stopping the server and
//    binding the port again unguarded.
//
// Header-only test helper; not copyable or movable.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace tracewire::testing {

class HeldPort {
 public:
  // Binds a port the kernel picks.
  HeldPort() { Bind(0); }
  ~HeldPort() { Release(); }
  // Lets the port go, for a server about to listen on it. port() is kept.
  void Release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Takes the same port back after the server on it has stopped; false if
  // another socket has it.
  bool Hold() {
    if (fd_ >= 0) return true;
    return port_ > 0 && Bind(port_);
  }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  // "127.0.0.1:PORT".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  bool Bind(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    // SO_REUSEADDR: the server's closed connections may linger in TIME_WAIT.
    const int one = 1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t len = sizeof addr;
    if (::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      Release();
      return false;
    }
    port_ = ntohs(addr.sin_port);
    return true;
  }

  int fd_ = -1;
  int port_ = 0;
};

}  // namespace tracewire::testing
