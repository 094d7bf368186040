#pragma once
// NullSink takes every batch and keeps nothing (sink `none`), for benchmarks
// and for receivers whose only job is to validate. Thread-safe.

#include "pipeline/sink.h"

namespace tracewire::pipeline {

class NullSink : public Sink {
 public:
  absl::Status Start() override { return absl::OkStatus(); }
  absl::Status Offer(Batch&& batch) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Time deadline) override { return absl::OkStatus(); }
  bool KeepsBytes() const override { return false; }
};

}  // namespace tracewire::pipeline
