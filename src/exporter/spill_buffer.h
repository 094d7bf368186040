#pragma once
// SpillBuffer keeps export requests on disk while the circuit breaker is
// open: one file per request (signal, item counts, bytes), named by a
// sequence number so they replay in order; bounded in total bytes; optionally
// fsynced. Files left by an earlier process in the same directory are picked
// up on Open.
//
// Thread-safe.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "wire/otlp_reader.h"

namespace tracewire::exporter {

struct SpilledRequest {
  wire::Signal signal = wire::Signal::kTraces;
  std::string bytes;
  int64_t items = 0;
  int64_t units = 0;
};

class SpillBuffer {
 public:
  SpillBuffer(std::string dir, int64_t max_bytes, bool fsync)
      : dir_(std::move(dir)), max_bytes_(max_bytes), fsync_(fsync) {}

  [[nodiscard]] absl::Status Open();
  // ResourceExhausted when the buffer is full.
  [[nodiscard]] absl::Status Put(const SpilledRequest& r);
  // The oldest request, removed from disk; nullopt when empty.
  std::optional<SpilledRequest> Take();
  int64_t size_bytes();
  int64_t count();

 private:
  const std::string dir_;
  const int64_t max_bytes_;
  const bool fsync_;
  absl::Mutex mu_;
  std::deque<std::pair<uint64_t, int64_t>> files_ ABSL_GUARDED_BY(mu_);  // seq, bytes
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracewire::exporter
