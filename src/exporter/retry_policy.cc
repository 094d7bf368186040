#include "exporter/retry_policy.h"

namespace tracewire::exporter {

RetryAction DecideRetry(absl::StatusCode code, bool has_retry_info, int64_t item_messages) {
  switch (code) {
    case absl::StatusCode::kOk:
      return RetryAction::kDone;
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
      return RetryAction::kRetry;
    case absl::StatusCode::kResourceExhausted:
      if (has_retry_info) return RetryAction::kRetry;
      return item_messages > 1 ? RetryAction::kSplit : RetryAction::kDrop;
    default:
      return RetryAction::kDrop;
  }
}

const char* DropReasonName(DropReason r) {
  static const char* const kNames[kDropReasonCount] = {
      "queue_full",   "non_retryable", "too_large", "retries_exhausted",
      "breaker_open", "shutdown",      "rejected"};
  return kNames[static_cast<int>(r)];
}

}  // namespace tracewire::exporter
