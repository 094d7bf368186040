#include "store/sqlite_db.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracewire::store {

absl::Status Db::Open(const std::string& path, int flags) {
  Close();
  path_ = path;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status st = Error(rc, "opening");
    Close();
    return st;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  return absl::OkStatus();
}

void Db::Close() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

absl::Status Db::Error(int rc, std::string_view what) const {
  const std::string detail =
      db_ != nullptr ? std::string(sqlite3_errmsg(db_)) : std::string(sqlite3_errstr(rc));
  std::string msg = absl::StrCat("store ", path_, ": ", std::string(what), ": ", detail);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg + " (the database is locked by another process)");
    case SQLITE_NOTADB:
      return absl::FailedPreconditionError(msg + " (not a tracewire store)");
    case SQLITE_CORRUPT:
      return absl::DataLossError(msg + " (the database file is corrupt)");
    case SQLITE_CANTOPEN:
      return absl::NotFoundError(msg);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, sql.substr(0, 60));
  return absl::OkStatus();
}

absl::Status Db::Prepare(const std::string& sql, Stmt* stmt) {
  Stmt fresh;
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, fresh.out(), nullptr);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("preparing ", sql.substr(0, 60)));
  *stmt = std::move(fresh);
  return absl::OkStatus();
}

absl::Status Db::Run(Stmt* stmt, std::string_view what) {
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
  }
  stmt->Reset();
  if (rc != SQLITE_DONE) return Error(rc, what);
  return absl::OkStatus();
}

absl::Status CheckStoreVersion(Db* db) {
  Stmt meta;
  absl::Status st = db->Prepare("SELECT value FROM meta WHERE key='version'", &meta);
  if (!st.ok()) return st;
  const int rc = meta.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db->Error(rc, "reading the store version");
  int64_t version = 1;
  const std::string text(rc == SQLITE_ROW ? meta.Text(0) : "1");
  if (!absl::SimpleAtoi(text, &version) || version < 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", db->path(), ": unreadable store version \"", text, "\""));
  }
  if (version > kStoreVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", db->path(), " was written by a newer tracewire (store version ",
                     version, "; this build reads versions up to ", kStoreVersion, ")"));
  }
  if (version < kStoreVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", db->path(), " was written by an older tracewire (store version ",
                     version, "; this build reads version ", kStoreVersion,
                     "): move it away or remove it, and tracewired starts a new one"));
  }
  return absl::OkStatus();
}

}  // namespace tracewire::store
