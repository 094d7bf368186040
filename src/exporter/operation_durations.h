#pragma once
// OperationDurations: a cumulative explicit-bucket histogram of export
// operation durations, one per final gRPC status code, recorded without a
// lock (otel.sdk.exporter.operation.duration).
//
// The bounds are the semantic conventions' duration advice in seconds
// (5 ms .. 10 s). Record is a few relaxed atomic adds (and a compare-exchange
// loop for min and max), once per export operation; Snapshot reads them.
//
// Invariant: at a quiescent point a code's count equals the sum of its
// bucket counts and the number of Record calls for it. Under concurrent
// Records a snapshot may see one operation's bucket but not yet its sum.
//
// Thread safety: Record and Snapshot from any threads at once.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/grpc_codes.h"
#include "tracewire/self_metric.h"

namespace tracewire::exporter {

class OperationDurations {
 public:
  static constexpr std::array<double, 14> kBounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                     0.5,   0.75, 1,     2.5,  5,     7.5, 10};
  static constexpr int kCodes = common::kGrpcCodeCount;  // others count as 2 (UNKNOWN)

  OperationDurations();

  void Record(int grpc_code, absl::Duration d);

  // Codes with at least one operation, by their names (common::GrpcCodeName).
  std::map<std::string, SelfHistogram> Snapshot() const;

 private:
  struct PerCode {
    std::array<std::atomic<int64_t>, kBounds.size() + 1> buckets{};
    std::atomic<int64_t> sum_ns{0};
    std::atomic<int64_t> min_ns{INT64_MAX};
    std::atomic<int64_t> max_ns{INT64_MIN};
  };
  std::array<PerCode, kCodes> codes_;
};

}  // namespace tracewire::exporter
