// OperationDurations: see operation_durations.h.

#include "exporter/operation_durations.h"

#include <algorithm>

namespace tracewire::exporter {

OperationDurations::OperationDurations() = default;

void OperationDurations::Record(int grpc_code, absl::Duration d) {
  if (grpc_code < 0 || grpc_code >= kCodes) grpc_code = 2;
  PerCode& c = codes_[grpc_code];
  const int64_t ns = std::max<int64_t>(absl::ToInt64Nanoseconds(d), 0);
  const double seconds = static_cast<double>(ns) / 1e9;
  // (lo, hi]: the first bound >= the value.
  const size_t b = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  c.buckets[b].fetch_add(1, std::memory_order_relaxed);
  c.sum_ns.fetch_add(ns, std::memory_order_relaxed);
  for (int64_t m = c.min_ns.load(std::memory_order_relaxed);
       ns < m && !c.min_ns.compare_exchange_weak(m, ns, std::memory_order_relaxed);) {
  }
  for (int64_t m = c.max_ns.load(std::memory_order_relaxed);
       ns > m && !c.max_ns.compare_exchange_weak(m, ns, std::memory_order_relaxed);) {
  }
}

std::map<std::string, SelfHistogram> OperationDurations::Snapshot() const {
  std::map<std::string, SelfHistogram> out;
  for (int code = 0; code < kCodes; ++code) {
    const PerCode& c = codes_[code];
    SelfHistogram h;
    h.bounds.assign(kBounds.begin(), kBounds.end());
    for (const auto& b : c.buckets) {
      h.bucket_counts.push_back(b.load(std::memory_order_relaxed));
      h.count += h.bucket_counts.back();
    }
    if (h.count == 0) continue;
    h.sum = static_cast<double>(c.sum_ns.load(std::memory_order_relaxed)) / 1e9;
    h.min = static_cast<double>(c.min_ns.load(std::memory_order_relaxed)) / 1e9;
    h.max = static_cast<double>(c.max_ns.load(std::memory_order_relaxed)) / 1e9;
    out.emplace(std::string(common::GrpcCodeName(code)), std::move(h));
  }
  return out;
}

}  // namespace tracewire::exporter
