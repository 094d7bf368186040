#pragma once
// Thin RAII wrappers over SQLite's C API for the store: a connection and a
// prepared statement, with errors as absl::Status naming the database file.
//
// Thread-compatible: a Db and its statements are used by one thread at a time.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tracewire::store {

// The format marker and version the store writes into its `meta` table.
inline constexpr const char* kStoreFormat = "tracewire-store";
// Version 2 keeps spans in blocks (span_block.h); version 1 kept a row per span.
inline constexpr int kStoreVersion = 2;

class Db;

// The store's `version` marker against kStoreVersion: a store of another
// version (a newer tracewire's, or an older layout this build no longer
// reads) is refused with FAILED_PRECONDITION naming both versions, never read
// or written as if it were ours. A store without the marker is version 1.
absl::Status CheckStoreVersion(Db* db);

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }

  bool ok() const { return s_ != nullptr; }
  sqlite3_stmt* get() const { return s_; }
  sqlite3_stmt** out() { return &s_; }

  // Bind helpers (1-based indexes).
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Bind(int i, double v) { sqlite3_bind_double(s_, i, v); }
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void BindBlob(int i, std::string_view v) {
    if (v.empty()) {
      sqlite3_bind_null(s_, i);
    } else {
      sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
  }
  // Steps once: SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Double(int col) const { return sqlite3_column_double(s_, col); }
  std::string_view Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }
  std::string_view Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { Close(); }

  // flags: SQLITE_OPEN_* flags.
  absl::Status Open(const std::string& path, int flags);
  void Close();
  bool is_open() const { return db_ != nullptr; }
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

  absl::Status Exec(const std::string& sql);
  absl::Status Prepare(const std::string& sql, Stmt* stmt);
  // An error status for SQLite result `rc` while doing `what`.
  absl::Status Error(int rc, std::string_view what) const;
  // Steps a statement without result rows to the end, then resets it.
  absl::Status Run(Stmt* stmt, std::string_view what);

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace tracewire::store
