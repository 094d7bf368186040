// The real tracewired binary, stopped with SIGTERM while clients send:
// every acknowledged span must be in the file, and the exit status is 0.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "testing/test_env.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

extern char** environ;

namespace tracewire::receiver {
namespace {

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

// Starts tracewired with `args`; its stdout is readable from out_fd.
Child Spawn(const std::vector<std::string>& args) {
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
std::string ReadAddress(int fd) {
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

int WaitExit(pid_t pid, int seconds) {
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

TEST(TracewiredProcess, SigtermUnderLoadKeepsEveryAcknowledgedSpan) {
  const std::string dir = testing::MakeTempDir("tw-sigterm");
  Child c = Spawn({"--listen", "127.0.0.1:0", "--metrics-listen", "", "--sink", "file",
                   "--file-dir", dir, "--shutdown-timeout-s", "20"});
  ASSERT_GT(c.pid, 0);
  const std::string addr = ReadAddress(c.out_fd);
  ASSERT_FALSE(addr.empty());

  constexpr int kSpansPerRequest = 64;
  std::atomic<int64_t> acked{0}, sent{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      tools::GenericCaller caller(testing::InsecureChannel(addr));
      const std::string req = tools::MakeStandardSpansRequest(kSpansPerRequest, 100 + t);
      // Bounded: at most 10 s or 5,000 requests per client.
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (int i = 0; i < 5000 && !stop.load() && std::chrono::steady_clock::now() < until;
           ++i) {
        ::grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        sent += kSpansPerRequest;
        tools::CallResult r = caller.Call(&ctx, tools::kTraceExportMethod, req);
        if (r.status.ok()) {
          acked += kSpansPerRequest;
        } else if (r.status.error_code() == ::grpc::StatusCode::UNAVAILABLE) {
          break;  // The server has stopped accepting.
        }
      }
    });
  }
  // Let the load build up, then stop the daemon while requests are in flight.
  for (int i = 0; i < 500 && acked.load() < 20 * kSpansPerRequest; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  const int code = WaitExit(c.pid, 30);
  stop = true;
  for (auto& th : clients) th.join();
  EXPECT_EQ(code, 0);
  ASSERT_GT(acked.load(), 0);
  const int64_t stored =
      testing::CountItems(testing::ReadJsonLines(dir + "/traces.jsonl"), "traces");
  EXPECT_GE(stored, acked.load()) << "acknowledged spans were lost";
  EXPECT_LE(stored, sent.load());
  close(c.out_fd);
}

TEST(TracewiredProcess, BadConfigFailsNamingTheKey) {
  const std::string dir = testing::MakeTempDir("tw-badcfg");
  {
    std::ofstream f(dir + "/bad.yaml");
    f << "receiver:\n  listen: 127.0.0.1:4317\n  max_request_mb: 8\n";
  }
  {
    std::ofstream f(dir + "/good.yaml");
    f << "receiver:\n  listen: 127.0.0.1:0\nsink:\n  type: none\n";
  }
  const std::string bin = std::string(TW_BIN_DIR) + "/tracewired";
  const std::string out = dir + "/out.txt";
  int rc = testing::Run(bin + " --validate-config " + dir + "/bad.yaml > " + out + " 2>&1");
  EXPECT_NE(rc, 0);
  EXPECT_NE(testing::ReadFileOrEmpty(out).find("receiver.max_request_mb: unknown key"),
            std::string::npos)
      << testing::ReadFileOrEmpty(out);
  rc = testing::Run(bin + " --validate-config " + dir + "/good.yaml > " + out + " 2>&1");
  EXPECT_EQ(rc, 0) << testing::ReadFileOrEmpty(out);
  rc = testing::Run(bin + " --sink nowhere > " + out + " 2>&1");
  EXPECT_NE(rc, 0);
  EXPECT_NE(testing::ReadFileOrEmpty(out).find("sink.type: 'nowhere' is not one of"),
            std::string::npos)
      << testing::ReadFileOrEmpty(out);
  rc = testing::Run(bin + " --validate-config " + std::string(TW_SOURCE_DIR) +
                    "/config/tracewired.example.yaml > " + out + " 2>&1");
  EXPECT_EQ(rc, 0) << testing::ReadFileOrEmpty(out);
}

}  // namespace
}  // namespace tracewire::receiver
