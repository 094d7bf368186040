// The store: the writer and the reader on real SQLite files.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <thread>

#include "store/otlp_items.h"
#include "store/store_fixtures.h"
#include "store/store_reader.h"
#include "store/store_writer.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"
#include "wire/otlp_reader.h"
#include "wire/proto_writer.h"

namespace tracewire::store {
namespace {

using testing_store::Id;
using testing_store::KnownLogs;
using testing_store::KnownTrace;
using testing_store::kT0;
using testing_store::MakeBatch;

// Collects the raw items of a request.
struct Collect : wire::RequestVisitor {
  std::vector<std::string> spans, logs, metrics;
  void OnSpan(const wire::SpanView& s) override { spans.emplace_back(s.raw); }
  void OnLogRecord(const wire::LogRecordView& l) override { logs.emplace_back(l.raw); }
  void OnMetric(const wire::MetricView& m) override { metrics.emplace_back(m.raw); }
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }
  StoreOptions Options() {
    StoreOptions o;
    o.path = tmp_.path() + "/data/tw.db";
    o.retention_hours = 0;
    return o;
  }
  std::unique_ptr<StoreReader> Reader() {
    auto r = StoreReader::Open(tmp_.path() + "/data/tw.db");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }
  testing::TempDir tmp_{"tw-store"};
};

TEST_F(StoreTest, EveryFieldOfEverySignalReadsBack) {
  tools::SyntheticOptions so;
  const std::string traces = tools::MakeTracesRequest(50, so);
  const std::string metrics = tools::MakeMetricsRequest(10, so);
  const std::string logs = tools::MakeLogsRequest(30, so);
  {
    StoreWriter w(Options());
    ASSERT_TRUE(w.Open().ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, traces)).ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kMetrics, metrics)).ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kLogs, logs)).ok());
    ASSERT_TRUE(w.Close().ok());
  }
  Collect c;
  ASSERT_TRUE(wire::ReadExportRequest(wire::Signal::kTraces, traces, &c).ok());
  ASSERT_TRUE(wire::ReadExportRequest(wire::Signal::kMetrics, metrics, &c).ok());
  ASSERT_TRUE(wire::ReadExportRequest(wire::Signal::kLogs, logs, &c).ok());
  auto r = Reader();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r->Count("spans"), 50);
  EXPECT_EQ(*r->Count("logs"), 30);
  EXPECT_EQ(*r->Count("points"), 20);
  EXPECT_EQ(*r->Count("metrics"), 10);
  EXPECT_LE(*r->Count("resources"), 3);  // once per request, not per item

  // Spans: each decodes to the same fields as the span sent (raw bytes kept).
  int checked = 0;
  for (const std::string& raw : c.spans) {
    const SpanInfo sent = DecodeSpan(raw);
    auto got = r->GetTrace(sent.trace_id);
    ASSERT_TRUE(got.ok()) << got.status();
    for (const StoredSpan& s : *got) {
      if (s.span.span_id != sent.span_id) continue;
      ++checked;
      EXPECT_EQ(s.span.name, sent.name);
      EXPECT_EQ(s.span.parent_span_id, sent.parent_span_id);
      EXPECT_EQ(s.span.kind, sent.kind);
      EXPECT_EQ(s.span.start_time_unix_nano, sent.start_time_unix_nano);
      EXPECT_EQ(s.span.end_time_unix_nano, sent.end_time_unix_nano);
      EXPECT_EQ(s.span.attributes, sent.attributes);
      EXPECT_EQ(s.span.status_code, sent.status_code);
      EXPECT_EQ(s.span.status_message, sent.status_message);
      EXPECT_EQ(s.span.trace_state, sent.trace_state);
      ASSERT_EQ(s.span.events.size(), sent.events.size());
      for (size_t i = 0; i < sent.events.size(); ++i) {
        EXPECT_EQ(s.span.events[i].name, sent.events[i].name);
        EXPECT_EQ(s.span.events[i].attributes, sent.events[i].attributes);
      }
      ASSERT_EQ(s.span.links.size(), sent.links.size());
      for (size_t i = 0; i < sent.links.size(); ++i) {
        EXPECT_EQ(s.span.links[i].span_id, sent.links[i].span_id);
        EXPECT_EQ(s.span.links[i].attributes, sent.links[i].attributes);
      }
      EXPECT_EQ(s.service, "tracewire-send");
    }
  }
  EXPECT_EQ(checked, 50);

  // Logs: every record, every field.
  LogFilter lf;
  lf.limit = 1000;
  auto got_logs = r->Logs(lf);
  ASSERT_TRUE(got_logs.ok());
  ASSERT_EQ(got_logs->size(), c.logs.size());
  int matched = 0;
  for (const std::string& raw : c.logs) {
    const LogInfo sent = DecodeLogRecord(raw);
    for (const StoredLog& l : *got_logs) {
      if (l.log.body == sent.body && l.log.time_unix_nano == sent.time_unix_nano &&
          l.log.severity_number == sent.severity_number &&
          l.log.severity_text == sent.severity_text && l.log.attributes == sent.attributes &&
          l.log.trace_id == sent.trace_id && l.log.span_id == sent.span_id &&
          l.log.flags == sent.flags &&
          l.log.observed_time_unix_nano == sent.observed_time_unix_nano) {
        ++matched;
        break;
      }
    }
  }
  EXPECT_EQ(matched, 30);

  // Metrics: every series with its points and their values.
  auto series = r->Metrics("", "", 10);
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->size(), 10u);
  for (const std::string& raw : c.metrics) {
    const MetricInfo sent = DecodeMetric(raw);
    bool found = false;
    for (const MetricSeries& m : *series) {
      if (m.name != sent.name) continue;
      found = true;
      EXPECT_EQ(m.type, MetricTypeName(sent.data_field));
      EXPECT_EQ(m.unit, sent.unit);
      EXPECT_EQ(m.point_count, static_cast<int64_t>(sent.points.size()));
      for (std::string_view p : sent.points) {
        const PointInfo want = DecodePoint(sent.data_field, p);
        bool point_found = false;
        for (const PointInfo& got : m.recent) {
          point_found |= got.time_unix_nano == want.time_unix_nano && got.value == want.value &&
                         got.count == want.count && got.attributes == want.attributes &&
                         got.start_time_unix_nano == want.start_time_unix_nano;
        }
        EXPECT_TRUE(point_found) << m.name;
      }
    }
    EXPECT_TRUE(found) << sent.name;
  }
}

TEST_F(StoreTest, DuplicatesAreStoredOnce) {
  tools::SyntheticOptions so;
  StoreWriter w(Options());
  ASSERT_TRUE(w.Open().ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeTracesRequest(20, so))).ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kLogs, tools::MakeLogsRequest(20, so))).ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kMetrics, tools::MakeMetricsRequest(5, so))).ok());
    ASSERT_TRUE(w.Flush().ok());
  }
  EXPECT_EQ(w.stored_items(), 50);
  EXPECT_EQ(w.duplicate_items(), 100);
  auto r = Reader();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r->Count("spans"), 20);
  EXPECT_EQ(*r->Count("logs"), 20);
  EXPECT_EQ(*r->Count("points"), 10);
  EXPECT_EQ(*r->Count("resources"), 1);
  // A log record differing in one field is not a duplicate.
  so.seed = 2;
  ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kLogs, tools::MakeLogsRequest(20, so))).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(*r->Count("logs"), 40);
}

absl::Time fake_now;
absl::Time FakeNow() { return fake_now; }

TEST_F(StoreTest, RetentionByAgeWhileIngesting) {
  StoreOptions o = Options();
  o.retention_hours = 1;
  o.retention_interval = absl::ZeroDuration();
  o.now = &FakeNow;
  fake_now = absl::FromUnixSeconds(1800000000);
  StoreWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  ASSERT_TRUE(
      w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(100, 1))).ok());
  ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kLogs, tools::MakeLogsRequest(10, {}))).ok());
  ASSERT_TRUE(w.Flush().ok());
  auto r = Reader();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r->Count("spans"), 100);
  fake_now += absl::Minutes(61);
  ASSERT_TRUE(
      w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(50, 2))).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(*r->Count("spans"), 50);  // the first 100 aged out, the new ones stay
  EXPECT_EQ(*r->Count("logs"), 0);
  EXPECT_GE(w.retention_deleted(), 110);
}

TEST_F(StoreTest, RetentionBySizeWhileIngesting) {
  StoreOptions o = Options();
  o.max_mib = 2;
  o.retention_interval = absl::ZeroDuration();
  o.retention_step_budget = absl::Seconds(10);  // keep up fully in this test
  StoreWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  int64_t sent = 0;
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(
        w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(500, 100 + i)))
            .ok());
    sent += 500;
  }
  ASSERT_TRUE(w.Flush().ok());
  auto r = Reader();
  ASSERT_NE(r, nullptr);
  const int64_t kept = *r->Count("spans");
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, sent);
  EXPECT_GT(w.retention_deleted(), 0);
  // The newest batch is still there.
  Collect c;
  const std::string last = tools::MakeStandardSpansRequest(500, 159);
  ASSERT_TRUE(wire::ReadExportRequest(wire::Signal::kTraces, last, &c).ok());
  EXPECT_TRUE(r->GetTrace(DecodeSpan(c.spans.back()).trace_id).ok());
  ASSERT_TRUE(w.Close().ok());
  // The file stays near the limit (within a few batches' worth).
  const auto size = std::filesystem::file_size(o.path);
  EXPECT_LT(size, 4u << 20) << size;
}

class StoreQueries : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    StoreWriter w(Options());
    ASSERT_TRUE(w.Open().ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kTraces, KnownTrace())).ok());
    ASSERT_TRUE(w.Write(MakeBatch(wire::Signal::kLogs, KnownLogs())).ok());
    ASSERT_TRUE(w.Close().ok());
    reader_ = Reader();
    ASSERT_NE(reader_, nullptr);
  }
  std::vector<TraceSummary> Find(const TraceFilter& f) {
    auto t = reader_->FindTraces(f);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : std::vector<TraceSummary>{};
  }
  std::unique_ptr<StoreReader> reader_;
};

TEST_F(StoreQueries, TracesAndFilters) {
  TraceFilter all;
  auto t = Find(all);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].trace_id, Id(2, 16));  // newest first
  EXPECT_EQ(t[1].span_count, 4);
  EXPECT_EQ(t[1].root_service, "frontend");
  EXPECT_EQ(t[1].root_name, "GET /checkout");
  EXPECT_TRUE(t[1].root_found);
  EXPECT_EQ(t[1].error_spans, 1);
  EXPECT_EQ(t[1].end_ns - t[1].start_ns, 100 * 1000000);

  TraceFilter f;
  f.sort_by_duration = true;
  EXPECT_EQ(Find(f)[0].trace_id, Id(1, 16));
  f = {};
  f.service = "search";
  ASSERT_EQ(Find(f).size(), 1u);
  EXPECT_EQ(Find(f)[0].trace_id, Id(2, 16));
  f = {};
  f.name = "charge";
  ASSERT_EQ(Find(f).size(), 1u);
  f = {};
  f.errors_only = true;
  ASSERT_EQ(Find(f).size(), 1u);
  EXPECT_EQ(Find(f)[0].trace_id, Id(1, 16));
  f = {};
  f.min_duration_ns = 50 * 1000000;
  ASSERT_EQ(Find(f).size(), 1u);
  f = {};
  f.since_ns = static_cast<int64_t>(kT0) + 150 * 1000000;
  ASSERT_EQ(Find(f).size(), 1u);
  EXPECT_EQ(Find(f)[0].trace_id, Id(2, 16));
  f = {};
  f.until_ns = static_cast<int64_t>(kT0) + 150 * 1000000;
  ASSERT_EQ(Find(f).size(), 1u);
  EXPECT_EQ(Find(f)[0].trace_id, Id(1, 16));
  f = {};
  f.attr_key = "http.route";
  f.attr_value = "/checkout";
  ASSERT_EQ(Find(f).size(), 1u);
  f.attr_value = "/nope";
  EXPECT_EQ(Find(f).size(), 0u);
  f = {};
  f.attr_key = "rpc.method";
  f.attr_value = "Charge";
  ASSERT_EQ(Find(f).size(), 1u);
  f = {};
  f.limit = 1;
  EXPECT_EQ(Find(f).size(), 1u);
  f = {};
  f.service = "nobody";
  EXPECT_EQ(Find(f).size(), 0u);
}

TEST_F(StoreQueries, TraceServicesAndLogs) {
  auto spans = reader_->GetTrace(Id(1, 16));
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(spans->size(), 4u);
  EXPECT_EQ((*spans)[0].span.name, "GET /checkout");
  EXPECT_EQ((*spans)[0].scope_name, "test-scope");
  EXPECT_TRUE(absl::IsNotFound(reader_->GetTrace(Id(3, 16)).status()));

  auto services = reader_->Services(0);
  ASSERT_TRUE(services.ok());
  ASSERT_EQ(services->size(), 3u);
  EXPECT_EQ((*services)[0].service, "backend");
  EXPECT_EQ((*services)[0].spans, 3);
  EXPECT_EQ((*services)[0].errors, 1);
  EXPECT_EQ((*services)[0].p50_ns, 20 * 1000000);
  EXPECT_EQ((*services)[0].p99_ns, 80 * 1000000);
  EXPECT_EQ(reader_->Services(static_cast<int64_t>(kT0) + 150000000)->size(), 1u);

  LogFilter lf;
  EXPECT_EQ(reader_->Logs(lf)->size(), 2u);
  lf.min_severity = 17;
  ASSERT_EQ(reader_->Logs(lf)->size(), 1u);
  lf = {};
  lf.grep = "card";
  ASSERT_EQ(reader_->Logs(lf)->size(), 1u);
  lf = {};
  lf.trace_id = Id(1, 16);
  ASSERT_EQ(reader_->Logs(lf)->size(), 1u);
  lf = {};
  lf.service = "frontend";
  EXPECT_EQ(reader_->Logs(lf)->size(), 0u);
}

TEST_F(StoreTest, ReaderWhileWriterInserts) {
  StoreWriter w(Options());
  ASSERT_TRUE(w.Open().ok());
  ASSERT_TRUE(w.Flush().ok());
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      if (!w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(200, i)))
               .ok() ||
          !w.Flush().ok()) {
        failed = true;
      }
    }
  });
  auto r = Reader();
  ASSERT_NE(r, nullptr);
  int64_t last = 0;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<int64_t> n = r->Count("spans");
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_GE(*n, last);
    last = *n;
    TraceFilter f;
    f.sort_by_duration = true;
    ASSERT_TRUE(r->FindTraces(f).ok());
  }
  writer.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(*r->Count("spans"), 8000);
}

TEST_F(StoreTest, CorruptForeignMissingAndLockedFilesGiveClearErrors) {
  const std::string missing = tmp_.path() + "/nope.db";
  auto r = StoreReader::Open(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no store at"), std::string::npos);

  const std::string garbage = tmp_.path() + "/garbage.db";
  {
    std::ofstream out(garbage);
    for (int i = 0; i < 1000; ++i) out << "this is not a database ";
  }
  r = StoreReader::Open(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a tracewire store"), std::string::npos) << r.status();
  StoreOptions o = Options();
  o.path = garbage;
  StoreWriter bad(o);
  EXPECT_FALSE(bad.Open().ok());

  const std::string foreign = tmp_.path() + "/foreign.db";
  ASSERT_EQ(testing::Run("sqlite3 " + foreign + " 'CREATE TABLE t(x); INSERT INTO t VALUES(1);'"),
            0);
  r = StoreReader::Open(foreign);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a tracewire store"), std::string::npos) << r.status();
  o.path = foreign;
  StoreWriter foreign_writer(o);
  absl::Status st = foreign_writer.Open();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not a tracewire store"), std::string::npos) << st;

  // A store a newer tracewire wrote (a higher store version): refused by the
  // reader and the writer, naming both versions, and left as it was.
  const std::string newer = tmp_.path() + "/newer.db";
  {
    StoreOptions n = Options();
    n.path = newer;
    StoreWriter w(n);
    ASSERT_TRUE(w.Open().ok());
    ASSERT_TRUE(w.Close().ok());
  }
  ASSERT_EQ(testing::Run("sqlite3 " + newer + " \"UPDATE meta SET value='7' WHERE key='version'\""),
            0);
  r = StoreReader::Open(newer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("newer tracewire (store version 7; this build reads "
                                      "versions up to 2)"),
            std::string::npos)
      << r.status();
  o.path = newer;
  StoreWriter newer_writer(o);
  st = newer_writer.Open();
  EXPECT_NE(st.message().find("store version 7"), std::string::npos) << st;
  // A version-1 store (one row per span): refused too, saying what to do.
  ASSERT_EQ(testing::Run("sqlite3 " + newer + " \"UPDATE meta SET value='1' WHERE key='version'\""),
            0);
  r = StoreReader::Open(newer);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("older tracewire (store version 1; this build reads "
                                      "version 2): move it away"),
            std::string::npos)
      << r.status();
  StoreWriter older_writer(o);
  EXPECT_FALSE(older_writer.Open().ok());

  // A store whose header is overwritten: corrupt.
  {
    StoreWriter w(Options());
    ASSERT_TRUE(w.Open().ok());
    ASSERT_TRUE(
        w.Write(MakeBatch(wire::Signal::kTraces, tools::MakeStandardSpansRequest(100, 1))).ok());
    ASSERT_TRUE(w.Close().ok());
  }
  const std::string path = Options().path;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << "garbage garbage garbage garbage garbage garbage";
  }
  r = StoreReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.status().message().empty());
}

// AnyValue text as the CLI shows it: doubles read back exactly (the shortest
// round-trip form, not six digits), bytes inside arrays and maps quoted so
// that those stay JSON. Found by the JS interop store round.
TEST(RenderAnyValue, DoublesRoundTripAndNestedBytesStayJson) {
  auto double_value = [](double d) {
    std::string v;
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    wire::AppendVarint(&v, (4u << 3) | 1);  // double_value, fixed64
    for (int i = 0; i < 8; ++i) v.push_back(static_cast<char>(bits >> (8 * i)));
    return v;
  };
  EXPECT_EQ(RenderAnyValue(double_value(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(RenderAnyValue(double_value(1.7976931348623157e308)), "1.7976931348623157e+308");
  EXPECT_EQ(RenderAnyValue(double_value(0.25)), "0.25");
  EXPECT_EQ(RenderAnyValue(double_value(std::nan(""))), "NaN");
  std::string bytes;
  wire::AppendLenField(&bytes, 7, std::string("\x01\xfe", 2));
  EXPECT_EQ(RenderAnyValue(bytes), "01fe");
  std::string array_body;
  wire::AppendLenField(&array_body, 1, bytes);
  wire::AppendLenField(&array_body, 1, double_value(-std::numeric_limits<double>::infinity()));
  std::string array;
  wire::AppendLenField(&array, 5, array_body);
  EXPECT_EQ(RenderAnyValue(array), "[\"01fe\",\"-Infinity\"]");
}

}  // namespace
}  // namespace tracewire::store
