#pragma once
// AdmissionBudget: one bound on the bytes of requests a process holds in
// memory, across all connections and sinks (tracewired's
// receiver.max_inflight_mib). A request is admitted before it is inflated,
// for its size on the wire; the ticket then grows to the inflated size and
// travels with the batch into the sinks' queues, so the bytes stay counted
// until the last holder (the answer still pending, a queued copy) lets go.
//
// Invariants:
//   - used() is the sum of the sizes of the live tickets;
//   - TryAdmit never takes used() past limit(): a request that would is
//     refused (and counted), so refusal happens before any work;
//   - Add may: an admitted request inflates past the limit by at most its
//     own inflated size (bounded by the request limit), and then makes every
//     new request wait until enough is released.
//
// Thread-safe and lock-free (one atomic); a ticket is released by whichever
// thread drops the last reference. The budget must outlive its tickets.

#include <atomic>
#include <cstdint>
#include <memory>

namespace tracewire::common {

class AdmissionBudget;

class AdmissionTicket {
 public:
  AdmissionTicket(const AdmissionTicket&) = delete;
  AdmissionTicket& operator=(const AdmissionTicket&) = delete;
  ~AdmissionTicket();

  // Counts `delta` more bytes (a copy of the request made after admission;
  // negative: fewer) until the ticket is released. Never refused.
  void Add(int64_t delta);
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  friend class AdmissionBudget;
  AdmissionTicket(AdmissionBudget* budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}

  AdmissionBudget* const budget_;
  std::atomic<int64_t> bytes_;
};

class AdmissionBudget {
 public:
  // limit_bytes <= 0: no limit (tickets still count).
  explicit AdmissionBudget(int64_t limit_bytes) : limit_(limit_bytes) {}

  // A ticket for `bytes`, or null (and refused() + 1) when admitting them
  // would take used() past the limit.
  std::shared_ptr<AdmissionTicket> TryAdmit(int64_t bytes);

  int64_t limit() const { return limit_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  // The most used() has been.
  int64_t peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  friend class AdmissionTicket;
  void Add(int64_t delta);
  void RaisePeak(int64_t used);

  const int64_t limit_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> refused_{0};
  std::atomic<int64_t> peak_{0};
};

}  // namespace tracewire::common
