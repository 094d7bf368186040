#pragma once
// StoreWriter: the `store` sink's BatchWriter. Decodes each accepted OTLP
// request with the zero-copy wire reader and writes it into an SQLite file in
// WAL mode:
//   resources, scopes  once per distinct message (hash-deduplicated)
//   span_blocks        spans in blocks of about `block_spans` (span_block.h):
//   block_data,        a few rows per block, not per span; block_keys
//   block_keys         summarises each block per service, span name and
//                      chosen attribute, for the trace queries
//   trace_runs,        which blocks hold a trace (trace_index.h)
//   trace_parts
//   logs, points       one row per log record / data point, unique on a
//                      hash of their full identity (resource, scope, bytes)
//   metrics            one row per distinct metric description
// Spans gather in memory and are written as a block when `block_spans` have
// gathered and at Flush, so Flush is the point where what Write took is in
// the store (a PersistentQueue with ack_after_flush acknowledges then).
// Batches share a transaction (one savepoint each, so a failing batch is
// rolled back alone) that commits every `commit_items` items and at Flush; a
// failed block write or commit loses the uncommitted items, which the next
// Flush reports (WithLostItems) and which dedupe forgets (a re-delivery is
// stored). A span is its (trace id, span id): a copy seen among the last
// `dedupe_window_spans` spans or so (recent_ids.h; on Open the newest
// min(window, 2 x index_run_spans) spans' ids are loaded again) is skipped and
// counted; an older copy is stored again and the reader shows it once. Retention (age and size)
// runs between batches in small steps bounded by `retention_step_budget`, whole blocks at a time;
// age counts from when an item was received, size deletes the oldest
// received items first.
//
// Thread-compatible: driven by one QueuedSink worker. Readers open the file
// concurrently (StoreReader).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "pipeline/sink.h"
#include "store/recent_ids.h"
#include "store/span_block.h"
#include "store/sqlite_db.h"
#include "store/trace_index.h"

namespace tracewire::store {

struct StoreOptions {
  std::string path = "./tracewire-data/tracewire.db";
  int64_t retention_hours = 72;  // 0: keep forever
  int64_t max_mib = 0;           // 0: no size limit
  std::vector<std::string> attribute_keys = {"http.route", "rpc.method", "error"};
  int64_t commit_items = 50000;
  int64_t block_spans = 1024;             // spans per block (a batch is never split)
  int64_t index_run_spans = 65536;        // trace index entries per run
  int64_t dedupe_window_spans = 1 << 20;  // recent span ids remembered (8 B each)
  // Blocks of fewer than min(block_spans / 4, 255) spans received between
  // this long and ten minutes more ago are merged, once, a minute's worth at
  // a time, into blocks of up to block_spans (a trickle of requests leaves
  // one small block per Flush); < 0: never.
  int64_t compact_after_s = 10;
  absl::Duration retention_interval = absl::Milliseconds(200);
  absl::Duration retention_step_budget = absl::Milliseconds(5);
  // A cap on the file's pages (SQLite's max_page_count; 16 KiB pages): writes
  // past it fail with SQLITE_FULL as on a full disk. 0: none.
  int64_t max_pages = 0;
  // Tests: the clock for receipt times and retention by age (default absl::Now).
  absl::Time (*now)() = nullptr;
};

// Creates the store file and its schema if missing; checks the format marker
// of an existing file. Used by StoreWriter::Open.
absl::Status InitStoreSchema(Db* db);

class StoreWriter : public pipeline::BatchWriter {
 public:
  // Compaction: a merged block's receipt times differ by at most
  // kCompactSpanS; candidates were received at most kCompactWindowS before
  // they settled (StoreOptions::compact_after_s).
  static constexpr int64_t kCompactSpanS = 60;
  static constexpr int64_t kCompactWindowS = 600;

  explicit StoreWriter(StoreOptions options);
  ~StoreWriter() override;

  absl::Status Open() override;
  absl::Status Write(const pipeline::Batch& batch) override;
  absl::Status Flush() override;
  absl::Status Close() override;

  // Items stored (committed) and duplicates skipped so far (for tests and
  // stats); items deleted by retention (committed).
  int64_t stored_items() const { return stored_; }
  int64_t duplicate_items() const { return duplicates_; }
  int64_t retention_deleted() const { return retention_deleted_; }
  // Small blocks merged into larger ones so far (written, maybe not
  // committed), and merge steps that failed (each pauses merging a minute).
  int64_t compacted_blocks() const { return compacted_blocks_; }
  int64_t compact_failures() const { return compact_failures_; }

 private:
  class Visitor;
  friend class Visitor;
  struct StagedSpan;

  absl::Status Begin();
  absl::Status Commit();
  // Rolls the open transaction back: what it held is lost (counted in lost_).
  void Abort();
  // Abort, when SQLite rolled the transaction back by itself after an error.
  void AbortIfRolledBack();
  // Runs `step` in a savepoint: all of it or none. On failure the savepoint
  // and what `step` added to pending_ are rolled back (and the transaction
  // aborted if SQLite rolled it back by itself).
  absl::Status AllOrNothing(absl::FunctionRef<absl::Status()> step);
  // `st` carrying the items lost since the last report (Unavailable if `st`
  // is OK); `st` itself when none were.
  absl::Status ReportLost(absl::Status st);
  // Empties the caches of interned resource, scope and metric ids.
  void ForgetInternedIds();
  // Writes block_ (the spans taken since the last block) and clears it.
  absl::Status WriteBlock();
  // Inserts `block` with its data, summaries and pending index entries.
  absl::Status InsertBlock(const BlockBuilder& block, int64_t received_s);
  absl::Status DeleteBlock(int64_t id);
  // Merges small blocks, a step at a time, until none is left or `deadline`.
  absl::Status Compact(absl::Time deadline);
  // One merge; false when no two small blocks qualify.
  absl::StatusOr<bool> CompactStep();
  absl::Status WriteRun();
  absl::Status LoadRecent();
  // The dedupe fingerprint of a span: its trace id's TraceKey and its 8-byte
  // span id.
  static uint64_t Fingerprint(uint64_t trace_key, const char* span_id);
  bool Remember(const char* trace_id, const char* span_id);
  absl::Status MaybeRetain(bool force);
  absl::Status RetainStep(absl::Time deadline);
  // Deletes up to `limit` of the oldest rows of kTables[table] received
  // before `cutoff_s` (and a block's data, summaries and fully deleted index
  // runs); adds their items to retention_deleted_; returns the rows deleted.
  absl::StatusOr<int64_t> DeleteOldest(int table, int64_t cutoff_s, int64_t limit);
  absl::StatusOr<int64_t> DeleteOldestRows(int table, int64_t cutoff_s, int64_t limit);
  absl::Status DeleteRunsBefore(int64_t block);
  absl::Time Now() const;
  int64_t LiveBytes();
  absl::StatusOr<int64_t> InternResource(std::string_view raw, std::string* service);
  absl::StatusOr<int64_t> InternScope(std::string_view raw);
  absl::StatusOr<int64_t> InternMetric(std::string_view name, std::string_view description,
                                       std::string_view unit, uint32_t type, uint32_t temporality,
                                       bool monotonic);

  const StoreOptions options_;
  Db db_;
  Stmt begin_, commit_, savepoint_, release_, rollback_to_;
  Stmt insert_resource_, find_resource_, insert_scope_, find_scope_;
  Stmt insert_metric_, find_metric_;
  Stmt insert_block_, insert_block_data_, insert_block_key_, insert_run_, insert_part_;
  Stmt insert_log_, insert_point_;
  Stmt oldest_[3], delete_row_[3], delete_block_data_, delete_block_keys_;
  Stmt old_runs_, delete_run_, delete_part_, small_blocks_, read_block_, not_candidate_;
  bool in_tx_ = false;
  int64_t received_s_ = 0;  // the receipt time stamped on the current batch's rows
  int64_t tx_items_ = 0;    // items taken since the last commit
  int64_t lost_ = 0;        // items lost to a failed write, not yet reported
  // Counted into stored_ and retention_deleted_ when the transaction commits.
  int64_t tx_stored_ = 0, tx_deleted_ = 0;
  absl::Status retain_error_;  // a retention failure in Write, for the next Flush
  absl::Time last_retention_ = absl::InfinitePast();
  std::unordered_map<uint64_t, std::pair<int64_t, std::string>> resources_;
  std::unordered_map<uint64_t, int64_t> scopes_, metrics_;

  // Spans taken but not yet in a block (the block's receipt time: its first).
  BlockBuilder block_;
  int64_t block_received_s_ = 0;
  // Trace index entries not yet written as a run; the first `pending_committed_`
  // are of committed blocks.
  std::vector<IndexEntry> pending_;
  size_t pending_committed_ = 0;
  // The dedupe window, and the fingerprints remembered since the last commit.
  RecentIds recent_;
  std::vector<uint64_t> uncommitted_;
  int64_t stored_ = 0, duplicates_ = 0, retention_deleted_ = 0, vacuumed_at_ = 0;
  int64_t compacted_blocks_ = 0, compact_failures_ = 0;
  absl::Time compact_paused_until_ = absl::InfinitePast();
};

}  // namespace tracewire::store
