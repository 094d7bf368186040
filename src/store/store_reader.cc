#include "store/store_reader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "store/trace_index.h"

namespace tracewire::store {
namespace {

absl::Status StepError(Db& db, int rc, std::string_view what) {
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? absl::OkStatus() : db.Error(rc, what);
}

bool SameTrace(const SpanRecord& r, const std::string& trace_id) {
  return trace_id.size() == 16 && std::memcmp(r.trace_id, trace_id.data(), 16) == 0;
}

}  // namespace

// One read transaction: every statement of a query sees one snapshot (the
// trace index and the blocks it names must agree while the writer commits).
class StoreReader::ReadTx {
 public:
  explicit ReadTx(StoreReader* r) : r_(r) { status_ = r_->db_.Exec("BEGIN"); }
  ~ReadTx() {
    if (status_.ok()) (void)r_->db_.Exec("COMMIT");
    r_->pending_loaded_ = false;
    r_->pending_.clear();
  }
  const absl::Status& status() const { return status_; }

 private:
  StoreReader* const r_;
  absl::Status status_;
};

absl::StatusOr<std::unique_ptr<StoreReader>> StoreReader::Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "no store at ", path, " (run tracewired with the store sink, or give --store PATH)"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory, not a store file"));
  }
  auto r = std::unique_ptr<StoreReader>(new StoreReader());
  absl::Status st = r->db_.Open(path, SQLITE_OPEN_READONLY);
  if (!st.ok()) return st;
  Stmt meta;
  st = r->db_.Prepare("SELECT value FROM meta WHERE key='format'", &meta);
  if (!st.ok()) {
    if (absl::IsFailedPrecondition(st) || absl::IsDataLoss(st) || absl::IsUnavailable(st)) {
      return st;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("store ", path, ": not a tracewire store (", std::string(st.message()), ")"));
  }
  const int rc = meta.Step();
  if (rc != SQLITE_ROW) {
    if (rc != SQLITE_DONE) return r->db_.Error(rc, "reading the format marker");
    return absl::FailedPreconditionError(
        absl::StrCat("store ", path, ": not a tracewire store (no format marker)"));
  }
  if (meta.Text(0) != kStoreFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store ", path, ": not a tracewire store (format ", std::string(meta.Text(0)), ")"));
  }
  meta = Stmt();
  st = CheckStoreVersion(&r->db_);
  if (!st.ok()) return st;
  struct {
    Stmt* stmt;
    const char* sql;
  } prepared[] = {
      {&r->parts_, "SELECT entries FROM trace_parts WHERE part=?1"},
      {&r->pending_from_, "SELECT coalesce(max(last_block), 0) FROM trace_runs"},
      {&r->pending_blocks_, "SELECT id, keys FROM block_data WHERE id > ?1"},
      {&r->block_cols_, "SELECT cols FROM block_data WHERE id=?1"},
      {&r->block_all_, "SELECT cols, data FROM block_data WHERE id=?1"},
      {&r->scope_name_, "SELECT name FROM scopes WHERE id=?1"},
  };
  for (auto& p : prepared) {
    st = r->db_.Prepare(p.sql, p.stmt);
    if (!st.ok()) return st;
  }
  return r;
}

absl::StatusOr<int64_t> StoreReader::Count(const std::string& table) {
  std::string sql;
  if (table == "spans") {
    sql = "SELECT coalesce(sum(spans), 0) FROM span_blocks";
  } else if (table == "blocks") {
    sql = "SELECT count(*) FROM span_blocks";
  } else if (table == "logs" || table == "points" || table == "resources" || table == "scopes" ||
             table == "metrics") {
    sql = "SELECT count(*) FROM " + table;
  } else {
    return absl::InvalidArgumentError("unknown table " + table);
  }
  Stmt s;
  absl::Status st = db_.Prepare(sql, &s);
  if (!st.ok()) return st;
  const int rc = s.Step();
  if (rc != SQLITE_ROW) return db_.Error(rc, "counting");
  return s.Int(0);
}

absl::StatusOr<std::vector<int64_t>> StoreReader::LocateBlocks(const std::string& trace_id) {
  const uint64_t key = TraceKey(trace_id);
  std::vector<int64_t> blocks;
  parts_.Bind(1, static_cast<int64_t>(PartOf(key)));
  int rc;
  while ((rc = parts_.Step()) == SQLITE_ROW) FindInPart(parts_.Blob(0), key, &blocks);
  parts_.Reset();
  absl::Status st = StepError(db_, rc, "reading the trace index");
  if (!st.ok()) return st;
  if (!pending_loaded_) {
    rc = pending_from_.Step();
    const int64_t from = rc == SQLITE_ROW ? pending_from_.Int(0) : 0;
    pending_from_.Reset();
    if (rc != SQLITE_ROW) return db_.Error(rc, "reading the trace index");
    pending_blocks_.Bind(1, from);
    while ((rc = pending_blocks_.Step()) == SQLITE_ROW) {
      pending_.emplace_back(pending_blocks_.Int(0), std::string(pending_blocks_.Blob(1)));
    }
    pending_blocks_.Reset();
    st = StepError(db_, rc, "reading the newest blocks");
    if (!st.ok()) return st;
    pending_loaded_ = true;
  }
  for (const auto& [id, keys] : pending_) {
    if (KeysContain(keys, key)) blocks.push_back(id);
  }
  std::sort(blocks.begin(), blocks.end());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  return blocks;
}

absl::Status StoreReader::ReadBlock(int64_t id, bool with_data, Block* out) {
  Stmt& s = with_data ? block_all_ : block_cols_;
  s.Bind(1, id);
  const int rc = s.Step();
  absl::Status st;
  if (rc == SQLITE_ROW) {
    st = out->Load(s.Blob(0), with_data ? std::optional(s.Blob(1)) : std::nullopt);
  }
  s.Reset();
  if (rc == SQLITE_DONE) return absl::NotFoundError("block gone");
  if (rc != SQLITE_ROW) return db_.Error(rc, "reading a span block");
  if (!st.ok()) {
    return absl::DataLossError(
        absl::StrCat("store ", db_.path(), ": block ", id, ": ", std::string(st.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> StoreReader::ScopeName(int64_t scope_id) {
  auto it = scope_names_.find(scope_id);
  if (it != scope_names_.end()) return it->second;
  scope_name_.Bind(1, scope_id);
  const int rc = scope_name_.Step();
  std::string name = rc == SQLITE_ROW ? std::string(scope_name_.Text(0)) : std::string();
  scope_name_.Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_.Error(rc, "reading a scope");
  scope_names_[scope_id] = name;
  return name;
}

absl::StatusOr<std::vector<TraceSummary>> StoreReader::FindTraces(const TraceFilter& f) {
  ReadTx tx(this);
  if (!tx.status().ok()) return tx.status();
  int kind = BlockKey::kAll;
  std::string value;
  if (!f.attr_key.empty()) {
    kind = BlockKey::kAttribute;
    value = AttributeKeyValue(f.attr_key, f.attr_value);
  } else if (!f.name.empty()) {
    kind = BlockKey::kName;
    value = f.name;
  } else if (!f.service.empty()) {
    kind = BlockKey::kService;
    value = f.service;
  }
  Stmt s;
  absl::Status st = db_.Prepare(
      "SELECT block, errors, min_start_ns, max_start_ns, max_duration_ns FROM block_keys "
      "WHERE kind=?1 AND value=?2",
      &s);
  if (!st.ok()) return st;
  s.Bind(1, static_cast<int64_t>(kind));
  s.BindText(2, value);
  struct Candidate {
    int64_t block, bound;
  };
  std::vector<Candidate> candidates;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (f.errors_only && s.Int(1) == 0) continue;
    if (f.min_duration_ns > 0 && s.Int(4) < f.min_duration_ns) continue;
    if (f.since_ns > 0 && s.Int(3) < f.since_ns) continue;
    if (f.until_ns > 0 && s.Int(2) >= f.until_ns) continue;
    candidates.push_back({s.Int(0), f.sort_by_duration ? s.Int(4) : s.Int(3)});
  }
  st = StepError(db_, rc, "finding traces");
  if (!st.ok()) return st;
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.bound != b.bound ? a.bound > b.bound : a.block > b.block;
  });
  const auto limit = static_cast<size_t>(f.limit > 0 ? f.limit : 20);
  // Per trace: the largest start (or duration) of its matching spans. After
  // each block, once it holds 4 x limit traces, those below the limit-th best
  // value are dropped: that value only grows, so a trace dropped below it can
  // come back only with a later span of a larger value, which is then its
  // value anyway.
  absl::flat_hash_map<std::string, int64_t> best;
  int64_t kth = INT64_MIN;  // the limit-th best value, once `limit` traces are found
  auto update_kth = [&] {
    if (best.size() < limit) return;
    std::vector<int64_t> v;
    v.reserve(best.size());
    for (const auto& [id, x] : best) v.push_back(x);
    std::nth_element(v.begin(), v.begin() + (limit - 1), v.end(), std::greater<>());
    kth = v[limit - 1];
    if (best.size() < 4 * limit) return;
    // Ties with the limit-th stay: the trace id decides among them.
    absl::erase_if(best, [&](const auto& e) { return e.second < kth; });
  };
  Block b;
  for (const Candidate& c : candidates) {
    // A block whose bound is below the limit-th best cannot add a trace;
    // one equal to it may (ties are broken by trace id).
    if (best.size() >= limit && c.bound < kth) break;
    st = ReadBlock(c.block, false, &b);
    if (absl::IsNotFound(st)) continue;
    if (!st.ok()) return st;
    for (size_t i = 0; i < b.view.size(); ++i) {
      const SpanRecord r = b.view.record(i);
      if (f.errors_only && r.status != 2) continue;
      if (f.min_duration_ns > 0 && r.duration_ns < f.min_duration_ns) continue;
      if (f.since_ns > 0 && r.start_ns < f.since_ns) continue;
      if (f.until_ns > 0 && r.start_ns >= f.until_ns) continue;
      if (!f.service.empty() && b.view.str(r.service) != f.service) continue;
      if (!f.name.empty() && b.view.str(r.name) != f.name) continue;
      if (!f.attr_key.empty()) {
        bool found = false;
        for (uint32_t a = 0; a < r.attrs_count && !found; ++a) {
          const auto [k, v] = b.view.attribute(r.attrs_begin + a);
          found = b.view.str(k) == f.attr_key && b.view.str(v) == f.attr_value;
        }
        if (!found) continue;
      }
      const int64_t x = f.sort_by_duration ? r.duration_ns : r.start_ns;
      auto [it, fresh] = best.try_emplace(std::string(r.trace_id, 16), x);
      if (!fresh) it->second = std::max(it->second, x);
    }
    update_kth();
  }
  std::vector<std::pair<int64_t, std::string>> top;
  top.reserve(best.size());
  for (auto& [id, x] : best) top.emplace_back(x, id);
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (top.size() > limit) top.resize(limit);
  std::vector<TraceSummary> out;
  for (const auto& [x, id] : top) {
    absl::StatusOr<TraceSummary> t = SummarizeLocked(id);
    if (!t.ok()) return t.status();
    out.push_back(std::move(*t));
  }
  if (f.sort_by_duration) {
    std::stable_sort(out.begin(), out.end(), [](const TraceSummary& a, const TraceSummary& b) {
      return a.end_ns - a.start_ns > b.end_ns - b.start_ns;
    });
  }
  return out;
}

absl::StatusOr<TraceSummary> StoreReader::Summarize(const std::string& trace_id) {
  ReadTx tx(this);
  if (!tx.status().ok()) return tx.status();
  return SummarizeLocked(trace_id);
}

absl::Status StoreReader::ForEachSpanOf(
    const std::string& trace_id, bool with_data,
    const std::function<absl::Status(const Block&, const SpanRecord&)>& fn) {
  absl::StatusOr<std::vector<int64_t>> blocks = LocateBlocks(trace_id);
  if (!blocks.ok()) return blocks.status();
  absl::flat_hash_set<std::string> seen;  // a copy stored twice shows once
  Block b;
  for (int64_t id : *blocks) {
    absl::Status st = ReadBlock(id, with_data, &b);
    if (absl::IsNotFound(st)) continue;  // deleted by retention meanwhile
    if (!st.ok()) return st;
    for (size_t i = 0; i < b.view.size(); ++i) {
      const SpanRecord r = b.view.record(i);
      if (!SameTrace(r, trace_id) || !seen.insert(std::string(r.span_id, 8)).second) continue;
      st = fn(b, r);
      if (!st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TraceSummary> StoreReader::SummarizeLocked(const std::string& trace_id) {
  TraceSummary t;
  t.trace_id = trace_id;
  int64_t root_start = INT64_MAX, first_start = INT64_MAX;
  std::string first_service, first_name;
  absl::Status st = ForEachSpanOf(trace_id, false, [&](const Block& b, const SpanRecord& r) {
    // Both are clamped to int64 by the writer; their sum may not be.
    const int64_t end =
        r.duration_ns > INT64_MAX - r.start_ns ? INT64_MAX : r.start_ns + r.duration_ns;
    t.start_ns = t.span_count == 0 ? r.start_ns : std::min(t.start_ns, r.start_ns);
    t.end_ns = t.span_count == 0 ? end : std::max(t.end_ns, end);
    ++t.span_count;
    t.error_spans += r.status == 2;
    if (!r.has_parent && r.start_ns < root_start) {
      root_start = r.start_ns;
      t.root_found = true;
      t.root_service = std::string(b.view.str(r.service));
      t.root_name = std::string(b.view.str(r.name));
    }
    if (r.start_ns < first_start) {
      first_start = r.start_ns;
      first_service = std::string(b.view.str(r.service));
      first_name = std::string(b.view.str(r.name));
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (!t.root_found) {
    t.root_service = std::move(first_service);
    t.root_name = std::move(first_name);
  }
  return t;
}

absl::StatusOr<std::vector<StoredSpan>> StoreReader::GetTrace(const std::string& trace_id) {
  ReadTx tx(this);
  if (!tx.status().ok()) return tx.status();
  std::vector<StoredSpan> out;
  absl::Status st = ForEachSpanOf(trace_id, true, [&](const Block& b, const SpanRecord& r) {
    StoredSpan sp;
    sp.span = DecodeSpan(BlockView::Raw(r, b.data));
    sp.service = std::string(b.view.str(r.service));
    absl::StatusOr<std::string> scope = ScopeName(b.view.origin(r.origin).second);
    if (!scope.ok()) return scope.status();
    sp.scope_name = std::move(*scope);
    out.push_back(std::move(sp));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (out.empty()) return absl::NotFoundError("no trace " + ToHex(trace_id) + " in the store");
  std::stable_sort(out.begin(), out.end(), [](const StoredSpan& a, const StoredSpan& b) {
    return a.span.start_time_unix_nano < b.span.start_time_unix_nano;
  });
  return out;
}

absl::StatusOr<std::vector<ServiceStats>> StoreReader::Services(int64_t since_ns) {
  // One pass over the records of the window's blocks, percentiles by
  // selection per service.
  ReadTx tx(this);
  if (!tx.status().ok()) return tx.status();
  Stmt s;
  absl::Status st = db_.Prepare("SELECT id FROM span_blocks WHERE max_start_ns >= ?1", &s);
  if (!st.ok()) return st;
  s.Bind(1, since_ns);
  std::vector<int64_t> ids;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) ids.push_back(s.Int(0));
  st = StepError(db_, rc, "listing services");
  if (!st.ok()) return st;
  struct Acc {
    int64_t errors = 0;
    std::vector<int64_t> durations;
  };
  std::vector<std::pair<std::string, Acc>> services;
  absl::flat_hash_map<std::string, size_t> by_name;  // index into services
  Block b;
  for (int64_t id : ids) {
    st = ReadBlock(id, false, &b);
    if (absl::IsNotFound(st)) continue;
    if (!st.ok()) return st;
    // Per block: its services' accumulators by dictionary index.
    absl::flat_hash_map<uint32_t, size_t> local;
    for (size_t i = 0; i < b.view.size(); ++i) {
      const SpanRecord r = b.view.record(i);
      if (r.start_ns < since_ns) continue;
      auto [it, fresh] = local.try_emplace(r.service, 0);
      if (fresh) {
        const std::string_view name = b.view.str(r.service);
        auto [n, added] =
            by_name.try_emplace(absl::string_view(name.data(), name.size()), services.size());
        if (added) services.emplace_back(std::string(name), Acc());
        it->second = n->second;
      }
      Acc& acc = services[it->second].second;
      acc.durations.push_back(r.duration_ns);
      acc.errors += r.status == 2;
    }
  }
  std::vector<ServiceStats> out;
  out.reserve(services.size());
  for (auto& [service, acc] : services) {
    ServiceStats v;
    v.service = service;
    v.spans = static_cast<int64_t>(acc.durations.size());
    v.errors = acc.errors;
    // The nearest-rank percentile: the ceil(n * pct / 100)-th smallest.
    for (auto [pct, field] : {std::pair{50, &v.p50_ns}, std::pair{99, &v.p99_ns}}) {
      const int64_t rank = std::min(v.spans - 1, (v.spans * pct + 99) / 100 - 1);
      auto nth = acc.durations.begin() + rank;
      std::nth_element(acc.durations.begin(), nth, acc.durations.end());
      *field = *nth;
    }
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(),
            [](const ServiceStats& a, const ServiceStats& b) { return a.service < b.service; });
  return out;
}

absl::StatusOr<std::vector<MetricSeries>> StoreReader::Metrics(const std::string& name,
                                                               const std::string& service,
                                                               int64_t points_per_series) {
  std::string sql =
      "SELECT m.id, m.name, m.description, m.unit, m.type, p.service, count(*) "
      "FROM metrics m JOIN points p ON p.metric_id = m.id WHERE 1";
  if (!name.empty()) sql += " AND m.name = ?1";
  if (!service.empty()) sql += " AND p.service = ?2";
  sql += " GROUP BY m.id, p.service ORDER BY m.name, p.service";
  Stmt s;
  absl::Status st = db_.Prepare(sql, &s);
  if (!st.ok()) return st;
  if (!name.empty()) s.BindText(1, name);
  if (!service.empty()) s.BindText(2, service);
  std::vector<std::pair<int64_t, MetricSeries>> series;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    MetricSeries m;
    m.name = std::string(s.Text(1));
    m.description = std::string(s.Text(2));
    m.unit = std::string(s.Text(3));
    m.type = MetricTypeName(static_cast<uint32_t>(s.Int(4)));
    m.service = std::string(s.Text(5));
    m.point_count = s.Int(6);
    series.emplace_back(s.Int(0), std::move(m));
  }
  st = StepError(db_, rc, "listing metrics");
  if (!st.ok()) return st;
  Stmt p;
  st = db_.Prepare(
      "SELECT p.raw, m.type FROM points p JOIN metrics m ON m.id = p.metric_id "
      "WHERE p.metric_id = ?1 AND p.service = ?2 ORDER BY p.time_ns DESC LIMIT ?3",
      &p);
  if (!st.ok()) return st;
  std::vector<MetricSeries> out;
  for (auto& [id, m] : series) {
    p.Bind(1, id);
    p.BindText(2, m.service);
    p.Bind(3, points_per_series);
    while ((rc = p.Step()) == SQLITE_ROW) {
      m.recent.push_back(DecodePoint(static_cast<uint32_t>(p.Int(1)), p.Blob(0)));
    }
    p.Reset();
    st = StepError(db_, rc, "reading data points");
    if (!st.ok()) return st;
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<std::vector<StoredLog>> StoreReader::Logs(const LogFilter& f) {
  std::string sql = "SELECT raw, service, body FROM logs WHERE 1";
  if (f.min_severity > 0) sql += " AND severity >= ?1";
  if (!f.service.empty()) sql += " AND service = ?2";
  if (!f.trace_id.empty()) sql += " AND trace_id = ?3";
  if (f.since_ns > 0) sql += " AND time_ns >= ?4";
  if (!f.grep.empty()) sql += " AND instr(body, ?5) > 0";
  sql += f.trace_id.empty() ? " ORDER BY time_ns DESC" : " ORDER BY time_ns";
  sql += " LIMIT ?6";
  Stmt s;
  absl::Status st = db_.Prepare(sql, &s);
  if (!st.ok()) return st;
  s.Bind(1, static_cast<int64_t>(f.min_severity));
  if (!f.service.empty()) s.BindText(2, f.service);
  if (!f.trace_id.empty()) s.BindBlob(3, f.trace_id);
  s.Bind(4, f.since_ns);
  if (!f.grep.empty()) s.BindText(5, f.grep);
  s.Bind(6, f.limit > 0 ? f.limit : int64_t{100});
  std::vector<StoredLog> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredLog l;
    l.log = DecodeLogRecord(s.Blob(0));
    l.service = std::string(s.Text(1));
    out.push_back(std::move(l));
  }
  st = StepError(db_, rc, "reading logs");
  if (!st.ok()) return st;
  return out;
}

}  // namespace tracewire::store
