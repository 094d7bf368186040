#pragma once
// StoreReader: read-only queries over a store file written by StoreWriter,
// for the CLI and the tests. Opens the file read-only while tracewired writes
// it (WAL readers do not block the writer). A missing file, a file that is
// not SQLite, or an SQLite file of something else give a clear error.
//
// Thread-compatible: one reader per thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "store/otlp_items.h"
#include "store/span_block.h"
#include "store/sqlite_db.h"

namespace tracewire::store {

struct TraceFilter {
  std::string service, name;
  int64_t min_duration_ns = 0;
  bool errors_only = false;
  int64_t since_ns = 0;  // 0: no bound
  int64_t until_ns = 0;  // 0: no bound
  std::string attr_key, attr_value;
  int64_t limit = 20;
  bool sort_by_duration = false;  // else most recent first
};

struct TraceSummary {
  std::string trace_id;  // raw bytes
  int64_t start_ns = 0, end_ns = 0;
  std::string root_service, root_name;
  bool root_found = false;
  int64_t span_count = 0;
  int64_t error_spans = 0;
};

struct StoredSpan {
  SpanInfo span;
  std::string service;
  std::string scope_name;
};

struct StoredLog {
  LogInfo log;
  std::string service;
};

struct ServiceStats {
  std::string service;
  int64_t spans = 0, errors = 0;
  int64_t p50_ns = 0, p99_ns = 0;
};

struct MetricPoint {
  PointInfo point;
};

struct MetricSeries {
  std::string name, description, unit, type, service;
  int64_t point_count = 0;
  std::vector<PointInfo> recent;  // newest first
};

struct LogFilter {
  uint32_t min_severity = 0;
  std::string service;
  std::string trace_id;  // raw bytes
  std::string grep;
  int64_t since_ns = 0;
  int64_t limit = 100;
};

class StoreReader {
 public:
  // Opens `path` read-only and checks it is a tracewire store.
  static absl::StatusOr<std::unique_ptr<StoreReader>> Open(const std::string& path);

  // Traces with at least one span matching every filter: candidate blocks
  // come from the summaries of the most selective key given (attribute,
  // name, service, or all), best bound first, and reading stops once the
  // `limit`-th trace found beats the next block's bound.
  absl::StatusOr<std::vector<TraceSummary>> FindTraces(const TraceFilter& filter);
  absl::StatusOr<TraceSummary> Summarize(const std::string& trace_id);
  // The spans of a trace by start time; NotFound when it has none.
  absl::StatusOr<std::vector<StoredSpan>> GetTrace(const std::string& trace_id);
  absl::StatusOr<std::vector<ServiceStats>> Services(int64_t since_ns);
  absl::StatusOr<std::vector<MetricSeries>> Metrics(const std::string& name,
                                                    const std::string& service,
                                                    int64_t points_per_series);
  // Newest first (oldest first with a trace id).
  absl::StatusOr<std::vector<StoredLog>> Logs(const LogFilter& filter);

  // Counts of stored items: "spans" (copies stored, see StoreWriter), "logs",
  // "points", "metrics", "resources", "scopes", "blocks" (span blocks).
  absl::StatusOr<int64_t> Count(const std::string& table);

 private:
  using Block = StoredBlock;
  class ReadTx;

  // The blocks that may hold spans of `trace_id` (trace_index.h), ascending.
  absl::StatusOr<std::vector<int64_t>> LocateBlocks(const std::string& trace_id);
  // NotFound when the block is gone (retention).
  absl::Status ReadBlock(int64_t id, bool with_data, Block* out);
  absl::StatusOr<std::string> ScopeName(int64_t scope_id);
  absl::StatusOr<TraceSummary> SummarizeLocked(const std::string& trace_id);
  // Calls `fn` for each span of the trace, each span id once (a copy stored
  // twice, outside the writer's dedupe window, shows once); stops at an error.
  absl::Status ForEachSpanOf(
      const std::string& trace_id, bool with_data,
      const std::function<absl::Status(const Block&, const SpanRecord&)>& fn);

  Db db_;
  Stmt parts_, pending_from_, pending_blocks_, block_cols_, block_all_, scope_name_;
  // Within one read transaction: the keys of the blocks after the last run.
  bool pending_loaded_ = false;
  std::vector<std::pair<int64_t, std::string>> pending_;
  absl::flat_hash_map<int64_t, std::string> scope_names_;
};

}  // namespace tracewire::store
