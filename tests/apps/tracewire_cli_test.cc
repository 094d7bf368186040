// The tracewire CLI binary against a real in-process tracewired.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "receiver/daemon.h"
#include "testing/held_port.h"
#include "testing/test_env.h"
#include "tracewire/version.h"

namespace tracewire {
namespace {

struct CliRun {
  int code;
  std::string out;
};

// Runs build/bin/<program> <args>; stdout and stderr together.
CliRun RunTool(const std::string& program, const std::string& args, const std::string& env = "") {
  const testing::TempDir tmp("tw-cli");
  if (!tmp.ok()) return {-1, "no temporary directory"};
  const std::string out = tmp.path() + "/out.txt";
  const int rc = testing::Run(env + " " + std::string(TW_BIN_DIR) + "/" + program + " " + args +
                              " > " + out + " 2>&1");
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, testing::ReadFileOrEmpty(out)};
}

CliRun RunCli(const std::string& args, const std::string& env = "") {
  return RunTool("tracewire", "send " + args, env);
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string LastLine(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') + 1);
}

class TracewireCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    receiver::DaemonConfig c;
    c.listen = "127.0.0.1:0";
    c.metrics_listen = "127.0.0.1:0";
    c.sink = "file";
    c.file_dir = dir_;
    c.bearer_tokens = {"cli-token"};
    daemon_ = std::make_unique<receiver::Daemon>(c);
    ASSERT_TRUE(daemon_->Start().ok());
  }
  const testing::TempDir tmp_{"tw-cli-d"};  // Outlives daemon_, which writes in it.
  const std::string dir_ = tmp_.path();
  std::unique_ptr<receiver::Daemon> daemon_;
};

TEST_F(TracewireCli, SendsEverySignalWithHeadersAndGzip) {
  CliRun r = RunCli("--endpoint http://" + daemon_->address() +
                    " --traces 20 --metrics 5 --logs 7 --invalid 1 --gzip"
                    " --header 'Authorization=Bearer cli-token'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LastLine(r.out), "sent=37 delivered=33 rejected=4 retried=0 dropped=0") << r.out;
  EXPECT_NE(r.out.find("partial_success rejected=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected 1 items: resource_spans[0]"), std::string::npos) << r.out;
  ASSERT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir_ + "/traces.jsonl"), "traces"), 19);
  const auto& m = daemon_->metrics().signals[0];
  EXPECT_LT(m.wire_bytes.load(), m.decompressed_bytes.load());
}

TEST_F(TracewireCli, ReadsTheStandardEnvironmentVariables) {
  CliRun r =
      RunCli("--traces 3", "OTEL_EXPORTER_OTLP_ENDPOINT=http://" + daemon_->address() +
                               " OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20cli-token'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LastLine(r.out), "sent=3 delivered=3 rejected=0 retried=0 dropped=0") << r.out;
}

TEST_F(TracewireCli, SendsOverHttpProtobufWithTheProtocolFlag) {
  ASSERT_GT(daemon_->http_port(), 0);
  CliRun r = RunCli("--protocol http/protobuf --endpoint http://" + daemon_->http_address() +
                    " --traces 20 --metrics 5 --logs 7 --invalid 1 --gzip"
                    " --header 'Authorization=Bearer cli-token'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LastLine(r.out), "sent=37 delivered=33 rejected=4 retried=0 dropped=0") << r.out;
  ASSERT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir_ + "/traces.jsonl"), "traces"), 19);
}

TEST_F(TracewireCli, ReadsTheProtocolVariableAndAppendsTheSignalPath) {
  CliRun r =
      RunCli("--traces 3 --logs 2",
             "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT=http://" +
                 daemon_->http_address() +
                 " OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20cli-token'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LastLine(r.out), "sent=5 delivered=5 rejected=0 retried=0 dropped=0") << r.out;
  // Without a token: 401 is not retried.
  r = RunCli("--protocol http/protobuf --endpoint http://" + daemon_->http_address() +
             " --traces 2");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("UNAUTHENTICATED"), std::string::npos) << r.out;
}

TEST_F(TracewireCli, FailsWithNonZeroExitOnRefusal) {
  CliRun r = RunCli("--endpoint http://" + daemon_->address() + " --traces 4");  // no token
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(LastLine(r.out), "sent=4 delivered=0 rejected=0 retried=0 dropped=4") << r.out;
  EXPECT_NE(r.out.find("non_retryable=4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("UNAUTHENTICATED"), std::string::npos) << r.out;
}

TEST_F(TracewireCli, BadVariableIsNamed) {
  CliRun r = RunCli("--traces 1", "OTEL_EXPORTER_OTLP_TIMEOUT=soon");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("OTEL_EXPORTER_OTLP_TIMEOUT: 'soon'"), std::string::npos) << r.out;
}

TEST_F(TracewireCli, SteadyRate) {
  CliRun r = RunCli("--endpoint http://" + daemon_->address() +
                    " --header authorization='Bearer cli-token' --rate 200 --duration 1");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LastLine(r.out), "sent=200 delivered=200 rejected=0 retried=0 dropped=0") << r.out;
}

TEST_F(TracewireCli, WithoutCountsSendsTenOfEachSignal) {
  CliRun r = RunCli("--endpoint http://" + daemon_->address() +
                    " --header authorization='Bearer cli-token'");
  EXPECT_EQ(r.code, 0) << r.out;
  // 10 spans, 10 metrics of 2 data points, 10 log records.
  EXPECT_EQ(LastLine(r.out), "sent=40 delivered=40 rejected=0 retried=0 dropped=0") << r.out;
}

// The trace ids and the earliest start time of each request the file sink
// stored, in order.
struct StoredRequest {
  std::set<std::string> trace_ids;
  int64_t first_start_ns = INT64_MAX;
};
std::vector<StoredRequest> StoredTraces(const std::string& dir) {
  std::vector<StoredRequest> out;
  for (const auto& line : testing::ReadJsonLines(dir + "/traces.jsonl")) {
    StoredRequest r;
    for (const auto& rs : line["resourceSpans"]) {
      for (const auto& ss : rs["scopeSpans"]) {
        for (const auto& span : ss["spans"]) {
          r.trace_ids.insert(span["traceId"].get<std::string>());
          r.first_start_ns = std::min<int64_t>(
              r.first_start_ns, std::stoll(span["startTimeUnixNano"].get<std::string>()));
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

TEST_F(TracewireCli, FreshIdsAndTheCurrentTimeUnlessSeeded) {
  const std::string send = "--endpoint http://" + daemon_->address() +
                           " --header authorization='Bearer cli-token' --traces 8";
  const int64_t before = absl::ToUnixNanos(absl::Now());
  for (const char* extra : {"", "", " --seed 7", " --seed 7"}) {
    CliRun r = RunCli(send + extra);
    ASSERT_EQ(r.code, 0) << r.out;
  }
  ASSERT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  const std::vector<StoredRequest> runs = StoredTraces(dir_);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].trace_ids.size(), 2u);  // a new trace every 4 spans
  EXPECT_NE(runs[0].trace_ids, runs[1].trace_ids) << "two runs repeated the same ids";
  // Unseeded: now, give or take the run (the spans of a request end about now).
  for (int i : {0, 1}) {
    EXPECT_GT(runs[i].first_start_ns, before - int64_t{60} * 1000000000);
    EXPECT_LT(runs[i].first_start_ns, absl::ToUnixNanos(absl::Now()));
  }
  // --seed: the same data again, at the fixed time.
  EXPECT_EQ(runs[2].trace_ids, runs[3].trace_ids);
  EXPECT_EQ(runs[2].first_start_ns, runs[3].first_start_ns);
  EXPECT_NE(runs[2].trace_ids, runs[0].trace_ids);
}

TEST_F(TracewireCli, EachRejectionReasonIsPrintedOnce) {
  // Two seconds of one-span requests, every span invalid for the same reason:
  // ~40 rejections with one message, across more than one second.
  CliRun r = RunCli("--endpoint http://" + daemon_->address() +
                    " --header authorization='Bearer cli-token' --rate 20 --duration 2"
                    " --batch 1 --invalid 1000");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(LastLine(r.out).find("rejected=40 "), std::string::npos) << r.out;
  EXPECT_EQ(Count(r.out, "trace_id is all zero"), 1) << r.out;
}

TEST(TracewireCliVersion, BothToolsPrintTheirVersion) {
  for (const char* tool : {"tracewire", "tracewired"}) {
    CliRun r = RunTool(tool, "--version");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(r.out, std::string(tool) + " " TRACEWIRE_VERSION_STRING "\n");
  }
}

TEST(TracewireCliHelp, ShowsTheDefaults) {
  CliRun send = RunTool("tracewire", "send --help");
  EXPECT_EQ(send.code, 0) << send.out;
  EXPECT_NE(send.out.find("--batch INT=512"), std::string::npos) << send.out;
  EXPECT_NE(send.out.find("--max-wait FLOAT=30"), std::string::npos) << send.out;
  CliRun daemon = RunTool("tracewired", "--help");
  EXPECT_EQ(daemon.code, 0) << daemon.out;
  EXPECT_NE(daemon.out.find("--listen TEXT=127.0.0.1:4317"), std::string::npos) << daemon.out;
  EXPECT_NE(daemon.out.find("--shutdown-timeout-s INT=30"), std::string::npos) << daemon.out;
}

// A port held by a listening socket of the test: tracewired cannot bind it.
class TakenPort {
 public:
  TakenPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::listen(fd_, 1) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    }
  }
  ~TakenPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

TEST(TracewiredCli, CannotListenIsOneLineNamingTheFlagAndTheCause) {
  TakenPort taken;
  ASSERT_FALSE(taken.address().empty());
  CliRun r =
      RunTool("tracewired", "--sink none --listen " + taken.address() + " --metrics-listen ''");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(r.out, "tracewired: cannot listen on " + taken.address() +
                       " (--listen): Address already in use\n");
  // gRPC's detail is still there when asked for.
  CliRun verbose =
      RunTool("tracewired", "--sink none --listen " + taken.address() + " --metrics-listen ''",
              "GRPC_VERBOSITY=DEBUG");
  EXPECT_EQ(verbose.code, 2) << verbose.out;
  EXPECT_NE(verbose.out.find("chttp2_server.cc:"), std::string::npos) << verbose.out;
  EXPECT_NE(verbose.out.find(" (--listen): Address already in use"), std::string::npos)
      << verbose.out;
}

TEST(TracewiredCli, ExampleConfigValidates) {
  CliRun r = RunTool("tracewired", "--validate-config " + std::string(TW_SOURCE_DIR) +
                                       "/config/tracewired.example.yaml");
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST(TracewireCliNoServer, UnreachableEndpointEndsByMaxWait) {
  const testing::HeldPort refusing;
  ASSERT_TRUE(refusing.ok());
  CliRun r =
      RunCli("--endpoint http://" + refusing.address() + " --traces 2 --timeout 0.2 --max-wait 1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(LastLine(r.out).find("delivered=0"), std::string::npos) << r.out;
  EXPECT_NE(LastLine(r.out).find("dropped=2"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tracewire
