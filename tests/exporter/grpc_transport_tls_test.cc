// Certificate rotation in the exporter (GrpcTransport, tls_material.h):
// against the real tracewired receiver with mTLS on 127.0.0.1, certificates
// made by openssl. Two sets, A and B, each with its own CA.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "exporter/grpc_transport.h"
#include "exporter/tls_material.h"
#include "receiver/daemon.h"
#include "testing/held_port.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"
#include "tracewire/otlp_exporter.h"
#include "wire/otlp_signal.h"

namespace tracewire {
namespace {

using exporter::GrpcTransport;
using exporter::LoadTlsMaterial;
using exporter::TlsFiles;
using receiver::Daemon;
using receiver::DaemonConfig;

void Replace(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to + ".new", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".new", to);
}

class ExporterTlsRotation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    for (const char* d : {"/a", "/b", "/live", "/data"}) {
      std::filesystem::create_directories(tmp_.path() + d);
    }
    a_ = testing::MakeCerts(tmp_.path() + "/a");
    b_ = testing::MakeCerts(tmp_.path() + "/b");
    ASSERT_TRUE(a_.ok && b_.ok) << "openssl failed";
    ASSERT_TRUE(port_.ok());
    InstallClient(a_);
  }
  void TearDown() override { StopDaemon(); }

  // The exporter's client certificate and key become `c`'s.
  void InstallClient(const testing::Certs& c) {
    Replace(c.client_cert, cert_);
    Replace(c.client_key, key_);
  }
  // A daemon on port_ with A's server certificate that accepts only client
  // certificates from `client_ca`'s CA.
  void StartDaemon(const testing::Certs& client_ca) {
    DaemonConfig c;
    c.listen = port_.address();
    c.http_listen = "";  // a fixed gRPC port would take 4318 for OTLP/HTTP
    c.metrics_listen = "";
    c.sink = "file";
    c.file_dir = tmp_.path() + "/data";
    c.tls_cert_file = a_.server_cert;
    c.tls_key_file = a_.server_key;
    c.tls_client_ca_file = client_ca.ca;
    port_.Release();
    daemon_ = std::make_unique<Daemon>(c);
    ASSERT_TRUE(daemon_->Start().ok());
  }
  void StopDaemon() {
    if (!daemon_) return;
    EXPECT_TRUE(daemon_->Shutdown(absl::Now() + absl::Seconds(10)).ok());
    daemon_.reset();
    EXPECT_TRUE(port_.Hold());
  }
  OtlpExporterOptions Options(absl::Duration reload_interval) {
    OtlpExporterOptions o;
    o.endpoint = "https://" + port_.address();
    o.ca_file = a_.ca;
    o.client_cert_file = cert_;
    o.client_key_file = key_;
    o.tls_reload_interval = reload_interval;
    return o;
  }
  int64_t StoredSpans() {
    return testing::CountItems(testing::ReadJsonLines(tmp_.path() + "/data/traces.jsonl"),
                               "traces");
  }

  const testing::TempDir tmp_{"tw-exp-rotate"};
  const std::string cert_ = tmp_.path() + "/live/client.pem";
  const std::string key_ = tmp_.path() + "/live/client.key";
  testing::Certs a_, b_;
  testing::HeldPort port_;
  std::unique_ptr<Daemon> daemon_;
};

// The server moves to a client CA that only the new client certificate
// chains to: the exporter gets through once it has read its rotated files.
TEST_F(ExporterTlsRotation, ARotatedClientCertificateReachesAServerRequiringTheNewCa) {
  StartDaemon(a_);
  auto e = OtlpExporter::Create(ExportSignal::kTraces, Options(absl::Milliseconds(100)));
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE((*e)->ExportEncoded(tools::MakeStandardSpansRequest(5, 1)).ok());
  ASSERT_TRUE((*e)->ForceFlush(absl::Now() + absl::Seconds(20)).ok());
  EXPECT_EQ((*e)->Stats().exported_items, 5);

  StopDaemon();
  InstallClient(b_);
  StartDaemon(b_);  // requires a client certificate from B's CA
  ASSERT_TRUE((*e)->ExportEncoded(tools::MakeStandardSpansRequest(7, 2)).ok());
  absl::Status flushed = (*e)->ForceFlush(absl::Now() + absl::Seconds(30));
  EXPECT_TRUE(flushed.ok()) << flushed;
  EXPECT_EQ((*e)->Stats().exported_items, 12);
  EXPECT_EQ((*e)->Stats().tls_reloads, 1);  // B's files, read once
  EXPECT_EQ((*e)->Stats().tls_reload_failures, 0);
  ASSERT_TRUE((*e)->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  StopDaemon();
  EXPECT_EQ(StoredSpans(), 12);  // 5 through the first daemon, 7 through the second
}

// No timer: the files are read again only when the process asks
// (RequestTlsReload, tracewired's SIGHUP); a broken replacement keeps the
// channel and is counted.
TEST_F(ExporterTlsRotation, ReloadsOnRequestAndKeepsTheChannelOnBadFiles) {
  StartDaemon(a_);
  auto t = GrpcTransport::Create(Options(absl::ZeroDuration()));
  ASSERT_TRUE(t.ok()) << t.status();
  const std::string req = tools::MakeStandardSpansRequest(2, 3);
  auto send = [&] {
    return (*t)->Send(wire::Signal::kTraces, req, absl::Now() + absl::Seconds(10)).status;
  };
  ASSERT_TRUE(send().ok());
  const auto first = (*t)->channel();

  // B's certificate with A's key: bad. Asked to reload, the transport keeps
  // its channel and counts the failure.
  Replace(b_.client_cert, cert_);
  EXPECT_TRUE(send().ok());
  EXPECT_EQ((*t)->channel(), first) << "read the files without being asked";
  exporter::RequestTlsReload();
  EXPECT_TRUE(send().ok());
  EXPECT_EQ((*t)->channel(), first);
  EXPECT_EQ((*t)->tls_reload_failures(), 1);
  EXPECT_EQ((*t)->tls_reloads(), 0);

  // A good pair (B's, which this server refuses): taken at the next request.
  Replace(b_.client_key, key_);
  exporter::RequestTlsReload();
  EXPECT_EQ(send().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE((*t)->channel(), first);
  EXPECT_EQ((*t)->tls_reloads(), 1);
  // And back to A's, directly.
  InstallClient(a_);
  ASSERT_TRUE((*t)->ReloadTls().ok());
  EXPECT_TRUE(send().ok());
  EXPECT_EQ((*t)->tls_reloads(), 2);
}

// TLS 1.2 is the exporter's minimum too: against an openssl s_server that
// speaks only TLS 1.1 no handshake completes; against one at TLS 1.2 (the
// control) it does. The server's own log tells which.
TEST(ExporterTlsVersion, AServerOfferingOnlyTls11IsRefused) {
  const testing::TempDir tmp("tw-exp-tls11");
  ASSERT_TRUE(tmp.ok());
  const testing::Certs certs = testing::MakeCerts(tmp.path());
  ASSERT_TRUE(certs.ok) << "openssl failed";
  auto handshake_log = [&](const std::string& flags) {
    testing::HeldPort port;
    EXPECT_TRUE(port.ok());
    port.Release();
    const std::string log = tmp.path() + "/s_server" + std::to_string(flags.size()) + ".log";
    // s_server ends at the end of its input (sleep) or after one connection.
    EXPECT_EQ(testing::Run("(sleep 15 | openssl s_server -accept " + port.address() + " -cert " +
                           certs.server_cert + " -key " + certs.server_key + " " + flags +
                           " -naccept 1 >" + log + " 2>&1 &)"),
              0);
    auto read = [&] {
      std::ifstream in(log);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    for (int i = 0; i < 100 && read().find("ACCEPT") == std::string::npos; ++i) {
      absl::SleepFor(absl::Milliseconds(50));  // bounded: 5 s for s_server to listen
    }
    OtlpExporterOptions o;
    o.endpoint = "https://" + port.address();
    o.ca_file = certs.ca;
    auto t = GrpcTransport::Create(o);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return std::string();
    // s_server speaks no gRPC: the call fails either way; what differs is
    // whether the TLS handshake completed first.
    EXPECT_FALSE((*t)->Send(wire::Signal::kTraces, tools::MakeStandardSpansRequest(1, 1),
                            absl::Now() + absl::Seconds(5))
                     .status.ok());
    std::string out = read();
    for (int i = 0; i < 100 && out.find("CIPHER is") == std::string::npos &&
                    out.find("ERROR") == std::string::npos;
         ++i) {
      absl::SleepFor(absl::Milliseconds(50));  // bounded: 5 s
      out = read();
    }
    return out;
  };
  const std::string v12 = handshake_log("-tls1_2 -alpn h2");
  EXPECT_NE(v12.find("CIPHER is"), std::string::npos) << v12;
  const std::string v11 = handshake_log("-tls1_1 -cipher DEFAULT:@SECLEVEL=0");
  EXPECT_EQ(v11.find("CIPHER is"), std::string::npos) << v11;
  EXPECT_NE(v11.find("ERROR"), std::string::npos) << v11;
}

TEST(LoadTlsMaterial, ChecksEachFileAndThatTheKeyIsTheCertificates) {
  const testing::TempDir tmp("tw-tls-material");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp.path() + "/a");
  std::filesystem::create_directories(tmp.path() + "/b");
  const testing::Certs a = testing::MakeCerts(tmp.path() + "/a");
  const testing::Certs b = testing::MakeCerts(tmp.path() + "/b");
  ASSERT_TRUE(a.ok && b.ok);
  const std::string junk = tmp.path() + "/junk.pem";
  std::ofstream(junk) << "not a certificate\n";

  TlsFiles f{.cert_file = a.client_cert, .key_file = a.client_key, .ca_file = a.ca};
  absl::StatusOr<exporter::TlsMaterial> m = LoadTlsMaterial(f);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ca, testing::ReadFileOrEmpty(a.ca));

  f.key_file = b.client_key;
  m = LoadTlsMaterial(f);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("key_file: '" + b.client_key + "'"), std::string::npos)
      << m.status();
  f.key_file = a.client_key;
  f.cert_file = junk;
  m = LoadTlsMaterial(f);
  EXPECT_NE(m.status().message().find("cert_file: '" + junk + "'"), std::string::npos)
      << m.status();
  f.cert_file = a.client_cert;
  f.ca_file = junk;
  m = LoadTlsMaterial(f);
  EXPECT_NE(m.status().message().find("ca_file: '" + junk + "'"), std::string::npos) << m.status();
  f.ca_file = tmp.path() + "/missing.pem";
  m = LoadTlsMaterial(f);
  EXPECT_NE(m.status().message().find("cannot read"), std::string::npos) << m.status();
}

}  // namespace
}  // namespace tracewire
