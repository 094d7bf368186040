// One owner per port: a second tracewired on a port in use refuses to start,
// naming the port, for the OTLP port and the /metrics port alike.
#include <string>

#include "gtest/gtest.h"
#include "receiver/daemon.h"
#include "testing/test_env.h"

namespace tracewire::receiver {
namespace {

DaemonConfig Config(const std::string& listen, const std::string& metrics_listen,
                    const std::string& http_listen = "") {
  DaemonConfig c;
  c.listen = listen;
  c.http_listen = http_listen;  // "": off (a fixed gRPC port would take 4318)
  c.metrics_listen = metrics_listen;
  c.sink = "none";
  return c;
}

TEST(PortOwner, ASecondDaemonOnTheOtlpPortRefusesToStart) {
  Daemon first(Config("127.0.0.1:0", ""));
  ASSERT_TRUE(first.Start().ok());
  const std::string taken = first.address();
  Daemon second(Config(taken, ""));
  absl::Status st = second.Start();
  (void)second.Shutdown(absl::Now() + absl::Seconds(5));
  EXPECT_FALSE(st.ok()) << "a second daemon started on " << taken;
  EXPECT_NE(std::string(st.message()).find(taken), std::string::npos) << st;
  EXPECT_NE(std::string(st.message()).find("in use"), std::string::npos) << st;
  EXPECT_TRUE(first.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST(PortOwner, ASecondDaemonOnTheMetricsPortRefusesToStart) {
  Daemon first(Config("127.0.0.1:0", "127.0.0.1:0"));
  ASSERT_TRUE(first.Start().ok());
  const std::string taken = "127.0.0.1:" + std::to_string(first.metrics_port());
  Daemon second(Config("127.0.0.1:0", taken));
  absl::Status st = second.Start();
  (void)second.Shutdown(absl::Now() + absl::Seconds(5));
  EXPECT_FALSE(st.ok()) << "a second /metrics started on " << taken;
  EXPECT_NE(std::string(st.message()).find(taken), std::string::npos) << st;
  EXPECT_NE(std::string(st.message()).find("in use"), std::string::npos) << st;
  EXPECT_TRUE(first.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST(PortOwner, ASecondDaemonOnTheOtlpHttpPortRefusesToStart) {
  Daemon first(Config("127.0.0.1:0", "", "127.0.0.1:0"));
  ASSERT_TRUE(first.Start().ok());
  const std::string taken = first.http_address();
  Daemon second(Config("127.0.0.1:0", "", taken));
  absl::Status st = second.Start();
  (void)second.Shutdown(absl::Now() + absl::Seconds(5));
  EXPECT_FALSE(st.ok()) << "a second OTLP/HTTP listener started on " << taken;
  EXPECT_NE(std::string(st.message()).find(taken), std::string::npos) << st;
  EXPECT_NE(std::string(st.message()).find("in use"), std::string::npos) << st;
  EXPECT_TRUE(first.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace tracewire::receiver
