#pragma once
// The real tracewired binary as a child process of a test: started with
// flags, its "tracewired listening on ADDR" line read back, and its exit
// awaited with a bound.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tracewire::testing {

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

// Starts tracewired with `args`; its stdout is readable from out_fd.
inline Child Spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<char*> argv;
  std::string bin = std::string(TW_BIN_DIR) + "/tracewired";
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child c;
  if (posix_spawn(&c.pid, bin.c_str(), &fa, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  c.out_fd = fds[0];
  return c;
}

// Reads the "tracewired listening on ADDR" line; waits at most 20 s.
inline std::string ReadAddress(int fd) {
  std::string buf;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  while (std::chrono::steady_clock::now() < until) {
    char c[256];
    ssize_t n = read(fd, c, sizeof c);
    if (n > 0) buf.append(c, n);
    const size_t nl = buf.find('\n');
    if (nl != std::string::npos) {
      const std::string prefix = "tracewired listening on ";
      if (buf.rfind(prefix, 0) == 0) return buf.substr(prefix.size(), nl - prefix.size());
      return "";
    }
    if (n == 0) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

inline int WaitExit(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

}  // namespace tracewire::testing
