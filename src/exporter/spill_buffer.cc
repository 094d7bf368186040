#include "exporter/spill_buffer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tracewire::exporter {
namespace {

constexpr char kPrefix[] = "spill-";
constexpr char kSuffix[] = ".otlp";
constexpr size_t kHeader = 1 + 8 + 8;  // signal, items, units

std::string PathOf(const std::string& dir, uint64_t seq) {
  return absl::StrFormat("%s/%s%020d%s", dir, kPrefix, seq, kSuffix);
}

}  // namespace

absl::Status SpillBuffer::Open() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("spill_dir: cannot create '", dir_, "': ", ec.message()));
  }
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<uint64_t, int64_t>> found;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kPrefix, 0) != 0 || name.size() <= sizeof(kPrefix) + sizeof(kSuffix) - 2) {
      continue;
    }
    uint64_t seq;
    const std::string digits =
        name.substr(sizeof(kPrefix) - 1, name.size() - (sizeof(kPrefix) - 1) - (sizeof(kSuffix) - 1));
    if (!absl::SimpleAtoi(digits, &seq)) continue;
    found.emplace_back(seq, static_cast<int64_t>(e.file_size(ec)));
  }
  std::sort(found.begin(), found.end());
  for (const auto& f : found) {
    files_.push_back(f);
    bytes_ += f.second;
    next_seq_ = std::max(next_seq_, f.first + 1);
  }
  return absl::OkStatus();
}

absl::Status SpillBuffer::Put(const SpilledRequest& r) {
  const int64_t size = static_cast<int64_t>(kHeader + r.bytes.size());
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    if (bytes_ + size > max_bytes_) return absl::ResourceExhaustedError("spill buffer is full");
    seq = next_seq_++;
    bytes_ += size;
  }
  std::string data(kHeader, '\0');
  data[0] = static_cast<char>(r.signal);
  std::memcpy(data.data() + 1, &r.items, 8);
  std::memcpy(data.data() + 9, &r.units, 8);
  data += r.bytes;
  const std::string path = PathOf(dir_, seq);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  size_t off = 0;
  while (ok && off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  if (ok && fsync_) ok = ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  absl::MutexLock lock(&mu_);
  if (!ok) {
    bytes_ -= size;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("spill: cannot write ", path));
  }
  // Keep files_ ordered by seq even when writers finish out of order.
  auto it = std::upper_bound(files_.begin(), files_.end(), std::make_pair(seq, int64_t{0}),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
  files_.insert(it, {seq, size});
  return absl::OkStatus();
}

std::optional<SpilledRequest> SpillBuffer::Take() {
  std::pair<uint64_t, int64_t> f;
  {
    absl::MutexLock lock(&mu_);
    if (files_.empty()) return std::nullopt;
    f = files_.front();
    files_.pop_front();
    bytes_ -= f.second;
  }
  const std::string path = PathOf(dir_, f.first);
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path.c_str());
  if (data.size() < kHeader) return Take();  // A torn file: skip it.
  SpilledRequest r;
  r.signal = static_cast<wire::Signal>(data[0]);
  std::memcpy(&r.items, data.data() + 1, 8);
  std::memcpy(&r.units, data.data() + 9, 8);
  r.bytes = data.substr(kHeader);
  return r;
}

int64_t SpillBuffer::size_bytes() {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

int64_t SpillBuffer::count() {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(files_.size());
}

}  // namespace tracewire::exporter
