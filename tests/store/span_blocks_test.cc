// The store's span blocks and trace index: many small blocks and index runs,
// checked against a scan of every span sent.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "store/span_block.h"
#include "store/store_fixtures.h"
#include "store/store_reader.h"
#include "store/store_writer.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"

namespace tracewire::store {
namespace {

using testing_store::ExportTraceServiceRequest;
using testing_store::MakeBatch;

// Spans with known fields, in requests of one service each.
struct Sent {
  std::string trace_id, span_id, service, name, route;
  int64_t start_ns, duration_ns;
  bool error, root;
};

std::string RandomBytes(std::mt19937_64& rng, int n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  s[0] |= 1;  // never all zero
  return s;
}

// `traces` traces of 1-4 spans, their spans spread over requests of 1-60
// spans, each request one service. Start times and durations are distinct,
// or with `coarse` few (many traces tie).
std::vector<std::string> MakeRequests(int traces, std::vector<Sent>* sent, std::mt19937_64& rng,
                                      bool coarse = false, int max_request_spans = 60) {
  const char* services[] = {"api", "db", "cache", "auth", "search"};
  const char* names[] = {"GET /a", "GET /b", "query", "lookup"};
  const char* routes[] = {"/a", "/b", "/c"};
  int64_t t = 1700000000000000000;
  for (int i = 0; i < traces; ++i) {
    const std::string trace_id = RandomBytes(rng, 16);
    const int spans = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < spans; ++k) {
      Sent s;
      s.trace_id = trace_id;
      s.span_id = RandomBytes(rng, 8);
      s.service = services[rng() % 5];
      s.name = names[rng() % 4];
      s.route = rng() % 3 == 0 ? "" : routes[rng() % 3];
      t += coarse ? static_cast<int64_t>(rng() % 3 == 0) : 1 + static_cast<int64_t>(rng() % 1000);
      s.start_ns = t;
      s.duration_ns = coarse ? 1000 * static_cast<int64_t>(1 + rng() % 4)
                             : 1000 + static_cast<int64_t>(rng() % 100000000) * 8 + i * 4 + k;
      s.error = rng() % 10 == 0;
      s.root = k == 0;
      sent->push_back(s);
    }
  }
  std::shuffle(sent->begin(), sent->end(), rng);  // arrival order is not start order
  std::vector<std::string> requests;
  size_t at = 0;
  while (at < sent->size()) {
    const size_t n = std::min<size_t>(sent->size() - at, 1 + rng() % max_request_spans);
    ExportTraceServiceRequest req;
    std::map<std::string, opentelemetry::proto::trace::v1::ScopeSpans*> by_service;
    for (size_t i = at; i < at + n; ++i) {
      const Sent& s = (*sent)[i];
      auto& ss = by_service[s.service];
      if (ss == nullptr) {
        auto* rs = req.add_resource_spans();
        auto* kv = rs->mutable_resource()->add_attributes();
        kv->set_key("service.name");
        kv->mutable_value()->set_string_value(s.service);
        ss = rs->add_scope_spans();
        ss->mutable_scope()->set_name("scope-" + s.service);
      }
      auto* p = ss->add_spans();
      p->set_trace_id(s.trace_id);
      p->set_span_id(s.span_id);
      if (!s.root) p->set_parent_span_id(std::string(8, '\x01'));
      p->set_name(s.name);
      p->set_start_time_unix_nano(static_cast<uint64_t>(s.start_ns));
      p->set_end_time_unix_nano(static_cast<uint64_t>(s.start_ns + s.duration_ns));
      if (s.error)
        p->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
      if (!s.route.empty()) {
        auto* kv = p->add_attributes();
        kv->set_key("http.route");
        kv->mutable_value()->set_string_value(s.route);
      }
    }
    requests.push_back(req.SerializeAsString());
    at += n;
  }
  return requests;
}

// What FindTraces must answer, from every span sent.
std::vector<std::string> Expected(const std::vector<Sent>& sent, const TraceFilter& f) {
  std::map<std::string, int64_t> best;
  for (const Sent& s : sent) {
    if (!f.service.empty() && s.service != f.service) continue;
    if (!f.name.empty() && s.name != f.name) continue;
    if (f.errors_only && !s.error) continue;
    if (f.min_duration_ns > 0 && s.duration_ns < f.min_duration_ns) continue;
    if (f.since_ns > 0 && s.start_ns < f.since_ns) continue;
    if (f.until_ns > 0 && s.start_ns >= f.until_ns) continue;
    if (!f.attr_key.empty() && (f.attr_key != "http.route" || s.route != f.attr_value)) continue;
    const int64_t x = f.sort_by_duration ? s.duration_ns : s.start_ns;
    auto [it, fresh] = best.try_emplace(s.trace_id, x);
    if (!fresh) it->second = std::max(it->second, x);
  }
  std::vector<std::pair<int64_t, std::string>> top;
  for (const auto& [id, x] : best) top.emplace_back(x, id);
  // Largest first; ties by trace id, as the reader breaks them.
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> ids;
  for (size_t i = 0; i < top.size() && i < static_cast<size_t>(f.limit); ++i) {
    ids.push_back(top[i].second);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

int64_t SqlCount(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

// Every span sent is in the store, found through its trace id.
void ExpectEverySpanFound(StoreReader* r, const std::vector<Sent>& sent) {
  std::map<std::string, std::set<std::string>> by_trace;
  for (const Sent& s : sent) by_trace[s.trace_id].insert(s.span_id);
  for (const auto& [trace_id, span_ids] : by_trace) {
    auto spans = r->GetTrace(trace_id);
    ASSERT_TRUE(spans.ok()) << spans.status();
    std::set<std::string> got;
    for (const StoredSpan& s : *spans) {
      got.insert(s.span.span_id);
      EXPECT_EQ(s.span.trace_id, trace_id);
      EXPECT_EQ(s.scope_name, "scope-" + s.service);
    }
    EXPECT_EQ(got, span_ids);
    auto summary = r->Summarize(trace_id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->span_count, static_cast<int64_t>(span_ids.size()));
  }
}

class SpanBlocks : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    now_ = absl::FromUnixSeconds(1800000000);
  }
  // Options whose writer reads the test's clock (now_) and runs its
  // retention and merge steps after every batch, as long as they take.
  StoreOptions ClockedOptions() {
    StoreOptions o = Options();
    o.retention_interval = absl::ZeroDuration();
    o.retention_step_budget = absl::Seconds(10);
    o.now = [] { return now_; };
    return o;
  }
  static inline absl::Time now_;
  StoreOptions Options() {
    StoreOptions o;
    o.path = tmp_.path() + "/tw.db";
    o.retention_hours = 0;
    o.block_spans = 40;       // many blocks
    o.index_run_spans = 300;  // many runs, and spans after the last run
    return o;
  }
  testing::TempDir tmp_{"tw-blocks"};
};

TEST_F(SpanBlocks, EveryTraceIsFoundThroughRunsAndNewestBlocksAcrossRestarts) {
  std::mt19937_64 rng(11);
  std::vector<Sent> sent;
  std::vector<std::string> requests = MakeRequests(700, &sent, rng);
  // Last, after a Flush: a request whose spans stay after the last run.
  std::vector<Sent> last;
  const std::vector<std::string> tail = MakeRequests(2, &last, rng);
  sent.insert(sent.end(), last.begin(), last.end());
  // Three writer lifetimes: a restart must not lose the index entries of
  // blocks written after the last run (the next run covers them).
  const size_t thirds[] = {requests.size() / 3, 2 * requests.size() / 3, requests.size()};
  size_t at = 0;
  for (size_t end : thirds) {
    StoreWriter w(Options());
    ASSERT_TRUE(w.Open().ok());
    for (; at < end; ++at) {
      ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, requests[at])).ok());
      if (at % 7 == 0) ASSERT_TRUE(w.Flush().ok());
    }
    if (end == requests.size()) {
      ASSERT_TRUE(w.Flush().ok());
      for (const std::string& req : tail) {
        ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, req)).ok());
      }
    }
    ASSERT_TRUE(w.Close().ok());
  }
  const std::string path = Options().path;
  EXPECT_GE(SqlCount(path, "SELECT count(*) FROM trace_runs"), 3);
  EXPECT_GT(SqlCount(path,
                     "SELECT count(*) FROM span_blocks WHERE id > "
                     "(SELECT max(last_block) FROM trace_runs)"),
            0);
  auto r = StoreReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*(*r)->Count("spans"), static_cast<int64_t>(sent.size()));
  ExpectEverySpanFound(r->get(), sent);
}

class FindTracesScan : public SpanBlocks, public ::testing::WithParamInterface<bool> {};

TEST_P(FindTracesScan, AgreesWithAScanOfEverySpan) {
  std::mt19937_64 rng(12);
  std::vector<Sent> sent;
  const std::vector<std::string> requests = MakeRequests(600, &sent, rng, /*coarse=*/GetParam());
  {
    StoreWriter w(Options());
    ASSERT_TRUE(w.Open().ok());
    for (const std::string& req : requests) {
      ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, req)).ok());
    }
    ASSERT_TRUE(w.Close().ok());
  }
  auto r = StoreReader::Open(Options().path);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<int64_t> starts;
  for (const Sent& s : sent) starts.push_back(s.start_ns);
  std::sort(starts.begin(), starts.end());
  int checked = 0;
  for (int i = 0; i < 200; ++i) {
    TraceFilter f;
    f.limit = 1 + static_cast<int64_t>(rng() % 30);
    f.sort_by_duration = rng() % 2;
    if (rng() % 3 == 0)
      f.service = std::vector<std::string>{"api", "db", "cache", "nobody"}[rng() % 4];
    if (rng() % 4 == 0) f.name = rng() % 2 ? "query" : "GET /a";
    if (rng() % 5 == 0) f.errors_only = true;
    if (rng() % 4 == 0) {
      f.min_duration_ns = static_cast<int64_t>(rng() % (GetParam() ? 5000 : 800000000));
    }
    if (rng() % 4 == 0) f.since_ns = starts[rng() % starts.size()];
    if (rng() % 4 == 0) f.until_ns = starts[rng() % starts.size()];
    if (rng() % 4 == 0) {
      f.attr_key = "http.route";
      f.attr_value = rng() % 2 ? "/a" : "/c";
    }
    auto got = (*r)->FindTraces(f);
    ASSERT_TRUE(got.ok()) << got.status();
    std::vector<std::string> ids;
    for (const TraceSummary& t : *got) ids.push_back(t.trace_id);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, Expected(sent, f))
        << "filter " << i << ": service=" << f.service << " name=" << f.name
        << " errors=" << f.errors_only << " min=" << f.min_duration_ns << " since=" << f.since_ns
        << " until=" << f.until_ns << " attr=" << f.attr_value << " limit=" << f.limit
        << " by_duration=" << f.sort_by_duration;
    checked += !ids.empty();
  }
  EXPECT_GT(checked, 100);  // most filters match something

  // Services: counts and errors equal a scan.
  std::map<std::string, std::pair<int64_t, int64_t>> expected;
  for (const Sent& s : sent) {
    expected[s.service].first++;
    expected[s.service].second += s.error;
  }
  auto services = (*r)->Services(0);
  ASSERT_TRUE(services.ok());
  ASSERT_EQ(services->size(), expected.size());
  for (const ServiceStats& s : *services) {
    EXPECT_EQ(s.spans, expected[s.service].first) << s.service;
    EXPECT_EQ(s.errors, expected[s.service].second) << s.service;
  }
}

INSTANTIATE_TEST_SUITE_P(DistinctValuesAndTies, FindTracesScan, ::testing::Bool());

// A trickle: one small block per Flush. Once settled they are merged, and
// every query answers as before.
TEST_F(SpanBlocks, SmallBlocksAreMergedAndEverySpanIsStillFound) {
  std::mt19937_64 rng(13);
  std::vector<Sent> sent;
  const std::vector<std::string> requests =
      MakeRequests(150, &sent, rng, /*coarse=*/false, /*max_request_spans=*/3);
  StoreOptions o = ClockedOptions();
  StoreWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  for (const std::string& req : requests) {
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, req)).ok());
    ASSERT_TRUE(w.Flush().ok());  // a block each, too new to merge
    now_ += absl::Milliseconds(10);
  }
  const int64_t small_blocks = SqlCount(o.path, "SELECT count(*) FROM span_blocks");
  EXPECT_EQ(small_blocks, static_cast<int64_t>(requests.size()));
  EXPECT_EQ(w.compacted_blocks(), 0);
  now_ += absl::Seconds(o.compact_after_s + StoreWriter::kCompactSpanS + 1);  // windows closed
  ASSERT_TRUE(w.Flush().ok());
  const int64_t blocks = SqlCount(o.path, "SELECT count(*) FROM span_blocks");
  EXPECT_LE(blocks, static_cast<int64_t>(sent.size()) / o.block_spans + 12) << small_blocks;
  EXPECT_GT(w.compacted_blocks(), 0);
  EXPECT_EQ(SqlCount(o.path, "SELECT count(*) FROM block_data"), blocks);
  EXPECT_EQ(SqlCount(o.path, "SELECT count(DISTINCT block) FROM block_keys"), blocks);
  // More spans after the merge: the next index run must cover the merged
  // blocks too (they are then no longer among the blocks after the last run).
  const int64_t runs = SqlCount(o.path, "SELECT count(*) FROM trace_runs");
  ASSERT_TRUE(
      w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(400, 77))).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_GT(SqlCount(o.path, "SELECT count(*) FROM trace_runs"), runs);
  EXPECT_EQ(SqlCount(o.path,
                     "SELECT count(*) FROM span_blocks WHERE id > "
                     "(SELECT max(last_block) FROM trace_runs)"),
            0);

  auto r = StoreReader::Open(o.path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*(*r)->Count("spans"), static_cast<int64_t>(sent.size()) + 400);
  ExpectEverySpanFound(r->get(), sent);
  for (bool by_duration : {false, true}) {
    for (const char* service : {"api", "db"}) {  // not the 400 added last
      TraceFilter f;
      f.limit = 15;
      f.sort_by_duration = by_duration;
      f.service = service;
      auto got = (*r)->FindTraces(f);
      ASSERT_TRUE(got.ok());
      std::vector<std::string> ids;
      for (const TraceSummary& t : *got) ids.push_back(t.trace_id);
      std::sort(ids.begin(), ids.end());
      EXPECT_EQ(ids, Expected(sent, f)) << service << by_duration;
    }
  }
  {
    TraceFilter f;
    f.attr_key = "http.route";
    f.attr_value = "/b";
    f.limit = 1000;
    auto got = (*r)->FindTraces(f);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->size(), Expected(sent, f).size());
  }
  // Merged blocks still age out (by their newest part's receipt time).
  ASSERT_TRUE(w.Close().ok());
  StoreOptions later = o;
  later.retention_hours = 1;
  now_ += absl::Hours(2);
  StoreWriter w2(later);
  ASSERT_TRUE(w2.Open().ok());
  ASSERT_TRUE(w2.Close().ok());
  EXPECT_EQ(SqlCount(o.path, "SELECT count(*) FROM span_blocks"), 0);
}

// A steady trickle of one-span requests, one a second (windows full at 40
// spans) and one every 20 s (3 spans a window: merged blocks stay small):
// each block is merged once at most (a merged block is no candidate), and
// blocks stay few.
class Trickle : public SpanBlocks, public ::testing::WithParamInterface<int> {};

TEST_P(Trickle, IsMergedOnceNotOverAndOver) {
  const int interval_s = GetParam();
  StoreOptions o = ClockedOptions();
  StoreWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  const int requests = interval_s == 1 ? 400 : 150;
  std::vector<std::string> ids;
  for (int i = 0; i < requests + 1; ++i) {
    if (i == requests) now_ += absl::Minutes(2);  // the last windows close
    const std::string req = tools::MakeStandardSpansRequest(1, 5000 + i);
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, req)).ok());
    ASSERT_TRUE(w.Flush().ok());
    now_ += absl::Seconds(interval_s);
    struct Ids : wire::RequestVisitor {
      std::vector<std::string>* out;
      void OnSpan(const wire::SpanView& s) override { out->emplace_back(s.trace_id); }
    } v;
    v.out = &ids;
    ASSERT_TRUE(wire::ReadExportRequest(wire::Signal::kTraces, req, &v).ok());
  }
  EXPECT_GT(w.compacted_blocks(), requests * 9 / 10);
  EXPECT_LE(w.compacted_blocks(), requests);  // each block merged once
  // A block per minute's window (per 40 spans at one a second), and the last.
  const int64_t windows = interval_s == 1 ? requests / 40 : requests * interval_s / 60;
  EXPECT_LE(SqlCount(o.path, "SELECT count(*) FROM span_blocks"), windows + 4);
  auto r = StoreReader::Open(o.path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*(*r)->Count("spans"), requests + 1);
  for (const std::string& id : ids) EXPECT_TRUE((*r)->GetTrace(id).ok()) << ToHex(id);
}

INSTANTIATE_TEST_SUITE_P(EverySecondAndEvery20s, Trickle, ::testing::Values(1, 20));

TEST_F(SpanBlocks, RedeliveryAfterARestartIsADuplicate) {
  const std::string req = tools::MakeStandardSpansRequest(100, 5);
  {
    StoreWriter w(Options());
    ASSERT_TRUE(w.Open().ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, req)).ok());
    ASSERT_TRUE(w.Close().ok());
  }
  StoreWriter w(Options());
  ASSERT_TRUE(w.Open().ok());
  ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, req)).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.duplicate_items(), 100);
  EXPECT_EQ(w.stored_items(), 0);
  auto r = StoreReader::Open(Options().path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*(*r)->Count("spans"), 100);
}

TEST_F(SpanBlocks, RetentionRemovesBlocksTheirSummariesAndSpentRuns) {
  StoreOptions o = ClockedOptions();
  o.retention_hours = 1;
  StoreWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(100, 10 + i)))
            .ok());
    ASSERT_TRUE(w.Flush().ok());
  }
  EXPECT_GE(SqlCount(o.path, "SELECT count(*) FROM trace_runs"), 2);
  now_ += absl::Minutes(61);
  ASSERT_TRUE(
      w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(10, 99))).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.retention_deleted(), 1000);
  EXPECT_EQ(SqlCount(o.path, "SELECT coalesce(sum(spans), 0) FROM span_blocks"), 10);
  EXPECT_EQ(SqlCount(o.path, "SELECT count(*) FROM block_data"),
            SqlCount(o.path, "SELECT count(*) FROM span_blocks"));
  EXPECT_EQ(SqlCount(o.path, "SELECT count(DISTINCT block) FROM block_keys"),
            SqlCount(o.path, "SELECT count(*) FROM span_blocks"));
  EXPECT_EQ(SqlCount(o.path, "SELECT count(*) FROM trace_runs"), 0);
  EXPECT_EQ(SqlCount(o.path, "SELECT count(*) FROM trace_parts"), 0);

  // Emptied, the store goes on: new blocks and runs after ones deleted, and
  // every new trace is found (block ids are never reused, so a run that
  // still names deleted blocks cannot hide new ones).
  std::vector<std::string> requests;
  for (int i = 0; i < 6; ++i) {
    requests.push_back(tools::MakeStandardSpansRequest(100, 200 + i));
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, requests.back())).ok());
    ASSERT_TRUE(w.Flush().ok());
  }
  EXPECT_GE(SqlCount(o.path, "SELECT count(*) FROM trace_runs"), 1);
  auto r = StoreReader::Open(o.path);
  ASSERT_TRUE(r.ok());
  for (const std::string& req : requests) {
    struct Ids : wire::RequestVisitor {
      std::vector<std::string> traces;
      void OnSpan(const wire::SpanView& s) override { traces.emplace_back(s.trace_id); }
    } ids;
    ASSERT_TRUE(wire::ReadExportRequest(wire::Signal::kTraces, req, &ids).ok());
    for (const std::string& id : ids.traces) {
      EXPECT_TRUE((*r)->GetTrace(id).ok()) << ToHex(id);
    }
  }
}

// A full disk (SQLite's page cap, a real SQLITE_FULL): every item written is
// either in the store or reported lost by Flush, and the writer goes on.
TEST_F(SpanBlocks, AFullDiskLosesNothingSilently) {
  StoreOptions o = Options();
  o.block_spans = 1024;
  o.max_pages = 48;  // 768 KiB
  StoreWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  int64_t written = 0, lost = 0, failed_flushes = 0;
  for (int i = 0; i < 80; ++i) {
    ASSERT_TRUE(
        w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(200, 300 + i)))
            .ok());  // taken (a failed block write is reported by Flush)
    written += 200;
    if (i % 4 == 3) {
      absl::Status st = w.Flush();
      if (!st.ok()) {
        ++failed_flushes;
        EXPECT_NE(st.message().find("full"), std::string::npos) << st;
        lost += pipeline::LostItemsOf(st);
      }
    }
  }
  absl::Status st = w.Close();
  if (!st.ok()) lost += pipeline::LostItemsOf(st);
  EXPECT_GT(failed_flushes, 0);
  auto r = StoreReader::Open(o.path);
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t stored = *(*r)->Count("spans");
  EXPECT_GT(stored, 0);
  EXPECT_EQ(stored, w.stored_items());
  EXPECT_EQ(stored + lost, written);
}

TEST(BlockView, DamagedColumnsFailToParseOrStayInBounds) {
  BlockBuilder b;
  const std::vector<std::pair<std::string, std::string>> attrs = {{"http.route", "/x"}};
  for (int i = 0; i < 20; ++i) {
    BlockBuilder::Span s;
    const std::string trace_id(16, static_cast<char>(i + 1)), span_id(8, 'x');
    s.raw = "raw span bytes";
    s.trace_id = trace_id;
    s.span_id = span_id;
    s.name = i % 2 ? "a" : "b";
    s.service = "svc";
    s.start_ns = i;
    s.duration_ns = 10 * i;
    s.attributes = attrs.data();
    s.attribute_count = attrs.size();
    b.Add(s);
  }
  const std::string cols = b.Cols(), data = b.Data();
  BlockView v;
  ASSERT_TRUE(v.Parse(cols).ok());
  ASSERT_EQ(v.size(), 20u);
  EXPECT_EQ(v.str(v.record(3).name), "a");
  EXPECT_EQ(BlockView::Raw(v.record(3), data), "raw span bytes");
  auto touch = [&](const BlockView& view) {
    size_t bytes = 0;
    for (size_t i = 0; i < view.size(); ++i) {
      const SpanRecord r = view.record(i);
      bytes +=
          view.str(r.service).size() + view.str(r.name).size() + BlockView::Raw(r, data).size();
      for (uint32_t a = 0; a < r.attrs_count; ++a) {
        const auto [k, val] = view.attribute(r.attrs_begin + a);
        bytes += view.str(k).size() + view.str(val).size();
      }
      bytes += static_cast<size_t>(view.origin(r.origin).first);
    }
    return bytes;
  };
  EXPECT_GT(touch(v), 0u);
  // Every truncation fails; every single-byte change parses or fails, and
  // what parses reads only inside the blobs (ASan builds check it).
  for (size_t n = 0; n < cols.size(); ++n) {
    EXPECT_FALSE(v.Parse(cols.substr(0, n)).ok()) << n;
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = cols;
    bad[rng() % bad.size()] = static_cast<char>(rng());
    if (v.Parse(bad).ok()) (void)touch(v);
  }
  // Summaries: one per kind and value, with their counts.
  int services = 0, names = 0, routes = 0;
  for (const BlockKey& k : b.Summaries()) {
    if (k.kind == BlockKey::kService) services += k.spans;
    if (k.kind == BlockKey::kName) ++names;
    if (k.kind == BlockKey::kAttribute) {
      EXPECT_EQ(k.value, AttributeKeyValue("http.route", "/x"));
      routes += k.spans;
      EXPECT_EQ(k.max_duration_ns, 190);
    }
  }
  EXPECT_EQ(services, 20);
  EXPECT_EQ(names, 2);
  EXPECT_EQ(routes, 20);
}

}  // namespace
}  // namespace tracewire::store
