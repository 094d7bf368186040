#pragma once
// ExponentialHistogramState: the base-2 exponential histogram aggregation of
// the OpenTelemetry metrics data model, for one series.
//
// A value v > 0 at scale s falls in the bucket with index i such that
//   base^i < v <= base^(i+1),  base = 2^(2^-s)
// (upper bounds inclusive); negative values go to the negative range by
// their magnitude, and 0 (|v| <= zero_threshold, which is 0) to zero_count.
// The state starts at max_scale and lowers the scale, merging neighbouring
// buckets pairwise per step, just far enough that the indices in use in each
// range span at most max_size buckets (the specification's rescaling).
// Non-finite values are not recorded; they are counted in non_finite().
//
// Invariants, after every call:
//   - count() == zero_count + the positive and the negative bucket counts;
//   - each range spans at most max_size buckets, and has no leading or
//     trailing empty bucket;
//   - every value recorded (or merged in) lies in the bucket that holds it
//     at the current scale.
//
// Thread safety: thread-compatible (one thread at a time); the series that
// owns a state serialises its calls.

#include <cstdint>
#include <vector>

#include "tracewire/telemetry_data.h"

namespace tracewire::sdk::metrics {

class ExponentialHistogramState {
 public:
  static constexpr int kDefaultMaxSize = 160;
  static constexpr int kDefaultMaxScale = 20;
  static constexpr int kMinScale = -10;

  // max_size >= 2 and kMinScale <= max_scale <= 20 (clamped otherwise).
  explicit ExponentialHistogramState(int max_size = kDefaultMaxSize,
                                     int max_scale = kDefaultMaxScale);

  void Record(double value);
  // Adds `other`'s values, at the lower of both scales (and lower still if
  // the union of the ranges needs it).
  void Merge(const ExponentialHistogramState& other);
  // Forgets every value and returns to max_scale.
  void Reset();
  // Writes scale, zero_count, the buckets, count, sum, min and max (min and
  // max only when count > 0); leaves the other fields alone.
  void Fill(ExponentialHistogramDataPoint* point) const;

  int scale() const { return scale_; }
  uint64_t count() const { return count_; }
  uint64_t non_finite() const { return non_finite_; }

  // The bucket index of |value| > 0 at `scale` (exposed for tests).
  static int32_t IndexOf(double value, int scale);

 private:
  struct Range {
    int32_t offset = 0;            // index of counts[0]
    std::vector<uint64_t> counts;  // empty: no value in this range
    int32_t lo() const { return offset; }
    int32_t hi() const { return offset + static_cast<int32_t>(counts.size()) - 1; }
    void Add(int32_t index, uint64_t n);
    void Downscale(int change);
  };
  // The smallest change of scale that makes [lo, hi] span at most max_size.
  int ChangeFor(int64_t lo, int64_t hi) const;
  void Downscale(int change);
  // Lowers the scale so that `index` (at the current scale) fits in `range`.
  int32_t MakeRoom(Range& range, int32_t index);

  int max_size_;
  int max_scale_;
  int scale_;
  uint64_t count_ = 0;
  uint64_t zero_count_ = 0;
  uint64_t non_finite_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  Range positive_;
  Range negative_;
};

}  // namespace tracewire::sdk::metrics
