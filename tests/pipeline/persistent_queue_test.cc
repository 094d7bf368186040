#include "pipeline/persistent_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "testing/test_env.h"

namespace tracewire::pipeline {
namespace {

// Records what it is given; fails while told to.
class FakeWriter : public BatchWriter {
 public:
  struct State {
    absl::Mutex mu;
    std::vector<std::string> written ABSL_GUARDED_BY(mu);
    absl::Status fail_with ABSL_GUARDED_BY(mu);
    absl::Status flush_fails_with ABSL_GUARDED_BY(mu);
    int flushes ABSL_GUARDED_BY(mu) = 0;
    int cancels ABSL_GUARDED_BY(mu) = 0;
    std::vector<std::string> Written() {
      absl::MutexLock l(&mu);
      return written;
    }
    void Fail(absl::Status st) {
      absl::MutexLock l(&mu);
      fail_with = std::move(st);
    }
  };
  explicit FakeWriter(State* s) : s_(s) {}
  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Write(const Batch& b) override {
    absl::MutexLock l(&s_->mu);
    if (!s_->fail_with.ok()) return s_->fail_with;
    s_->written.push_back(b.bytes);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    absl::MutexLock l(&s_->mu);
    ++s_->flushes;
    return s_->flush_fails_with;
  }
  absl::Status Close() override { return absl::OkStatus(); }
  void Cancel() override {
    absl::MutexLock l(&s_->mu);
    ++s_->cancels;
  }

 private:
  State* s_;
};

PersistentQueueOptions Options(const std::string& dir) {
  PersistentQueueOptions o;
  o.wal.dir = dir;
  o.wal.max_bytes = 1 << 20;
  o.wal.segment_bytes = 8 << 10;
  o.retry_initial = absl::Milliseconds(5);
  o.retry_max = absl::Milliseconds(20);
  return o;
}

Batch MakeBatch(const std::string& bytes) {
  Batch b;
  b.signal = wire::Signal::kTraces;
  b.items = 1;
  b.bytes = bytes;
  return b;
}

// Waits (bounded) until `pred` holds.
template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return pred();
}

TEST(PersistentQueue, DeliversInOrderAndEmptiesTheLog) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  FakeWriter::State state;
  PersistentQueue q(std::make_unique<FakeWriter>(&state), Options(tmp.path()), nullptr);
  ASSERT_TRUE(q.Start().ok());
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) {
    sent.push_back("request-" + std::to_string(i));
    ASSERT_TRUE(q.Offer(MakeBatch(sent.back())).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return q.QueuedBatches() == 0; }));
  EXPECT_EQ(state.Written(), sent);
  EXPECT_EQ(q.Stats().delivered_records, 50);
  ASSERT_TRUE(q.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(q.Offer(MakeBatch("late")).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PersistentQueue, RetriesARetryableFailureInOrderNeverDrops) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  FakeWriter::State state;
  std::atomic<int64_t> dropped{0};
  PersistentQueue q(std::make_unique<FakeWriter>(&state), Options(tmp.path()), &dropped);
  state.Fail(absl::UnavailableError("next hop down"));
  ASSERT_TRUE(q.Start().ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.Offer(MakeBatch(std::to_string(i))).ok());
  ASSERT_TRUE(WaitFor([&] { return q.Stats().retries >= 3; }));
  EXPECT_EQ(q.QueuedBatches(), 5);
  state.Fail(absl::OkStatus());
  ASSERT_TRUE(WaitFor([&] { return q.QueuedBatches() == 0; }));
  EXPECT_EQ(state.Written(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(dropped.load(), 0);
}

TEST(PersistentQueue, PermanentFailureDropsAndCounts) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  FakeWriter::State state;
  std::atomic<int64_t> dropped{0};
  PersistentQueue q(std::make_unique<FakeWriter>(&state), Options(tmp.path()), &dropped);
  state.Fail(absl::InternalError("disk on fire"));
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Offer(MakeBatch("x")).ok());
  ASSERT_TRUE(WaitFor([&] { return q.QueuedBatches() == 0; }));
  EXPECT_EQ(dropped.load(), 1);
  EXPECT_EQ(q.Stats().dropped_records, 1);
}

TEST(PersistentQueue, RetryDelayFromTheWriterIsHonored) {
  const absl::Status st = RetryAfterStatus(absl::UnavailableError("x"), absl::Milliseconds(1500));
  ASSERT_TRUE(RetryDelayOf(st).has_value());
  EXPECT_EQ(*RetryDelayOf(st), absl::Milliseconds(1500));
  EXPECT_FALSE(RetryDelayOf(absl::UnavailableError("y")).has_value());
}

TEST(PersistentQueue, FullLogAnswersUnavailable) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  FakeWriter::State state;
  state.Fail(absl::UnavailableError("down"));
  PersistentQueueOptions o = Options(tmp.path());
  o.wal.max_bytes = 4096;
  PersistentQueue q(std::make_unique<FakeWriter>(&state), o, nullptr);
  ASSERT_TRUE(q.Start().ok());
  absl::Status st;
  int taken = 0;
  for (int i = 0; i < 100 && st.ok(); ++i) {
    st = q.Offer(MakeBatch(std::string(1000, 'x')));
    if (st.ok()) ++taken;
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(taken, 4);
  EXPECT_EQ(q.CapacityBytes(), 4096);
  EXPECT_TRUE(q.Shutdown(absl::Now() + absl::Milliseconds(100)).ok());  // kept in the log
}

TEST(PersistentQueue, ShutdownByTheDeadlineKeepsWhatWasNotWrittenForTheNextStart) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  FakeWriter::State state;
  state.Fail(absl::UnavailableError("down"));
  {
    PersistentQueue q(std::make_unique<FakeWriter>(&state), Options(tmp.path()), nullptr);
    ASSERT_TRUE(q.Start().ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.Offer(MakeBatch("old-" + std::to_string(i))).ok());
    const absl::Time t0 = absl::Now();
    EXPECT_TRUE(q.Shutdown(absl::Now() + absl::Milliseconds(300)).ok());
    EXPECT_LT(absl::Now() - t0, absl::Seconds(10));  // returns, whatever the writer does
  }
  EXPECT_TRUE(state.Written().empty());
  state.Fail(absl::OkStatus());
  PersistentQueue q(std::make_unique<FakeWriter>(&state), Options(tmp.path()), nullptr);
  ASSERT_TRUE(q.Start().ok());
  EXPECT_EQ(q.Stats().wal.recovered_records, 10);
  ASSERT_TRUE(q.Offer(MakeBatch("new")).ok());
  ASSERT_TRUE(WaitFor([&] { return q.QueuedBatches() == 0; }));
  std::vector<std::string> want;
  for (int i = 0; i < 10; ++i) want.push_back("old-" + std::to_string(i));
  want.push_back("new");
  EXPECT_EQ(state.Written(), want);  // the replay first, then new data
}

TEST(PersistentQueue, AcksOnlyAfterTheWritersFlushSucceeds) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  FakeWriter::State state;
  {
    absl::MutexLock l(&state.mu);
    state.flush_fails_with = absl::InternalError("commit failed");
  }
  {
    PersistentQueue q(std::make_unique<FakeWriter>(&state), Options(tmp.path()), nullptr);
    ASSERT_TRUE(q.Start().ok());
    ASSERT_TRUE(q.Offer(MakeBatch("a")).ok());
    ASSERT_TRUE(WaitFor([&] {
      absl::MutexLock l(&state.mu);
      return state.flushes >= 1;
    }));
    EXPECT_EQ(q.QueuedBatches(), 1);  // written, but not taken
    ASSERT_TRUE(q.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  }
  {
    absl::MutexLock l(&state.mu);
    state.flush_fails_with = absl::OkStatus();
  }
  PersistentQueue q(std::make_unique<FakeWriter>(&state), Options(tmp.path()), nullptr);
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return q.QueuedBatches() == 0; }));
  EXPECT_EQ(state.Written(), (std::vector<std::string>{"a", "a"}));  // handed over again
}

TEST(PersistentQueue, SeveralWorkersDeliverEverything) {
  const testing::TempDir tmp("tw-pq");
  ASSERT_TRUE(tmp.ok());
  FakeWriter::State state;
  PersistentQueueOptions o = Options(tmp.path());
  o.workers = 4;
  o.ack_after_flush = false;
  PersistentQueue q(std::make_unique<FakeWriter>(&state), o, nullptr);
  ASSERT_TRUE(q.Start().ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(q.Offer(MakeBatch(std::to_string(i))).ok());
  ASSERT_TRUE(WaitFor([&] { return q.QueuedBatches() == 0; }));
  std::vector<std::string> got = state.Written();
  EXPECT_EQ(got.size(), 200u);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(std::unique(got.begin(), got.end()), got.end());
  ASSERT_TRUE(q.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace tracewire::pipeline
