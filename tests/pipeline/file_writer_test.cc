#include "pipeline/file_writer.h"

#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace tracewire::pipeline
