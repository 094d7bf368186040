#include "common/admission.h"

namespace tracewire::common {

AdmissionTicket::~AdmissionTicket() { budget_->Add(-bytes_.load(std::memory_order_relaxed)); }

void AdmissionTicket::Add(int64_t delta) {
  bytes_.fetch_add(delta, std::memory_order_relaxed);
  budget_->Add(delta);
}

void AdmissionBudget::RaisePeak(int64_t used) {
  int64_t peak = peak_.load(std::memory_order_relaxed);
  while (used > peak && !peak_.compare_exchange_weak(peak, used, std::memory_order_relaxed)) {
  }
}

void AdmissionBudget::Add(int64_t delta) {
  const int64_t now = used_.fetch_add(delta, std::memory_order_relaxed) + delta;
  if (delta > 0) RaisePeak(now);
}

std::shared_ptr<AdmissionTicket> AdmissionBudget::TryAdmit(int64_t bytes) {
  if (limit_ > 0) {
    int64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + bytes > limit_) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
      }
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    // Counted already: the ticket starts at `bytes` without adding again.
    RaisePeak(used + bytes);
    return std::shared_ptr<AdmissionTicket>(new AdmissionTicket(this, bytes));
  }
  Add(bytes);
  return std::shared_ptr<AdmissionTicket>(new AdmissionTicket(this, bytes));
}

}  // namespace tracewire::common
