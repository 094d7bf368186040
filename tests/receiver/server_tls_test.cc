// Certificate rotation in tracewired (receiver/server_tls.h): real TLS on
// 127.0.0.1:0 with certificates made by openssl. Two certificate sets, A and
// B, each with its own CA; the daemon's files are replaced as rotation tools
// do (a new file renamed over the old one). Waits poll with a bound.

#include "receiver/server_tls.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "httplib.h"
#include "receiver/daemon.h"
#include "testing/held_port.h"
#include "testing/test_env.h"
#include "testing/tracewired_process.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"

namespace tracewire::receiver {
namespace {

// Puts a copy of `from` at `to` by rename, as certificate rotation tools do.
void Replace(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to + ".new", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".new", to);
}

// Runs a shell command; returns its output (stdout and stderr).
std::string Output(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

class ServerTlsRotation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    for (const char* d : {"/a", "/b", "/live", "/data"}) {
      std::filesystem::create_directories(tmp_.path() + d);
    }
    a_ = testing::MakeCerts(tmp_.path() + "/a");
    b_ = testing::MakeCerts(tmp_.path() + "/b");
    ASSERT_TRUE(a_.ok && b_.ok) << "openssl failed";
    Install(a_);
  }
  void TearDown() override {
    if (daemon_) EXPECT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  }

  // The daemon's certificate, key and client CA become those of `c`.
  void Install(const testing::Certs& c) {
    Replace(c.server_cert, cert_);
    Replace(c.server_key, key_);
    Replace(c.ca, ca_);
  }

  DaemonConfig Config(int64_t reload_interval_s, bool mtls) {
    DaemonConfig c;
    c.listen = "127.0.0.1:0";
    c.metrics_listen = "";
    c.sink = "file";
    c.file_dir = tmp_.path() + "/data";
    c.tls_cert_file = cert_;
    c.tls_key_file = key_;
    if (mtls) c.tls_client_ca_file = ca_;
    c.tls_reload_interval_s = reload_interval_s;
    return c;
  }
  void StartDaemon(const DaemonConfig& c) {
    daemon_ = std::make_unique<Daemon>(c);
    ASSERT_TRUE(daemon_->Start().ok());
    address_ = daemon_->address();
  }

  // A channel on a connection of its own that trusts only `trust`'s CA and,
  // with `client`, presents `client`'s client certificate.
  std::shared_ptr<::grpc::Channel> Channel(const testing::Certs& trust,
                                           const testing::Certs* client = nullptr) {
    ::grpc::SslCredentialsOptions o;
    o.pem_root_certs = testing::ReadFileOrEmpty(trust.ca);
    if (client != nullptr) {
      o.pem_cert_chain = testing::ReadFileOrEmpty(client->client_cert);
      o.pem_private_key = testing::ReadFileOrEmpty(client->client_key);
    }
    ::grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return ::grpc::CreateCustomChannel(address_, ::grpc::SslCredentials(o), args);
  }
  ::grpc::Status Send(const std::shared_ptr<::grpc::Channel>& channel) {
    tools::GenericCaller caller(channel);
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return caller.Call(&ctx, tools::kTraceExportMethod, tools::MakeTracesRequest(1, {})).status;
  }
  // Sends on new connections until one is accepted, for at most `bound`.
  bool AcceptedWithin(const testing::Certs& trust, const testing::Certs* client,
                      absl::Duration bound) {
    for (const absl::Time until = absl::Now() + bound; absl::Now() < until;) {
      if (Send(Channel(trust, client)).ok()) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // The status of an https POST to the OTLP/HTTP listener on a connection
  // of its own, trusting only `trust`'s CA and, with `client`, presenting
  // `client`'s client certificate; -1 when the handshake or the connection
  // failed.
  int HttpsStatus(const testing::Certs& trust, const testing::Certs* client = nullptr) {
    std::unique_ptr<httplib::SSLClient> https =
        client != nullptr
            ? std::make_unique<httplib::SSLClient>("127.0.0.1", daemon_->http_port(),
                                                   client->client_cert, client->client_key)
            : std::make_unique<httplib::SSLClient>("127.0.0.1", daemon_->http_port());
    https->set_ca_cert_path(trust.ca.c_str());
    https->enable_server_certificate_verification(true);
    https->set_connection_timeout(5, 0);
    https->set_read_timeout(5, 0);
    auto r = https->Post("/v1/traces", tools::MakeTracesRequest(1, {}), "application/x-protobuf");
    return r ? r->status : -1;
  }

  const testing::TempDir tmp_{"tw-rotate"};
  const std::string cert_ = tmp_.path() + "/live/server.pem";
  const std::string key_ = tmp_.path() + "/live/server.key";
  const std::string ca_ = tmp_.path() + "/live/client_ca.pem";
  testing::Certs a_, b_;
  std::unique_ptr<Daemon> daemon_;
  std::string address_;
};

TEST_F(ServerTlsRotation, ReplacedFilesServeTheNewCertificateAndKeepOpenConnections) {
  StartDaemon(Config(/*reload_interval_s=*/1, /*mtls=*/true));
  const auto before = Channel(a_, &a_);
  ASSERT_TRUE(Send(before).ok());

  Install(b_);  // a new certificate, key and client CA, from another CA
  EXPECT_TRUE(AcceptedWithin(b_, &b_, absl::Seconds(20))) << "the new certificate was not taken";
  // At least once: the timer may have read the files between two of the
  // three renames (B's key with A's CA is a good set too; B's certificate
  // with A's key is refused and counted, and the next check takes the rest).
  EXPECT_GE(daemon_->metrics().tls_reloads.load(), 1);
  // Trusting only the old CA: refused (the server's certificate is B's).
  EXPECT_EQ(Send(Channel(a_, &a_)).error_code(), ::grpc::StatusCode::UNAVAILABLE);
  // An old client certificate: refused (the client CA is B's now).
  EXPECT_EQ(Send(Channel(b_, &a_)).error_code(), ::grpc::StatusCode::UNAVAILABLE);
  // The connection opened before the swap keeps working: no new handshake
  // (one with A's trust would fail now).
  ::grpc::Status kept = Send(before);
  EXPECT_TRUE(kept.ok()) << kept.error_message();
}

// The OTLP/HTTP listener follows the same files (receiver/http_tls.h).
TEST_F(ServerTlsRotation, TheHttpListenerFollowsTheRotationToo) {
  StartDaemon(Config(/*reload_interval_s=*/1, /*mtls=*/true));
  ASSERT_GT(daemon_->http_port(), 0);
  EXPECT_EQ(HttpsStatus(a_, &a_), 200);
  EXPECT_EQ(HttpsStatus(a_), -1) << "no client certificate: refused";

  Install(b_);
  bool taken = false;
  for (const absl::Time until = absl::Now() + absl::Seconds(20); !taken && absl::Now() < until;) {
    taken = HttpsStatus(b_, &b_) == 200;
    if (!taken) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(taken) << "the OTLP/HTTP listener did not take the new certificate";
  EXPECT_EQ(HttpsStatus(a_, &a_), -1) << "the server's certificate is B's";
  EXPECT_EQ(HttpsStatus(b_, &a_), -1) << "the client CA is B's";
}

TEST_F(ServerTlsRotation, ABrokenReplacementKeepsTheCurrentCertificateAndIsCounted) {
  StartDaemon(Config(/*reload_interval_s=*/0, /*mtls=*/false));
  ASSERT_TRUE(Send(Channel(a_)).ok());

  // B's certificate with A's key: refused, A stays.
  Replace(b_.server_cert, cert_);
  absl::Status st = daemon_->ReloadTls();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("receiver.tls.key_file"), std::string::npos) << st;
  EXPECT_EQ(daemon_->metrics().tls_reload_failures.load(), 1);
  // Not a certificate at all.
  {
    std::ofstream(cert_ + ".new") << "-----BEGIN CERTIFICATE-----\nnot base64\n";
    std::filesystem::rename(cert_ + ".new", cert_);
  }
  st = daemon_->ReloadTls();
  EXPECT_NE(st.message().find("receiver.tls.cert_file"), std::string::npos) << st;
  // Unreadable.
  std::filesystem::remove(key_);
  st = daemon_->ReloadTls();
  EXPECT_NE(st.message().find("cannot read"), std::string::npos) << st;
  EXPECT_EQ(daemon_->metrics().tls_reload_failures.load(), 3);
  EXPECT_EQ(daemon_->metrics().tls_reloads.load(), 0);
  // New handshakes still get A's certificate. Nothing was published (the
  // counters say so); the wait gives gRPC's one-second provider the time to
  // read anything that had been, since an absence cannot be awaited.
  absl::SleepFor(absl::Milliseconds(1500));
  ::grpc::Status still = Send(Channel(a_));
  EXPECT_TRUE(still.ok()) << still.error_message();
  EXPECT_NE(daemon_->metrics().RenderPrometheus().find(
                "tracewire_receiver_tls_reloads{result=\"failed\"} 3"),
            std::string::npos);

  // A good pair again is taken.
  Install(b_);
  ASSERT_TRUE(daemon_->ReloadTls().ok());
  EXPECT_TRUE(AcceptedWithin(b_, nullptr, absl::Seconds(10)));
  EXPECT_EQ(daemon_->metrics().tls_reloads.load(), 1);
}

TEST_F(ServerTlsRotation, StartFailsOnAKeyThatIsNotTheCertificates) {
  Replace(b_.server_key, key_);
  Daemon d(Config(0, false));
  absl::Status st = d.Start();
  (void)d.Shutdown(absl::Now() + absl::Seconds(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("receiver.tls.key_file"), std::string::npos) << st;
}

TEST_F(ServerTlsRotation, Tls11IsRefusedAndTls12Accepted) {
  // SECLEVEL=0 lets this OpenSSL 3 client offer TLS 1.1 at all, so that a
  // refusal is the server's.
  const std::string v11_flags = " -tls1_1 -cipher DEFAULT:@SECLEVEL=0 </dev/null";
  // The control: this client completes TLS 1.1 with a server that allows it
  // (openssl s_server, which quits at the end of its input: fed by sleep).
  {
    testing::HeldPort port;
    ASSERT_TRUE(port.ok());
    port.Release();
    ASSERT_EQ(testing::Run("(sleep 10 | openssl s_server -accept " + port.address() + " -cert " +
                           a_.server_cert + " -key " + a_.server_key +
                           " -tls1_1 -cipher DEFAULT:@SECLEVEL=0 -naccept 1 >/dev/null 2>&1 &)"),
              0);
    std::string control;
    for (int i = 0; i < 50 && control.find("New, TLSv1") == std::string::npos; ++i) {
      absl::SleepFor(absl::Milliseconds(100));  // bounded: 5 s for s_server to listen
      control = Output("openssl s_client -connect " + port.address() + v11_flags);
    }
    ASSERT_NE(control.find("New, TLSv1"), std::string::npos) << control;
  }
  StartDaemon(Config(0, false));
  const std::string base =
      "openssl s_client -connect 127.0.0.1:" + std::to_string(daemon_->port()) +
      " -servername localhost";
  // tracewired answers a TLS 1.1 ClientHello with nothing (gRPC closes the
  // connection without sending its alert): no ServerHello, no session.
  const std::string v11 = Output(base + v11_flags);
  EXPECT_NE(v11.find("SSL handshake has read 0 bytes"), std::string::npos) << v11;
  EXPECT_NE(v11.find("New, (NONE), Cipher is (NONE)"), std::string::npos) << v11;
  const std::string v12 = Output(base + " -tls1_2 -alpn h2 </dev/null");
  EXPECT_NE(v12.find("New, TLSv1.2"), std::string::npos) << v12;
  // The OTLP/HTTP listener alike (OpenSSL's server answers with an alert).
  ASSERT_GT(daemon_->http_port(), 0);
  const std::string http =
      "openssl s_client -connect 127.0.0.1:" + std::to_string(daemon_->http_port()) +
      " -servername localhost";
  const std::string http_v11 = Output(http + v11_flags);
  EXPECT_NE(http_v11.find("New, (NONE), Cipher is (NONE)"), std::string::npos) << http_v11;
  const std::string http_v12 = Output(http + " -tls1_2 </dev/null");
  EXPECT_NE(http_v12.find("New, TLSv1.2"), std::string::npos) << http_v12;
}

// The real tracewired: SIGHUP reads the files at once (no reload timer).
TEST_F(ServerTlsRotation, SighupReloadsAtOnce) {
  testing::Child c =
      testing::Spawn({"--listen", "127.0.0.1:0", "--metrics-listen", "", "--sink", "none",
                      "--tls-cert", cert_, "--tls-key", key_, "--tls-reload-interval-s", "0"});
  ASSERT_GT(c.pid, 0);
  address_ = testing::ReadAddress(c.out_fd);
  ASSERT_FALSE(address_.empty());
  const auto before = Channel(a_);
  EXPECT_TRUE(Send(before).ok());
  Install(b_);
  // Without a timer nothing reads the files before the signal.
  EXPECT_EQ(Send(Channel(b_)).error_code(), ::grpc::StatusCode::UNAVAILABLE);
  ASSERT_EQ(::kill(c.pid, SIGHUP), 0);
  EXPECT_TRUE(AcceptedWithin(b_, nullptr, absl::Seconds(10)));
  EXPECT_TRUE(Send(before).ok()) << "the connection opened before SIGHUP was dropped";
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  EXPECT_EQ(testing::WaitExit(c.pid, 30), 0);
  ::close(c.out_fd);
}

}  // namespace
}  // namespace tracewire::receiver
