#pragma once
// Exponential backoff with jitter: initial, multiplied each attempt, capped,
// each wait scaled by a uniform factor in [1 - jitter, 1 + jitter].
// Thread-compatible: one per retry loop.

#include <cstdint>
#include <random>

#include "absl/time/time.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire::exporter {

class Backoff {
 public:
  Backoff(const RetryOptions& options, uint64_t seed) : options_(options), rng_(seed) {}

  // The wait before the next attempt.
  absl::Duration Next() {
    const absl::Duration base = current_;
    current_ = std::min(current_ * options_.multiplier, options_.max_backoff);
    if (options_.jitter <= 0) return base;
    std::uniform_real_distribution<double> d(1.0 - options_.jitter, 1.0 + options_.jitter);
    return base * d(rng_);
  }
  void Reset() { current_ = options_.initial_backoff; }

 private:
  const RetryOptions options_;
  std::mt19937_64 rng_;
  absl::Duration current_ = options_.initial_backoff;
};

}  // namespace tracewire::exporter
