#pragma once
// PlainMutex: a std::mutex with clang's thread-safety annotations, for locks
// taken on every gRPC call.
//
// Why not absl::Mutex there: Debian builds abseil without NDEBUG, so every
// absl::Mutex runs abseil's deadlock detection. Each Lock() then takes one
// process-wide spin lock and looks the mutex up in a global graph, and a
// mutex's destruction removes its node, under that lock. Per-call mutexes
// (one per intercepted call) and mutexes locked on every call make that
// global lock a meeting point of every thread serving calls. std::mutex has
// no such bookkeeping. Use absl::Mutex everywhere else (Await, conditions,
// the deadlock detection itself are worth having off the per-call path).
//
// Thread-safe; not recursive; Lock and Unlock on the same thread.

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace tracewire::common {

class ABSL_LOCKABLE PlainMutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE PlainMutexLock {
 public:
  explicit PlainMutexLock(PlainMutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~PlainMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  PlainMutexLock(const PlainMutexLock&) = delete;
  PlainMutexLock& operator=(const PlainMutexLock&) = delete;

 private:
  PlainMutex* const mu_;
};

}  // namespace tracewire::common
