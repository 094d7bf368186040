#include "pipeline/file_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "wire/otlp_schema.h"
#include "wire/otlp_signal.h"
#include "wire/span_json.h"

namespace tracewire::pipeline {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

absl::Status WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write");
    }
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

FileWriter::FileWriter(FileWriterOptions options)
    : options_(std::move(options)),
      encoders_(options_.encoders > 0
                    ? options_.encoders
                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
      max_pending_(options_.max_pending > 0 ? static_cast<size_t>(options_.max_pending)
                                            : static_cast<size_t>(2 * encoders_ + 2)) {}

FileWriter::~FileWriter() { (void)Close(); }

std::string FileWriter::PathFor(wire::Signal signal) const {
  return absl::StrCat(options_.dir, "/", wire::SignalName(signal), ".jsonl");
}

absl::Status FileWriter::OpenSignal(wire::Signal signal) {
  OpenFile& f = files_[static_cast<int>(signal)];
  const std::string path = PathFor(signal);
  f.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (f.fd < 0) return Errno(absl::StrCat("open ", path));
  struct stat st;
  f.size = ::fstat(f.fd, &st) == 0 ? st.st_size : 0;
  return absl::OkStatus();
}

absl::Status FileWriter::Open() {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("file sink: cannot create directory ", options_.dir, ": ", ec.message()));
  }
  for (wire::Signal s : wire::kSignals) {
    absl::Status st = OpenSignal(s);
    if (!st.ok()) return st;
  }
  failure_ = absl::OkStatus();
  lost_items_ = 0;
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
    cancelled_ = false;
  }
  if (threads_.empty()) {
    for (int i = 0; i < encoders_; ++i) threads_.emplace_back([this] { EncodeLoop(); });
  }
  return absl::OkStatus();
}

absl::Status FileWriter::Rotate(wire::Signal signal) {
  OpenFile& f = files_[static_cast<int>(signal)];
  if (f.fd >= 0) {
    if (options_.fsync != FsyncPolicy::kNone) ::fsync(f.fd);
    ::close(f.fd);
    f.fd = -1;
  }
  const std::string live = PathFor(signal);
  const std::string rotated =
      absl::StrCat(options_.dir, "/", wire::SignalName(signal), "-",
                   absl::FormatTime("%Y%m%dT%H%M%S", absl::Now(), absl::UTCTimeZone()), "-",
                   ++rotation_seq_, ".jsonl");
  if (::rename(live.c_str(), rotated.c_str()) != 0) return Errno("rename " + live);
  if (options_.max_rotated_files > 0) {
    // Keep the newest max_rotated_files rotated files of this signal.
    std::vector<std::filesystem::path> old;
    const std::string prefix = absl::StrCat(wire::SignalName(signal), "-");
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(options_.dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) == 0) old.push_back(e.path());
    }
    std::sort(old.begin(), old.end(), [](const auto& a, const auto& b) {
      std::error_code e1, e2;
      return std::filesystem::last_write_time(a, e1) < std::filesystem::last_write_time(b, e2);
    });
    for (size_t i = 0; i + options_.max_rotated_files < old.size(); ++i) {
      std::filesystem::remove(old[i], ec);
    }
  }
  return OpenSignal(signal);
}

void FileWriter::EncodeLoop() {
  wire::JsonWriter json;  // its scratch space is this thread's
  for (;;) {
    Job* job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || next_encode_ < jobs_.size();
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      // Stays in jobs_ (at the same address) until it is done.
      job = jobs_[next_encode_++].get();
    }
    job->line.clear();
    // Traces through the span-specialised writer: the same bytes as json's.
    const bool ok =
        job->signal == wire::Signal::kTraces
            ? wire::AppendTracesJson(job->bytes, &json, &job->line)
            : json.Append(job->bytes, wire::schema::ExportRequestOf(job->signal), &job->line);
    if (ok) job->line.push_back('\n');
    absl::MutexLock lock(&mu_);
    job->ok = ok;
    job->done = true;
  }
}

void FileWriter::NoteFailure(absl::Status st, int64_t items) {
  if (failure_.ok()) failure_ = std::move(st);
  lost_items_ += items;
}

absl::Status FileWriter::TakeFailure() {
  absl::Status st = WithLostItems(std::move(failure_), lost_items_);
  failure_ = absl::OkStatus();
  lost_items_ = 0;
  return st;
}

void FileWriter::WriteLine(const Job& job) {
  if (!job.ok) {
    NoteFailure(absl::InternalError("file sink: batch bytes are not a valid request"), job.items);
    return;
  }
  OpenFile& f = files_[static_cast<int>(job.signal)];
  if (options_.rotate_bytes > 0 && f.size > 0 &&
      f.size + static_cast<int64_t>(job.line.size()) > options_.rotate_bytes) {
    absl::Status st = Rotate(job.signal);
    if (!st.ok()) {
      NoteFailure(std::move(st), job.items);
      return;
    }
  }
  if (f.fd < 0) {
    NoteFailure(absl::FailedPreconditionError("file sink is not open"), job.items);
    return;
  }
  absl::Status st = WriteAll(f.fd, job.line);
  if (!st.ok()) {
    NoteFailure(std::move(st), job.items);
    return;
  }
  f.size += static_cast<int64_t>(job.line.size());
  f.dirty = true;
  if (options_.fsync == FsyncPolicy::kBatch) (void)SyncFile(&f, job.items);
}

bool FileWriter::SyncFile(OpenFile* f, int64_t items) {
  ++syncs_;
  if (::fdatasync(f->fd) != 0) {
    NoteFailure(Errno("fdatasync"), items);
    return false;
  }
  f->dirty = false;
  return true;
}

void FileWriter::SyncIfDue() {
  if (options_.fsync != FsyncPolicy::kInterval) return;
  const absl::Time now = absl::Now();
  if (now - last_sync_ < options_.fsync_interval) return;
  last_sync_ = now;
  for (OpenFile& f : files_) {
    if (f.fd >= 0 && f.dirty && !SyncFile(&f, 0)) break;
  }
}

bool FileWriter::WriteReady(size_t until_pending) {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      absl::MutexLock lock(&mu_);
      auto can_go = [this, until_pending]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return cancelled_ || jobs_.size() <= until_pending || jobs_.front()->done;
      };
      mu_.Await(absl::Condition(&can_go));
      if (cancelled_) return false;
      if (jobs_.empty() || !jobs_.front()->done) return true;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      --next_encode_;  // the head was handed out: next_encode_ > 0
    }
    WriteLine(*job);
    SyncIfDue();
    job->admission.reset();
    absl::MutexLock lock(&mu_);
    spare_.push_back(std::move(job));
  }
}

absl::Status FileWriter::Write(const Batch& batch) {
  if (threads_.empty()) return absl::FailedPreconditionError("file sink is not open");
  // Room for this batch; the lines already encoded go out on the way.
  if (!WriteReady(max_pending_ - 1)) return absl::UnavailableError("file sink is cancelled");
  std::unique_ptr<Job> job;
  {
    absl::MutexLock lock(&mu_);
    if (!spare_.empty()) {
      job = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  if (job == nullptr) job = std::make_unique<Job>();
  job->signal = batch.signal;
  job->bytes.assign(batch.bytes);
  job->items = batch.items;
  job->admission = batch.admission;  // still counted against the memory limit
  job->done = false;
  job->ok = false;
  absl::MutexLock lock(&mu_);
  if (cancelled_) return absl::UnavailableError("file sink is cancelled");
  jobs_.push_back(std::move(job));
  return absl::OkStatus();
}

absl::Status FileWriter::Flush() {
  if (!WriteReady(0)) return absl::CancelledError("file sink is cancelled");
  SyncIfDue();
  return TakeFailure();
}

void FileWriter::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

void FileWriter::StopEncoders() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  absl::MutexLock lock(&mu_);
  // Empty unless cancelled: those batches were never acknowledged by a Flush.
  jobs_.clear();
  next_encode_ = 0;
}

absl::Status FileWriter::Close() {
  (void)WriteReady(0);  // false when cancelled: what is pending is dropped below
  StopEncoders();
  for (OpenFile& f : files_) {
    if (f.fd < 0) continue;
    if (options_.fsync != FsyncPolicy::kNone && f.dirty) (void)SyncFile(&f, 0);
    ::close(f.fd);
    f.fd = -1;
    f.dirty = false;
  }
  return TakeFailure();
}

}  // namespace tracewire::pipeline
