// Overload: many connections send as fast as they can, far beyond what the
// store sink takes, without backing off. tracewired's admission limit
// (receiver.max_inflight_mib) must keep its memory bounded, answer the excess
// with UNAVAILABLE and RetryInfo (counted), store every acknowledged span,
// and serve normally afterwards. The daemon is the real binary in a child
// process, so that its peak RSS (VmHWM) is its own.
//
// TW_OVERLOAD_SECONDS overrides the length of both cases.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "httplib.h"
#include "receiver/retry_info.h"
#include "store/store_reader.h"
#include "testing/held_port.h"
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

// kB from /proc/PID/status's `field` (VmRSS, VmHWM); -1 if unreadable.
int64_t ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      int64_t kb = -1;
      std::string digits;
      for (char c : line) {
        if (c >= '0' && c <= '9') digits.push_back(c);
      }
      return absl::SimpleAtoi(digits, &kb) ? kb : -1;
    }
  }
  return -1;
}

// The value of an unlabelled sample in Prometheus text, or -1.
int64_t Sample(const std::string& text, const std::string& name) {
  size_t at = 0;
  while ((at = text.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      int64_t v = -1;
      const size_t end = text.find('\n', at);
      (void)absl::SimpleAtoi(text.substr(at + name.size() + 1, end - at - name.size() - 1), &v);
      return v;
    }
    at += name.size();
  }
  return -1;
}

// The sample of `name` whose labels contain `labels`, or -1.
int64_t LabelledSample(const std::string& text, const std::string& name,
                       const std::string& labels) {
  size_t at = 0;
  while ((at = text.find(name + "{", at)) != std::string::npos) {
    const size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end - at);
    if ((at == 0 || text[at - 1] == '\n') && line.find(labels) != std::string::npos) {
      int64_t v = -1;
      (void)absl::SimpleAtoi(line.substr(line.rfind(' ') + 1), &v);
      return v;
    }
    at = end;
  }
  return -1;
}

// The default configuration (a persistent queue in front of the store: the
// excess goes to disk until the log is full) for 60 s, and the memory queue
// (the excess stays in memory: the admission limit refuses it) for 20 s.
struct OverloadCase {
  const char* name;
  bool persistent;
  int seconds;
};

class Overload : public ::testing::TestWithParam<OverloadCase> {};

INSTANTIATE_TEST_SUITE_P(Queues, Overload,
                         ::testing::Values(OverloadCase{"PersistentQueue", true, 60},
                                           OverloadCase{"MemoryQueue", false, 20}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_P(Overload, ManyTimesTheSustainableRateStaysBoundedAndLosesNothing) {
  int seconds = GetParam().seconds;
  if (const char* s = std::getenv("TW_OVERLOAD_SECONDS")) (void)absl::SimpleAtoi(s, &seconds);
  constexpr int kInflightMib = 32;
  constexpr int kClients = 16;
  constexpr int kSpans = 1000;  // ~250 kB per request

  const testing::TempDir tmp("tw-overload");
  ASSERT_TRUE(tmp.ok());
  const std::string db = tmp.path() + "/tracewire.db";
  const std::string config = tmp.path() + "/tracewired.yaml";
  // A shutdown long enough for the store to take what the queue holds (at
  // most 64 MiB of requests, a few seconds of the store's work).
  std::ofstream(config) << "shutdown_timeout_s: 300\nreceiver:\n  max_request_mib: 8\n"
                        << "  max_inflight_mib: " << kInflightMib
                        << "\n  retry_after_ms: 200\nsink:\n  type: store\n  store:\n    path: "
                        << db << "\n  queue:\n    max_mib: 64\n    persistent: "
                        << (GetParam().persistent ? "true" : "false") << "\n";
  testing::HeldPort metrics_port;
  metrics_port.Release();
  Child d = Spawn({"--config", config, "--listen", "127.0.0.1:0", "--metrics-listen",
                   absl::StrCat("127.0.0.1:", metrics_port.port())});
  ASSERT_GT(d.pid, 0);
  const std::string addr = ReadAddress(d.out_fd);
  ASSERT_FALSE(addr.empty());
  const int64_t idle_rss_kb = ProcStatusKb(d.pid, "VmRSS");

  std::atomic<bool> stop{false};
  std::atomic<int64_t> attempts{0}, accepted_requests{0}, refused{0}, other_errors{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      ::grpc::ChannelArguments args;
      args.SetInt("tw.overload.client", i);  // a connection of its own
      tools::GenericCaller caller(
          ::grpc::CreateCustomChannel(addr, ::grpc::InsecureChannelCredentials(), args));
      uint64_t seed = 1000000ull * (i + 1);
      std::string request = tools::MakeStandardSpansRequest(kSpans, seed);
      while (!stop.load()) {
        ::grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        tools::CallResult r = caller.Call(&ctx, tools::kTraceExportMethod, request);
        attempts.fetch_add(1);
        if (r.status.ok()) {
          accepted_requests.fetch_add(1);
          request = tools::MakeStandardSpansRequest(kSpans, ++seed);  // the next, distinct
        } else if (r.status.error_code() == ::grpc::StatusCode::UNAVAILABLE &&
                   RetryDelayOf(r.status).has_value()) {
          refused.fetch_add(1);  // sent again at once: no backing off
        } else {
          other_errors.fetch_add(1);
        }
      }
    });
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_until(std::min(until, std::chrono::steady_clock::now() +
                                                      std::chrono::milliseconds(500)));
  }
  stop = true;
  for (auto& t : clients) t.join();
  const int64_t peak_rss_kb = ProcStatusKb(d.pid, "VmHWM");

  // Serves normally afterwards: a request is taken within a bounded time.
  {
    tools::GenericCaller caller(testing::InsecureChannel(addr));
    bool ok = false;
    for (int i = 0; i < 300 && !ok; ++i) {
      ::grpc::ClientContext ctx;
      tools::CallResult r = caller.Call(&ctx, tools::kTraceExportMethod,
                                        tools::MakeStandardSpansRequest(kSpans, 7));
      ok = r.status.ok();
      if (!ok) {
        if (r.status.error_code() == ::grpc::StatusCode::UNAVAILABLE) refused.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ASSERT_TRUE(ok) << "tracewired does not take requests after the overload";
    accepted_requests.fetch_add(1);
  }
  httplib::Client http("127.0.0.1", metrics_port.port());
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res && res->status == 200);
  const int64_t admission_refused =
      Sample(res->body, "tracewire_receiver_admission_refused_requests");
  const int64_t daemon_refused = LabelledSample(res->body, "tracewire_receiver_requests",
                                                "signal=\"traces\",outcome=\"refused\"");

  ASSERT_EQ(kill(d.pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(d.pid, 320), 0);
  close(d.out_fd);

  const double offered = static_cast<double>(attempts.load()) / seconds;
  const double taken = static_cast<double>(accepted_requests.load()) / seconds;
  std::fprintf(stderr,
               "overload: %d s, %d connections, offered %.0f req/s (%.0f spans/s), taken %.0f "
               "req/s (%.0fx overload), refused %lld (%lld by the admission limit), daemon RSS "
               "idle %lld MiB, peak %lld MiB (limit %d MiB)\n",
               seconds, kClients, offered, offered * kSpans, taken, offered / std::max(taken, 1e-9),
               static_cast<long long>(refused.load()), static_cast<long long>(admission_refused),
               static_cast<long long>(idle_rss_kb >> 10),
               static_cast<long long>(peak_rss_kb >> 10), kInflightMib);

  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(refused.load(), 0) << "the load never reached the limit";
  EXPECT_EQ(daemon_refused, refused.load()) << "every refusal is counted by the daemon";
  // The memory queue fills memory, not disk: the admission limit answers.
  if (!GetParam().persistent) EXPECT_GT(admission_refused, 0);
  // Bounded: the limit plus a fixed overhead over the idle daemon (gRPC's
  // per-connection buffers, SQLite's page cache, thread stacks).
  EXPECT_LT(peak_rss_kb - idle_rss_kb, (kInflightMib + 200) << 10);

  auto reader = store::StoreReader::Open(db);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<int64_t> spans = (*reader)->Count("spans");
  ASSERT_TRUE(spans.ok()) << spans.status();
  EXPECT_EQ(*spans, accepted_requests.load() * kSpans) << "an acknowledged span is missing";
}

}  // namespace
}  // namespace tracewire::receiver
