// The tracewire CLI's store queries (the built binary) on a store the test
// makes, and tracewired end to end with the store sink.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "receiver/daemon.h"
#include "store/store_fixtures.h"
#include "store/store_reader.h"
#include "store/store_writer.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"

namespace tracewire {
namespace {

struct CliResult {
  int code;
  std::string out;
};

CliResult Tracewire(const std::string& args) {
  const testing::TempDir tmp("tw-store-cli");
  if (!tmp.ok()) return {-1, "no temporary directory"};
  const std::string out = tmp.path() + "/out.txt";
  const int rc =
      testing::Run(std::string(TW_BIN_DIR) + "/tracewire " + args + " > " + out + " 2>&1");
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, testing::ReadFileOrEmpty(out)};
}

const char* const kTrace1 = "7f000000000000000000000000000001";

class StoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    store::StoreOptions o;
    o.path = path_;
    o.retention_hours = 0;
    store::StoreWriter w(o);
    ASSERT_TRUE(w.Open().ok());
    ASSERT_TRUE(
        w.Write(testing_store::MakeBatch(wire::Signal::kTraces, testing_store::KnownTrace())).ok());
    ASSERT_TRUE(
        w.Write(testing_store::MakeBatch(wire::Signal::kLogs, testing_store::KnownLogs())).ok());
    ASSERT_TRUE(w.Close().ok());
  }
  const testing::TempDir tmp_{"tw-store-cli-d"};
  const std::string path_ = tmp_.path() + "/tw.db";
};

// The part of a tree line after the time bar.
std::string AfterBar(const std::string& line) {
  const size_t bar_end = line.find('|', 1);
  return bar_end == std::string::npos ? "" : line.substr(bar_end + 2);
}

TEST_F(StoreCli, TraceTreeHuman) {
  CliResult r = Tracewire(std::string("trace ") + kTrace1 + " --store " + path_);
  ASSERT_EQ(r.code, 0) << r.out;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  ASSERT_GE(lines.size(), 6u) << r.out;
  EXPECT_EQ(lines[0].rfind(std::string("trace ") + kTrace1 + "  4 spans  100.0ms", 0), 0u) << r.out;
  EXPECT_NE(lines[0].find("1 ERROR"), std::string::npos);
  EXPECT_EQ(r.out.find("\033["), std::string::npos);  // no colour off a terminal
  // Tree shape: root at depth 0, charge at 1, db query at 2, the orphan at 0.
  std::vector<std::string> spans;
  for (const std::string& l : lines) {
    if (!l.empty() && l[0] == '|') spans.push_back(AfterBar(l));
  }
  ASSERT_EQ(spans.size(), 4u) << r.out;
  EXPECT_EQ(spans[0].rfind("frontend GET /checkout [server] 100.0ms http.route=/checkout", 0), 0u)
      << spans[0];
  EXPECT_EQ(spans[1].rfind("  backend charge [client] 80.0ms ERROR \"card declined\"", 0), 0u)
      << spans[1];
  EXPECT_NE(spans[1].find("rpc.method=Charge"), std::string::npos);
  EXPECT_EQ(spans[2].rfind("    backend db query [internal] 20.0ms", 0), 0u) << spans[2];
  EXPECT_EQ(spans[3].rfind("backend late work [internal] 10.0ms (orphan: parent "
                           "7f0000000000004d missing)",
                           0),
            0u)
      << spans[3];
  // The bar of the root spans the whole width; the event and the log sit
  // under the charge span.
  EXPECT_NE(r.out.find("|========================|"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("* retrying +10.0ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("> log ERROR payment failed: card declined"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("charge"), r.out.find("payment failed"));
  EXPECT_LT(r.out.find("payment failed"), r.out.find("db query"));
}

TEST_F(StoreCli, TraceTreeJson) {
  CliResult r = Tracewire(std::string("trace ") + kTrace1 + " --json --store " + path_);
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["trace_id"], kTrace1);
  EXPECT_EQ(j["duration_ns"], 100000000);
  // Times since the epoch are strings, every digit kept (a JSON number above
  // 2^53 would lose some in JavaScript and jq).
  EXPECT_EQ(j["start_unix_nano"], std::to_string(testing_store::kT0));
  const auto& spans = j["spans"];
  EXPECT_EQ(spans[1]["start_unix_nano"], std::to_string(testing_store::kT0 + 10 * 1000000));
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0]["name"], "GET /checkout");
  EXPECT_EQ(spans[0]["depth"], 0);
  EXPECT_EQ(spans[1]["name"], "charge");
  EXPECT_EQ(spans[1]["depth"], 1);
  EXPECT_EQ(spans[1]["status"], "error");
  EXPECT_EQ(spans[1]["status_message"], "card declined");
  EXPECT_EQ(spans[1]["kind"], "client");
  EXPECT_EQ(spans[1]["events"][0]["name"], "retrying");
  EXPECT_EQ(spans[1]["links"].size(), 1u);
  EXPECT_EQ(spans[1]["logs"][0]["body"], "payment failed: card declined");
  EXPECT_EQ(spans[2]["depth"], 2);
  EXPECT_EQ(spans[3]["orphan"], true);
  EXPECT_EQ(spans[0]["orphan"], false);
  EXPECT_EQ(spans[0]["attributes"]["http.route"], "/checkout");
}

TEST_F(StoreCli, TracesServicesLogsMetrics) {
  CliResult r = Tracewire("traces --store " + path_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("4 spans  frontend GET /checkout  ERROR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 spans  search find"), std::string::npos) << r.out;

  r = Tracewire("traces --json --errors --store " + path_);
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j.size(), 1u) << r.out;
  EXPECT_EQ(j[0]["trace_id"], kTrace1);
  EXPECT_EQ(j[0]["spans"], 4);
  EXPECT_EQ(j[0]["error_spans"], 1);

  r = Tracewire(
      "traces --json --service search --min-duration 1ms --since 2023-11-14T00:00:00Z"
      " --until 2030-01-01T00:00:00Z --sort duration --limit 5 --store " +
      path_);
  ASSERT_EQ(r.code, 0) << r.out;
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j.size(), 1u) << r.out;
  EXPECT_EQ(j[0]["root_name"], "find");

  r = Tracewire("traces --json --attr http.route=/checkout --store " + path_);
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j.size(), 1u) << r.out;
  r = Tracewire("traces --attr nonsense --store " + path_);
  EXPECT_EQ(r.code, 2) << r.out;
  r = Tracewire("traces --min-duration soon --store " + path_);
  EXPECT_EQ(r.code, 2) << r.out;

  r = Tracewire("services --since 0s --store " + path_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("backend"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("33.3%"), std::string::npos) << r.out;
  r = Tracewire("services --json --since 0s --store " + path_);
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j.size(), 3u) << r.out;

  r = Tracewire("logs --severity error --store " + path_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("ERROR  backend  payment failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("unrelated"), std::string::npos) << r.out;
  r = Tracewire("logs --json --grep unrel --store " + path_);
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j.size(), 1u) << r.out;
  r = Tracewire(std::string("logs --json --trace ") + kTrace1 + " --store " + path_);
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j.size(), 1u) << r.out;

  r = Tracewire("metrics --store " + path_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("no metrics match"), std::string::npos) << r.out;
}

TEST_F(StoreCli, MissingForeignCorruptAndLockedStores) {
  CliResult r = Tracewire("traces --store " + tmp_.path() + "/none.db");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no store at"), std::string::npos) << r.out;

  r = Tracewire(std::string("trace ") + kTrace1 + " --store " + tmp_.path());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is a directory"), std::string::npos) << r.out;

  const std::string garbage = tmp_.path() + "/garbage.db";
  {
    std::ofstream out(garbage);
    for (int i = 0; i < 500; ++i) out << "definitely not sqlite ";
  }
  r = Tracewire("traces --store " + garbage);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("not a tracewire store"), std::string::npos) << r.out;

  const std::string foreign = tmp_.path() + "/foreign.db";
  ASSERT_EQ(testing::Run("sqlite3 " + foreign + " 'CREATE TABLE t(x);'"), 0);
  r = Tracewire("services --store " + foreign);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("not a tracewire store"), std::string::npos) << r.out;

  r = Tracewire("trace nothex --store " + path_);
  EXPECT_EQ(r.code, 2) << r.out;
  r = Tracewire("trace 7f000000000000000000000000000009 --store " + path_);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no trace 7f000000000000000000000000000009"), std::string::npos);

  // Locked: another process holds an exclusive lock (waits the busy timeout).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; "
                         "DELETE FROM logs WHERE 0;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  r = Tracewire("traces --store " + path_);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("locked"), std::string::npos) << r.out;
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

TEST(StoreSinkEndToEnd, TracewiredWithStoreAndFileSinks) {
  const testing::TempDir tmp("tw-store-e2e");
  ASSERT_TRUE(tmp.ok());
  receiver::DaemonConfig c;
  c.listen = "127.0.0.1:0";
  c.metrics_listen = "";
  c.sink = "store, file";
  c.store_path = tmp.path() + "/data/tw.db";
  c.file_dir = tmp.path();
  receiver::Daemon d(c);
  ASSERT_TRUE(d.Start().ok());
  CliResult r = Tracewire("send --endpoint http://127.0.0.1:" + std::to_string(d.port()) +
                          " --seed 7 --traces 30 --metrics 4 --logs 12");
  ASSERT_EQ(r.code, 0) << r.out;
  // Again: at-least-once duplicates are stored once.
  r = Tracewire("send --endpoint http://127.0.0.1:" + std::to_string(d.port()) +
                " --seed 7 --traces 30 --metrics 4 --logs 12");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_TRUE(d.Shutdown(absl::Now() + absl::Seconds(20)).ok());  // drains, closes
  EXPECT_FALSE(std::filesystem::exists(c.store_path + "-wal") &&
               std::filesystem::file_size(c.store_path + "-wal") > 0);
  auto reader = store::StoreReader::Open(c.store_path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(*(*reader)->Count("spans"), 30);
  EXPECT_EQ(*(*reader)->Count("points"), 8);
  EXPECT_EQ(*(*reader)->Count("logs"), 12);
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(tmp.path() + "/traces.jsonl"), "traces"),
            60);
  r = Tracewire("traces --store " + c.store_path);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("tracewire-send"), std::string::npos) << r.out;
}

TEST(StoreSinkEndToEnd, ConfigKeysAndValidation) {
  auto c = receiver::ParseDaemonConfigYaml(
      "sink:\n  type: store,forward\n  forward: {endpoint: 'http://127.0.0.1:1'}\n"
      "  store: {path: /tmp/x.db, retention_hours: 2, max_mib: 64, attribute_keys: [a, b]}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->Validate().ok()) << c->Validate();
  EXPECT_EQ(c->SinkTypes(), (std::vector<std::string>{"store", "forward"}));
  EXPECT_EQ(c->store_path, "/tmp/x.db");
  EXPECT_EQ(c->store_retention_hours, 2);
  EXPECT_EQ(c->store_max_mib, 64);
  EXPECT_EQ(c->store_attribute_keys, (std::vector<std::string>{"a", "b"}));
  receiver::DaemonConfig bad;
  bad.sink = "store,store";
  EXPECT_FALSE(bad.Validate().ok());
  bad.sink = "store,mystery";
  EXPECT_FALSE(bad.Validate().ok());
  bad.sink = "store";
  bad.store_max_mib = -1;
  EXPECT_FALSE(bad.Validate().ok());
  // A bad store path fails at start with the path named.
  receiver::DaemonConfig d;
  d.listen = "127.0.0.1:0";
  d.metrics_listen = "";
  d.sink = "store";
  d.store_path = "/proc/definitely/not/here.db";
  receiver::Daemon daemon(d);
  absl::Status st = daemon.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/proc/definitely/not/here.db"), std::string::npos) << st;
}

}  // namespace
}  // namespace tracewire
