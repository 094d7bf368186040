// The tracewire CLI binary against a real in-process tracewired.

#include <gtest/gtest.h>

#include <cstdlib>

#include "receiver/daemon.h"
#include "testing/held_port.h"
#include "testing/test_env.h"

namespace tracewire {
namespace {

struct CliRun {
  int code;
  std::string out;
};

CliRun RunCli(const std::string& args, const std::string& env = "") {
  const testing::TempDir tmp("tw-cli");
  if (!tmp.ok()) return {-1, "no temporary directory"};
  const std::string out = tmp.path() + "/out.txt";
  const int rc = testing::Run(env + " " + std::string(TW_BIN_DIR) + "/tracewire send " + args +
                              " > " + out + " 2>&1");
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, testing::ReadFileOrEmpty(out)};
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
  EXPECT_NE(r.out.find("partial_success rejected=1 error_message=\"resource_spans[0]"),
            std::string::npos)
      << r.out;
  ASSERT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir_ + "/traces.jsonl"), "traces"), 19);
  const auto& m = daemon_->metrics().signals[0];
  EXPECT_LT(m.wire_bytes.load(), m.decompressed_bytes.load());
}

TEST_F(TracewireCli, ReadsTheStandardEnvironmentVariables) {
  CliRun r = RunCli("--traces 3", "OTEL_EXPORTER_OTLP_ENDPOINT=http://" + daemon_->address() +
                                      " OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20cli-token'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LastLine(r.out), "sent=3 delivered=3 rejected=0 retried=0 dropped=0") << r.out;
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
