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
CREATE TABLE IF NOT EXISTS spans(id INTEGER PRIMARY KEY, trace_id BLOB NOT NULL,
  span_id BLOB NOT NULL, parent_span_id BLOB, resource_id INTEGER, scope_id INTEGER,
  service TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER, start_ns INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL, status INTEGER NOT NULL, received_s INTEGER NOT NULL,
  raw BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS spans_by_id ON spans(trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_by_service ON spans(service, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_name ON spans(name, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_start ON spans(start_ns);
CREATE INDEX IF NOT EXISTS spans_by_duration ON spans(duration_ns);
CREATE TABLE IF NOT EXISTS span_attrs(key TEXT NOT NULL, value TEXT NOT NULL,
  span_row INTEGER NOT NULL, PRIMARY KEY(key, value, span_row)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS span_attrs_by_row ON span_attrs(span_row);
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

constexpr const char* kTables[3] = {"spans", "logs", "points"};

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
    // Only the status and the chosen attributes: no full decode.
    uint32_t status_code = 0;
    chosen_.clear();
    {
      wire::ProtoReader r(span.raw);
      wire::Field f;
      while (r.Next(&f)) {
        if (f.type != wire::WireType::kLen) continue;
        if (f.number == 15) {
          wire::ProtoReader sr(f.bytes);
          wire::Field g;
          while (sr.Next(&g)) {
            if (g.number == 3 && g.type == wire::WireType::kVarint) {
              status_code = static_cast<uint32_t>(g.value);
            }
          }
        } else if (f.number == 9) {
          wire::ProtoReader kr(f.bytes);
          wire::Field g;
          while (kr.Next(&g)) {
            if (g.number != 1 || g.type != wire::WireType::kLen) continue;
            for (const std::string& k : w_->options_.attribute_keys) {
              if (g.bytes == k) {
                AppendKeyValue(f.bytes, &chosen_);
                break;
              }
            }
            break;  // the key comes first
          }
        }
      }
    }
    Stmt& s = w_->insert_span_;
    s.BindBlob(1, span.trace_id);
    s.BindBlob(2, span.span_id);
    s.BindBlob(3, span.parent_span_id);
    s.Bind(4, resource_id_);
    s.Bind(5, scope_id_);
    s.BindText(6, service_);
    s.BindText(7, span.name);
    s.Bind(8, static_cast<int64_t>(span.kind));
    s.Bind(9, ClampNs(span.start_time_unix_nano));
    s.Bind(10, ClampNs(span.end_time_unix_nano - span.start_time_unix_nano));
    s.Bind(11, static_cast<int64_t>(status_code));
    s.BindBlob(12, span.raw);
    s.Bind(13, w_->received_s_);
    status = w_->db_.Run(&s, "inserting a span");
    if (!status.ok()) return;
    if (sqlite3_changes(w_->db_.get()) == 0) {
      ++w_->duplicates_;
      return;
    }
    ++w_->stored_;
    const int64_t row = sqlite3_last_insert_rowid(w_->db_.get());
    for (const auto& [key, value] : chosen_) {
      Stmt& a = w_->insert_attr_;
      a.BindText(1, key);
      a.BindText(2, value);
      a.Bind(3, row);
      status = w_->db_.Run(&a, "inserting a span attribute");
      if (!status.ok()) return;
    }
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
      ++w_->stored_;
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
        ++w_->stored_;
      }
    }
  }

  absl::Status status;

 private:
  StoreWriter* const w_;
  std::string_view resource_raw_, scope_raw_;
  std::string service_ = "unknown_service";
  Attributes chosen_;
  int64_t resource_id_ = 0, scope_id_ = 0;
};

StoreWriter::StoreWriter(StoreOptions options) : options_(std::move(options)) {}

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
  // Index inserts land on random pages (trace ids are random): a large page
  // cache keeps them in memory instead of re-reading them for every insert.
  st = db_.Exec(
      "PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4096");
  if (!st.ok()) return st;
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
      {&insert_span_,
       "INSERT OR IGNORE INTO spans(trace_id, span_id, parent_span_id, resource_id, scope_id, "
       "service, name, kind, start_ns, duration_ns, status, raw, received_s) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"},
      {&insert_attr_, "INSERT OR IGNORE INTO span_attrs(key, value, span_row) VALUES(?1, ?2, ?3)"},
      {&insert_log_,
       "INSERT OR IGNORE INTO logs(hash, resource_id, scope_id, service, time_ns, severity, "
       "severity_text, body, trace_id, span_id, raw, received_s) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
      {&insert_point_,
       "INSERT OR IGNORE INTO points(hash, metric_id, resource_id, scope_id, service, time_ns, "
       "start_ns, value, count, raw, received_s) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
      {&delete_attrs_, "DELETE FROM span_attrs WHERE span_row=?1"},
  };
  for (auto& p : prepared) {
    st = db_.Prepare(p.sql, p.stmt);
    if (!st.ok()) return st;
  }
  for (int t = 0; t < 3; ++t) {
    st = db_.Prepare(
        absl::StrCat("SELECT id, received_s FROM ", kTables[t], " ORDER BY id LIMIT ?1"),
        &oldest_[t]);
    if (!st.ok()) return st;
    st = db_.Prepare(absl::StrCat("DELETE FROM ", kTables[t], " WHERE id=?1"), &delete_row_[t]);
    if (!st.ok()) return st;
  }
  st = MaybeRetain(true);
  absl::Status c = Commit();
  return st.ok() ? c : st;
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

absl::Status StoreWriter::Commit() {
  if (!in_tx_) return absl::OkStatus();
  absl::Status st = db_.Run(&commit_, "committing");
  if (!st.ok()) {
    (void)db_.Exec("ROLLBACK");
  }
  in_tx_ = false;
  tx_items_ = 0;
  return st;
}

absl::Status StoreWriter::Write(const pipeline::Batch& batch) {
  if (!db_.is_open()) return absl::FailedPreconditionError("store: not open");
  absl::Status st = Begin();
  if (!st.ok()) return st;
  st = db_.Run(&savepoint_, "starting a batch");
  if (!st.ok()) return st;
  received_s_ = absl::ToUnixSeconds(Now());
  Visitor v(this);
  absl::StatusOr<wire::ReadResult> r = wire::ReadExportRequest(batch.signal, batch.bytes, &v);
  if (r.ok() && v.status.ok()) {
    st = db_.Run(&release_, "ending a batch");
  } else {
    st = r.ok() ? v.status : r.status();
    (void)db_.Run(&rollback_to_, "rolling back a batch");
    (void)db_.Run(&release_, "ending a batch");
    resources_.clear();  // ids interned in the rolled-back batch are gone
    scopes_.clear();
    metrics_.clear();
  }
  tx_items_ += batch.items;
  if (tx_items_ >= options_.commit_items) {
    absl::Status c = Commit();
    if (st.ok()) st = c;
  }
  absl::Status ret = MaybeRetain(false);
  if (st.ok()) st = ret;
  return st;
}

absl::Status StoreWriter::Flush() {
  if (!db_.is_open()) return absl::OkStatus();
  absl::Status st = MaybeRetain(false);
  absl::Status c = Commit();
  if (st.ok()) st = c;
  if (retention_deleted_ != vacuumed_at_) {  // give freed pages back to the file system
    vacuumed_at_ = retention_deleted_;
    (void)db_.Exec("PRAGMA incremental_vacuum(1000)");
  }
  return st;
}

absl::Status StoreWriter::Close() {
  if (!db_.is_open()) return absl::OkStatus();
  absl::Status st = Commit();
  // Finalize every statement before closing.
  for (Stmt* s : {&begin_,           &commit_,        &savepoint_,    &release_,    &rollback_to_,
                  &insert_resource_, &find_resource_, &insert_scope_, &find_scope_, &insert_metric_,
                  &find_metric_,     &insert_span_,   &insert_attr_,  &insert_log_, &insert_point_,
                  &delete_attrs_,    &oldest_[0],     &oldest_[1],    &oldest_[2],  &delete_row_[0],
                  &delete_row_[1],   &delete_row_[2]}) {
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
  std::vector<int64_t> ids;
  Stmt& q = oldest_[table];
  q.Bind(1, limit);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW && q.Int(1) < cutoff_s) ids.push_back(q.Int(0));
  if (rc == SQLITE_ROW) rc = SQLITE_DONE;
  q.Reset();
  if (rc != SQLITE_DONE) return db_.Error(rc, "finding old rows");
  for (int64_t id : ids) {
    delete_row_[table].Bind(1, id);
    absl::Status st = db_.Run(&delete_row_[table], "deleting old rows");
    if (!st.ok()) return st;
    if (table == 0) {
      delete_attrs_.Bind(1, id);
      st = db_.Run(&delete_attrs_, "deleting old span attributes");
      if (!st.ok()) return st;
    }
  }
  return static_cast<int64_t>(ids.size());
}

absl::Status StoreWriter::MaybeRetain(bool force) {
  if (options_.retention_hours <= 0 && options_.max_mib <= 0) return absl::OkStatus();
  const absl::Time now = absl::Now();
  if (!force && now - last_retention_ < options_.retention_interval) return absl::OkStatus();
  last_retention_ = now;
  return RetainStep(now + options_.retention_step_budget);
}

absl::Status StoreWriter::RetainStep(absl::Time deadline) {
  constexpr int64_t kChunk = 500;
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
        absl::StatusOr<int64_t> n = DeleteOldest(t, cutoff, kChunk);
        if (!n.ok()) return n.status();
        retention_deleted_ += *n;
        if (*n < kChunk || absl::Now() > deadline) break;
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
          DeleteOldest(oldest_table, std::numeric_limits<int64_t>::max(), kChunk);
      if (!n.ok()) return n.status();
      st = Commit();
      if (!st.ok()) return st;
      retention_deleted_ += *n;
      (void)db_.Exec("PRAGMA incremental_vacuum(2000)");
    }
  }
  return absl::OkStatus();
}

}  // namespace tracewire::store
