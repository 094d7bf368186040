#include "sdk/metrics/exponential_histogram.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tracewire::sdk::metrics {

ExponentialHistogramState::ExponentialHistogramState(int max_size, int max_scale)
    : max_size_(std::max(max_size, 2)),
      max_scale_(std::clamp(max_scale, kMinScale, kDefaultMaxScale)),
      scale_(max_scale_) {}

int32_t ExponentialHistogramState::IndexOf(double value, int scale) {
  int exp = 0;
  const double frac = std::frexp(value, &exp);  // value = frac * 2^exp, frac in [0.5, 1)
  const bool power_of_two = frac == 0.5;
  if (scale <= 0) {
    // At scale 0 the bucket (2^i, 2^(i+1)] holds value; lower scales merge
    // 2^-scale neighbours (>> of a negative int rounds down in C++20).
    const int32_t i = power_of_two ? exp - 2 : exp - 1;
    return i >> -scale;
  }
  if (power_of_two) return static_cast<int32_t>((exp - 1) * (int64_t{1} << scale) - 1);
  const double scale_factor = std::ldexp(std::numbers::log2e, scale);  // 2^scale / ln 2
  int32_t i = static_cast<int32_t>(std::ceil(std::log(value) * scale_factor)) - 1;
  // log() may be off by one ulp next to a boundary: check against the
  // bucket's bounds, base^i < value <= base^(i+1).
  const double inv = std::ldexp(1.0, -scale);
  if (value <= std::exp2(i * inv)) {
    --i;
  } else if (value > std::exp2((i + 1) * inv)) {
    ++i;
  }
  return i;
}

void ExponentialHistogramState::Range::Add(int32_t index, uint64_t n) {
  if (counts.empty()) {
    offset = index;
    counts.push_back(n);
    return;
  }
  if (index < offset) {
    counts.insert(counts.begin(), static_cast<size_t>(offset - index), 0);
    offset = index;
  } else if (index > hi()) {
    counts.resize(static_cast<size_t>(index - offset) + 1, 0);
  }
  counts[static_cast<size_t>(index - offset)] += n;
}

void ExponentialHistogramState::Range::Downscale(int change) {
  if (counts.empty() || change == 0) return;
  const int32_t new_offset = offset >> change;
  const int32_t new_hi = hi() >> change;
  std::vector<uint64_t> merged(static_cast<size_t>(new_hi - new_offset) + 1, 0);
  for (size_t i = 0; i < counts.size(); ++i) {
    merged[static_cast<size_t>(((offset + static_cast<int32_t>(i)) >> change) - new_offset)] +=
        counts[i];
  }
  offset = new_offset;
  counts = std::move(merged);
}

int ExponentialHistogramState::ChangeFor(int64_t lo, int64_t hi) const {
  int change = 0;
  while (scale_ - change > kMinScale && (hi >> change) - (lo >> change) + 1 > max_size_) {
    ++change;
  }
  return change;
}

void ExponentialHistogramState::Downscale(int change) {
  if (change <= 0) return;
  positive_.Downscale(change);
  negative_.Downscale(change);
  scale_ -= change;
}

int32_t ExponentialHistogramState::MakeRoom(Range& range, int32_t index) {
  if (range.counts.empty()) return index;
  const int change =
      ChangeFor(std::min<int64_t>(range.lo(), index), std::max<int64_t>(range.hi(), index));
  Downscale(change);
  return index >> change;
}

void ExponentialHistogramState::Record(double value) {
  if (!std::isfinite(value)) {
    ++non_finite_;
    return;
  }
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
  if (value == 0) {
    ++zero_count_;
    return;
  }
  Range& range = value > 0 ? positive_ : negative_;
  const int32_t index = MakeRoom(range, IndexOf(std::fabs(value), scale_));
  range.Add(index, 1);
}

void ExponentialHistogramState::Merge(const ExponentialHistogramState& other) {
  non_finite_ += other.non_finite_;
  if (other.count_ == 0) return;
  // The scale both fit in: the lower of the two, lowered further until each
  // range's union spans at most max_size buckets.
  int target = std::min(scale_, other.scale_);
  for (int pass = 0; pass < 2; ++pass) {
    const Range& mine = pass == 0 ? positive_ : negative_;
    const Range& theirs = pass == 0 ? other.positive_ : other.negative_;
    if (mine.counts.empty() || theirs.counts.empty()) continue;
    const int my_shift = scale_ - target;
    const int their_shift = other.scale_ - target;
    const int64_t lo = std::min(mine.lo() >> my_shift, theirs.lo() >> their_shift);
    const int64_t hi = std::max(mine.hi() >> my_shift, theirs.hi() >> their_shift);
    int change = 0;
    while (target - change > kMinScale && (hi >> change) - (lo >> change) + 1 > max_size_) {
      ++change;
    }
    target -= change;
  }
  Downscale(scale_ - target);
  const int their_shift = other.scale_ - target;
  for (int pass = 0; pass < 2; ++pass) {
    Range& mine = pass == 0 ? positive_ : negative_;
    const Range& theirs = pass == 0 ? other.positive_ : other.negative_;
    for (size_t i = 0; i < theirs.counts.size(); ++i) {
      if (theirs.counts[i] == 0) continue;
      mine.Add((theirs.offset + static_cast<int32_t>(i)) >> their_shift, theirs.counts[i]);
    }
  }
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  zero_count_ += other.zero_count_;
  sum_ += other.sum_;
}

void ExponentialHistogramState::Reset() {
  scale_ = max_scale_;
  count_ = zero_count_ = non_finite_ = 0;
  sum_ = min_ = max_ = 0;
  positive_.counts.clear();
  negative_.counts.clear();
  positive_.offset = negative_.offset = 0;
}

void ExponentialHistogramState::Fill(ExponentialHistogramDataPoint* point) const {
  point->scale = scale_;
  point->zero_count = zero_count_;
  point->zero_threshold = 0;
  point->positive.offset = positive_.counts.empty() ? 0 : positive_.offset;
  point->positive.bucket_counts = positive_.counts;
  point->negative.offset = negative_.counts.empty() ? 0 : negative_.offset;
  point->negative.bucket_counts = negative_.counts;
  point->count = count_;
  point->sum = sum_;
  if (count_ > 0) {
    point->min = min_;
    point->max = max_;
  } else {
    point->min.reset();
    point->max.reset();
  }
}

}  // namespace tracewire::sdk::metrics
