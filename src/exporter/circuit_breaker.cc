#include "exporter/circuit_breaker.h"

#include <cstdio>

namespace tracewire::exporter {

const char* CircuitBreaker::StateName(State s) {
  switch (s) {
    case State::kClosed:
      return "closed";
    case State::kOpen:
      return "open";
    case State::kHalfOpen:
      break;
  }
  return "half-open";
}

void CircuitBreaker::TransitionLocked(State to) {
  if (state_ == to) return;
  std::fprintf(stderr, "tracewire exporter: circuit breaker %s -> %s\n", StateName(state_),
               StateName(to));
  state_ = to;
  transitions_.fetch_add(1, std::memory_order_relaxed);
  consecutive_failures_ = 0;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  window_.clear();
  if (to == State::kOpen) opened_at_ = clock_->Now();
}

bool CircuitBreaker::Allow() {
  if (!options_.enabled) return true;
  absl::MutexLock lock(&mu_);
  if (state_ == State::kOpen) {
    if (clock_->Now() - opened_at_ < options_.cool_down) return false;
    TransitionLocked(State::kHalfOpen);
  }
  if (state_ == State::kHalfOpen) {
    if (probes_in_flight_ + probe_successes_ >= options_.half_open_probes) return false;
    ++probes_in_flight_;
  }
  return true;
}

CircuitBreaker::State CircuitBreaker::state() {
  absl::MutexLock lock(&mu_);
  return state_;
}

void CircuitBreaker::Record(bool success) {
  if (!options_.enabled) return;
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  switch (state_) {
    case State::kHalfOpen:
      if (probes_in_flight_ > 0) --probes_in_flight_;
      if (!success) {
        TransitionLocked(State::kOpen);
      } else if (++probe_successes_ >= options_.half_open_probes) {
        TransitionLocked(State::kClosed);
      }
      return;
    case State::kOpen:
      return;  // A late result of an export sent before opening.
    case State::kClosed:
      break;
  }
  consecutive_failures_ = success ? 0 : consecutive_failures_ + 1;
  window_.emplace_back(now, success);
  while (!window_.empty() && now - window_.front().first > options_.window) window_.pop_front();
  int failures = 0;
  for (const auto& [t, ok] : window_) failures += ok ? 0 : 1;
  const bool ratio_trips = static_cast<int>(window_.size()) >= options_.window_requests &&
                           failures >= options_.failure_ratio * window_.size();
  if (consecutive_failures_ >= options_.consecutive_failures || ratio_trips) {
    TransitionLocked(State::kOpen);
  }
}

}  // namespace tracewire::exporter
