#pragma once
// Wal: the write-ahead log behind PersistentQueue. Accepted requests are
// appended to segment files in a directory of their own and stay there until
// their sink has taken them (Ack); then the segments that hold only taken
// records are deleted.
//
// On disk (`dir`):
//   LOCK                         flock()ed while open: one process per log
//   position                     the first record id not yet taken, with a
//                                checksum: written at every ack, synced at
//                                most every 100 ms and at Close (behind after
//                                a power loss, it only means a few records
//                                are handed over again)
//   seg-<first id, 20 digits>.wal  an 8-byte magic, then records:
//     [u32 payload length][u32 crc32 (zlib) of the next 8 header bytes and
//     the payload][u32 items][u8 signal][3 zero bytes][payload]
//     then, in a preallocated segment, zeros up to `segment_bytes`
//   spare.wal                    the next segment, preallocated (see below)
// Record ids are consecutive within a segment, from the id in its name.
// A header of 16 zero bytes is never a record (its checksum cannot match):
// it marks where a preallocated segment's records end.
//
// Preallocation (fsync batch and interval): a thread of the log writes the
// next segment full of zeros and syncs it before it is needed, and a roll
// renames it into place. Appends then overwrite blocks the file already
// has, so an fdatasync writes the data alone, without the journal commit
// that growing a file costs (0.6 ms instead of 1.2 ms per sync measured on
// ext4; see RELIABILITY.md). Without a spare ready, a roll creates an empty
// segment as before.
//
// Invariants:
//   - Append returns OK only once the record is written (the kernel has it,
//     so SIGKILL cannot lose it) and, under FsyncPolicy::kBatch, synced to
//     the disk. Under kBatch a sync thread of the log runs one fdatasync for
//     every record appended while the previous one ran (group commit), and
//     answers their appends. kInterval syncs every `fsync_interval` from
//     that thread; kNone leaves it to the kernel.
//   - Records are read back in append order; an acked record is never read
//     again in this process, and is handed over again after a restart only if
//     the position file had not caught up (at-least-once).
//   - Open never fails because of what is in the segments: a torn last
//     record (short, or a bad checksum, at the end of the newest segment's
//     records) is cut off; a bad record anywhere else ends its segment
//     there, the bytes from it on are moved to <segment>.corrupt; a segment
//     whose magic is wrong is renamed to <segment>.corrupt. Each is logged
//     and counted.
//   - The records not yet taken hold at most `max_bytes` (headers included),
//     except that an empty log takes one record of any size: Append answers
//     Unavailable when full.
//
// Thread-safe. Append, Read and Ack may be called from any thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pipeline/file_writer.h"
#include "wire/otlp_reader.h"

namespace tracewire::pipeline {

struct WalOptions {
  std::string dir;
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  absl::Duration fsync_interval = absl::Seconds(1);
  int64_t max_bytes = 256ll << 20;     // records not yet taken, headers included
  int64_t segment_bytes = 16ll << 20;  // a segment is closed once it is this large
  // Preallocate segments (only under kBatch and kInterval: with kNone
  // nothing waits for a sync).
  bool preallocate = true;
};

struct WalRecord {
  uint64_t id = 0;
  wire::Signal signal = wire::Signal::kTraces;
  int64_t items = 0;
  std::string bytes;
};

struct WalStats {
  int64_t pending_records = 0;  // appended, not yet acked
  int64_t pending_bytes = 0;    // the log's records from the oldest not acked on, headers included
  int64_t segments = 0;
  int64_t recovered_records = 0;  // found by Open, to be handed over again
  int64_t torn_records = 0;       // cut off the end of the newest segment
  int64_t corrupt_records = 0;    // bad records (and what followed) moved aside
  int64_t corrupt_segments = 0;   // segments (or their tails) moved aside
  int64_t syncs = 0;              // fdatasync calls on segments
  int64_t preallocated_segments = 0;  // segments that began as a prepared spare
};

class Wal {
 public:
  static constexpr int64_t kHeaderBytes = 16;

  explicit Wal(WalOptions options);
  ~Wal();

  // Creates the directory if needed, locks it and recovers what it holds.
  // Fails only when the directory cannot be used (not creatable, locked by
  // another process, unwritable).
  [[nodiscard]] absl::Status Open();
  // Appends one record under the fsync policy. Unavailable when full,
  // FailedPrecondition when not open, Internal on an I/O error (the segment
  // is cut back, nothing half-written stays).
  [[nodiscard]] absl::StatusOr<uint64_t> Append(wire::Signal signal, int64_t items,
                                                std::string_view bytes);
  // Append, answered through `done` (the id, or Append's error): at once,
  // except under kBatch, where the log's sync thread answers after the
  // fdatasync that covers the record. `done` must not block.
  using AppendDone = absl::AnyInvocable<void(absl::StatusOr<uint64_t>) &&>;
  void AppendAsync(wire::Signal signal, int64_t items, std::string_view bytes, AppendDone done);
  // The first record not yet acked with an id greater than `after` (0: from
  // the start), or nullopt when there is none.
  [[nodiscard]] absl::StatusOr<std::optional<WalRecord>> ReadAfter(uint64_t after);
  // The record is taken: it is never handed over again by this process.
  void Ack(uint64_t id);
  // Syncs the position now (it is otherwise synced at most every 100 ms):
  // for a queue that ran empty, so that a restart does not hand over again
  // what was taken.
  void SyncPosition();
  // Syncs, writes the position and closes. Safe to call twice.
  [[nodiscard]] absl::Status Close();

  WalStats Stats() const;
  // False when the log is at its byte limit (an Append now would be
  // refused as full, whatever its size).
  bool HasRoom() const;
  int64_t capacity_bytes() const { return options_.max_bytes; }
  const std::string& dir() const { return options_.dir; }

 private:
  struct Segment {
    ~Segment();
    uint64_t first_id = 0;
    uint64_t last_id = 0;  // first_id - 1 while empty
    std::string path;
    int fd = -1;
    int64_t size = 0;
  };
  using SegmentPtr = std::shared_ptr<Segment>;
  struct Entry {
    uint64_t id;
    SegmentPtr segment;
    int64_t offset;   // of the header
    uint32_t length;  // of the payload
    int64_t items;
    wire::Signal signal;
    bool acked;
  };

  absl::Status Recover() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Scans one segment, cutting or moving aside what is bad.
  absl::Status ScanSegment(const SegmentPtr& seg, bool newest, uint64_t position)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status NewSegment() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeleteTakenSegments() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WritePosition(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t Position() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes one record; under kBatch moves `*done` to waiters_.
  absl::StatusOr<uint64_t> Write(wire::Signal signal, int64_t items, std::string_view bytes,
                                 AppendDone* done);
  void SyncLoop();
  // Writes spare.wal: the magic, zeros up to segment_bytes, synced; false
  // (and logged) on an I/O error. Called without mu_ held.
  bool PrepareSpare();
  std::string SparePath() const;
  void SpareLoop();
  bool preallocating() const {
    return options_.preallocate && options_.fsync != FsyncPolicy::kNone;
  }
  // One group-commit round: syncs the closed and active segments, the
  // directory and (every 100 ms) the position, outside the lock. Returns 0
  // or the errno of a failed segment sync.
  int SyncOnce() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseFiles();
  static void Log(const std::string& line);

  const WalOptions options_;
  int lock_fd_ = -1;
  int position_fd_ = -1;

  mutable absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, SegmentPtr> segments_ ABSL_GUARDED_BY(mu_);  // by first id
  SegmentPtr active_ ABSL_GUARDED_BY(mu_);
  std::deque<Entry> pending_ ABSL_GUARDED_BY(mu_);  // by id, oldest first
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // the whole of pending_
  int64_t acked_behind_ ABSL_GUARDED_BY(mu_) = 0;   // acked entries behind an unacked one
  uint64_t written_position_ ABSL_GUARDED_BY(mu_) = 0;
  bool position_dirty_ ABSL_GUARDED_BY(mu_) = false;  // written, not yet synced
  absl::Time position_synced_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Group commit: ids up to synced_id_ are on disk; one thread syncs at a time.
  uint64_t synced_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  struct Waiter {
    uint64_t id;
    AppendDone done;
  };
  // Closed segments with records not yet synced, and whether the directory
  // has a new file: synced by the sync thread before it answers.
  std::vector<SegmentPtr> rolled_unsynced_ ABSL_GUARDED_BY(mu_);
  bool dir_dirty_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Waiter> waiters_ ABSL_GUARDED_BY(mu_);  // kBatch: appends awaiting a sync, by id
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Open, or a roll that took spare.wal, asks for one: spare_thread_
  // prepares the next. spare.wal appears, by a rename, only complete.
  bool spare_wanted_ ABSL_GUARDED_BY(mu_) = false;
  WalStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread sync_thread_;   // kBatch and kInterval
  std::thread spare_thread_;  // when preallocating
};

}  // namespace tracewire::pipeline
