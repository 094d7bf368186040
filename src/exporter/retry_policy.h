#pragma once
// The one place tracewire decides whether an export failure is retried, as
// the OTLP specification says: CANCELLED, DEADLINE_EXCEEDED, ABORTED,
// OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are retried; RESOURCE_EXHAUSTED is
// retried only when the server sent a RetryInfo (throttling), and otherwise,
// for a request of several items, answered by splitting it in halves; every
// other code drops the request. Pure functions: thread-safe.

#include <cstdint>

#include "absl/status/status.h"

namespace tracewire::exporter {

enum class RetryAction : uint8_t {
  kDone,   // delivered
  kRetry,  // send again after backoff (or the server's RetryInfo delay)
  kSplit,  // too large for the peer: send each half separately
  kDrop,   // permanent failure: drop and count
};

RetryAction DecideRetry(absl::StatusCode code, bool has_retry_info, int64_t item_messages);

// Dropped-item reasons, for self-metrics.
enum class DropReason : uint8_t {
  kQueueFull = 0,
  kNonRetryable,
  kTooLarge,
  kRetriesExhausted,
  kBreakerOpen,
  kShutdown,
  kRejected,  // partial_success
};
inline constexpr int kDropReasonCount = 7;
const char* DropReasonName(DropReason r);

}  // namespace tracewire::exporter
