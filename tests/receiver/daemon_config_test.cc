#include "receiver/daemon_config.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "yaml-cpp/yaml.h"

namespace tracewire::receiver {
namespace {

TEST(DaemonConfig, ParsesEveryKey) {
  absl::StatusOr<DaemonConfig> c = ParseDaemonConfigYaml(R"(
receiver:
  listen: 0.0.0.0:14317
  max_request_mib: 8
  retry_after_ms: 250
  max_inflight_mib: 16
  max_concurrent_streams: 7
  tls: {cert_file: c.pem, key_file: k.pem, client_ca_file: ca.pem, reload_interval_s: 5}
  auth: {bearer_tokens: [t1, t2], api_keys: [k1]}
sink:
  type: debug
  queue: {max_batches: 7, max_mib: 9}
  file: {dir: /tmp/x, rotate_mib: 3, max_files: 4, fsync: interval, fsync_interval_ms: 50,
         encoders: 3}
telemetry:
  metrics_listen: "[::1]:9999"
shutdown_timeout_s: 5
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "0.0.0.0:14317");
  EXPECT_EQ(c->max_request_mib, 8);
  EXPECT_EQ(c->retry_after_ms, 250);
  EXPECT_EQ(c->max_inflight_mib, 16);
  EXPECT_EQ(c->max_concurrent_streams, 7);
  EXPECT_EQ(c->tls_client_ca_file, "ca.pem");
  EXPECT_EQ(c->tls_reload_interval_s, 5);
  EXPECT_EQ(c->bearer_tokens, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(c->api_keys, (std::vector<std::string>{"k1"}));
  EXPECT_EQ(c->sink, "debug");
  EXPECT_EQ(c->queue_max_batches, 7);
  EXPECT_EQ(c->queue_max_mib, 9);
  EXPECT_EQ(c->file_dir, "/tmp/x");
  EXPECT_EQ(c->file_rotate_mib, 3);
  EXPECT_EQ(c->file_max_files, 4);
  EXPECT_EQ(c->file_fsync, "interval");
  EXPECT_EQ(c->file_fsync_interval_ms, 50);
  EXPECT_EQ(c->file_encoders, 3);
  EXPECT_EQ(c->metrics_listen, "[::1]:9999");
  EXPECT_EQ(c->shutdown_timeout_s, 5);
  EXPECT_TRUE(c->Validate().ok()) << c->Validate();
}

TEST(DaemonConfig, EmptyDocumentKeepsDefaults) {
  absl::StatusOr<DaemonConfig> c = ParseDaemonConfigYaml("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:4317");
  EXPECT_EQ(c->max_request_mib, 64);
  EXPECT_TRUE(c->Validate().ok());
}

struct BadCase {
  // The test's name: Cases/DaemonConfigBad.NamesTheKeyAndTheProblem/NAME.
  const char* name;
  const char* yaml;
  const char* expected;  // substring of the error
};

// What gtest prints for a case, e.g. in a failure.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class DaemonConfigBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(DaemonConfigBad, NamesTheKeyAndTheProblem) {
  absl::StatusOr<DaemonConfig> c = ParseDaemonConfigYaml(GetParam().yaml);
  absl::Status st = c.ok() ? c->Validate() : c.status();
  ASSERT_FALSE(st.ok()) << GetParam().yaml;
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find(GetParam().expected), std::string::npos) << st.message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DaemonConfigBad,
    ::testing::Values(
        BadCase{"MisspelledSection", "recevier: {}\n", "recevier: unknown key"},
        BadCase{"UnknownTlsKey", "receiver: {tls: {cert: x}}\n", "receiver.tls.cert: unknown key"},
        BadCase{"MaxRequestMibNotAnInteger", "receiver: {max_request_mib: lots}\n",
                "receiver.max_request_mib: must be an integer, got 'lots'"},
        BadCase{"MaxRequestMibZero", "receiver: {max_request_mib: 0}\n",
                "receiver.max_request_mib: must be between"},
        BadCase{"MaxInflightBelowTheRequestLimit",
                "receiver: {max_request_mib: 64, max_inflight_mib: 8}\n",
                "receiver.max_inflight_mib: must be 0 (no limit) or between"},
        BadCase{"MaxConcurrentStreamsZero", "receiver: {max_concurrent_streams: 0}\n",
                "receiver.max_concurrent_streams: must be between 1 and"},
        BadCase{"ListenWithoutPort", "receiver: {listen: nowhere}\n",
                "receiver.listen: 'nowhere' is not HOST:PORT"},
        BadCase{"ListenPortOutOfRange", "receiver: {listen: 'h:99999'}\n",
                "receiver.listen: '99999' is not a port"},
        BadCase{"TlsCertWithoutKey", "receiver: {tls: {cert_file: a}}\n",
                "receiver.tls: cert_file and key_file"},
        BadCase{"NegativeTlsReloadInterval", "receiver: {tls: {reload_interval_s: -1}}\n",
                "receiver.tls.reload_interval_s: must not be negative"},
        BadCase{"NegativeForwardTlsReloadInterval",
                "sink: {forward: {tls: {reload_interval_s: -1}}}\n",
                "sink.forward.tls.reload_interval_s: must not be negative"},
        BadCase{"ClientCaWithoutCert", "receiver: {tls: {client_ca_file: a}}\n",
                "receiver.tls.client_ca_file"},
        BadCase{"BearerTokensNotAList", "receiver: {auth: {bearer_tokens: x}}\n",
                "receiver.auth.bearer_tokens: must be a list"},
        BadCase{"EmptyApiKey", "receiver: {auth: {api_keys: ['']}}\n",
                "receiver.auth.api_keys: an empty key"},
        BadCase{"UnknownSinkType", "sink: {type: s3}\n",
                "sink.type: 's3' is not one of none, debug, file"},
        BadCase{"UnknownFsyncPolicy", "sink: {file: {fsync: always}}\n",
                "sink.file.fsync: 'always' is not one of"},
        BadCase{"NegativeFileEncoders", "sink: {file: {encoders: -1}}\n",
                "sink.file.encoders: must be 0 (one per core) to 256"},
        BadCase{"ZeroQueueBatches", "sink: {queue: {max_batches: 0}}\n", "sink.queue.max_batches"},
        BadCase{"QueuePersistentNotABool", "sink: {queue: {persistent: maybe}}\n",
                "sink.queue.persistent: must be true or false"},
        BadCase{"UnknownQueueFsync", "sink: {queue: {fsync: always}}\n",
                "sink.queue.fsync: 'always' is not one of batch, interval, none"},
        BadCase{"ZeroQueueFsyncInterval", "sink: {queue: {fsync_interval_ms: 0}}\n",
                "sink.queue.fsync_interval_ms: must be positive"},
        BadCase{
            "SpillBesidePersistentQueue",
            "sink: {type: forward, forward: {endpoint: 'http://h:1', breaker: {spill_dir: /s}}}\n",
            "sink.forward.breaker.spill_dir: is not used with a persistent queue"},
        BadCase{"UnknownForwardProtocol",
                "sink: {type: forward, forward: {endpoint: 'http://h:1', protocol: udp}}\n",
                "sink.forward.protocol: 'udp' is not grpc, http/protobuf or http/json"},
        BadCase{"BadMetricsListen", "telemetry: {metrics_listen: ':x'}\n",
                "telemetry.metrics_listen"},
        BadCase{"ReceiverNotAMap", "receiver: [1, 2]\n", "receiver: must be a map"},
        BadCase{"InvalidYaml", "receiver: {listen: [\n", "not valid YAML"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(DaemonConfig, SplitHostPortHandlesIpv6) {
  std::string host;
  int port;
  ASSERT_TRUE(SplitHostPort("k", "[::1]:4317", &host, &port).ok());
  EXPECT_EQ(host, "[::1]");
  EXPECT_EQ(port, 4317);
  EXPECT_FALSE(SplitHostPort("k", "[::1]4317", &host, &port).ok());
}

// The dotted path of every key in a YAML document, maps included.
std::set<std::string> KeysIn(const YAML::Node& node) {
  std::set<std::string> out;
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n,
                                                                        const std::string& path) {
    if (!n.IsMap()) return;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const std::string p = path.empty() ? key : path + "." + key;
      out.insert(p);
      walk(kv.second, p);
    }
  };
  walk(node, "");
  return out;
}

// A user copies the example to start a configuration: it must show every key
// the parser accepts, and be valid as it is.
TEST(DaemonConfig, ExampleFileShowsEveryKeyAndIsValid) {
  const std::string path = std::string(TW_SOURCE_DIR) + "/config/tracewired.example.yaml";
  absl::StatusOr<DaemonConfig> c = LoadDaemonConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->Validate().ok()) << c->Validate();
  const std::set<std::string> shown = KeysIn(YAML::LoadFile(path));
  const std::vector<std::string> known = DaemonConfigKeys();
  EXPECT_GT(known.size(), 40u);
  for (const std::string& key : known) {
    EXPECT_TRUE(shown.count(key)) << key << " is missing from " << path;
  }
  // And it shows the defaults: parsing it changes nothing.
  const DaemonConfig defaults;
  EXPECT_EQ(c->listen, defaults.listen);
  EXPECT_EQ(c->forward_timeout_ms, defaults.forward_timeout_ms);
  EXPECT_EQ(c->forward_retry_max_elapsed_s, defaults.forward_retry_max_elapsed_s);
  EXPECT_EQ(c->forward_breaker_failures, defaults.forward_breaker_failures);
  EXPECT_EQ(c->forward_spill_max_mib, defaults.forward_spill_max_mib);
}

// The default configuration keeps every acknowledged request: the file,
// store and forward sinks get a persistent queue, each in its own directory.
TEST(DaemonConfig, DefaultQueuesArePersistentWithADirectoryPerSink) {
  const DaemonConfig d;
  EXPECT_TRUE(d.QueuePersistent("file"));
  EXPECT_TRUE(d.QueuePersistent("store"));
  EXPECT_TRUE(d.QueuePersistent("forward"));
  EXPECT_FALSE(d.QueuePersistent("debug"));
  EXPECT_FALSE(d.QueuePersistent("none"));
  EXPECT_EQ(d.queue_fsync, "batch");
  EXPECT_EQ(d.QueueDir("file"), "./tracewire-data/queue/file");
  EXPECT_EQ(d.QueueDir("store"), "./tracewire-data/queue/store");
  EXPECT_EQ(d.QueueDir("forward"), "./tracewire-data/queue/forward");
  absl::StatusOr<DaemonConfig> c = ParseDaemonConfigYaml(
      "sink: {type: 'store,forward', queue: {persistent: false, dir: /q, fsync: none}, "
      "store: {path: /data/s.db}, forward: {endpoint: 'http://h:1'}}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->QueuePersistent("store"));
  EXPECT_EQ(c->QueueDir("store"), "/q/store");
  EXPECT_EQ(c->QueueDir("forward"), "/q/forward");
  EXPECT_EQ(c->queue_fsync, "none");
  c->queue_dir.clear();
  EXPECT_EQ(c->QueueDir("store"), "/data/queue/store");
}

TEST(DaemonConfig, KeyListIsWhatTheParserAccepts) {
  // Each listed leaf key parses; a key not listed is refused.
  EXPECT_TRUE(ParseDaemonConfigYaml("sink: {forward: {breaker: {spill_fsync: true}}}\n").ok());
  absl::StatusOr<DaemonConfig> c = ParseDaemonConfigYaml("sink: {forward: {bogus: 1}}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("sink.forward.bogus: unknown key"), std::string::npos)
      << c.status();
  const std::vector<std::string> known = DaemonConfigKeys();
  EXPECT_NE(std::find(known.begin(), known.end(), "sink.forward.breaker.spill_fsync"), known.end());
}

}  // namespace
}  // namespace tracewire::receiver
