#pragma once
// DebugWriter prints one summary line per batch to a stdio stream (stderr by
// default): signal, item count, resources and scopes.
//
// Thread-compatible: driven by one QueuedSink worker.

#include <cstdio>

#include "pipeline/sink.h"

namespace tracewire::pipeline {

class DebugWriter : public BatchWriter {
 public:
  explicit DebugWriter(std::FILE* out = stderr) : out_(out) {}
  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Write(const Batch& batch) override;
  absl::Status Flush() override;
  absl::Status Close() override { return Flush(); }

 private:
  std::FILE* out_;
};

}  // namespace tracewire::pipeline
