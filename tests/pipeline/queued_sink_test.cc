// QueuedSink: when the worker calls the writer's Flush.

#include "pipeline/queued_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace tracewire::pipeline {
namespace {

// Records its calls; the first Write waits until `release` is notified, so
// that the batches offered meanwhile keep the queue from running empty.
class RecordingWriter : public BatchWriter {
 public:
  RecordingWriter(std::string* calls, absl::Mutex* mu, absl::Notification* release)
      : calls_(calls), mu_(mu), release_(release) {}
  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Write(const Batch&) override {
    if (!first_done_) {
      release_->WaitForNotification();
      first_done_ = true;
    }
    absl::MutexLock lock(mu_);
    *calls_ += 'W';
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    absl::MutexLock lock(mu_);
    *calls_ += 'F';
    // The second flush of a steady stream fails and names lost items.
    return ++flushes_ == 2 ? WithLostItems(absl::DataLossError("disk"), 3) : absl::OkStatus();
  }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  std::string* const calls_;
  absl::Mutex* const mu_;
  absl::Notification* const release_;
  bool first_done_ = false;
  int flushes_ = 0;
};

Batch OneItem() {
  Batch b;
  b.bytes = "x";
  b.items = 1;
  return b;
}

TEST(QueuedSink, FlushesWhileBatchesKeepComingNotOnlyWhenTheQueueRunsEmpty) {
  std::string calls;
  absl::Mutex mu;
  absl::Notification release;
  std::atomic<int64_t> dropped{0};
  QueueOptions o;
  o.flush_every = absl::ZeroDuration();  // after every batch
  QueuedSink sink(std::make_unique<RecordingWriter>(&calls, &mu, &release), o, &dropped);
  ASSERT_TRUE(sink.Start().ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sink.Offer(OneItem()).ok());
  release.Notify();
  ASSERT_TRUE(sink.Shutdown(absl::Now() + absl::Seconds(10)).ok());
  absl::MutexLock lock(&mu);
  // A flush follows each write although four batches were waiting behind
  // the first (calls may begin with the flush of an empty queue).
  const std::string steady = calls.substr(calls.find('W'));
  EXPECT_EQ(steady.substr(0, 10), "WFWFWFWFWF") << calls;
  EXPECT_EQ(dropped.load(), 3);  // the failed flush's lost items, counted
}

}  // namespace
}  // namespace tracewire::pipeline
