#pragma once
// FileWriter writes each batch as one line of OTLP/JSON to a file per signal
// (traces.jsonl, metrics.jsonl, logs.jsonl) in a directory, rotating a file
// when it would grow past a size, and syncing it to disk as configured.
//
// Thread-compatible: driven by one QueuedSink worker.

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "pipeline/sink.h"
#include "wire/otlp_json.h"

namespace tracewire::pipeline {

enum class FsyncPolicy { kNone, kBatch, kInterval };

struct FileWriterOptions {
  std::string dir = ".";
  int64_t rotate_bytes = 256ll << 20;  // 0: never rotate
  int max_rotated_files = 0;           // rotated files kept per signal; 0: all
  FsyncPolicy fsync = FsyncPolicy::kNone;
  absl::Duration fsync_interval = absl::Seconds(1);
};

class FileWriter : public BatchWriter {
 public:
  explicit FileWriter(FileWriterOptions options);
  ~FileWriter() override;

  absl::Status Open() override;
  absl::Status Write(const Batch& batch) override;
  absl::Status Flush() override;
  absl::Status Close() override;

  // The path of the live file for a signal.
  std::string PathFor(wire::Signal signal) const;

 private:
  struct OpenFile {
    int fd = -1;
    int64_t size = 0;
    bool dirty = false;  // written since the last fsync
  };

  absl::Status Rotate(wire::Signal signal);
  absl::Status OpenSignal(wire::Signal signal);

  const FileWriterOptions options_;
  OpenFile files_[wire::kSignalCount];
  absl::Time last_sync_ = absl::InfinitePast();
  int64_t rotation_seq_ = 0;
  std::string line_;
  wire::JsonWriter json_;
};

}  // namespace tracewire::pipeline
