#pragma once
// Internal access to BatchLogRecordProcessor (a friend of it): a processor
// with an injected clock, for tests that drive the schedule delay without
// sleeping. Thread-safe as the processor is.

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "tracewire/logs.h"

namespace tracewire::sdk {

struct BatchLogRecordProcessorAccess {
  // `clock` measures the schedule delay; not owned, must outlive the processor.
  static absl::StatusOr<std::unique_ptr<BatchLogRecordProcessor>> Create(
      std::unique_ptr<LogRecordExporter> exporter, BatchLogRecordProcessorOptions options,
      common::Clock* clock);
  // Makes the worker read the clock again (after FakeClock::Advance).
  static void WakeForTest(BatchLogRecordProcessor& p);
  // Times the worker woke and looked at the queue.
  static int64_t WorkerPasses(const BatchLogRecordProcessor& p);
};

}  // namespace tracewire::sdk
