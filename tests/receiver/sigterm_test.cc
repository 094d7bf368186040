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
#include "testing/tracewired_process.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

namespace tracewire::receiver {
namespace {

using testing::Child;
using testing::ReadAddress;
using testing::Spawn;
using testing::WaitExit;

TEST(TracewiredProcess, SigtermUnderLoadKeepsEveryAcknowledgedSpan) {
  const testing::TempDir tmp("tw-sigterm");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
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
  const testing::TempDir tmp("tw-badcfg");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
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
