// GET /health of the real tracewired through its whole life: 503
// "starting" (or no answer yet) until it serves, 200 "ok" while it takes
// load, 503 "draining" from SIGTERM until it has written out what it holds,
// then no answer. The drain is made long on purpose: a forward sink whose
// next hop refuses connections keeps trying until the shutdown timeout.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "testing/held_port.h"
#include "testing/tracewired_process.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

namespace tracewire {
namespace {

// What GET /health said, in order, each state once per run of equal answers.
class HealthWatcher {
 public:
  explicit HealthWatcher(int port) : port_(port), thread_([this] { Run(); }) {}
  ~HealthWatcher() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> states() {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  int64_t ok_answers() const { return ok_answers_.load(); }
  // Waits (bounded) until the last state is `s`.
  bool AwaitState(const std::string& s, absl::Duration bound) {
    absl::MutexLock lock(&mu_);
    auto last_is = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !states_.empty() && states_.back() == s;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&last_is), bound);
  }

 private:
  void Run() {
    // Bounded: the test stops it; 60 s at most in any case.
    for (const absl::Time until = absl::Now() + absl::Seconds(60); !stop_ && absl::Now() < until;) {
      httplib::Client http("127.0.0.1", port_);
      http.set_connection_timeout(0, 200'000);
      http.set_read_timeout(1, 0);
      auto r = http.Get("/health");
      std::string state = "no answer";
      if (r) {
        const auto j = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
        state = absl::StrCat(r->status, " ", j.is_object() ? j.value("status", "?") : "?");
        if (r->status == 200) ++ok_answers_;
      }
      {
        absl::MutexLock lock(&mu_);
        if (states_.empty() || states_.back() != state) states_.push_back(state);
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  const int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ok_answers_{0};
  absl::Mutex mu_;
  std::vector<std::string> states_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

TEST(HealthLifecycle, StartingThenOkUnderLoadThenDrainingUntilExit) {
  testing::HeldPort health_port;
  const testing::HeldPort next_hop;  // refuses connections: the drain waits
  ASSERT_TRUE(health_port.ok() && next_hop.ok());
  health_port.Release();
  HealthWatcher watcher(health_port.port());
  testing::Child c = testing::Spawn(
      {"--listen", "127.0.0.1:0", "--http-listen", "", "--metrics-listen", "", "--health-listen",
       health_port.address(), "--sink", "forward", "--forward-endpoint",
       "http://" + next_hop.address(), "--queue-persistent", "false", "--shutdown-timeout-s", "2"});
  ASSERT_GT(c.pid, 0);
  const std::string address = testing::ReadAddress(c.out_fd);
  ASSERT_FALSE(address.empty());
  EXPECT_TRUE(watcher.AwaitState("200 ok", absl::Seconds(10)));

  // Load: requests from 4 threads while /health keeps answering 200.
  const int64_t ok_before = watcher.ok_answers();
  std::atomic<int> accepted{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      tools::GenericCaller caller(
          ::grpc::CreateChannel(address, ::grpc::InsecureChannelCredentials()));
      const std::string req = tools::MakeTracesRequest(50, {});
      for (int i = 0; i < 50; ++i) {
        ::grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        if (caller.Call(&ctx, tools::kTraceExportMethod, req).status.ok()) ++accepted;
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(accepted.load(), 200);
  EXPECT_GT(watcher.ok_answers(), ok_before) << "/health answered during the load";

  // SIGTERM: draining while the forward sink tries its next hop, then gone.
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  EXPECT_TRUE(watcher.AwaitState("503 draining", absl::Seconds(5)));
  // The next hop never came back: the drain ends at the shutdown timeout,
  // and tracewired says what it dropped and exits 1.
  EXPECT_EQ(testing::WaitExit(c.pid, 30), 1);
  EXPECT_TRUE(watcher.AwaitState("no answer", absl::Seconds(5)));
  watcher.Stop();

  // The whole sequence: the states only move forward.
  const std::vector<std::string> order = {"no answer", "503 starting", "200 ok", "503 draining",
                                          "no answer"};
  size_t at = 0;
  for (const std::string& s : watcher.states()) {
    while (at < order.size() && order[at] != s) ++at;
    ASSERT_LT(at, order.size()) << "unexpected state or order: " << s;
  }
  const std::vector<std::string> seen = watcher.states();
  EXPECT_NE(std::find(seen.begin(), seen.end(), "200 ok"), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), "503 draining"), seen.end());
}

}  // namespace
}  // namespace tracewire
