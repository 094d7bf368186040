#pragma once
// PersistentQueue: a Sink of the same shape as QueuedSink whose queue is a
// write-ahead log (Wal) on disk, so that an acknowledged request survives a
// crash of the process (SIGKILL) and, under fsync batch, of the machine.
//
//   Offer     appends the request to the log under the fsync policy and only
//             then returns OK (the receiver acknowledges after that). Full
//             log: Unavailable, which the receiver answers with RetryInfo.
//             OfferAsync answers the same through a callback, from the log's
//             sync thread under fsync batch: the receiver's thread does not
//             wait for the disk, and concurrent requests share a sync.
//   workers   hand the records to the BatchWriter in log order. A record
//             leaves the log once the writer took it: Write returned OK and,
//             with `ack_after_flush`, a Flush after it returned OK too (the
//             store commits in Flush). A retryable failure (Unavailable,
//             ResourceExhausted, DeadlineExceeded) is retried after a
//             backoff (or the delay the writer attached, see RetryDelayOf),
//             never dropped; any other failure drops the record and counts
//             its items in `dropped_items`.
//   Start     opens the log: what a previous process left in it is handed
//             over first, in order, before anything offered now.
//   Shutdown  stops taking requests and writes out what it can until the
//             deadline (a backoff wait ends at once when it begins, later
//             ones run until the deadline), then cancels the writer
//             (BatchWriter::Cancel) and closes the log. What is not written
//             stays in the log for the next start: nothing is lost, so it
//             returns OK unless closing failed. Always returns: the writer
//             must honor Cancel.
//
// Invariants: a record is acked in the log only after the writer took it;
// each record is handed to the writer at least once (more than once only
// after a retry or a restart); with one worker, records reach the writer in
// log order.
//
// Thread-safe. The writer is called from the worker threads: with
// `workers` > 1 it must be thread-safe (ForwardWriter is), and
// `ack_after_flush` must be false. A writer whose Write only takes a batch
// and writes it later (FileWriter) needs `ack_after_flush`: its Flush is the
// barrier after which what it took is written.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "pipeline/sink.h"
#include "pipeline/wal.h"

namespace tracewire::pipeline {

struct PersistentQueueOptions {
  WalOptions wal;
  int workers = 1;
  bool ack_after_flush = true;
  absl::Duration retry_initial = absl::Milliseconds(200);
  absl::Duration retry_max = absl::Seconds(30);
  // With ack_after_flush: Flush at least this often, and after this many
  // records, while records keep coming (and always when the log runs empty).
  absl::Duration flush_every = absl::Milliseconds(200);
  int flush_records = 256;
};

struct PersistentQueueStats {
  WalStats wal;
  int64_t delivered_records = 0;
  int64_t retries = 0;          // writer calls that were retries
  int64_t dropped_records = 0;  // permanent writer failures
};

// A status asking to be retried after `delay` (a server's RetryInfo):
// writers return it, PersistentQueue honors it.
absl::Status RetryAfterStatus(absl::Status status, absl::Duration delay);
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

class PersistentQueue : public Sink {
 public:
  PersistentQueue(std::unique_ptr<BatchWriter> writer, PersistentQueueOptions options,
                  std::atomic<int64_t>* dropped_items);
  ~PersistentQueue() override;

  absl::Status Start() override;
  absl::Status Offer(Batch&& batch) override;
  void OfferAsync(Batch&& batch, OfferDone done) override;
  absl::Status Shutdown(absl::Time deadline) override;

  bool HasRoom() const override { return wal_.HasRoom(); }
  int64_t QueuedBatches() const override { return wal_.Stats().pending_records; }
  int64_t QueuedBytes() const override { return wal_.Stats().pending_bytes; }
  int64_t CapacityBytes() const override { return wal_.capacity_bytes(); }

  PersistentQueueStats Stats() const;
  const std::string& dir() const { return wal_.dir(); }

 private:
  void Run();
  // Hands one record to the writer until it is taken, dropped, or the queue
  // stops. True when the record was taken (or dropped).
  bool Deliver(WalRecord& record);
  void FlushAndAck(std::vector<uint64_t>* unflushed);
  void LogRateLimited(const std::string& line);

  const std::unique_ptr<BatchWriter> writer_;
  const PersistentQueueOptions options_;
  std::atomic<int64_t>* const dropped_items_;
  Wal wal_;

  mutable absl::Mutex mu_;
  uint64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;   // the last record id handed to a worker
  uint64_t offered_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by each Offer: wakes the workers
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool abandon_ ABSL_GUARDED_BY(mu_) = false;  // the shutdown deadline passed
  int running_ ABSL_GUARDED_BY(mu_) = 0;       // workers not yet finished
  int64_t last_log_s_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> workers_;

  // Statistics: relaxed atomics, they order nothing.
  std::atomic<int64_t> delivered_{0}, retries_{0}, dropped_records_{0};
};

}  // namespace tracewire::pipeline
