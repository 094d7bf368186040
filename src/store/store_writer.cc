#include "store/store_writer.h"

#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/otlp_items.h"
#include "wire/otlp_reader.h"
#include "wire/proto_reader.h"

namespace tracewire::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS resources(id INTEGER PRIMARY KEY, hash INTEGER UNIQUE NOT NULL,
  service TEXT NOT NULL, raw BLOB);
CREATE TABLE IF NOT EXISTS scopes(id INTEGER PRIMARY KEY, hash INTEGER UNIQUE NOT NULL,
  name TEXT, version TEXT, raw BLOB);
CREATE TABLE IF NOT EXISTS span_blocks(id INTEGER PRIMARY KEY AUTOINCREMENT,
  received_s INTEGER NOT NULL,
  spans INTEGER NOT NULL, min_start_ns INTEGER NOT NULL, max_start_ns INTEGER NOT NULL,
  merge_candidate INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS span_blocks_small ON span_blocks(received_s, id)
  WHERE spans < 256 AND merge_candidate = 1;
CREATE TABLE IF NOT EXISTS block_data(id INTEGER PRIMARY KEY, keys BLOB NOT NULL,
  cols BLOB NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS block_keys(kind INTEGER NOT NULL, value TEXT NOT NULL,
  block INTEGER NOT NULL, spans INTEGER NOT NULL, errors INTEGER NOT NULL,
  min_start_ns INTEGER NOT NULL, max_start_ns INTEGER NOT NULL,
  max_duration_ns INTEGER NOT NULL, PRIMARY KEY(kind, value, block)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS block_keys_by_block ON block_keys(block);
CREATE TABLE IF NOT EXISTS trace_runs(run INTEGER PRIMARY KEY, first_block INTEGER NOT NULL,
  last_block INTEGER NOT NULL, entries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trace_parts(part INTEGER NOT NULL, run INTEGER NOT NULL,
  entries BLOB NOT NULL, PRIMARY KEY(part, run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs(id INTEGER PRIMARY KEY, hash INTEGER UNIQUE NOT NULL,
  resource_id INTEGER, scope_id INTEGER, service TEXT NOT NULL, time_ns INTEGER NOT NULL,
  severity INTEGER NOT NULL, severity_text TEXT, body TEXT, trace_id BLOB, span_id BLOB,
  received_s INTEGER NOT NULL, raw BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS logs_by_time ON logs(time_ns);
CREATE INDEX IF NOT EXISTS logs_by_service ON logs(service, time_ns);
CREATE INDEX IF NOT EXISTS logs_by_trace ON logs(trace_id) WHERE trace_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS metrics(id INTEGER PRIMARY KEY, hash INTEGER UNIQUE NOT NULL,
  name TEXT NOT NULL, description TEXT, unit TEXT, type INTEGER, temporality INTEGER,
  monotonic INTEGER);
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(name);
CREATE TABLE IF NOT EXISTS points(id INTEGER PRIMARY KEY, hash INTEGER UNIQUE NOT NULL,
  metric_id INTEGER NOT NULL, resource_id INTEGER, scope_id INTEGER, service TEXT NOT NULL,
  time_ns INTEGER NOT NULL, start_ns INTEGER, value REAL, count INTEGER,
  received_s INTEGER NOT NULL, raw BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS points_by_metric ON points(metric_id, time_ns);
CREATE INDEX IF NOT EXISTS points_by_time ON points(time_ns);
)sql";

constexpr const char* kTables[3] = {"span_blocks", "logs", "points"};

int64_t ClampNs(uint64_t ns) {
  return ns > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
             ? std::numeric_limits<int64_t>::max()
             : static_cast<int64_t>(ns);
}

}  // namespace

absl::Status InitStoreSchema(Db* db) {
  // A file that is not SQLite fails on the first read.
  Stmt probe;
  absl::Status st = db->Prepare("SELECT count(*) FROM sqlite_master WHERE type='table'", &probe);
  if (!st.ok()) return st;
  int rc = probe.Step();
  if (rc != SQLITE_ROW) return db->Error(rc, "reading the schema");
  const int64_t tables = probe.Int(0);
  probe = Stmt();
  if (tables > 0) {
    Stmt meta;
    st = db->Prepare("SELECT value FROM meta WHERE key='format'", &meta);
    if (!st.ok() || meta.Step() != SQLITE_ROW || meta.Text(0) != kStoreFormat) {
      return absl::FailedPreconditionError(
          absl::StrCat("store ", db->path(),
                       ": not a tracewire store (an SQLite database of "
                       "something else)"));
    }
    st = CheckStoreVersion(db);
    if (!st.ok()) return st;
  } else {
    // Larger pages: fewer writes per commit of many small rows.
    st = db->Exec("PRAGMA page_size=16384; PRAGMA auto_vacuum=INCREMENTAL");
    if (!st.ok()) return st;
  }
  st = db->Exec("PRAGMA journal_mode=WAL");
  if (!st.ok()) return st;
  st = db->Exec("PRAGMA synchronous=NORMAL");
  if (!st.ok()) return st;
  st = db->Exec(absl::StrCat(
      "BEGIN IMMEDIATE;", kSchema, "INSERT OR IGNORE INTO meta VALUES('format','", kStoreFormat,
      "');INSERT OR IGNORE INTO meta VALUES('version','", kStoreVersion, "');COMMIT;"));
  if (!st.ok()) (void)db->Exec("ROLLBACK");
  return st;
}

struct StoreWriter::StagedSpan {
  BlockBuilder::Span span;
  size_t service = 0;  // index into the visitor's services
  size_t attributes_begin = 0;
};

class StoreWriter::Visitor : public wire::RequestVisitor {
 public:
  explicit Visitor(StoreWriter* w) : w_(w) {}

  void OnResource(std::string_view resource) override {
    if (!status.ok()) return;
    resource_raw_ = resource;
    absl::StatusOr<int64_t> id = w_->InternResource(resource, &service_);
    if (!id.ok()) {
      status = id.status();
      return;
    }
    resource_id_ = *id;
    services.push_back(service_);
  }
  void OnScope(std::string_view scope) override {
    if (!status.ok()) return;
    scope_raw_ = scope;
    absl::StatusOr<int64_t> id = w_->InternScope(scope);
    if (!id.ok()) {
      status = id.status();
      return;
    }
    scope_id_ = *id;
  }
  void OnSpan(const wire::SpanView& span) override {
    if (!status.ok()) return;
    if (services.empty()) services.push_back(service_);
    // Only the status and the chosen attributes, in one walk: no full decode.
    StagedSpan& staged = spans.emplace_back();
    staged.service = services.size() - 1;
    staged.attributes_begin = attributes.size();
    BlockBuilder::Span& s = staged.span;
    wire::ProtoReader r(span.raw);
    wire::Field f;
    while (r.Next(&f)) {
      if (f.type != wire::WireType::kLen) continue;
      if (f.number == 15) {
        wire::ProtoReader sr(f.bytes);
        wire::Field g;
        while (sr.Next(&g)) {
          if (g.number == 3 && g.type == wire::WireType::kVarint) {
            s.status = static_cast<uint32_t>(g.value);
          }
        }
      } else if (f.number == 9 && !w_->options_.attribute_keys.empty()) {
        wire::ProtoReader kr(f.bytes);
        wire::Field g;
        while (kr.Next(&g)) {
          if (g.number != 1 || g.type != wire::WireType::kLen) continue;
          for (const std::string& k : w_->options_.attribute_keys) {
            if (g.bytes == k) {
              AppendKeyValue(f.bytes, &attributes);
              break;
            }
          }
          break;  // the key comes first
        }
      }
    }
    s.raw = span.raw;
    s.trace_id = span.trace_id;
    s.span_id = span.span_id;
    s.parent_span_id = span.parent_span_id;
    s.name = span.name;
    s.start_ns = ClampNs(span.start_time_unix_nano);
    s.duration_ns = span.end_time_unix_nano >= span.start_time_unix_nano
                        ? ClampNs(span.end_time_unix_nano - span.start_time_unix_nano)
                        : 0;
    s.kind = static_cast<uint32_t>(span.kind);
    s.resource_id = resource_id_;
    s.scope_id = scope_id_;
    s.attribute_count = attributes.size() - staged.attributes_begin;
  }
  void OnLogRecord(const wire::LogRecordView& record) override {
    if (!status.ok()) return;
    const LogInfo info = DecodeLogRecord(record.raw);
    Stmt& s = w_->insert_log_;
    const uint64_t t =
        info.time_unix_nano != 0 ? info.time_unix_nano : info.observed_time_unix_nano;
    s.Bind(1, static_cast<int64_t>(StableHash(resource_raw_, scope_raw_, record.raw)));
    s.Bind(2, resource_id_);
    s.Bind(3, scope_id_);
    s.BindText(4, service_);
    s.Bind(5, ClampNs(t));
    s.Bind(6, static_cast<int64_t>(info.severity_number));
    s.BindText(7, info.severity_text);
    s.BindText(8, info.body);
    s.BindBlob(9, record.trace_id);
    s.BindBlob(10, record.span_id);
    s.BindBlob(11, record.raw);
    s.Bind(12, w_->received_s_);
    status = w_->db_.Run(&s, "inserting a log record");
    if (!status.ok()) return;
    if (sqlite3_changes(w_->db_.get()) == 0) {
      ++w_->duplicates_;
    } else {
      ++w_->tx_stored_;
    }
  }
  void OnMetric(const wire::MetricView& metric) override {
    if (!status.ok()) return;
    const MetricInfo m = DecodeMetric(metric.raw);
    absl::StatusOr<int64_t> id =
        w_->InternMetric(m.name, m.description, m.unit, m.data_field, m.temporality, m.monotonic);
    if (!id.ok()) {
      status = id.status();
      return;
    }
    const std::string metric_key = absl::StrCat(*id, "/", resource_id_, "/", scope_id_);
    for (std::string_view raw : m.points) {
      const PointInfo p = DecodePoint(m.data_field, raw);
      Stmt& s = w_->insert_point_;
      s.Bind(1, static_cast<int64_t>(StableHash(metric_key, raw)));
      s.Bind(2, *id);
      s.Bind(3, resource_id_);
      s.Bind(4, scope_id_);
      s.BindText(5, service_);
      s.Bind(6, ClampNs(p.time_unix_nano));
      s.Bind(7, ClampNs(p.start_time_unix_nano));
      if (p.has_value) s.Bind(8, p.value);
      s.Bind(9, static_cast<int64_t>(p.count));
      s.BindBlob(10, raw);
      s.Bind(11, w_->received_s_);
      status = w_->db_.Run(&s, "inserting a data point");
      if (!status.ok()) return;
      if (sqlite3_changes(w_->db_.get()) == 0) {
        ++w_->duplicates_;
      } else {
        ++w_->tx_stored_;
      }
    }
  }

  absl::Status status;
  // The spans of the request, added to the block once the whole request
  // decoded (a request that fails leaves the block as it was).
  std::vector<StagedSpan> spans;
  std::vector<std::string> services;
  Attributes attributes;

 private:
  StoreWriter* const w_;
  std::string_view resource_raw_, scope_raw_;
  std::string service_ = "unknown_service";
  int64_t resource_id_ = 0, scope_id_ = 0;
};

StoreWriter::StoreWriter(StoreOptions options)
    : options_(std::move(options)), recent_(options_.dedupe_window_spans) {}

StoreWriter::~StoreWriter() { (void)Close(); }

absl::Status StoreWriter::Open() {
  const std::filesystem::path path(options_.path);
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("store ", options_.path, ": cannot create its directory: ", ec.message()));
    }
  }
  absl::Status st = db_.Open(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!st.ok()) return st;
  st = InitStoreSchema(&db_);
  if (!st.ok()) {
    db_.Close();
    return st;
  }
  st = db_.Exec(
      "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4096");
  if (!st.ok()) return st;
  if (options_.max_pages > 0) {
    st = db_.Exec(absl::StrCat("PRAGMA max_page_count=", options_.max_pages));
    if (!st.ok()) return st;
  }
  struct {
    Stmt* stmt;
    std::string sql;
  } prepared[] = {
      {&begin_, "BEGIN"},
      {&commit_, "COMMIT"},
      {&savepoint_, "SAVEPOINT batch"},
      {&release_, "RELEASE batch"},
      {&rollback_to_, "ROLLBACK TO batch"},
      {&insert_resource_, "INSERT OR IGNORE INTO resources(hash, service, raw) VALUES(?1, ?2, ?3)"},
      {&find_resource_, "SELECT id FROM resources WHERE hash=?1"},
      {&insert_scope_,
       "INSERT OR IGNORE INTO scopes(hash, name, version, raw) VALUES(?1, ?2, ?3, ?4)"},
      {&find_scope_, "SELECT id FROM scopes WHERE hash=?1"},
      {&insert_metric_,
       "INSERT OR IGNORE INTO metrics(hash, name, description, unit, type, temporality, "
       "monotonic) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&find_metric_, "SELECT id FROM metrics WHERE hash=?1"},
      {&insert_block_,
       "INSERT INTO span_blocks(received_s, spans, min_start_ns, max_start_ns) "
       "VALUES(?1, ?2, ?3, ?4)"},
      {&insert_block_data_, "INSERT INTO block_data(id, keys, cols, data) VALUES(?1, ?2, ?3, ?4)"},
      {&insert_block_key_,
       "INSERT INTO block_keys(kind, value, block, spans, errors, min_start_ns, max_start_ns, "
       "max_duration_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&insert_run_, "INSERT INTO trace_runs(first_block, last_block, entries) VALUES(?1, ?2, ?3)"},
      {&insert_part_, "INSERT INTO trace_parts(part, run, entries) VALUES(?1, ?2, ?3)"},
      {&insert_log_,
       "INSERT OR IGNORE INTO logs(hash, resource_id, scope_id, service, time_ns, severity, "
       "severity_text, body, trace_id, span_id, raw, received_s) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
      {&insert_point_,
       "INSERT OR IGNORE INTO points(hash, metric_id, resource_id, scope_id, service, time_ns, "
       "start_ns, value, count, raw, received_s) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
      {&delete_block_data_, "DELETE FROM block_data WHERE id=?1"},
      // `spans < 256 AND merge_candidate = 1` lets SQLite use the partial
      // index span_blocks_small.
      {&small_blocks_,
       "SELECT id, received_s, spans FROM span_blocks WHERE spans < 256 AND merge_candidate = 1 "
       "AND spans < ?1 AND received_s BETWEEN ?2 AND ?3 ORDER BY received_s, id LIMIT 256"},
      {&not_candidate_, "UPDATE span_blocks SET merge_candidate = 0 WHERE id=?1"},
      {&read_block_, "SELECT cols, data FROM block_data WHERE id=?1"},
      {&delete_block_keys_, "DELETE FROM block_keys WHERE block=?1"},
      {&old_runs_, "SELECT run FROM trace_runs WHERE last_block < ?1 ORDER BY run LIMIT 16"},
      {&delete_run_, "DELETE FROM trace_runs WHERE run=?1"},
      {&delete_part_, "DELETE FROM trace_parts WHERE part=?1 AND run=?2"},
  };
  for (auto& p : prepared) {
    st = db_.Prepare(p.sql, p.stmt);
    if (!st.ok()) return st;
  }
  for (int t = 0; t < 3; ++t) {
    // span_blocks: the count is the block's spans; logs and points: one.
    st = db_.Prepare(absl::StrCat("SELECT id, received_s, ", t == 0 ? "spans" : "1", " FROM ",
                                  kTables[t], " ORDER BY id LIMIT ?1"),
                     &oldest_[t]);
    if (!st.ok()) return st;
    st = db_.Prepare(absl::StrCat("DELETE FROM ", kTables[t], " WHERE id=?1"), &delete_row_[t]);
    if (!st.ok()) return st;
  }
  st = LoadRecent();
  if (!st.ok()) return st;
  st = MaybeRetain(true);
  absl::Status c = Commit();
  return st.ok() ? c : st;
}

absl::Status StoreWriter::LoadRecent() {
  // The index entries of the blocks after the last run, and the span ids of
  // the newest blocks (a re-delivery after a restart is then a duplicate).
  Stmt last;
  absl::Status st = db_.Prepare("SELECT coalesce(max(last_block), 0) FROM trace_runs", &last);
  if (!st.ok()) return st;
  int rc = last.Step();
  if (rc != SQLITE_ROW) return db_.Error(rc, "reading the trace index");
  const int64_t last_indexed = last.Int(0);
  Stmt blocks;
  st = db_.Prepare("SELECT id, cols FROM block_data ORDER BY id DESC", &blocks);
  if (!st.ok()) return st;
  const int64_t preload = std::min(options_.dedupe_window_spans, 2 * options_.index_run_spans);
  int64_t loaded = 0;
  std::vector<IndexEntry> entries;
  std::vector<uint64_t> fingerprints;  // newest first
  while ((rc = blocks.Step()) == SQLITE_ROW) {
    const int64_t id = blocks.Int(0);
    if (id <= last_indexed && loaded >= preload) break;
    BlockView view;
    if (!view.Parse(blocks.Blob(1)).ok()) continue;  // a reader reports it
    for (size_t i = 0; i < view.size(); ++i) {
      const SpanRecord r = view.record(i);
      const uint64_t key = TraceKey(std::string_view(r.trace_id, 16));
      if (id > last_indexed) entries.push_back({key, id});
      if (loaded < preload) {
        fingerprints.push_back(Fingerprint(key, r.span_id));
        ++loaded;
      }
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_.Error(rc, "reading recent blocks");
  // Oldest first, so that where a bucket overflows the newest stay.
  for (auto it = fingerprints.rbegin(); it != fingerprints.rend(); ++it) (void)recent_.Insert(*it);
  pending_.assign(entries.rbegin(), entries.rend());
  pending_committed_ = pending_.size();
  return absl::OkStatus();
}

uint64_t StoreWriter::Fingerprint(uint64_t trace_key, const char* span_id) {
  uint64_t sid;
  std::memcpy(&sid, span_id, 8);
  return trace_key ^ (sid * 0x9e3779b97f4a7c15ull);
}

bool StoreWriter::Remember(const char* trace_id, const char* span_id) {
  const uint64_t fp = Fingerprint(TraceKey(std::string_view(trace_id, 16)), span_id);
  if (!recent_.Insert(fp)) return false;
  uncommitted_.push_back(fp);
  return true;
}

absl::Time StoreWriter::Now() const {
  return options_.now != nullptr ? options_.now() : absl::Now();
}

absl::Status StoreWriter::Begin() {
  if (in_tx_) return absl::OkStatus();
  absl::Status st = db_.Run(&begin_, "beginning a transaction");
  if (st.ok()) {
    in_tx_ = true;
    tx_items_ = 0;
  }
  return st;
}

void StoreWriter::AbortIfRolledBack() {
  // After SQLITE_FULL, IOERR or NOMEM SQLite may have rolled the whole
  // transaction back by itself: what it held is gone, and later statements
  // would autocommit one by one.
  if (in_tx_ && sqlite3_get_autocommit(db_.get()) != 0) Abort();
}

void StoreWriter::Abort() {
  if (in_tx_) (void)db_.Exec("ROLLBACK");
  in_tx_ = false;
  lost_ += tx_items_;  // the block being built holds only items of this transaction
  tx_items_ = tx_stored_ = tx_deleted_ = 0;
  block_.Clear();
  pending_.resize(pending_committed_);
  // Forget the lost spans' ids: a re-delivery is stored, not skipped.
  for (uint64_t fp : uncommitted_) recent_.Erase(fp);
  uncommitted_.clear();
  ForgetInternedIds();  // those interned in the rolled-back transaction are gone
}

void StoreWriter::ForgetInternedIds() {
  resources_.clear();
  scopes_.clear();
  metrics_.clear();
}

absl::Status StoreWriter::Commit() {
  if (!in_tx_ && block_.spans() == 0) return absl::OkStatus();
  // What a commit makes durable includes the block being built.
  absl::Status block = WriteBlock();
  if (!block.ok()) {
    Abort();
    return block;
  }
  bool run_written = false;
  if (static_cast<int64_t>(pending_.size()) >= options_.index_run_spans) {
    absl::Status st = WriteRun();
    if (!st.ok()) {
      Abort();
      return st;
    }
    run_written = true;
  }
  absl::Status st = db_.Run(&commit_, "committing");
  if (!st.ok()) {
    Abort();
    return st;
  }
  in_tx_ = false;
  tx_items_ = 0;
  stored_ += tx_stored_;
  retention_deleted_ += tx_deleted_;
  tx_stored_ = tx_deleted_ = 0;
  uncommitted_.clear();
  if (run_written) pending_.clear();
  pending_committed_ = pending_.size();
  return st;
}

absl::Status StoreWriter::WriteBlock() {
  if (block_.spans() == 0) return absl::OkStatus();
  absl::Status st = InsertBlock(block_, block_received_s_);
  if (!st.ok()) return st;
  tx_stored_ += block_.spans();
  block_.Clear();
  return absl::OkStatus();
}

absl::Status StoreWriter::InsertBlock(const BlockBuilder& block, int64_t received_s) {
  absl::Status st = Begin();
  if (!st.ok()) return st;
  const std::vector<BlockKey> keys = block.Summaries();
  const BlockKey* all = nullptr;
  for (const BlockKey& k : keys) {
    if (k.kind == BlockKey::kAll) all = &k;
  }
  Stmt& b = insert_block_;
  b.Bind(1, received_s);
  b.Bind(2, block.spans());
  b.Bind(3, all->min_start_ns);
  b.Bind(4, all->max_start_ns);
  st = db_.Run(&b, "inserting a span block");
  if (!st.ok()) return st;
  const int64_t id = sqlite3_last_insert_rowid(db_.get());
  const std::string key_blob = block.Keys(), cols = block.Cols();
  const std::string data = CompressData(block.Data());
  if (data.empty()) return absl::ResourceExhaustedError("store: cannot compress a span block");
  Stmt& d = insert_block_data_;
  d.Bind(1, id);
  d.BindBlob(2, key_blob);
  d.BindBlob(3, cols);
  d.BindBlob(4, data);
  st = db_.Run(&d, "inserting a span block");
  if (!st.ok()) return st;
  for (const BlockKey& k : keys) {
    Stmt& s = insert_block_key_;
    s.Bind(1, static_cast<int64_t>(k.kind));
    s.BindText(2, k.value);
    s.Bind(3, id);
    s.Bind(4, k.spans);
    s.Bind(5, k.errors);
    s.Bind(6, k.min_start_ns);
    s.Bind(7, k.max_start_ns);
    s.Bind(8, k.max_duration_ns);
    st = db_.Run(&s, "inserting a block summary");
    if (!st.ok()) return st;
  }
  for (uint64_t key : block.keys()) pending_.push_back({key, id});
  return absl::OkStatus();
}

absl::Status StoreWriter::DeleteBlock(int64_t id) {
  for (Stmt* s : {&delete_row_[0], &delete_block_data_, &delete_block_keys_}) {
    s->Bind(1, id);
    absl::Status st = db_.Run(s, "deleting a span block");
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> StoreWriter::CompactStep() {
  // Small blocks received close together, in receipt order: the first
  // group of them that begins a window of kCompactSpanS seconds already
  // closed (every block that could join it has settled) and fits one block.
  // Merged blocks are no candidates, so a span is rewritten once at most.
  const int64_t small = std::max<int64_t>(2, options_.block_spans / 4);
  const int64_t settled_s = absl::ToUnixSeconds(Now()) - options_.compact_after_s;
  Stmt& q = small_blocks_;
  q.Bind(1, small);
  // Only recent blocks: a merged block takes a new id, and age retention,
  // which deletes in id order, reaches it only after the blocks before it;
  // merging blocks no older than this keeps that delay to minutes.
  q.Bind(2, settled_s - kCompactWindowS);
  q.Bind(3, settled_s);
  std::vector<std::pair<int64_t, int64_t>> group;  // (id, received_s)
  int64_t spans = 0;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    const int64_t received = q.Int(1), n = q.Int(2);
    const bool fits = group.empty() || (received - group.front().second <= kCompactSpanS &&
                                        spans + n <= options_.block_spans);
    if (!fits) {
      if (group.size() >= 2) break;
      group.clear();
      spans = 0;
    }
    if (group.empty() && received + kCompactSpanS > settled_s) break;  // its window is open
    group.emplace_back(q.Int(0), received);
    spans += n;
  }
  if (rc == SQLITE_ROW) rc = SQLITE_DONE;
  q.Reset();
  if (rc != SQLITE_DONE) return db_.Error(rc, "finding small span blocks");
  if (group.size() < 2) return false;

  // Rebuild the spans of the group as one block, in the same transaction.
  BlockBuilder merged;
  StoredBlock block;
  const BlockView& view = block.view;
  int64_t received_s = 0;
  Stmt& r = read_block_;
  for (const auto& [id, received] : group) {
    received_s = std::max(received_s, received);
    r.Bind(1, id);
    rc = r.Step();
    const absl::Status st = rc == SQLITE_ROW ? block.Load(r.Blob(0), r.Blob(1)) : absl::OkStatus();
    r.Reset();
    if (rc != SQLITE_ROW) {
      return db_.Error(rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "reading a span block");
    }
    if (!st.ok()) {
      // Damaged: left as it is for the reader to report, and no longer a
      // candidate (the next step merges the others).
      not_candidate_.Bind(1, id);
      absl::Status nc = db_.Run(&not_candidate_, "marking a damaged span block");
      if (!nc.ok()) return nc;
      return true;
    }
    std::vector<std::pair<std::string, std::string>> attrs;
    for (size_t i = 0; i < view.size(); ++i) {
      const SpanRecord rec = view.record(i);
      attrs.clear();
      for (uint32_t a = 0; a < rec.attrs_count; ++a) {
        const auto [k, v] = view.attribute(rec.attrs_begin + a);
        attrs.emplace_back(view.str(k), view.str(v));
      }
      BlockBuilder::Span sp;
      sp.raw = BlockView::Raw(rec, block.data);
      sp.trace_id = std::string_view(rec.trace_id, 16);
      sp.span_id = std::string_view(rec.span_id, 8);
      sp.parent_span_id = rec.has_parent ? sp.span_id : std::string_view();  // only its presence
      sp.name = view.str(rec.name);
      sp.service = view.str(rec.service);
      sp.start_ns = rec.start_ns;
      sp.duration_ns = rec.duration_ns;
      sp.kind = rec.kind;
      sp.status = rec.status;
      std::tie(sp.resource_id, sp.scope_id) = view.origin(rec.origin);
      sp.attributes = attrs.data();
      sp.attribute_count = attrs.size();
      merged.Add(sp);
    }
  }
  absl::Status st = InsertBlock(merged, received_s);
  if (st.ok()) {
    // Merged once: never a candidate again (each span is rewritten once).
    not_candidate_.Bind(1, static_cast<int64_t>(sqlite3_last_insert_rowid(db_.get())));
    st = db_.Run(&not_candidate_, "marking a merged span block");
  }
  for (size_t i = 0; st.ok() && i < group.size(); ++i) st = DeleteBlock(group[i].first);
  if (!st.ok()) return st;
  compacted_blocks_ += static_cast<int64_t>(group.size());
  return true;
}

absl::Status StoreWriter::WriteRun() {
  std::vector<IndexEntry> entries = pending_;  // sorted apart: an abort truncates pending_
  int64_t first = INT64_MAX, last = 0;
  for (const IndexEntry& e : entries) {
    first = std::min(first, e.block);
    last = std::max(last, e.block);
  }
  insert_run_.Bind(1, first);
  insert_run_.Bind(2, last);
  insert_run_.Bind(3, static_cast<int64_t>(entries.size()));
  absl::Status st = db_.Run(&insert_run_, "inserting a trace index run");
  if (!st.ok()) return st;
  const int64_t run = sqlite3_last_insert_rowid(db_.get());
  for (const auto& [part, blob] : EncodeRun(&entries)) {
    insert_part_.Bind(1, static_cast<int64_t>(part));
    insert_part_.Bind(2, run);
    insert_part_.BindBlob(3, blob);
    st = db_.Run(&insert_part_, "inserting a trace index part");
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status StoreWriter::Write(const pipeline::Batch& batch) {
  if (!db_.is_open()) return absl::FailedPreconditionError("store: not open");
  absl::Status st = Begin();
  if (!st.ok()) return st;
  st = db_.Run(&savepoint_, "starting a batch");
  if (!st.ok()) return st;
  received_s_ = absl::ToUnixSeconds(Now());
  Visitor v(this);
  // The receiver validated the request before taking it.
  absl::StatusOr<wire::ReadResult> r =
      wire::ReadExportRequest(batch.signal, batch.bytes, &v, wire::ReadMode::kTrusted);
  if (r.ok() && v.status.ok()) {
    st = db_.Run(&release_, "ending a batch");
  } else {
    st = r.ok() ? v.status : r.status();
    (void)db_.Run(&rollback_to_, "rolling back a batch");
    (void)db_.Run(&release_, "ending a batch");
    ForgetInternedIds();  // those interned in the rolled-back batch are gone
    AbortIfRolledBack();
    return st;
  }
  if (!st.ok()) return st;
  if (!v.spans.empty()) {
    if (block_.spans() == 0) block_received_s_ = received_s_;
    for (StagedSpan& s : v.spans) {
      // The receiver let only 16- and 8-byte ids through; anything else is
      // remembered as zeros.
      static constexpr char kZeros[16] = {};
      if (!Remember(s.span.trace_id.size() == 16 ? s.span.trace_id.data() : kZeros,
                    s.span.span_id.size() == 8 ? s.span.span_id.data() : kZeros)) {
        ++duplicates_;
        continue;
      }
      s.span.service = v.services[s.service];
      s.span.attributes = v.attributes.data() + s.attributes_begin;
      block_.Add(s.span);
    }
  }
  tx_items_ += batch.items;
  if (block_.spans() >= options_.block_spans) {
    st = WriteBlock();
    if (!st.ok()) {
      Abort();
      return absl::OkStatus();  // taken; the loss is reported by the next Flush
    }
  }
  if (tx_items_ >= options_.commit_items && !Commit().ok()) {
    return absl::OkStatus();  // taken; the loss is reported by the next Flush
  }
  // The batch is taken: a retention failure is reported by the next Flush.
  st = MaybeRetain(false);
  if (!st.ok() && retain_error_.ok()) retain_error_ = st;
  return absl::OkStatus();
}

absl::Status StoreWriter::ReportLost(absl::Status st) {
  if (lost_ == 0) return st;
  if (st.ok()) st = absl::UnavailableError("store: a write failed and its items were lost");
  st = pipeline::WithLostItems(std::move(st), lost_);
  lost_ = 0;
  return st;
}

absl::Status StoreWriter::Flush() {
  if (!db_.is_open()) return absl::OkStatus();
  absl::Status st = MaybeRetain(false);
  if (st.ok()) st = std::exchange(retain_error_, absl::OkStatus());
  absl::Status c = Commit();
  if (st.ok()) st = c;
  st = ReportLost(std::move(st));
  if (retention_deleted_ != vacuumed_at_) {  // give freed pages back to the file system
    vacuumed_at_ = retention_deleted_;
    (void)db_.Exec("PRAGMA incremental_vacuum(1000)");
  }
  return st;
}

absl::Status StoreWriter::Close() {
  if (!db_.is_open()) return absl::OkStatus();
  absl::Status st = ReportLost(Commit());
  // Finalize every statement before closing.
  for (Stmt* s : {&begin_,
                  &commit_,
                  &savepoint_,
                  &release_,
                  &rollback_to_,
                  &insert_resource_,
                  &find_resource_,
                  &insert_scope_,
                  &find_scope_,
                  &insert_metric_,
                  &find_metric_,
                  &insert_block_,
                  &insert_block_data_,
                  &insert_block_key_,
                  &insert_run_,
                  &insert_part_,
                  &insert_log_,
                  &insert_point_,
                  &small_blocks_,
                  &read_block_,
                  &not_candidate_,
                  &oldest_[0],
                  &oldest_[1],
                  &oldest_[2],
                  &delete_row_[0],
                  &delete_row_[1],
                  &delete_row_[2],
                  &delete_block_data_,
                  &delete_block_keys_,
                  &old_runs_,
                  &delete_run_,
                  &delete_part_}) {
    *s = Stmt();
  }
  (void)db_.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db_.Close();
  return st;
}

absl::StatusOr<int64_t> StoreWriter::InternResource(std::string_view raw, std::string* service) {
  const uint64_t h = StableHash(raw);
  auto it = resources_.find(h);
  if (it != resources_.end()) {
    *service = it->second.second;
    return it->second.first;
  }
  *service = DecodeResource(raw).service;
  insert_resource_.Bind(1, static_cast<int64_t>(h));
  insert_resource_.BindText(2, *service);
  insert_resource_.BindBlob(3, raw);
  absl::Status st = db_.Run(&insert_resource_, "inserting a resource");
  if (!st.ok()) return st;
  find_resource_.Bind(1, static_cast<int64_t>(h));
  int rc = find_resource_.Step();
  const int64_t id = rc == SQLITE_ROW ? find_resource_.Int(0) : 0;
  find_resource_.Reset();
  if (rc != SQLITE_ROW) return db_.Error(rc, "finding a resource");
  if (resources_.size() > 10000) resources_.clear();
  resources_[h] = {id, *service};
  return id;
}

absl::StatusOr<int64_t> StoreWriter::InternScope(std::string_view raw) {
  const uint64_t h = StableHash(raw);
  auto it = scopes_.find(h);
  if (it != scopes_.end()) return it->second;
  const ScopeInfo info = DecodeScope(raw);
  insert_scope_.Bind(1, static_cast<int64_t>(h));
  insert_scope_.BindText(2, info.name);
  insert_scope_.BindText(3, info.version);
  insert_scope_.BindBlob(4, raw);
  absl::Status st = db_.Run(&insert_scope_, "inserting a scope");
  if (!st.ok()) return st;
  find_scope_.Bind(1, static_cast<int64_t>(h));
  int rc = find_scope_.Step();
  const int64_t id = rc == SQLITE_ROW ? find_scope_.Int(0) : 0;
  find_scope_.Reset();
  if (rc != SQLITE_ROW) return db_.Error(rc, "finding a scope");
  if (scopes_.size() > 10000) scopes_.clear();
  scopes_[h] = id;
  return id;
}

absl::StatusOr<int64_t> StoreWriter::InternMetric(std::string_view name,
                                                  std::string_view description,
                                                  std::string_view unit, uint32_t type,
                                                  uint32_t temporality, bool monotonic) {
  const std::string shape = absl::StrCat(type, "/", temporality, "/", monotonic);
  const uint64_t h = StableHash(absl::StrCat(name.size(), ":", std::string(name),
                                             description.size(), ":", std::string(description)),
                                unit, shape);
  auto it = metrics_.find(h);
  if (it != metrics_.end()) return it->second;
  Stmt& s = insert_metric_;
  s.Bind(1, static_cast<int64_t>(h));
  s.BindText(2, name);
  s.BindText(3, description);
  s.BindText(4, unit);
  s.Bind(5, static_cast<int64_t>(type));
  s.Bind(6, static_cast<int64_t>(temporality));
  s.Bind(7, static_cast<int64_t>(monotonic ? 1 : 0));
  absl::Status st = db_.Run(&s, "inserting a metric");
  if (!st.ok()) return st;
  find_metric_.Bind(1, static_cast<int64_t>(h));
  int rc = find_metric_.Step();
  const int64_t id = rc == SQLITE_ROW ? find_metric_.Int(0) : 0;
  find_metric_.Reset();
  if (rc != SQLITE_ROW) return db_.Error(rc, "finding a metric");
  if (metrics_.size() > 10000) metrics_.clear();
  metrics_[h] = id;
  return id;
}

int64_t StoreWriter::LiveBytes() {
  Stmt s;
  int64_t pages = 0, free_pages = 0, page_size = 4096;
  if (db_.Prepare("PRAGMA page_count", &s).ok() && s.Step() == SQLITE_ROW) pages = s.Int(0);
  if (db_.Prepare("PRAGMA freelist_count", &s).ok() && s.Step() == SQLITE_ROW) {
    free_pages = s.Int(0);
  }
  if (db_.Prepare("PRAGMA page_size", &s).ok() && s.Step() == SQLITE_ROW) page_size = s.Int(0);
  return (pages - free_pages) * page_size;
}

absl::StatusOr<int64_t> StoreWriter::DeleteOldest(int table, int64_t cutoff_s, int64_t limit) {
  // All of it or nothing: a failure part way must not leave a block's data
  // or summaries without its row for the transaction to commit.
  absl::StatusOr<int64_t> n = 0;
  absl::Status st = AllOrNothing([&] {
    n = DeleteOldestRows(table, cutoff_s, limit);
    return n.status();
  });
  if (!st.ok()) return st;
  return n;
}

absl::Status StoreWriter::AllOrNothing(absl::FunctionRef<absl::Status()> step) {
  const size_t pending_before = pending_.size();
  absl::Status st = db_.Exec("SAVEPOINT step");
  if (!st.ok()) return st;
  st = step();
  if (st.ok()) {
    st = db_.Exec("RELEASE step");
    if (st.ok()) return st;
  }
  (void)db_.Exec("ROLLBACK TO step");
  (void)db_.Exec("RELEASE step");
  pending_.resize(std::min(pending_.size(), pending_before));
  AbortIfRolledBack();
  return st;
}

absl::StatusOr<int64_t> StoreWriter::DeleteOldestRows(int table, int64_t cutoff_s, int64_t limit) {
  const int64_t deleted_before = tx_deleted_;
  std::vector<std::pair<int64_t, int64_t>> rows;  // (id, items)
  Stmt& q = oldest_[table];
  q.Bind(1, limit);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW && q.Int(1) < cutoff_s)
    rows.emplace_back(q.Int(0), q.Int(2));
  if (rc == SQLITE_ROW) rc = SQLITE_DONE;
  q.Reset();
  if (rc != SQLITE_DONE) return db_.Error(rc, "finding old rows");
  int64_t items = 0;
  for (const auto& [id, n] : rows) {
    absl::Status st;
    if (table == 0) {
      st = DeleteBlock(id);
    } else {
      delete_row_[table].Bind(1, id);
      st = db_.Run(&delete_row_[table], "deleting old rows");
    }
    if (!st.ok()) return st;
    items += n;
  }
  if (table == 0 && !rows.empty()) {
    absl::Status st = DeleteRunsBefore(rows.back().first + 1);
    if (!st.ok()) return st;
  }
  tx_deleted_ = deleted_before + items;
  return static_cast<int64_t>(rows.size());
}

absl::Status StoreWriter::DeleteRunsBefore(int64_t block) {
  // Runs whose blocks are all gone (each is deleted with its parts).
  std::vector<int64_t> runs;
  old_runs_.Bind(1, block);
  int rc;
  while ((rc = old_runs_.Step()) == SQLITE_ROW) runs.push_back(old_runs_.Int(0));
  old_runs_.Reset();
  if (rc != SQLITE_DONE) return db_.Error(rc, "finding old trace index runs");
  for (int64_t run : runs) {
    for (int part = 0; part < (1 << kPartBits); ++part) {
      delete_part_.Bind(1, static_cast<int64_t>(part));
      delete_part_.Bind(2, run);
      absl::Status st = db_.Run(&delete_part_, "deleting an old trace index part");
      if (!st.ok()) return st;
    }
    delete_run_.Bind(1, run);
    absl::Status st = db_.Run(&delete_run_, "deleting an old trace index run");
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status StoreWriter::MaybeRetain(bool force) {
  const absl::Time now = absl::Now();
  if (!force && now - last_retention_ < options_.retention_interval) return absl::OkStatus();
  last_retention_ = now;
  const absl::Time deadline = now + options_.retention_step_budget;
  if (options_.retention_hours > 0 || options_.max_mib > 0) {
    absl::Status st = RetainStep(deadline);
    if (!st.ok()) return st;
  }
  if (options_.compact_after_s < 0 || now < compact_paused_until_) return absl::OkStatus();
  // Merging is an optimisation: a failure (say the disk is full: it writes
  // the merged block before deleting the parts) pauses it for a minute and
  // is counted, but fails no Flush.
  if (!Compact(deadline).ok()) {
    ++compact_failures_;
    compact_paused_until_ = now + absl::Minutes(1);
  }
  return absl::OkStatus();
}

absl::Status StoreWriter::Compact(absl::Time deadline) {
  constexpr int kMaxSteps = 64;  // bounds the loop whatever the clock does
  for (int i = 0; i < kMaxSteps && absl::Now() <= deadline; ++i) {
    absl::Status st = Begin();
    if (!st.ok()) return st;
    absl::StatusOr<bool> merged = false;
    st = AllOrNothing([&] {
      merged = CompactStep();
      return merged.status();
    });
    if (!st.ok()) return st;
    if (!*merged) break;
  }
  return absl::OkStatus();
}

absl::Status StoreWriter::RetainStep(absl::Time deadline) {
  // Rows per step: a span block holds up to a thousand or so spans.
  const int64_t chunk[3] = {8, 500, 500};
  constexpr int kMaxChunks = 1000;  // bounds the loop whatever the clock does
  const absl::Time wall = Now();
  int chunks = 0;
  // By age.
  if (options_.retention_hours > 0) {
    const int64_t cutoff = absl::ToUnixSeconds(wall - absl::Hours(options_.retention_hours));
    for (int t = 0; t < 3 && chunks < kMaxChunks; ++t) {
      while (chunks++ < kMaxChunks) {
        absl::Status st = Begin();  // deletes join the open transaction
        if (!st.ok()) return st;
        absl::StatusOr<int64_t> n = DeleteOldest(t, cutoff, chunk[t]);
        if (!n.ok()) return n.status();
        if (*n < chunk[t] || absl::Now() > deadline) break;
      }
      if (absl::Now() > deadline) break;
    }
  }
  // By size: the oldest rows of whichever table holds the oldest item.
  if (options_.max_mib > 0) {
    const int64_t limit = options_.max_mib << 20;
    while (chunks++ < kMaxChunks && absl::Now() <= deadline && LiveBytes() > limit) {
      int oldest_table = -1;
      int64_t oldest = std::numeric_limits<int64_t>::max();
      for (int t = 0; t < 3; ++t) {
        Stmt& q = oldest_[t];
        q.Bind(1, int64_t{1});
        if (q.Step() == SQLITE_ROW && q.Int(1) <= oldest) {
          oldest = q.Int(1);
          oldest_table = t;
        }
        q.Reset();
      }
      if (oldest_table < 0) break;
      // The size counts committed pages: commit, then delete a chunk.
      absl::Status st = Commit();
      if (!st.ok()) return st;
      st = Begin();
      if (!st.ok()) return st;
      absl::StatusOr<int64_t> n =
          DeleteOldest(oldest_table, std::numeric_limits<int64_t>::max(), chunk[oldest_table]);
      if (!n.ok()) return n.status();
      st = Commit();
      if (!st.ok()) return st;
      (void)db_.Exec("PRAGMA incremental_vacuum(2000)");
    }
  }
  return absl::OkStatus();
}

}  // namespace tracewire::store
