#pragma once
// GateWriter: a pipeline::BatchWriter that blocks in Write until released,
// so that the real queue in front of it fills. Header-only test helper;
// thread-safe for one writing thread.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "pipeline/sink.h"

namespace tracewire::testing {

class GateWriter : public pipeline::BatchWriter {
 public:
  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Write(const pipeline::Batch& b) override {
    if (!entered_.HasBeenNotified()) entered_.Notify();
    release_.WaitForNotification();
    written_ += b.items;
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  absl::Notification entered_, release_;
  int64_t written_ = 0;
};

}  // namespace tracewire::testing
