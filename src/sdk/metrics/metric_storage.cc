#include "sdk/metrics/metric_storage.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <new>
#include <thread>

namespace tracewire::sdk {
namespace {

constexpr uint64_t kPosInf = std::bit_cast<uint64_t>(std::numeric_limits<double>::infinity());
constexpr uint64_t kNegInf = std::bit_cast<uint64_t>(-std::numeric_limits<double>::infinity());

uint32_t StripeCount() {
  static const uint32_t n = [] {
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    uint32_t s = 1;
    while (s < 4 && s < cpus) s <<= 1;
    return s;
  }();
  return n;
}

// The calling thread's stripe number: given in turn at the thread's first
// measurement (the metrics SDK's one thread_local, docs/design.md).
std::atomic<uint32_t> next_stripe{0};  // a counter: relaxed
uint32_t ThreadStripe() {
  thread_local const uint32_t stripe = next_stripe.fetch_add(1, std::memory_order_relaxed);
  return stripe;
}

void AddDouble(std::atomic<uint64_t>& w, double v) {
  uint64_t old = w.load(std::memory_order_relaxed);
  while (!w.compare_exchange_weak(old, std::bit_cast<uint64_t>(std::bit_cast<double>(old) + v),
                                  std::memory_order_relaxed)) {
  }
}
void MinDouble(std::atomic<uint64_t>& w, double v) {
  uint64_t old = w.load(std::memory_order_relaxed);
  while (v < std::bit_cast<double>(old) &&
         !w.compare_exchange_weak(old, std::bit_cast<uint64_t>(v), std::memory_order_relaxed)) {
  }
}
void MaxDouble(std::atomic<uint64_t>& w, double v) {
  uint64_t old = w.load(std::memory_order_relaxed);
  while (v > std::bit_cast<double>(old) &&
         !w.compare_exchange_weak(old, std::bit_cast<uint64_t>(v), std::memory_order_relaxed)) {
  }
}

struct AlignedDelete {
  void operator()(std::atomic<uint64_t>* p) const { ::operator delete[](p, std::align_val_t(64)); }
};

}  // namespace

struct MetricStorage::Series {
  uint64_t hash = 0;
  uint64_t origin_id = 0;  // the AttributeSet that created it, 0: none
  Attributes attributes;
  uint64_t start_unix_nano = 0;
  // Recorded into since the last collection (delta; last value).
  std::atomic<bool> touched{false};
  // Sum: word 0 of each cell (int64 or double bits). Explicit histogram:
  // word 0 sum, 1 min, 2 max, 3.. bucket counts.
  std::unique_ptr<std::atomic<uint64_t>[], AlignedDelete> cells;
  std::atomic<uint64_t> last{0};  // last value bits
  // Exponential histogram.
  absl::Mutex exp_mu;
  std::unique_ptr<metrics::ExponentialHistogramState> exp ABSL_GUARDED_BY(exp_mu);
  // Observable: the value observed in this collection, and the previous
  // collection's (delta of an observable counter). The collecting thread's.
  bool observed = false;
  double observed_value = 0;
  double previous_value = 0;
  bool has_previous = false;
  // Observable histogram: this collection's and the previous one's.
  std::optional<SelfHistogram> observed_histogram;
  std::optional<SelfHistogram> previous_histogram;
  // Exemplar slot, under the try-lock flag.
  std::atomic<bool> exemplar_busy{false};
  bool has_exemplar = false;
  Exemplar exemplar;
};

MetricStorage::MetricStorage(StreamConfig config, uint64_t start_unix_nano)
    : config_(std::move(config)), start_unix_nano_(start_unix_nano) {
  if (config_.attribute_keys.has_value()) filter_ = &*config_.attribute_keys;
  is_observable_ = config_.observable || config_.kind == InstrumentKind::kObservableCounter ||
                   config_.kind == InstrumentKind::kObservableUpDownCounter ||
                   config_.kind == InstrumentKind::kObservableGauge;
  if (config_.aggregation == AggregationKind::kExplicitBucketHistogram) {
    const uint32_t words = 3 + static_cast<uint32_t>(config_.boundaries.size()) + 1;
    words_per_cell_ = (words + 7) / 8 * 8;
  }
  uint32_t cap = 16;
  while (cap < 2 * (config_.cardinality_limit + 1)) cap <<= 1;
  mask_ = cap - 1;
  table_ = std::make_unique<std::atomic<Series*>[]>(cap);
  for (uint32_t i = 0; i < cap; ++i) table_[i].store(nullptr, std::memory_order_relaxed);
  last_collect_unix_nano_ = start_unix_nano;
}

MetricStorage::~MetricStorage() = default;

size_t MetricStorage::BucketOf(double v) const {
  // (lo, hi]: the first boundary >= v.
  const auto& b = config_.boundaries;
  if (b.size() <= 16) {
    size_t i = 0;
    while (i < b.size() && v > b[i]) ++i;
    return i;
  }
  return std::lower_bound(b.begin(), b.end(), v) - b.begin();
}

MetricStorage::Series* MetricStorage::CreateLocked(Attributes normalized, uint64_t hash,
                                                   uint64_t origin_id) {
  // Another thread may have created it meanwhile.
  for (uint32_t i = hash & mask_, n = 0; n <= mask_; i = (i + 1) & mask_, ++n) {
    Series* s = table_[i].load(std::memory_order_acquire);
    if (s == nullptr) break;
    if (s->hash == hash && SameAttributes(normalized, nullptr, s->attributes)) return s;
  }
  const bool full =
      series_.size() + 1 >= config_.cardinality_limit && config_.cardinality_limit > 0;
  if (full || config_.cardinality_limit == 0) {
    overflowed_.fetch_add(1, std::memory_order_relaxed);
    if (overflow_ != nullptr) return overflow_;
    normalized = {{"otel.metric.overflow", AnyValue(true)}};
    hash = HashAttributes(normalized, nullptr);
    origin_id = 0;
  }
  auto s = std::make_unique<Series>();
  s->hash = hash;
  s->origin_id = origin_id;
  s->attributes = std::move(normalized);
  s->start_unix_nano = start_unix_nano_;
  const uint32_t stripes = StripeCount();
  if (config_.aggregation == AggregationKind::kSum ||
      config_.aggregation == AggregationKind::kExplicitBucketHistogram) {
    const size_t n = size_t{stripes} * words_per_cell_;
    auto* raw = static_cast<std::atomic<uint64_t>*>(
        ::operator new[](n * sizeof(std::atomic<uint64_t>), std::align_val_t(64)));
    for (size_t i = 0; i < n; ++i) new (&raw[i]) std::atomic<uint64_t>(0);
    s->cells.reset(raw);
    if (config_.aggregation == AggregationKind::kExplicitBucketHistogram) {
      for (uint32_t c = 0; c < stripes; ++c) {
        raw[c * words_per_cell_ + 1].store(kPosInf, std::memory_order_relaxed);
        raw[c * words_per_cell_ + 2].store(kNegInf, std::memory_order_relaxed);
      }
    }
  } else if (config_.aggregation == AggregationKind::kBase2ExponentialHistogram) {
    absl::MutexLock l(&s->exp_mu);
    s->exp =
        std::make_unique<metrics::ExponentialHistogramState>(config_.max_size, config_.max_scale);
  }
  Series* p = s.get();
  series_.push_back(std::move(s));
  if (full || config_.cardinality_limit == 0) {
    overflow_ = p;
    return p;  // not in the table: later new sets come back here through mu_
  }
  for (uint32_t i = hash & mask_, n = 0; n <= mask_; i = (i + 1) & mask_, ++n) {
    if (table_[i].load(std::memory_order_relaxed) == nullptr) {
      table_[i].store(p, std::memory_order_release);  // publishes the series
      break;
    }
  }
  return p;
}

MetricStorage::Series* MetricStorage::Create(Attributes normalized, uint64_t hash,
                                             uint64_t origin_id) {
  absl::MutexLock l(&mu_);
  return CreateLocked(std::move(normalized), hash, origin_id);
}

MetricStorage::Series* MetricStorage::FindOrCreate(std::span<const AttributeView> attrs) {
  const uint64_t hash = HashAttributes(attrs, filter_);
  for (uint32_t i = hash & mask_, n = 0; n <= mask_; i = (i + 1) & mask_, ++n) {
    Series* s = table_[i].load(std::memory_order_acquire);
    if (s == nullptr) break;
    if (s->hash == hash && SameAttributes(attrs, filter_, s->attributes)) return s;
  }
  Attributes normalized = Normalize(attrs, filter_);
  const uint64_t h = HashAttributes(normalized, nullptr);
  return Create(std::move(normalized), h, 0);
}

MetricStorage::Series* MetricStorage::FindOrCreateSet(const AttributeSet& set) {
  const uint64_t hash = filter_ == nullptr ? set.hash() : HashAttributes(set.attributes(), filter_);
  for (uint32_t i = hash & mask_, n = 0; n <= mask_; i = (i + 1) & mask_, ++n) {
    Series* s = table_[i].load(std::memory_order_acquire);
    if (s == nullptr) break;
    if (s->hash != hash) continue;
    if ((s->origin_id == set.id() && set.id() != 0) ||
        SameAttributes(set.attributes(), filter_, s->attributes)) {
      return s;
    }
  }
  Attributes normalized = Normalize(set.attributes(), filter_);
  const uint64_t h = HashAttributes(normalized, nullptr);
  return Create(std::move(normalized), h, filter_ == nullptr ? set.id() : 0);
}

template <typename T>
void MetricStorage::RecordOn(Series* s, T v, const ExemplarContext& ex) {
  if (!s->touched.load(std::memory_order_relaxed))
    s->touched.store(true, std::memory_order_relaxed);
  switch (config_.aggregation) {
    case AggregationKind::kSum: {
      std::atomic<uint64_t>& w = s->cells[(ThreadStripe() & (StripeCount() - 1)) * words_per_cell_];
      if constexpr (std::is_same_v<T, int64_t>) {
        w.fetch_add(static_cast<uint64_t>(v), std::memory_order_relaxed);
      } else {
        AddDouble(w, v);
      }
      break;
    }
    case AggregationKind::kExplicitBucketHistogram: {
      const double d = static_cast<double>(v);
      std::atomic<uint64_t>* c =
          &s->cells[(ThreadStripe() & (StripeCount() - 1)) * words_per_cell_];
      c[3 + BucketOf(d)].fetch_add(1, std::memory_order_relaxed);
      AddDouble(c[0], d);
      if (config_.record_min_max) {
        MinDouble(c[1], d);
        MaxDouble(c[2], d);
      }
      break;
    }
    case AggregationKind::kLastValue:
      if constexpr (std::is_same_v<T, int64_t>) {
        s->last.store(static_cast<uint64_t>(v), std::memory_order_relaxed);
      } else {
        s->last.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed);
      }
      break;
    case AggregationKind::kBase2ExponentialHistogram: {
      absl::MutexLock l(&s->exp_mu);
      s->exp->Record(static_cast<double>(v));
      break;
    }
    default:
      break;
  }
  if (ex.take && !s->exemplar_busy.exchange(true, std::memory_order_acquire)) {
    s->has_exemplar = true;
    s->exemplar.time_unix_nano = ex.time_unix_nano;
    s->exemplar.trace_id = ex.trace_id;
    s->exemplar.span_id = ex.span_id;
    if constexpr (std::is_same_v<T, int64_t>) {
      s->exemplar.value = v;
    } else {
      s->exemplar.value = v;
    }
    s->exemplar_busy.store(false, std::memory_order_release);
  }
}

void MetricStorage::Record(int64_t v, std::span<const AttributeView> a, const ExemplarContext& ex) {
  RecordOn(FindOrCreate(a), v, ex);
}
void MetricStorage::Record(double v, std::span<const AttributeView> a, const ExemplarContext& ex) {
  RecordOn(FindOrCreate(a), v, ex);
}
void MetricStorage::Record(int64_t v, const AttributeSet& a, const ExemplarContext& ex) {
  RecordOn(FindOrCreateSet(a), v, ex);
}
void MetricStorage::Record(double v, const AttributeSet& a, const ExemplarContext& ex) {
  RecordOn(FindOrCreateSet(a), v, ex);
}

MetricStorage::Series* MetricStorage::FindOrCreateObserved(const Attributes& attrs) {
  const uint64_t hash = HashAttributes(attrs, filter_);
  Series* found = nullptr;
  for (uint32_t i = hash & mask_, n = 0; n <= mask_; i = (i + 1) & mask_, ++n) {
    Series* s = table_[i].load(std::memory_order_acquire);
    if (s == nullptr) break;
    if (s->hash == hash && SameAttributes(attrs, filter_, s->attributes)) {
      found = s;
      break;
    }
  }
  if (found == nullptr) {
    Attributes normalized = Normalize(attrs, filter_);
    const uint64_t h = HashAttributes(normalized, nullptr);
    found = Create(std::move(normalized), h, 0);
  }
  return found;
}

void MetricStorage::ObserveHistogram(const SelfHistogram& h, const Attributes& attrs) {
  Series* s = FindOrCreateObserved(attrs);
  if (!s->observed || !s->observed_histogram.has_value()) {
    s->observed_histogram = h;
  } else {
    SelfHistogram& into = *s->observed_histogram;
    if (into.bounds != h.bounds) return;  // not mergeable: the first stands
    for (size_t b = 0; b < h.bucket_counts.size(); ++b) into.bucket_counts[b] += h.bucket_counts[b];
    if (h.count > 0) {
      into.min = into.count > 0 ? std::min(into.min, h.min) : h.min;
      into.max = into.count > 0 ? std::max(into.max, h.max) : h.max;
    }
    into.count += h.count;
    into.sum += h.sum;
  }
  s->observed = true;
}

void MetricStorage::CollectObservedHistogram(Series* s, HistogramDataPoint* p) {
  if (!s->observed_histogram.has_value()) return;
  const SelfHistogram& now = *s->observed_histogram;
  p->explicit_bounds = now.bounds;
  p->bucket_counts.assign(now.bucket_counts.begin(), now.bucket_counts.end());
  p->count = static_cast<uint64_t>(now.count);
  p->sum = now.sum;
  const SelfHistogram* before =
      s->previous_histogram.has_value() ? &*s->previous_histogram : nullptr;
  const bool delta = config_.temporality == AggregationTemporality::kDelta;
  // A component that started over (fewer counts than before) is reported
  // whole, as after a reset.
  const bool continues =
      before != nullptr && before->bounds == now.bounds && before->count <= now.count;
  if (delta && continues) {
    for (size_t b = 0; b < p->bucket_counts.size(); ++b) {
      p->bucket_counts[b] -= std::min<uint64_t>(p->bucket_counts[b], before->bucket_counts[b]);
    }
    p->count = static_cast<uint64_t>(now.count - before->count);
    p->sum = now.sum - before->sum;
    // The interval's min and max are not known from two cumulative ones.
  } else if (config_.record_min_max && now.count > 0) {
    p->min = now.min;
    p->max = now.max;
  }
  if (delta) s->previous_histogram = now;
}

void MetricStorage::Observe(double v, bool /*is_int*/, const Attributes& attrs) {
  Series* found = FindOrCreateObserved(attrs);
  // Several observations of one series in one collection (or of several
  // sets that went to the overflow series, or that a view's key filter
  // merged): counters add up, gauges keep the last.
  if (found->observed && config_.kind != InstrumentKind::kObservableGauge) {
    found->observed_value += v;
  } else {
    found->observed_value = v;
  }
  found->observed = true;
}

void MetricStorage::CollectSeries(Series* s, uint64_t start, uint64_t now, MetricData* m) {
  const bool delta = config_.temporality == AggregationTemporality::kDelta;
  const uint32_t stripes = StripeCount();
  std::vector<Exemplar> exemplars;
  // Spin for the flag: a recorder holds it for a few stores.
  for (int spins = 0; s->exemplar_busy.exchange(true, std::memory_order_acquire); ++spins) {
    if (spins > 1000) std::this_thread::yield();
  }
  if (s->has_exemplar) {
    exemplars.push_back(s->exemplar);
    if (delta) s->has_exemplar = false;
  }
  s->exemplar_busy.store(false, std::memory_order_release);
  switch (config_.aggregation) {
    case AggregationKind::kSum: {
      NumberDataPoint p;
      p.attributes = s->attributes;
      p.start_time_unix_nano = start;
      p.time_unix_nano = now;
      p.exemplars = std::move(exemplars);
      if (is_observable_) {
        double v = s->observed_value;
        if (delta) {
          v -= s->has_previous ? s->previous_value : 0;
          s->previous_value = s->observed_value;
          s->has_previous = true;
        }
        if (config_.is_double) {
          p.value = v;
        } else {
          p.value = static_cast<int64_t>(std::llround(v));
        }
      } else if (config_.is_double) {
        double sum = 0;
        for (uint32_t c = 0; c < stripes; ++c) {
          auto& w = s->cells[c * words_per_cell_];
          sum += std::bit_cast<double>(delta ? w.exchange(0, std::memory_order_relaxed)
                                             : w.load(std::memory_order_relaxed));
        }
        p.value = sum;
      } else {
        uint64_t sum = 0;
        for (uint32_t c = 0; c < stripes; ++c) {
          auto& w = s->cells[c * words_per_cell_];
          sum +=
              delta ? w.exchange(0, std::memory_order_relaxed) : w.load(std::memory_order_relaxed);
        }
        p.value = static_cast<int64_t>(sum);
      }
      std::get<Sum>(m->data).data_points.push_back(std::move(p));
      break;
    }
    case AggregationKind::kLastValue: {
      NumberDataPoint p;
      p.attributes = s->attributes;
      p.start_time_unix_nano = start;
      p.time_unix_nano = now;
      p.exemplars = std::move(exemplars);
      // A synchronous gauge keeps the last value's bits (int64 or double).
      const uint64_t bits = s->last.load(std::memory_order_relaxed);
      if (is_observable_) {
        if (config_.is_double) {
          p.value = s->observed_value;
        } else {
          p.value = static_cast<int64_t>(std::llround(s->observed_value));
        }
      } else if (config_.is_double) {
        p.value = std::bit_cast<double>(bits);
      } else {
        p.value = static_cast<int64_t>(bits);
      }
      std::get<tracewire::Gauge>(m->data).data_points.push_back(std::move(p));
      break;
    }
    case AggregationKind::kExplicitBucketHistogram: {
      HistogramDataPoint p;
      p.attributes = s->attributes;
      p.start_time_unix_nano = start;
      p.time_unix_nano = now;
      p.exemplars = std::move(exemplars);
      if (is_observable_) {
        CollectObservedHistogram(s, &p);
        std::get<tracewire::Histogram>(m->data).data_points.push_back(std::move(p));
        break;
      }
      p.explicit_bounds = config_.boundaries;
      p.bucket_counts.assign(config_.boundaries.size() + 1, 0);
      double sum = 0, mn = std::numeric_limits<double>::infinity(), mx = -mn;
      for (uint32_t c = 0; c < stripes; ++c) {
        std::atomic<uint64_t>* w = &s->cells[c * words_per_cell_];
        auto take = [&](std::atomic<uint64_t>& x, uint64_t reset) {
          return delta ? x.exchange(reset, std::memory_order_relaxed)
                       : x.load(std::memory_order_relaxed);
        };
        for (size_t b = 0; b < p.bucket_counts.size(); ++b) p.bucket_counts[b] += take(w[3 + b], 0);
        sum += std::bit_cast<double>(take(w[0], 0));
        mn = std::min(mn, std::bit_cast<double>(take(w[1], kPosInf)));
        mx = std::max(mx, std::bit_cast<double>(take(w[2], kNegInf)));
      }
      for (uint64_t n : p.bucket_counts) p.count += n;
      p.sum = sum;
      if (config_.record_min_max && p.count > 0) {
        p.min = mn;
        p.max = mx;
      }
      std::get<tracewire::Histogram>(m->data).data_points.push_back(std::move(p));
      break;
    }
    case AggregationKind::kBase2ExponentialHistogram: {
      ExponentialHistogramDataPoint p;
      {
        absl::MutexLock l(&s->exp_mu);
        s->exp->Fill(&p);
        if (delta) s->exp->Reset();
      }
      p.attributes = s->attributes;
      p.start_time_unix_nano = start;
      p.time_unix_nano = now;
      p.exemplars = std::move(exemplars);
      if (!config_.record_min_max) {
        p.min.reset();
        p.max.reset();
      }
      std::get<ExponentialHistogram>(m->data).data_points.push_back(std::move(p));
      break;
    }
    default:
      break;
  }
}

void MetricStorage::Collect(uint64_t now, std::vector<MetricData>* out) {
  if (config_.aggregation == AggregationKind::kDrop) return;
  MetricData m;
  m.name = config_.name;
  m.description = config_.description;
  m.unit = config_.unit;
  switch (config_.aggregation) {
    case AggregationKind::kSum: {
      Sum sum;
      sum.aggregation_temporality = config_.temporality;
      sum.is_monotonic = config_.monotonic;
      m.data = std::move(sum);
      break;
    }
    case AggregationKind::kLastValue:
      m.data = tracewire::Gauge{};
      break;
    case AggregationKind::kExplicitBucketHistogram: {
      tracewire::Histogram h;
      h.aggregation_temporality = config_.temporality;
      m.data = std::move(h);
      break;
    }
    default: {
      ExponentialHistogram h;
      h.aggregation_temporality = config_.temporality;
      m.data = std::move(h);
      break;
    }
  }
  const bool delta = config_.temporality == AggregationTemporality::kDelta;
  const uint64_t start = delta ? last_collect_unix_nano_ : start_unix_nano_;
  std::vector<Series*> series;
  {
    absl::MutexLock l(&mu_);
    series.reserve(series_.size());
    for (const auto& s : series_) series.push_back(s.get());
  }
  size_t points = 0;
  for (Series* s : series) {
    bool report;
    if (is_observable_) {
      report = s->observed;
      s->observed = false;
    } else {
      // Delta streams and gauges report what was recorded since the last
      // collection; cumulative streams report every series once it exists.
      const bool touched = s->touched.exchange(false, std::memory_order_relaxed);
      report = touched || !delta;
    }
    if (!report) continue;
    CollectSeries(s, start, now, &m);
    ++points;
  }
  last_collect_unix_nano_ = now;
  if (points > 0) out->push_back(std::move(m));
}

}  // namespace tracewire::sdk
