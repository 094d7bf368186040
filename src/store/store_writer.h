#pragma once
// StoreWriter: the `store` sink's BatchWriter. Decodes each accepted OTLP
// request with the zero-copy wire reader and writes it into an SQLite file in
// WAL mode:
//   resources, scopes  once per distinct message (hash-deduplicated)
//   spans              one row per span (raw Span bytes kept: events, links,
//                      attributes), unique on (trace_id, span_id)
//   span_attrs         the chosen attribute keys, for --attr lookups
//   logs, points       one row per log record / data point, unique on a
//                      hash of their full identity (resource, scope, bytes)
//   metrics            one row per distinct metric description
// Batches share a transaction (one savepoint each, so a failing batch is
// rolled back alone) that commits every `commit_items` items and whenever the
// queue runs empty. Retention (age and size) runs between batches in small
// steps bounded by `retention_step_budget`; age counts from when an item was
// received (items carry any timestamps their senders chose), size deletes the
// oldest received items first.
//
// Thread-compatible: driven by one QueuedSink worker. Readers open the file
// concurrently (StoreReader).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/time/time.h"
#include "pipeline/sink.h"
#include "store/sqlite_db.h"

namespace tracewire::store {

struct StoreOptions {
  std::string path = "./tracewire-data/tracewire.db";
  int64_t retention_hours = 72;  // 0: keep forever
  int64_t max_mib = 0;           // 0: no size limit
  std::vector<std::string> attribute_keys = {"http.route", "rpc.method", "error"};
  int64_t commit_items = 50000;
  absl::Duration retention_interval = absl::Milliseconds(200);
  absl::Duration retention_step_budget = absl::Milliseconds(5);
  // Tests: the clock for receipt times and retention by age (default absl::Now).
  absl::Time (*now)() = nullptr;
};

// Creates the store file and its schema if missing; checks the format marker
// of an existing file. Used by StoreWriter::Open.
absl::Status InitStoreSchema(Db* db);

class StoreWriter : public pipeline::BatchWriter {
 public:
  explicit StoreWriter(StoreOptions options);
  ~StoreWriter() override;

  absl::Status Open() override;
  absl::Status Write(const pipeline::Batch& batch) override;
  absl::Status Flush() override;
  absl::Status Close() override;

  // Items stored and duplicates skipped so far (for tests and stats).
  int64_t stored_items() const { return stored_; }
  int64_t duplicate_items() const { return duplicates_; }
  int64_t retention_deleted() const { return retention_deleted_; }

 private:
  class Visitor;
  friend class Visitor;

  absl::Status Begin();
  absl::Status Commit();
  absl::Status MaybeRetain(bool force);
  absl::Status RetainStep(absl::Time deadline);
  absl::StatusOr<int64_t> DeleteOldest(int table, int64_t cutoff_s, int64_t limit);
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
  Stmt insert_span_, insert_attr_, insert_log_, insert_point_;
  Stmt oldest_[3], delete_row_[3], delete_attrs_;
  bool in_tx_ = false;
  int64_t received_s_ = 0;  // the receipt time stamped on the current batch's rows
  int64_t tx_items_ = 0;
  absl::Time last_retention_ = absl::InfinitePast();
  std::unordered_map<uint64_t, std::pair<int64_t, std::string>> resources_;
  std::unordered_map<uint64_t, int64_t> scopes_, metrics_;
  int64_t stored_ = 0, duplicates_ = 0, retention_deleted_ = 0, vacuumed_at_ = 0;
};

}  // namespace tracewire::store
