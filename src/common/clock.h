#pragma once
// Time, injected: components that wait (retry backoff, breaker cool-down,
// batching) take a Clock so tests can run them without sleeping.
//
// RealClock is thread-safe. FakeClock is thread-safe; its SleepFor returns at
// once, advancing the fake time and recording the requested durations.

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tracewire::common {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // Waits for `d` or until `cancel` is notified, whichever is first. Returns
  // true when the whole duration passed (not cancelled).
  virtual bool SleepFor(absl::Duration d, const absl::Notification& cancel) = 0;
};

class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  bool SleepFor(absl::Duration d, const absl::Notification& cancel) override {
    return !cancel.WaitForNotificationWithTimeout(d);
  }
  // A process-wide instance (stateless).
  static RealClock* Get() {
    static RealClock clock;
    return &clock;
  }
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}
  absl::Time Now() override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  bool SleepFor(absl::Duration d, const absl::Notification& cancel) override {
    absl::MutexLock l(&mu_);
    if (cancel.HasBeenNotified()) return false;
    sleeps_.push_back(d);
    now_ += d;
    return true;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
  }
  std::vector<absl::Duration> sleeps() {
    absl::MutexLock l(&mu_);
    return sleeps_;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracewire::common
