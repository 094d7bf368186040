#pragma once
// CircuitBreaker (seed 000 §7.3): closed, it lets every export through and
// opens after K consecutive failed exports or when the failure ratio over a
// time window passes a threshold; open, it lets nothing through until a
// cool-down has passed; then, half-open, it lets a few probe exports through
// and closes after that many successes, or opens again on a failure.
//
// Thread-safe. Time comes from the injected Clock.

#include <cstdint>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire::exporter {

class CircuitBreaker {
 public:
  enum class State : uint8_t { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

  CircuitBreaker(const CircuitBreakerOptions& options, common::Clock* clock)
      : options_(options), clock_(clock) {}

  // True when an export may be sent now. A true in half-open reserves a probe
  // slot: the caller must Record the export's result.
  bool Allow();
  void Record(bool success);

  State state();
  int64_t transitions() const { return transitions_.load(std::memory_order_relaxed); }
  static const char* StateName(State s);

 private:
  void TransitionLocked(State to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CircuitBreakerOptions options_;
  common::Clock* const clock_;
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kClosed;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
  int probes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int probe_successes_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::pair<absl::Time, bool>> window_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> transitions_{0};  // relaxed: a statistic
};

}  // namespace tracewire::exporter
