#include "pipeline/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace tracewire::pipeline {
namespace {

constexpr char kMagic[8] = {'T', 'W', 'Q', 'U', 'E', 'U', 'E', '1'};
constexpr int64_t kMagicBytes = 8;
constexpr uint32_t kPositionMagic = 0x50515754;  // "TWQP"
constexpr absl::Duration kPositionEvery = absl::Milliseconds(100);

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
void PutU64(char* p, uint64_t v) {
  PutU32(p, static_cast<uint32_t>(v));
  PutU32(p + 4, static_cast<uint32_t>(v >> 32));
}
uint64_t GetU64(const char* p) { return GetU32(p) | (static_cast<uint64_t>(GetU32(p + 4)) << 32); }

uint32_t Crc(const char* header_tail, std::string_view payload) {
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, reinterpret_cast<const Bytef*>(header_tail), 8);
  // zlib takes a uInt length: feed large payloads in pieces.
  size_t off = 0;
  while (off < payload.size()) {
    const size_t n = std::min<size_t>(payload.size() - off, 1u << 30);
    c = crc32(c, reinterpret_cast<const Bytef*>(payload.data() + off), static_cast<uInt>(n));
    off += n;
  }
  return static_cast<uint32_t>(c);
}

absl::Status PWriteAll(int fd, const char* data, size_t size, int64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd, data + done, size - done, offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Reads exactly `size` bytes; false on a short read or an error.
bool PReadAll(int fd, char* data, size_t size, int64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, data + done, size - done, offset + static_cast<int64_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// "<path>.corrupt", or "<path>.corrupt.N" if that exists.
std::string CorruptName(const std::string& path) {
  std::string name = path + ".corrupt";
  for (int i = 1; std::filesystem::exists(name); ++i) name = absl::StrCat(path, ".corrupt.", i);
  return name;
}

}  // namespace

Wal::Segment::~Segment() {
  if (fd >= 0) ::close(fd);
}

Wal::Wal(WalOptions options) : options_(std::move(options)) {}

Wal::~Wal() { (void)Close(); }

void Wal::Log(const std::string& line) { std::fprintf(stderr, "tracewired: %s\n", line.c_str()); }

absl::Status Wal::Open() {
  absl::MutexLock lock(&mu_);
  if (open_ || stopping_) return absl::FailedPreconditionError("queue log already opened");
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create queue directory ", options_.dir, ": ", ec.message()));
  }
  const std::string lock_path = options_.dir + "/LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", lock_path, ": ", strerror(errno)));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    return absl::FailedPreconditionError(absl::StrCat(
        "queue directory ", options_.dir, " is in use by another process (", lock_path, ")"));
  }
  const std::string position_path = options_.dir + "/position";
  position_fd_ = ::open(position_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (position_fd_ < 0) return Errno(absl::StrCat("open ", position_path));
  // A spare left by the last run may be incomplete: the spare thread
  // prepares a new one as soon as it starts (not here: writing and syncing
  // a segment's worth of zeros would hold up the start). Until it is ready
  // a roll creates its segment as it would without preallocation.
  ::unlink(SparePath().c_str());
  ::unlink(absl::StrCat(SparePath(), ".tmp").c_str());
  if (preallocating()) spare_wanted_ = true;
  absl::Status st = Recover();
  if (!st.ok()) {
    segments_.clear();
    pending_.clear();
    acked_behind_ = 0;
    active_.reset();
    return st;
  }
  open_ = true;
  if (options_.fsync != FsyncPolicy::kNone) sync_thread_ = std::thread([this] { SyncLoop(); });
  if (preallocating()) spare_thread_ = std::thread([this] { SpareLoop(); });
  return absl::OkStatus();
}

absl::Status Wal::Recover() {
  uint64_t position = 0;
  char pbuf[16];
  if (PReadAll(position_fd_, pbuf, sizeof pbuf, 0) && GetU32(pbuf) == kPositionMagic &&
      GetU32(pbuf + 4) == Crc(pbuf + 8, {})) {
    position = GetU64(pbuf + 8);
  }

  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(options_.dir, ec)) {
    const std::string name = e.path().filename().string();
    uint64_t first;
    if (name.size() != 4 + 20 + 4 || name.rfind("seg-", 0) != 0 ||
        name.compare(24, 4, ".wal") != 0 || !absl::SimpleAtoi(name.substr(4, 20), &first)) {
      continue;
    }
    auto seg = std::make_shared<Segment>();
    seg->first_id = first;
    seg->last_id = first - 1;
    seg->path = e.path().string();
    segments_[first] = seg;
  }
  if (ec)
    return absl::InternalError(absl::StrCat("cannot list ", options_.dir, ": ", ec.message()));

  for (auto it = segments_.begin(); it != segments_.end();) {
    const bool newest = std::next(it) == segments_.end();
    absl::Status st = ScanSegment(it->second, newest, position);
    if (!st.ok()) return st;
    Segment& s = *it->second;
    next_id_ = std::max(next_id_, s.last_id + 1);
    if (s.fd < 0 || s.last_id < s.first_id || s.last_id < position) {
      // Moved aside, empty, or every record taken.
      if (s.fd >= 0) ::unlink(s.path.c_str());
      it = segments_.erase(it);
    } else {
      ++it;
    }
  }
  next_id_ = std::max(next_id_, position);
  if (next_id_ == 0) next_id_ = 1;
  if (stats_.recovered_records > 0) {
    Log(absl::StrCat("queue ", options_.dir, ": ", stats_.recovered_records,
                     " requests not yet delivered are replayed first"));
  }
  absl::Status st = NewSegment();
  if (!st.ok()) return st;
  synced_id_ = next_id_ - 1;
  WritePosition(/*force=*/true);
  return absl::OkStatus();
}

absl::Status Wal::ScanSegment(const SegmentPtr& seg, bool newest, uint64_t position) {
  seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
  if (seg->fd < 0) return Errno(absl::StrCat("open ", seg->path));
  struct stat sb;
  if (::fstat(seg->fd, &sb) != 0) return Errno(absl::StrCat("stat ", seg->path));
  const int64_t size = sb.st_size;
  char magic[kMagicBytes];
  if (size < kMagicBytes || !PReadAll(seg->fd, magic, kMagicBytes, 0) ||
      memcmp(magic, kMagic, kMagicBytes) != 0) {
    if (size == 0 || (newest && size < kMagicBytes)) {
      seg->size = size;  // created, never written: nothing in it
      return absl::OkStatus();
    }
    const std::string aside = CorruptName(seg->path);
    ::close(seg->fd);
    seg->fd = -1;
    if (::rename(seg->path.c_str(), aside.c_str()) != 0) {
      ::unlink(seg->path.c_str());
    }
    ++stats_.corrupt_segments;
    Log(absl::StrCat("queue ", options_.dir, ": ", seg->path,
                     " is not a queue segment (bad header); moved aside to ", aside));
    return absl::OkStatus();
  }
  int64_t off = kMagicBytes;
  std::string payload;
  uint64_t id = seg->first_id;
  while (off < size) {
    char h[kHeaderBytes];
    bool good = size - off >= kHeaderBytes && PReadAll(seg->fd, h, kHeaderBytes, off);
    if (good && std::all_of(h, h + kHeaderBytes, [](char c) { return c == 0; })) {
      break;  // a preallocated segment's zeros: its records end here
    }
    uint32_t len = 0;
    if (good) {
      len = GetU32(h);
      good = static_cast<int64_t>(len) <= size - off - kHeaderBytes &&
             static_cast<uint8_t>(h[12]) < wire::kSignalCount && h[13] == 0 && h[14] == 0 &&
             h[15] == 0;
    }
    if (good) {
      payload.resize(len);
      good = PReadAll(seg->fd, payload.data(), len, off + kHeaderBytes) &&
             GetU32(h + 4) == Crc(h + 8, payload);
    }
    if (!good) {
      if (newest) {
        ++stats_.torn_records;
        Log(absl::StrCat("queue ", options_.dir, ": a torn last record (", size - off,
                         " bytes at offset ", off, " of ", seg->path, ") is cut off"));
      } else {
        // Keep the bad bytes for whoever wants to look, out of the log.
        const std::string aside = CorruptName(seg->path);
        int out = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out >= 0) {
          std::string tail(static_cast<size_t>(size - off), '\0');
          if (PReadAll(seg->fd, tail.data(), tail.size(), off)) {
            (void)PWriteAll(out, tail.data(), tail.size(), 0);
          }
          (void)::fsync(out);
          ::close(out);
        }
        ++stats_.corrupt_records;
        ++stats_.corrupt_segments;
        Log(absl::StrCat("queue ", options_.dir, ": a corrupt record at offset ", off, " of ",
                         seg->path, "; the ", size - off, " bytes from it on are moved to ",
                         aside));
      }
      if (::ftruncate(seg->fd, off) != 0) return Errno(absl::StrCat("truncate ", seg->path));
      (void)::fsync(seg->fd);
      break;
    }
    if (id >= position) {
      Entry e;
      e.id = id;
      e.segment = seg;
      e.offset = off;
      e.length = len;
      e.items = GetU32(h + 8);
      e.signal = static_cast<wire::Signal>(h[12]);
      e.acked = false;
      pending_.push_back(std::move(e));
      pending_bytes_ += kHeaderBytes + len;
      ++stats_.recovered_records;
    }
    seg->last_id = id;
    ++id;
    off += kHeaderBytes + len;
  }
  seg->size = std::min(off, size);
  return absl::OkStatus();
}

absl::Status Wal::NewSegment() {
  auto seg = std::make_shared<Segment>();
  seg->first_id = next_id_;
  seg->last_id = next_id_ - 1;
  seg->path = absl::StrFormat("%s/seg-%020u.wal", options_.dir, next_id_);
  // spare.wal exists only complete, with the magic and zeros, synced:
  // renamed, it is the segment.
  if (preallocating() && ::rename(SparePath().c_str(), seg->path.c_str()) == 0) {
    spare_wanted_ = true;  // wakes the spare thread for the next one
    seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
    if (seg->fd >= 0) ++stats_.preallocated_segments;
  }
  if (seg->fd < 0) {
    seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (seg->fd < 0) return Errno(absl::StrCat("create ", seg->path));
    absl::Status st = PWriteAll(seg->fd, kMagic, kMagicBytes, 0);
    if (!st.ok()) return st;
  }
  seg->size = kMagicBytes;
  // A new file's name must be on disk before a synced record in it counts:
  // the sync thread syncs the directory before it answers for the record.
  dir_dirty_ = true;
  segments_[seg->first_id] = seg;
  active_ = std::move(seg);
  return absl::OkStatus();
}

std::string Wal::SparePath() const { return options_.dir + "/spare.wal"; }

bool Wal::PrepareSpare() {
  const std::string tmp = absl::StrCat(SparePath(), ".tmp");
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && PWriteAll(fd, kMagic, kMagicBytes, 0).ok();
  // Zeros written, not fallocate()d: ext4 marks fallocated blocks unwritten
  // and converts them (a journal commit) at the first sync that covers them.
  const std::string zeros(1 << 20, '\0');
  for (int64_t off = kMagicBytes; ok && off < options_.segment_bytes;) {
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(zeros.size()),
                                        options_.segment_bytes - off);
    ok = PWriteAll(fd, zeros.data(), static_cast<size_t>(n), off).ok();
    off += n;
  }
  ok = ok && ::fdatasync(fd) == 0;
  if (fd >= 0) ::close(fd);
  ok = ok && ::rename(tmp.c_str(), SparePath().c_str()) == 0;
  if (!ok) {
    Log(absl::StrCat("queue ", options_.dir, ": cannot preallocate the next segment (",
                     strerror(errno), "); segments grow as they are written"));
    ::unlink(tmp.c_str());
  }
  return ok;
}

void Wal::SpareLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return spare_wanted_ || stopping_; };
    mu_.Await(absl::Condition(&work));
    if (stopping_) return;
    spare_wanted_ = false;
    mu_.Unlock();
    const bool ok = PrepareSpare();
    mu_.Lock();
    if (!ok) return;  // logged; rolls create segments as they did without
  }
}

absl::StatusOr<uint64_t> Wal::Append(wire::Signal signal, int64_t items, std::string_view bytes) {
  absl::Notification answered;
  absl::StatusOr<uint64_t> result;
  AppendAsync(signal, items, bytes, [&](absl::StatusOr<uint64_t> r) {
    result = std::move(r);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

void Wal::AppendAsync(wire::Signal signal, int64_t items, std::string_view bytes, AppendDone done) {
  absl::StatusOr<uint64_t> r = Write(signal, items, bytes, &done);
  // Under kBatch a written record's `done` was taken by the sync thread.
  if (done) std::move(done)(std::move(r));
}

absl::StatusOr<uint64_t> Wal::Write(wire::Signal signal, int64_t items, std::string_view bytes,
                                    AppendDone* done) {
  const int64_t size = kHeaderBytes + static_cast<int64_t>(bytes.size());
  if (bytes.size() > 0xffffffffu - kHeaderBytes) {
    return absl::InvalidArgumentError("request too large for the queue log");
  }
  absl::MutexLock lock(&mu_);
  if (!open_) return absl::FailedPreconditionError("queue log is not open");
  if (!pending_.empty() && pending_bytes_ + size > options_.max_bytes) {
    return absl::UnavailableError(
        absl::StrCat("persistent queue is full (", options_.max_bytes >> 20, " MiB)"));
  }
  if (active_->size > kMagicBytes && active_->size + size > options_.segment_bytes) {
    // The closed segment is synced by the sync thread, not under the lock.
    if (options_.fsync != FsyncPolicy::kNone && active_->last_id > synced_id_) {
      rolled_unsynced_.push_back(active_);
    }
    absl::Status st = NewSegment();
    if (!st.ok()) return st;
  }
  char h[kHeaderBytes] = {};
  PutU32(h, static_cast<uint32_t>(bytes.size()));
  PutU32(h + 8, static_cast<uint32_t>(std::min<int64_t>(items, 0xffffffffll)));
  h[12] = static_cast<char>(signal);
  PutU32(h + 4, Crc(h + 8, bytes));
  Segment& seg = *active_;
  absl::Status st = PWriteAll(seg.fd, h, kHeaderBytes, seg.size);
  if (st.ok()) st = PWriteAll(seg.fd, bytes.data(), bytes.size(), seg.size + kHeaderBytes);
  if (!st.ok()) {
    // Nothing half-written stays behind (a full disk, say).
    (void)::ftruncate(seg.fd, seg.size);
    return st;
  }
  const uint64_t id = next_id_++;
  Entry e;
  e.id = id;
  e.segment = active_;
  e.offset = seg.size;
  e.length = static_cast<uint32_t>(bytes.size());
  e.items = items;
  e.signal = signal;
  e.acked = false;
  pending_.push_back(std::move(e));
  pending_bytes_ += size;
  seg.size += size;
  seg.last_id = id;
  if (options_.fsync == FsyncPolicy::kBatch && synced_id_ < id) {
    waiters_.push_back({id, std::move(*done)});
    *done = nullptr;
  }
  return id;
}

absl::StatusOr<std::optional<WalRecord>> Wal::ReadAfter(uint64_t after) {
  SegmentPtr seg;
  WalRecord r;
  int64_t offset;
  {
    absl::MutexLock lock(&mu_);
    auto it = std::upper_bound(pending_.begin(), pending_.end(), after,
                               [](uint64_t a, const Entry& e) { return a < e.id; });
    while (it != pending_.end() && it->acked) ++it;
    if (it == pending_.end()) return std::optional<WalRecord>();
    seg = it->segment;
    offset = it->offset;
    r.id = it->id;
    r.signal = it->signal;
    r.items = it->items;
    r.bytes.resize(it->length);
  }
  // The record was checked when written or recovered: read the payload only.
  if (!PReadAll(seg->fd, r.bytes.data(), r.bytes.size(), offset + kHeaderBytes)) {
    return Errno(absl::StrCat("read ", seg->path));
  }
  return std::optional<WalRecord>(std::move(r));
}

void Wal::Ack(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = std::lower_bound(pending_.begin(), pending_.end(), id,
                             [](const Entry& e, uint64_t v) { return e.id < v; });
  if (it == pending_.end() || it->id != id) return;
  it->acked = true;
  ++acked_behind_;
  while (!pending_.empty() && pending_.front().acked) {
    pending_bytes_ -= kHeaderBytes + pending_.front().length;
    pending_.pop_front();
    --acked_behind_;
  }
  DeleteTakenSegments();
  WritePosition(/*force=*/false);
}

void Wal::SyncPosition() {
  absl::MutexLock lock(&mu_);
  if (open_) WritePosition(/*force=*/true);
}

uint64_t Wal::Position() const { return pending_.empty() ? next_id_ : pending_.front().id; }

void Wal::DeleteTakenSegments() {
  const uint64_t pos = Position();
  for (auto it = segments_.begin(); it != segments_.end();) {
    if (it->second == active_ || it->second->last_id >= pos) break;
    ::unlink(it->second->path.c_str());
    it = segments_.erase(it);
  }
}

void Wal::WritePosition(bool force) {
  const uint64_t pos = Position();
  if (pos != written_position_) {
    // Written at every change (a SIGKILL then re-sends only what was in
    // flight); synced at most every 100 ms (a power loss re-sends more).
    char buf[16];
    PutU32(buf, kPositionMagic);
    PutU64(buf + 8, pos);
    PutU32(buf + 4, Crc(buf + 8, {}));
    if (!PWriteAll(position_fd_, buf, sizeof buf, 0).ok()) return;  // re-sent, never lost
    written_position_ = pos;
    position_dirty_ = true;
  }
  // Synced here only when forced; otherwise by the sync thread.
  if (!force || !position_dirty_ || options_.fsync == FsyncPolicy::kNone) return;
  (void)::fdatasync(position_fd_);
  position_dirty_ = false;
  position_synced_at_ = absl::Now();
}

int Wal::SyncOnce() {
  std::vector<SegmentPtr> to_sync;
  to_sync.swap(rolled_unsynced_);
  uint64_t target = synced_id_;
  if (active_ && synced_id_ < active_->last_id) {
    to_sync.push_back(active_);
    target = active_->last_id;
  }
  const bool dir = dir_dirty_;
  dir_dirty_ = false;
  const absl::Time now = absl::Now();
  const bool position = position_dirty_ && now - position_synced_at_ >= kPositionEvery;
  if (position) {
    position_dirty_ = false;
    position_synced_at_ = now;
  }
  if (to_sync.empty() && !dir && !position) return 0;
  syncing_ = true;
  mu_.Unlock();
  int rc = 0, err = 0;
  for (const SegmentPtr& seg : to_sync) {
    if (::fdatasync(seg->fd) != 0 && rc == 0) {
      rc = -1;
      err = errno;
    }
  }
  if (dir) SyncDir(options_.dir);
  if (position) (void)::fdatasync(position_fd_);
  mu_.Lock();
  syncing_ = false;
  stats_.syncs += static_cast<int64_t>(to_sync.size());
  if (rc == 0) synced_id_ = std::max(synced_id_, target);
  return rc == 0 ? 0 : err;
}

void Wal::SyncLoop() {
  const bool batch = options_.fsync == FsyncPolicy::kBatch;
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (batch) {
      // Wakes for appends awaiting a sync; ends once none is left.
      auto work = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !waiters_.empty() || stopping_; };
      mu_.Await(absl::Condition(&work));
      if (waiters_.empty()) break;
    } else {
      if (stopping_) break;
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.fsync_interval);
      if (stopping_) break;
    }
    const int err = SyncOnce();
    const int rc = err == 0 ? 0 : -1;
    // Answer every append the syncs so far cover (or, if this one failed,
    // every waiting one: their acknowledgement would promise too much).
    std::vector<Waiter> answered;
    while (!waiters_.empty() && (rc != 0 || waiters_.front().id <= synced_id_)) {
      answered.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
    if (answered.empty()) continue;
    mu_.Unlock();
    for (Waiter& w : answered) {
      if (rc == 0) {
        std::move(w.done)(w.id);
      } else {
        errno = err;
        std::move(w.done)(Errno("fdatasync queue segment"));
      }
    }
    mu_.Lock();
  }
}

absl::Status Wal::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (!open_) {
      CloseFiles();  // an Open that failed half-way
      return absl::OkStatus();
    }
    open_ = false;
    stopping_ = true;
  }
  if (sync_thread_.joinable()) sync_thread_.join();
  if (spare_thread_.joinable()) spare_thread_.join();
  ::unlink(SparePath().c_str());
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](bool* syncing) { return !*syncing; }, &syncing_));
    if (options_.fsync != FsyncPolicy::kNone) {
      if (const int err = SyncOnce(); err != 0) {
        errno = err;
        result = Errno("fdatasync queue segment");
      }
    }
    WritePosition(/*force=*/true);
    if (active_ && active_->last_id < active_->first_id && pending_.empty()) {
      // An empty newest segment is not worth keeping.
      ::unlink(active_->path.c_str());
      segments_.erase(active_->first_id);
    }
    pending_.clear();
    acked_behind_ = 0;
    segments_.clear();
    active_.reset();
  }
  CloseFiles();
  return result;
}

void Wal::CloseFiles() {
  if (position_fd_ >= 0) ::close(position_fd_);
  position_fd_ = -1;
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

bool Wal::HasRoom() const {
  absl::MutexLock lock(&mu_);
  return pending_.empty() || pending_bytes_ < options_.max_bytes;
}

WalStats Wal::Stats() const {
  absl::MutexLock lock(&mu_);
  WalStats s = stats_;
  s.pending_records = static_cast<int64_t>(pending_.size()) - acked_behind_;
  s.pending_bytes = pending_bytes_;
  s.segments = static_cast<int64_t>(segments_.size());
  return s;
}

}  // namespace tracewire::pipeline
