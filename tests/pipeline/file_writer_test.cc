#include "pipeline/file_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "pipeline/persistent_queue.h"
#include "pipeline/queued_sink.h"
#include "testing/test_env.h"
#include "tools/synthetic.h"

namespace tracewire::pipeline {
namespace {

Batch TracesBatch(int spans, uint64_t seed) {
  Batch b;
  b.signal = wire::Signal::kTraces;
  b.bytes = tools::MakeStandardSpansRequest(spans, seed);
  b.items = spans;
  return b;
}

TEST(FileWriter, WritesOneJsonLinePerBatchPerSignal) {
  const testing::TempDir tmp("tw-fw");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  FileWriterOptions o;
  o.dir = dir + "/out";
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  ASSERT_TRUE(w.Write(TracesBatch(3, 1)).ok());
  ASSERT_TRUE(w.Write(TracesBatch(2, 2)).ok());
  Batch logs;
  logs.signal = wire::Signal::kLogs;
  logs.bytes = tools::MakeLogsRequest(4, {});
  logs.items = 4;
  ASSERT_TRUE(w.Write(logs).ok());
  ASSERT_TRUE(w.Close().ok());
  auto traces = testing::ReadJsonLines(o.dir + "/traces.jsonl");
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(testing::CountItems(traces, "traces"), 5);
  const auto& span = traces[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["name"], "GET /api/users");
  EXPECT_EQ(span["kind"], 2);                 // enums as integers
  EXPECT_TRUE(span["startTimeUnixNano"].is_string());  // 64-bit integers as strings
  EXPECT_EQ(span["traceId"].get<std::string>().size(), 32u);  // hex
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(o.dir + "/logs.jsonl"), "logs"), 4);
  EXPECT_TRUE(std::filesystem::exists(o.dir + "/metrics.jsonl"));
}

TEST(FileWriter, RotatesBySizeAndKeepsEveryLine) {
  const testing::TempDir tmp("tw-rot");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  FileWriterOptions o;
  o.dir = dir;
  o.rotate_bytes = 40000;  // A 40-span batch is ~33.5 KB of JSON: one batch per file.
  o.fsync = FsyncPolicy::kBatch;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w.Write(TracesBatch(40, i)).ok());
  ASSERT_TRUE(w.Close().ok());
  int files = 0;
  int64_t spans = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("traces", 0) != 0) continue;
    ++files;
    EXPECT_LE(std::filesystem::file_size(e.path()), 40000u) << name;
    spans += testing::CountItems(testing::ReadJsonLines(e.path().string()), "traces");
  }
  EXPECT_EQ(files, 5);
  EXPECT_EQ(spans, 200);
}

TEST(FileWriter, MaxFilesPrunesOldRotations) {
  const testing::TempDir tmp("tw-prune");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  FileWriterOptions o;
  o.dir = dir;
  o.rotate_bytes = 40000;
  o.max_rotated_files = 2;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(w.Write(TracesBatch(40, i)).ok());
  ASSERT_TRUE(w.Close().ok());
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("traces", 0) == 0) ++files;
  }
  EXPECT_EQ(files, 3);  // the live file and two rotated ones
}

TEST(FileWriter, UnwritableDirectoryIsAClearError) {
  FileWriterOptions o;
  o.dir = "/proc/tracewire-cannot-exist";
  FileWriter w(o);
  absl::Status st = w.Open();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("/proc/tracewire-cannot-exist"), std::string::npos);
}

// fsync interval under a steady stream: the queue's worker calls Flush only
// when its queue runs empty, so the lines written out by Write must be synced
// on their own once the interval has passed.
TEST(FileWriter, IntervalSyncsWhileBatchesKeepComingWithoutFlush) {
  const testing::TempDir tmp("tw-fw-interval");
  ASSERT_TRUE(tmp.ok());
  FileWriterOptions o;
  o.dir = tmp.path();
  o.fsync = FsyncPolicy::kInterval;
  o.fsync_interval = absl::ZeroDuration();  // due at every line
  o.encoders = 1;
  o.max_pending = 2;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  // Write waits for the head to be encoded once 2 batches are pending, and
  // writes it out: at least 8 of these 10 lines are written within Write.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w.Write(TracesBatch(5, i)).ok());
  EXPECT_GE(w.syncs(), 8);
  ASSERT_TRUE(w.Close().ok());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(tmp.path() + "/traces.jsonl"), "traces"),
            50);
  // Without fsync, no sync at all.
  const testing::TempDir none_dir("tw-fw-nosync");
  ASSERT_TRUE(none_dir.ok());
  o.dir = none_dir.path();
  o.fsync = FsyncPolicy::kNone;
  FileWriter n(o);
  ASSERT_TRUE(n.Open().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(n.Write(TracesBatch(5, i)).ok());
  ASSERT_TRUE(n.Close().ok());
  EXPECT_EQ(n.syncs(), 0);
}

TEST(FileWriter, QueuedSinkDrainsEverythingOnShutdown) {
  const testing::TempDir tmp("tw-drain");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  FileWriterOptions o;
  o.dir = dir;
  o.fsync = FsyncPolicy::kInterval;
  std::atomic<int64_t> dropped{0};
  QueuedSink sink(std::make_unique<FileWriter>(o), QueueOptions{}, &dropped);
  ASSERT_TRUE(sink.Start().ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(sink.Offer(TracesBatch(10, i)).ok());
  ASSERT_TRUE(sink.Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(dir + "/traces.jsonl"), "traces"), 500);
  EXPECT_EQ(dropped.load(), 0);
  EXPECT_FALSE(sink.Offer(TracesBatch(1, 1)).ok());  // Stopped: refuses, never drops silently.
  EXPECT_TRUE(sink.Shutdown(absl::Now()).ok());      // Twice is fine.
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Batches of varied sizes and signals, and the bytes one thread writing each
// in turn would leave in traces.jsonl and logs.jsonl.
struct Mixed {
  std::vector<Batch> batches;
  std::string traces, logs;
};

Mixed MakeMixed(int n) {
  Mixed m;
  wire::JsonWriter json;
  for (int i = 0; i < n; ++i) {
    Batch b;
    if (i % 7 == 3) {
      b.signal = wire::Signal::kLogs;
      b.items = 1 + i % 5;
      b.bytes = tools::MakeLogsRequest(static_cast<int>(b.items), {});
    } else {
      // Sizes vary a lot, so that encoders finish out of order.
      b = TracesBatch(i % 5 == 0 ? 200 : 1 + i % 13, static_cast<uint64_t>(i));
    }
    std::string* out = b.signal == wire::Signal::kLogs ? &m.logs : &m.traces;
    EXPECT_TRUE(json.Append(b.bytes, wire::schema::ExportRequestOf(b.signal), out));
    out->push_back('\n');
    m.batches.push_back(std::move(b));
  }
  return m;
}

TEST(FileWriter, LinesKeepArrivalOrderAndEqualOneThreadsEncoding) {
  const Mixed m = MakeMixed(400);
  for (int encoders : {0, 1, 4}) {
    const testing::TempDir tmp("tw-order");
    ASSERT_TRUE(tmp.ok());
    FileWriterOptions o;
    o.dir = tmp.path();
    o.encoders = encoders;
    FileWriter w(o);
    ASSERT_TRUE(w.Open().ok());
    for (size_t i = 0; i < m.batches.size(); ++i) {
      ASSERT_TRUE(w.Write(m.batches[i]).ok());
      if (i == 150) ASSERT_TRUE(w.Flush().ok());  // a barrier midway changes nothing
    }
    ASSERT_TRUE(w.Flush().ok());
    // Flush is the barrier: everything taken is in the files now.
    EXPECT_TRUE(ReadFile(o.dir + "/traces.jsonl") == m.traces) << "encoders " << encoders;
    EXPECT_TRUE(ReadFile(o.dir + "/logs.jsonl") == m.logs) << "encoders " << encoders;
    ASSERT_TRUE(w.Close().ok());
    EXPECT_TRUE(ReadFile(o.dir + "/traces.jsonl") == m.traces);
  }
}

TEST(FileWriter, RotationCutsTheSameStreamOfLines) {
  const Mixed m = MakeMixed(200);
  const testing::TempDir tmp("tw-rot-order");
  ASSERT_TRUE(tmp.ok());
  FileWriterOptions o;
  o.dir = tmp.path();
  o.encoders = 3;
  o.rotate_bytes = 400000;  // over the largest line (a 200-span batch, ~167 KB)
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  for (const Batch& b : m.batches) ASSERT_TRUE(w.Write(b).ok());
  ASSERT_TRUE(w.Close().ok());
  // traces-<time>-<seq>.jsonl in rotation order, then the live file.
  std::vector<std::pair<int64_t, std::string>> rotated;
  for (const auto& e : std::filesystem::directory_iterator(o.dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("traces-", 0) != 0) continue;
    std::vector<std::string> parts = absl::StrSplit(name, absl::ByAnyChar("-."));
    ASSERT_EQ(parts.size(), 4u) << name;
    int64_t seq = 0;
    ASSERT_TRUE(absl::SimpleAtoi(parts[2], &seq)) << name;
    rotated.emplace_back(seq, e.path().string());
    EXPECT_LE(std::filesystem::file_size(e.path()), 400000u) << name;
  }
  std::sort(rotated.begin(), rotated.end());
  EXPECT_GT(rotated.size(), 3u);
  std::string all;
  for (const auto& [seq, path] : rotated) all += ReadFile(path);
  all += ReadFile(o.dir + "/traces.jsonl");
  EXPECT_TRUE(all == m.traces);
}

TEST(FileWriter, ABatchNotWrittenIsReportedByFlushWithItsItems) {
  const testing::TempDir tmp("tw-bad");
  ASSERT_TRUE(tmp.ok());
  FileWriterOptions o;
  o.dir = tmp.path();
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  Batch bad;
  bad.bytes = "\x0a\xff";  // field 1, a length running past the end
  bad.items = 7;
  ASSERT_TRUE(w.Write(TracesBatch(2, 1)).ok());
  ASSERT_TRUE(w.Write(bad).ok());  // taken; the failure shows at the barrier
  ASSERT_TRUE(w.Write(TracesBatch(3, 2)).ok());
  absl::Status st = w.Flush();
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(LostItemsOf(st), 7);
  EXPECT_TRUE(w.Flush().ok());  // reported once
  ASSERT_TRUE(w.Close().ok());
  auto traces = testing::ReadJsonLines(o.dir + "/traces.jsonl");
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(testing::CountItems(traces, "traces"), 5);
}

TEST(FileWriter, QueuedSinkCountsTheItemsOfABatchNotWritten) {
  const testing::TempDir tmp("tw-bad-q");
  ASSERT_TRUE(tmp.ok());
  FileWriterOptions o;
  o.dir = tmp.path();
  std::atomic<int64_t> dropped{0};
  QueuedSink sink(std::make_unique<FileWriter>(o), QueueOptions{}, &dropped);
  ASSERT_TRUE(sink.Start().ok());
  Batch bad;
  bad.bytes = "\x0a\xff";
  bad.items = 7;
  ASSERT_TRUE(sink.Offer(TracesBatch(2, 1)).ok());
  ASSERT_TRUE(sink.Offer(std::move(bad)).ok());
  ASSERT_TRUE(sink.Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(dropped.load(), 7);
  EXPECT_EQ(testing::CountItems(testing::ReadJsonLines(o.dir + "/traces.jsonl"), "traces"), 2);
}

TEST(FileWriter, CancelEndsTheWaitsAndNothingAfterItIsAcknowledged) {
  const testing::TempDir tmp("tw-cancel");
  ASSERT_TRUE(tmp.ok());
  FileWriterOptions o;
  o.dir = tmp.path();
  o.encoders = 1;
  o.max_pending = 1;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  const Batch big = TracesBatch(5000, 1);
  std::thread writer([&] {
    // Each Write waits for the one before it; Cancel ends the wait.
    for (int i = 0; i < 1000; ++i) {
      if (!w.Write(big).ok()) break;
    }
  });
  absl::SleepFor(absl::Milliseconds(50));
  w.Cancel();
  writer.join();
  EXPECT_EQ(w.Write(big).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(w.Flush().code(), absl::StatusCode::kCancelled);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(w.Close().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(FileWriter, PersistentQueueAcksOnlyWhatIsWritten) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  const Mixed m = MakeMixed(300);
  FileWriterOptions o;
  o.dir = tmp.path() + "/out";
  PersistentQueueOptions pq;
  pq.wal.dir = tmp.path() + "/queue";
  pq.wal.max_bytes = 64 << 20;
  pq.flush_records = 16;
  {
    std::atomic<int64_t> dropped{0};
    PersistentQueue q(std::make_unique<FileWriter>(o), pq, &dropped);
    ASSERT_TRUE(q.Start().ok());
    for (const Batch& b : m.batches) {
      Batch copy = b;
      ASSERT_TRUE(q.Offer(std::move(copy)).ok());
    }
    ASSERT_TRUE(q.Shutdown(absl::Now() + absl::Seconds(30)).ok());
    EXPECT_EQ(q.Stats().wal.pending_records, 0);
    EXPECT_EQ(dropped.load(), 0);
  }
  EXPECT_TRUE(ReadFile(o.dir + "/traces.jsonl") == m.traces);
  EXPECT_TRUE(ReadFile(o.dir + "/logs.jsonl") == m.logs);
  // Nothing is left for a next start to hand over again.
  std::atomic<int64_t> dropped{0};
  PersistentQueue again(std::make_unique<FileWriter>(o), pq, &dropped);
  ASSERT_TRUE(again.Start().ok());
  EXPECT_EQ(again.Stats().wal.recovered_records, 0);
  ASSERT_TRUE(again.Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

}  // namespace
}  // namespace tracewire::pipeline
