#include "pipeline/file_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
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

FileWriter::FileWriter(FileWriterOptions options) : options_(std::move(options)) {}

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

absl::Status FileWriter::Write(const Batch& batch) {
  line_.clear();
  // Traces through the span-specialised writer: the same bytes as json_'s.
  const bool written =
      batch.signal == wire::Signal::kTraces
          ? wire::AppendTracesJson(batch.bytes, &json_, &line_)
          : json_.Append(batch.bytes, wire::schema::ExportRequestOf(batch.signal), &line_);
  if (!written) {
    return absl::InternalError("file sink: batch bytes are not a valid request");
  }
  line_.push_back('\n');
  OpenFile& f = files_[static_cast<int>(batch.signal)];
  if (options_.rotate_bytes > 0 && f.size > 0 &&
      f.size + static_cast<int64_t>(line_.size()) > options_.rotate_bytes) {
    absl::Status st = Rotate(batch.signal);
    if (!st.ok()) return st;
  }
  if (f.fd < 0) return absl::FailedPreconditionError("file sink is not open");
  absl::Status st = WriteAll(f.fd, line_);
  if (!st.ok()) return st;
  f.size += static_cast<int64_t>(line_.size());
  f.dirty = true;
  if (options_.fsync == FsyncPolicy::kBatch) {
    if (::fdatasync(f.fd) != 0) return Errno("fdatasync");
    f.dirty = false;
  }
  return absl::OkStatus();
}

absl::Status FileWriter::Flush() {
  if (options_.fsync != FsyncPolicy::kInterval) return absl::OkStatus();
  const absl::Time now = absl::Now();
  if (now - last_sync_ < options_.fsync_interval) return absl::OkStatus();
  last_sync_ = now;
  for (OpenFile& f : files_) {
    if (f.fd >= 0 && f.dirty) {
      if (::fdatasync(f.fd) != 0) return Errno("fdatasync");
      f.dirty = false;
    }
  }
  return absl::OkStatus();
}

absl::Status FileWriter::Close() {
  absl::Status result;
  for (OpenFile& f : files_) {
    if (f.fd < 0) continue;
    if (options_.fsync != FsyncPolicy::kNone && f.dirty && ::fdatasync(f.fd) != 0) {
      result = Errno("fdatasync");
    }
    ::close(f.fd);
    f.fd = -1;
  }
  return result;
}

}  // namespace tracewire::pipeline
