#pragma once
// MetricStorage: the series of one instrument for one reader and view, and
// their aggregation (sum, last value, explicit-bucket histogram, base-2
// exponential histogram).
//
// Series are found by the hash of their (view-filtered) attributes in an
// open-addressing table of atomic pointers: lookups take no lock; a new
// series is created and published under mu_ (release store, acquire load).
// Series live as long as the storage. The table holds at most
// cardinality_limit series, the overflow series (otel.metric.overflow=true)
// included; a new attribute set past the limit records into the overflow
// series (taking mu_ each time: the overflow path is the slow path).
//
// Sum and explicit-histogram state is striped: each series has a few
// cache-line-aligned cells (a power of two, at most 4, no more than the
// CPUs), and a thread adds into the cell of its stripe (a thread_local
// number given in turn), with relaxed atomic read-modify-writes: two threads
// recording into one series do not share a line. A collection adds the
// cells up (cumulative) or exchanges them with zero (delta), cell by cell:
// under concurrent recording a delta point may hold part of a concurrent
// histogram measurement's fields (its bucket but not yet its sum); nothing
// is lost or counted twice over consecutive collections. Last value is one
// atomic word per series. The exponential histogram is a state per series
// behind a mutex (ExponentialHistogramState is single-threaded).
//
// Exemplars: one slot per series (the latest sampled measurement), written
// under a try-lock flag: a recording thread that finds it busy skips the
// exemplar, it never waits.
//
// Thread safety: Record* from any threads at once; Collect is called by one
// thread at a time (the reader's collection lock).

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/wildcard.h"
#include "sdk/metrics/attributes.h"
#include "sdk/metrics/exponential_histogram.h"
#include "tracewire/metric_reader.h"
#include "tracewire/metrics.h"
#include "tracewire/self_metric.h"

namespace tracewire::sdk {

// Everything a storage needs to know about its stream, resolved from the
// instrument, the view and the reader.
struct StreamConfig {
  std::string name;
  std::string description;
  std::string unit;
  InstrumentKind kind = InstrumentKind::kCounter;
  bool is_double = false;
  bool observable = false;  // values come from callbacks at each collection
  AggregationKind aggregation = AggregationKind::kSum;  // never kDefault
  std::vector<double> boundaries;
  bool record_min_max = true;
  int32_t max_size = 160;
  int32_t max_scale = 20;
  uint32_t cardinality_limit = 2000;
  std::optional<std::vector<std::string>> attribute_keys;  // sorted
  AggregationTemporality temporality = AggregationTemporality::kCumulative;
  bool monotonic = false;
};

// A measurement's exemplar context, taken once per Record by the instrument.
struct ExemplarContext {
  bool take = false;
  TraceId trace_id{};
  SpanId span_id{};
  uint64_t time_unix_nano = 0;
};

class MetricStorage {
 public:
  MetricStorage(StreamConfig config, uint64_t start_unix_nano);
  ~MetricStorage();

  const StreamConfig& config() const { return config_; }

  void Record(int64_t v, std::span<const AttributeView> attrs, const ExemplarContext& ex);
  void Record(double v, std::span<const AttributeView> attrs, const ExemplarContext& ex);
  void Record(int64_t v, const AttributeSet& attrs, const ExemplarContext& ex);
  void Record(double v, const AttributeSet& attrs, const ExemplarContext& ex);
  // Observable instruments: the callback's value for a series at this
  // collection (a cumulative total for counters).
  void Observe(double v, bool is_int, const Attributes& attrs);
  // An observable histogram's cumulative histogram for a series at this
  // collection (several in one collection merge when their bounds agree).
  void ObserveHistogram(const SelfHistogram& h, const Attributes& attrs);

  // Appends this stream's metric (nothing when it has no point to report).
  // Synchronous streams report every series (cumulative) or those recorded
  // into since the last collection (delta); observable streams report what
  // the callbacks observed in this collection.
  void Collect(uint64_t now_unix_nano, std::vector<MetricData>* out);

  // Measurements that went to the overflow series.
  int64_t overflowed() const { return overflowed_.load(std::memory_order_relaxed); }

 private:
  struct Series;
  template <typename T>
  void RecordOn(Series* s, T v, const ExemplarContext& ex);
  Series* FindOrCreate(std::span<const AttributeView> attrs);
  Series* FindOrCreateSet(const AttributeSet& attrs);
  Series* FindOrCreateObserved(const Attributes& attrs);
  void CollectObservedHistogram(Series* s, HistogramDataPoint* p);
  Series* Create(Attributes normalized, uint64_t hash, uint64_t origin_id);
  Series* CreateLocked(Attributes normalized, uint64_t hash, uint64_t origin_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t BucketOf(double v) const;
  void CollectSeries(Series* s, uint64_t start, uint64_t now, MetricData* m);

  const StreamConfig config_;
  const uint64_t start_unix_nano_;
  KeyFilter filter_ = nullptr;
  bool is_observable_ = false;
  uint32_t words_per_cell_ = 8;  // a multiple of 8 (a cache line)
  uint32_t mask_ = 0;
  std::unique_ptr<std::atomic<Series*>[]> table_;
  std::atomic<int64_t> overflowed_{0};  // a counter: relaxed

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Series>> series_ ABSL_GUARDED_BY(mu_);
  Series* overflow_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t last_collect_unix_nano_ = 0;  // the collecting thread's
};

// A view's name selector ('*' any run, '?' one char).
using common::WildcardMatch;

}  // namespace tracewire::sdk
