#pragma once
// QueuedSink: a bounded queue (batches and bytes) in front of a BatchWriter,
// drained by one worker thread it owns. Offer refuses with Unavailable when
// full. The worker calls the writer's Flush whenever the queue runs empty,
// and at least every `flush_every` while batches keep coming (so a writer's
// buffered failures surface within that time under a steady stream too).
// Write errors, and the lost items a Flush or Close error carries
// (LostItemsOf), are counted in `dropped_items` and logged, rate-limited.
//
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pipeline/sink.h"

namespace tracewire::pipeline {

struct QueueOptions {
  int64_t max_batches = 1024;
  int64_t max_bytes = 256ll << 20;
  absl::Duration flush_every = absl::Seconds(1);
};

class QueuedSink : public Sink {
 public:
  QueuedSink(std::unique_ptr<BatchWriter> writer, QueueOptions options,
             std::atomic<int64_t>* dropped_items);
  ~QueuedSink() override;

  absl::Status Start() override;
  absl::Status Offer(Batch&& batch) override;
  absl::Status Shutdown(absl::Time deadline) override;
  bool HasRoom() const override { return !full_.load(std::memory_order_relaxed); }

  int64_t QueuedBatches() const override;
  int64_t QueuedBytes() const override;
  int64_t CapacityBytes() const override { return options_.max_bytes; }

 private:
  void Run();
  void CountFailure(const absl::Status& st, int64_t items);
  void UpdateFull() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<BatchWriter> writer_;
  const QueueOptions options_;
  std::atomic<int64_t>* const dropped_items_;

  mutable absl::Mutex mu_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool drained_ ABSL_GUARDED_BY(mu_) = false;  // worker finished after stopping_
  bool abandon_ ABSL_GUARDED_BY(mu_) = false;  // deadline passed: drop the rest
  int64_t last_failure_log_s_ ABSL_GUARDED_BY(mu_) = 0;
  // Whether the queue is at a limit, for HasRoom without the lock: a hint,
  // written under mu_, read relaxed (it orders nothing).
  std::atomic<bool> full_{false};
  std::thread worker_;
};

}  // namespace tracewire::pipeline
