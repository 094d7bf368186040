// What a user reads when an export or a listen fails: the endpoint or the
// address, and the cause, in one line per problem; gRPC's raw lines are not
// printed. Against real sockets on 127.0.0.1: a port bound and held but not
// listening (connections to it are refused), a plaintext gRPC server, and a
// port held by a listening socket.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/export_pipeline.h"
#include "exporter/grpc_log.h"
#include "exporter/grpc_transport.h"
#include "receiver/daemon.h"
#include "testing/scripted_receiver.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"

namespace tracewire::exporter {
namespace {

// A socket on 127.0.0.1 with a port of its own, held for the test's life:
// connections to it are refused unless `listen`, and nothing else can bind
// the port meanwhile.
class HeldPort {
 public:
  explicit HeldPort(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        (listen && ::listen(fd_, 1) != 0) ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~HeldPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Waits (up to 20 s) until the pipeline has seen `n` failed attempts.
bool AwaitFailedAttempts(ExportPipeline& p, int64_t n) {
  const absl::Time until = absl::Now() + absl::Seconds(20);
  while (absl::Now() < until) {
    int64_t failed = 0;
    for (const auto& [code, count] : p.Stats().failed_attempts) failed += count;
    if (failed >= n) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

TEST(ExportErrors, RefusedConnectionNamesTheEndpointOnceAndInTheShutdownStatus) {
  HeldPort refusing(/*listen=*/false);
  ASSERT_GT(refusing.port(), 0);
  OtlpExporterOptions o;
  o.endpoint = "http://" + refusing.address();
  o.max_in_flight = 1;
  o.retry.initial_backoff = absl::Milliseconds(1);  // several attempts, quickly
  o.retry.max_backoff = absl::Milliseconds(1);
  o.breaker.enabled = false;
  auto t = GrpcTransport::Create(o);
  ASSERT_TRUE(t.ok()) << t.status();
  ExportPipeline p(o, std::move(*t), common::RealClock::Get());
  ASSERT_TRUE(p.Start().ok());
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(p.Enqueue({wire::Signal::kTraces, tools::MakeStandardSpansRequest(2, 1), 2, 2}).ok());
  const bool failed_thrice = AwaitFailedAttempts(p, 3);
  const absl::Status st = p.Shutdown(absl::Now());
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(failed_thrice) << err;

  const std::string failed = "export to " + o.endpoint + " failed: UNAVAILABLE: ";
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("requests in flight were dropped; the last " + failed),
            std::string::npos)
      << st;
  EXPECT_NE(st.message().find("Connection refused"), std::string::npos) << st;
  // One line when the problem began, not one per attempt; no raw gRPC lines.
  EXPECT_EQ(Count(err, failed), 1) << err;
  EXPECT_NE(err.find("Connection refused; retrying"), std::string::npos) << err;
  EXPECT_EQ(Count(err, ".cc:"), 0) << err;
  EXPECT_EQ(p.Stats().dropped_total(), 2);
}

TEST(ExportErrors, TlsToAPlaintextPeerBecauseOfNoSchemeSaysSo) {
  testing::ScriptedReceiver plaintext;
  ASSERT_TRUE(plaintext.Start());
  const std::string address = plaintext.endpoint().substr(std::string("http://").size());
  OtlpExporterOptions o;
  o.endpoint = address;  // no scheme: TLS, as the OTLP specification says
  o.max_in_flight = 1;
  o.breaker.enabled = false;
  o.retry.initial_backoff = absl::Milliseconds(1);
  o.retry.max_backoff = absl::Milliseconds(1);
  auto t = GrpcTransport::Create(o);
  ASSERT_TRUE(t.ok()) << t.status();
  ExportPipeline p(o, std::move(*t), common::RealClock::Get());
  ASSERT_TRUE(p.Start().ok());
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(p.Enqueue({wire::Signal::kTraces, tools::MakeStandardSpansRequest(1, 1), 1, 1}).ok());
  const bool failed_twice = AwaitFailedAttempts(p, 2);
  const absl::Status st = p.Shutdown(absl::Now());
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(failed_twice) << err;

  const std::string hint = "(TLS was used because the endpoint '" + address +
                           "' has no http:// scheme, and the peer does not speak TLS; "
                           "for plaintext, use http://" +
                           address + ")";
  EXPECT_NE(p.Stats().last_error.find(hint), std::string::npos) << p.Stats().last_error;
  EXPECT_NE(st.message().find(hint), std::string::npos) << st;
  EXPECT_EQ(Count(err, hint), 1) << err;
  EXPECT_EQ(Count(err, "Handshake failed"), 0) << "gRPC's raw line was printed: " << err;
  EXPECT_EQ(plaintext.call_count(), 0u);
}

TEST(ExportErrors, AnHttpsEndpointGetsNoSchemeHint) {
  testing::ScriptedReceiver plaintext;
  ASSERT_TRUE(plaintext.Start());
  OtlpExporterOptions o;
  o.endpoint = "https://" + plaintext.endpoint().substr(std::string("http://").size());
  auto t = GrpcTransport::Create(o);
  ASSERT_TRUE(t.ok()) << t.status();
  const SendResult r = (*t)->Send(wire::Signal::kTraces, tools::MakeStandardSpansRequest(1, 1),
                                  absl::Now() + absl::Seconds(10));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_EQ(r.status.message().find("no http:// scheme"), std::string::npos) << r.status;
}

TEST(ExportErrors, ReceiverThatCannotListenSaysWhyWithoutGrpcLines) {
  HeldPort taken(/*listen=*/true);
  ASSERT_GT(taken.port(), 0);
  receiver::DaemonConfig c;
  c.listen = taken.address();
  c.http_listen = "";
  c.metrics_listen = "";
  c.sink = "none";
  receiver::Daemon d(c);
  ::testing::internal::CaptureStderr();
  const absl::Status st = d.Start();
  const std::string err = ::testing::internal::GetCapturedStderr();
  (void)d.Shutdown(absl::Now() + absl::Seconds(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "cannot listen on " + taken.address() + ": Address already in use");
  EXPECT_EQ(err, "") << "gRPC's own lines were printed";
}

TEST(GrpcErrorCause, TakesTheInnermostMessage) {
  EXPECT_EQ(GrpcErrorCause("UNKNOWN:Name or service not known {grpc_status:2, "
                           "created_time:\"2026-12-04T18:42:18+00:00\", file_line:153}"),
            "Name or service not known");
  EXPECT_EQ(
      GrpcErrorCause("UNKNOWN:No address added out of total 1 resolved for 'h:1' "
                     "{created_time:\"x\", children:[UNKNOWN:Unable to configure socket "
                     "{fd:5, children:[UNKNOWN:Address already in use {syscall:\"bind\"}]}]}"),
      "Address already in use");
  EXPECT_EQ(GrpcErrorCause("  plain text "), "plain text");
  EXPECT_EQ(GrpcErrorCause(""), "");
}

}  // namespace
}  // namespace tracewire::exporter
