#include "pipeline/wal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "testing/test_env.h"

namespace tracewire::pipeline {
namespace {

namespace fs = std::filesystem;

WalOptions Options(const std::string& dir, FsyncPolicy fsync = FsyncPolicy::kBatch) {
  WalOptions o;
  o.dir = dir;
  o.fsync = fsync;
  o.fsync_interval = absl::Milliseconds(5);
  o.max_bytes = 1 << 20;
  o.segment_bytes = 4096;
  return o;
}

std::string Payload(int i) { return std::string(100 + i % 50, static_cast<char>('a' + i % 26)); }

// Every record not yet acked, in order.
std::vector<WalRecord> ReadAll(Wal& wal) {
  std::vector<WalRecord> out;
  uint64_t after = 0;
  for (;;) {
    absl::StatusOr<std::optional<WalRecord>> r = wal.ReadAfter(after);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || !r->has_value()) return out;
    after = (*r)->id;
    out.push_back(std::move(**r));
  }
}

std::vector<std::string> Segments(const std::string& dir, const std::string& suffix = ".wal") {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Wal, AppendsReadsInOrderAndAcksAcrossSegments) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  Wal wal(Options(tmp.path()));
  ASSERT_TRUE(wal.Open().ok());
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<uint64_t> id = wal.Append(wire::Signal::kLogs, i, Payload(i));
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(*id, static_cast<uint64_t>(i + 1));
  }
  EXPECT_GT(wal.Stats().segments, 3);  // 4 KiB segments
  std::vector<WalRecord> all = ReadAll(wal);
  ASSERT_EQ(all.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(all[i].bytes, Payload(i));
    EXPECT_EQ(all[i].items, i);
    EXPECT_EQ(all[i].signal, wire::Signal::kLogs);
  }
  // Out of order: nothing leaves before the oldest is acked.
  wal.Ack(2);
  EXPECT_EQ(wal.Stats().pending_records, 99);
  const int64_t segments = wal.Stats().segments;
  for (uint64_t id = 1; id <= 90; ++id) wal.Ack(id);
  EXPECT_EQ(wal.Stats().pending_records, 10);
  EXPECT_LT(wal.Stats().segments, segments);  // taken segments are deleted
  EXPECT_EQ(ReadAll(wal).front().id, 91u);
  ASSERT_TRUE(wal.Close().ok());
  EXPECT_TRUE(wal.Close().ok());  // twice is fine
}

TEST(Wal, RestartReplaysWhatWasNotAckedThenNewData) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  {
    Wal wal(Options(tmp.path()));
    ASSERT_TRUE(wal.Open().ok());
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, Payload(i)).ok());
    for (uint64_t id = 1; id <= 10; ++id) wal.Ack(id);
    ASSERT_TRUE(wal.Close().ok());
  }
  Wal wal(Options(tmp.path()));
  ASSERT_TRUE(wal.Open().ok());
  EXPECT_EQ(wal.Stats().recovered_records, 20);
  absl::StatusOr<uint64_t> next = wal.Append(wire::Signal::kTraces, 1, "new");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 31u);  // ids go on where they stopped
  std::vector<WalRecord> all = ReadAll(wal);
  ASSERT_EQ(all.size(), 21u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(all[i].bytes, Payload(i + 10));
  EXPECT_EQ(all[20].bytes, "new");
}

TEST(Wal, SecondOpenOfTheSameDirectoryFails) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  Wal a(Options(tmp.path()));
  ASSERT_TRUE(a.Open().ok());
  Wal b(Options(tmp.path()));
  absl::Status st = b.Open();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("in use by another process"), std::string::npos) << st;
}

TEST(Wal, TornLastRecordIsCutOffNeverReplayed) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  WalOptions o = Options(tmp.path());
  o.segment_bytes = 1 << 20;
  o.preallocate = false;  // the records end where the file does
  {
    Wal wal(o);
    ASSERT_TRUE(wal.Open().ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, Payload(i)).ok());
    ASSERT_TRUE(wal.Close().ok());
  }
  std::vector<std::string> segs = Segments(tmp.path());
  ASSERT_EQ(segs.size(), 1u);
  // A crash in the middle of the sixth append: its header and part of it.
  const int64_t size = fs::file_size(segs[0]);
  {
    int fd = ::open(segs[0].c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    std::string torn(16 + 40, 'x');
    torn[0] = 100;  // says 100 bytes follow
    torn[1] = torn[2] = torn[3] = 0;
    ASSERT_EQ(::write(fd, torn.data(), torn.size()), static_cast<ssize_t>(torn.size()));
    ::close(fd);
  }
  Wal wal(o);
  ASSERT_TRUE(wal.Open().ok());
  EXPECT_EQ(wal.Stats().torn_records, 1);
  EXPECT_EQ(wal.Stats().recovered_records, 5);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(segs[0])), size);  // truncated back
  std::vector<WalRecord> all = ReadAll(wal);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[4].bytes, Payload(4));
}

TEST(Wal, BadChecksumInTheLastRecordIsTorn) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  WalOptions o = Options(tmp.path());
  o.segment_bytes = 1 << 20;
  o.preallocate = false;  // the records end where the file does
  {
    Wal wal(o);
    ASSERT_TRUE(wal.Open().ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, Payload(i)).ok());
    ASSERT_TRUE(wal.Close().ok());
  }
  const std::string seg = Segments(tmp.path())[0];
  {
    int fd = ::open(seg.c_str(), O_WRONLY);
    const int64_t last_byte = fs::file_size(seg) - 1;
    ASSERT_EQ(::pwrite(fd, "#", 1, last_byte), 1);  // the payload is the letter c, 102 times
    ::close(fd);
  }
  Wal wal(o);
  ASSERT_TRUE(wal.Open().ok());
  EXPECT_EQ(wal.Stats().torn_records, 1);
  EXPECT_EQ(ReadAll(wal).size(), 2u);
}

// Segments are written full of zeros before they are used: their size is
// segment_bytes from the first record on, and a reopen finds where their
// records end, appends there, and cuts a torn record off in the zeros.
TEST(Wal, PreallocatedSegmentsReopenAtTheEndOfTheirRecords) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  WalOptions o = Options(tmp.path());
  int64_t data_end = 8;  // the magic
  {
    Wal wal(o);
    ASSERT_TRUE(wal.Open().ok());
    for (int i = 0; i < 60; ++i) {
      // The log's thread prepares the next segment after each roll: wait
      // for it, so that every roll finds one.
      for (int w = 0; w < 5000 && !fs::exists(tmp.path() + "/spare.wal"); ++w) {
        absl::SleepFor(absl::Milliseconds(1));
      }
      ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, Payload(i)).ok());
    }
    const WalStats s = wal.Stats();
    EXPECT_GT(s.segments, 2);
    // Open creates the first segment before the spare thread has run: every
    // later one was prepared.
    EXPECT_EQ(s.preallocated_segments, s.segments - 1);
    const std::vector<std::string> written = Segments(tmp.path());
    for (size_t i = 1; i < written.size(); ++i) {
      EXPECT_EQ(static_cast<int64_t>(fs::file_size(written[i])), o.segment_bytes) << written[i];
    }
    // The next one is prepared (the last append may have just taken one).
    for (int w = 0; w < 5000 && !fs::exists(tmp.path() + "/spare.wal"); ++w) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    EXPECT_TRUE(fs::exists(tmp.path() + "/spare.wal"));
    ASSERT_TRUE(wal.Close().ok());
    EXPECT_FALSE(fs::exists(tmp.path() + "/spare.wal"));
  }
  const std::vector<std::string> segs = Segments(tmp.path());
  {
    Wal wal(o);
    ASSERT_TRUE(wal.Open().ok());
    EXPECT_EQ(wal.Stats().recovered_records, 60);
    EXPECT_EQ(wal.Stats().torn_records, 0);
    absl::StatusOr<uint64_t> next = wal.Append(wire::Signal::kTraces, 1, "new");
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, 61u);
    std::vector<WalRecord> all = ReadAll(wal);
    ASSERT_EQ(all.size(), 61u);
    for (int i = 0; i < 60; ++i) EXPECT_EQ(all[i].bytes, Payload(i));
    EXPECT_EQ(all[60].bytes, "new");
    ASSERT_TRUE(wal.Close().ok());
  }
  // The newest segment holds "new" alone: a crash in the middle of the next
  // append leaves its header and part of its payload in the zeros after it.
  const std::vector<std::string> now = Segments(tmp.path());
  ASSERT_EQ(now.size(), segs.size() + 1);
  data_end += 16 + 3;
  {
    int fd = ::open(now.back().c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::string torn(16 + 40, 'x');
    torn[0] = 100;  // says 100 bytes follow
    torn[1] = torn[2] = torn[3] = 0;
    ASSERT_EQ(::pwrite(fd, torn.data(), torn.size(), data_end),
              static_cast<ssize_t>(torn.size()));
    ::close(fd);
  }
  Wal wal(o);
  ASSERT_TRUE(wal.Open().ok());
  EXPECT_EQ(wal.Stats().torn_records, 1);
  EXPECT_EQ(wal.Stats().recovered_records, 61);
  std::vector<WalRecord> all = ReadAll(wal);
  ASSERT_EQ(all.size(), 61u);
  EXPECT_EQ(all.back().bytes, "new");
  ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, "after").ok());
  EXPECT_EQ(ReadAll(wal).back().bytes, "after");
}

TEST(Wal, WithoutAnFsyncPolicyNothingIsPreallocated) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  Wal wal(Options(tmp.path(), FsyncPolicy::kNone));
  ASSERT_TRUE(wal.Open().ok());
  ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, Payload(0)).ok());
  EXPECT_EQ(wal.Stats().preallocated_segments, 0);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(Segments(tmp.path())[0])), 8 + 16 + 100);
  EXPECT_FALSE(fs::exists(tmp.path() + "/spare.wal"));
}

TEST(Wal, CorruptSegmentIsMovedAsideAndTheRestReplayed) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  WalOptions o = Options(tmp.path());
  {
    Wal wal(o);
    ASSERT_TRUE(wal.Open().ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, Payload(i)).ok());
    }
    ASSERT_TRUE(wal.Close().ok());
  }
  std::vector<std::string> segs = Segments(tmp.path());
  ASSERT_GE(segs.size(), 4u);
  // Damage the second segment in the middle of its second record, and
  // overwrite the third's header: neither is the newest.
  {
    int fd = ::open(segs[1].c_str(), O_WRONLY);
    ASSERT_EQ(::pwrite(fd, "garbage!", 8, 8 + 16 + 120 + 16 + 30), 8);
    ::close(fd);
    fd = ::open(segs[2].c_str(), O_WRONLY);
    ASSERT_EQ(::pwrite(fd, "NOTAWAL!", 8, 0), 8);
    ::close(fd);
  }
  Wal wal(o);
  ASSERT_TRUE(wal.Open().ok());  // a corrupt log never stops the start
  const WalStats s = wal.Stats();
  EXPECT_EQ(s.corrupt_records, 1);
  EXPECT_EQ(s.corrupt_segments, 2);
  EXPECT_EQ(Segments(tmp.path(), ".corrupt").size(), 2u);
  std::vector<WalRecord> all = ReadAll(wal);
  // In order, every good record: the first segment, the first record of the
  // second, then everything from the fourth segment on.
  ASSERT_GT(all.size(), 30u);
  EXPECT_LT(all.size(), 100u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].id, all[i].id);
  for (const WalRecord& r : all) EXPECT_EQ(r.bytes, Payload(static_cast<int>(r.id - 1)));
  EXPECT_EQ(s.recovered_records, static_cast<int64_t>(all.size()));
}

TEST(Wal, FullLogRefusesWithUnavailableButTakesOneIntoAnEmptyLog) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  WalOptions o = Options(tmp.path());
  o.max_bytes = 1000;
  Wal wal(o);
  ASSERT_TRUE(wal.Open().ok());
  ASSERT_TRUE(wal.Append(wire::Signal::kTraces, 1, std::string(5000, 'x')).ok());  // empty: taken
  absl::StatusOr<uint64_t> full = wal.Append(wire::Signal::kTraces, 1, "y");
  EXPECT_EQ(full.status().code(), absl::StatusCode::kUnavailable);
  wal.Ack(1);
  EXPECT_TRUE(wal.Append(wire::Signal::kTraces, 1, std::string(900, 'z')).ok());
  EXPECT_EQ(wal.Append(wire::Signal::kTraces, 1, std::string(100, 'z')).status().code(),
            absl::StatusCode::kUnavailable);
}

// Each fsync policy keeps what it appended across a close and reopen, and
// the batch policy shares its syncs between concurrent appends.
class WalFsync : public ::testing::TestWithParam<FsyncPolicy> {};

TEST_P(WalFsync, ConcurrentAppendsAllComeBack) {
  const testing::TempDir tmp("tw-wal");
  ASSERT_TRUE(tmp.ok());
  WalOptions o = Options(tmp.path(), GetParam());
  o.max_bytes = 64 << 20;
  o.segment_bytes = 64 << 10;
  constexpr int kThreads = 4, kEach = 50;
  {
    Wal wal(o);
    ASSERT_TRUE(wal.Open().ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&wal, t] {
        for (int i = 0; i < kEach; ++i) {
          EXPECT_TRUE(wal.Append(wire::Signal::kMetrics, t, Payload(t * kEach + i)).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    const WalStats s = wal.Stats();
    EXPECT_EQ(s.pending_records, kThreads * kEach);
    if (GetParam() == FsyncPolicy::kBatch) {
      EXPECT_GT(s.syncs, 0);
      EXPECT_LE(s.syncs, kThreads * kEach + s.segments);
    }
    if (GetParam() == FsyncPolicy::kInterval) {
      for (int i = 0; i < 200 && wal.Stats().syncs == 0; ++i) absl::SleepFor(absl::Milliseconds(5));
      EXPECT_GT(wal.Stats().syncs, 0);  // the timer synced
    }
    if (GetParam() == FsyncPolicy::kNone) EXPECT_EQ(s.syncs, 0);
    ASSERT_TRUE(wal.Close().ok());
  }
  Wal wal(o);
  ASSERT_TRUE(wal.Open().ok());
  std::vector<WalRecord> all = ReadAll(wal);
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<int> per_thread(kThreads, 0);
  for (const WalRecord& r : all) {
    // Each thread's records are in its order.
    const int t = static_cast<int>(r.items);
    EXPECT_EQ(r.bytes, Payload(t * kEach + per_thread[t]));
    ++per_thread[t];
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, WalFsync,
                         ::testing::Values(FsyncPolicy::kBatch, FsyncPolicy::kInterval,
                                           FsyncPolicy::kNone),
                         [](const ::testing::TestParamInfo<FsyncPolicy>& p) {
                           return p.param == FsyncPolicy::kBatch      ? std::string("Batch")
                                  : p.param == FsyncPolicy::kInterval ? std::string("Interval")
                                                                      : std::string("None");
                         });

}  // namespace
}  // namespace tracewire::pipeline
