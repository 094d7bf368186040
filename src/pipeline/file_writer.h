#pragma once
// FileWriter writes each batch as one line of OTLP/JSON to a file per signal
// (traces.jsonl, metrics.jsonl, logs.jsonl) in a directory, rotating a file
// when it would grow past a size, and syncing it to disk as configured.
//
// Pipelined: Write copies the batch and hands it to `encoders` threads that
// turn it into its JSON line, so that several batches are encoded at once;
// the lines are written to the files by the caller's thread (in Write, Flush
// and Close), in the order Write took the batches.
//
//   Write    takes the batch (OK), first writing out the lines already
//            encoded at the head; waits only while `max_pending` batches are
//            in the pipeline. Returns an error only when it did not take the
//            batch: not open (FailedPrecondition), or cancelled (Unavailable,
//            so a PersistentQueue keeps the record).
//   Flush    the barrier: waits until every batch taken is encoded and its
//            line written (and synced under fsync batch), then syncs under
//            fsync interval when due (as writing out a line also does).
//            Returns OK only if every batch taken since the previous Flush
//            was written; otherwise the first error, carrying the items of
//            the batches not written (LostItemsOf).
//   Close    writes out what is pending as Flush does (unless cancelled),
//            stops the encoders and closes the files; same error rule.
//   Cancel   (any thread, at most once) ends the waits of Write and Flush at
//            once. Later, Write refuses, Flush returns Cancelled (so nothing
//            pending is acknowledged as written), and Close drops the batches
//            not yet written without counting them: their caller never got a
//            Flush OK for them (a PersistentQueue keeps them in its log).
//
// Invariants:
//   - file contents are byte-identical to encoding and writing each batch in
//     turn on one thread: lines keep Write's order within each file, rotation
//     (rotate_bytes, max_rotated_files) is decided line by line on the
//     caller's thread in that order, and fsync batch syncs after each line;
//   - a batch is on disk (as the fsync policy says) only once a later Flush
//     or Close returned OK: callers that acknowledge what was written (the
//     PersistentQueue with `ack_after_flush`, which the file sink uses) must
//     take Flush, never Write, as the acknowledgment; a PersistentQueue
//     without `ack_after_flush` must not drive a FileWriter;
//   - at most `max_pending` batches (copies, holding their admission) wait in
//     the pipeline, so memory stays bounded;
//   - Close always returns: the encoders finish at most the batch each has in
//     hand, and after Cancel nothing waits for the pipeline.
//
// Thread-compatible: Open, Write, Flush and Close are called from one thread
// at a time (one QueuedSink or PersistentQueue worker); Cancel from any. The
// files and the rotation state are touched only by that caller; the encoder
// threads touch only the batches handed to them.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pipeline/sink.h"
#include "wire/otlp_json.h"

namespace tracewire::pipeline {

enum class FsyncPolicy { kNone, kBatch, kInterval };

struct FileWriterOptions {
  std::string dir = ".";
  int64_t rotate_bytes = 256ll << 20;  // 0: never rotate
  int max_rotated_files = 0;           // rotated files kept per signal; 0: all
  FsyncPolicy fsync = FsyncPolicy::kNone;
  absl::Duration fsync_interval = absl::Seconds(1);
  int encoders = 0;     // JSON encoder threads; 0: one per core (hardware_concurrency)
  int max_pending = 0;  // batches taken and not yet written; 0: 2 per encoder + 2
};

class FileWriter : public BatchWriter {
 public:
  explicit FileWriter(FileWriterOptions options);
  ~FileWriter() override;

  absl::Status Open() override;
  absl::Status Write(const Batch& batch) override;
  absl::Status Flush() override;
  absl::Status Close() override;
  void Cancel() override;

  // The path of the live file for a signal.
  std::string PathFor(wire::Signal signal) const;

  // fdatasync calls made so far (caller's thread; for tests).
  int64_t syncs() const { return syncs_; }

 private:
  struct OpenFile {
    int fd = -1;
    int64_t size = 0;
    bool dirty = false;  // written since the last fsync
  };
  // One batch in the pipeline. Recycled, so that its strings keep capacity.
  struct Job {
    wire::Signal signal = wire::Signal::kTraces;
    std::string bytes;
    int64_t items = 0;
    std::shared_ptr<common::AdmissionTicket> admission;
    std::string line;  // the JSON line with its '\n', once encoded
    bool done = false;
    bool ok = false;
  };

  absl::Status Rotate(wire::Signal signal);
  absl::Status OpenSignal(wire::Signal signal);
  void EncodeLoop();
  // Writes the encoded lines at the head of the pipeline. `until_pending`:
  // waits for the head to be encoded while more than that many batches are
  // pending. False when cancelled.
  bool WriteReady(size_t until_pending);
  // Writes one line to its file (rotating and syncing as configured); a
  // failure is kept for the next Flush or Close, its items counted as lost.
  void WriteLine(const Job& job);
  // Under fsync interval, syncs the files written since the last sync once
  // the interval has passed: after each line written out (so that a steady
  // stream, which never lets the queue call Flush, is synced on time) and in
  // Flush.
  void SyncIfDue();
  // fdatasync of one file; a failure is noted with `items` as lost. False
  // when it failed.
  bool SyncFile(OpenFile* f, int64_t items);
  void NoteFailure(absl::Status st, int64_t items);
  absl::Status TakeFailure();
  void StopEncoders();

  const FileWriterOptions options_;
  const int encoders_;
  const size_t max_pending_;

  // Caller's thread only.
  OpenFile files_[wire::kSignalCount];
  absl::Time last_sync_ = absl::InfinitePast();
  int64_t syncs_ = 0;
  int64_t rotation_seq_ = 0;
  absl::Status failure_;    // first failure since the last Flush or Close
  int64_t lost_items_ = 0;  // items of the batches not written since then

  absl::Mutex mu_;
  // In Write's order; jobs_[0 .. next_encode_) are with (or done by) an encoder.
  std::deque<std::unique_ptr<Job>> jobs_ ABSL_GUARDED_BY(mu_);
  size_t next_encode_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Job>> spare_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;       // encoders: end
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;  // Cancel was called
  std::vector<std::thread> threads_;             // caller's thread only
};

}  // namespace tracewire::pipeline
