#pragma once
// The MeterProvider's state: its meters, their instruments, and for every
// (instrument, reader, matching view) one MetricStorage.
//
// An Instrument records a measurement into each of its storages (usually
// one: one reader, no view). Instruments and storages are created under mu_
// and live as long as the provider; a reader's storage list only grows, and
// instruments created after a collection began are collected the next time.
//
// Thread safety: thread-safe. Record* take no lock (see metric_storage.h).
// Collect(reader) runs one collection at a time per reader (the reader's
// collect mutex), so observable callbacks and delta state see one collector.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sdk/metrics/metric_storage.h"
#include "tracewire/metric_reader.h"
#include "tracewire/metrics.h"
#include "tracewire/self_metric.h"

namespace tracewire::sdk {

class MeterProviderState;

class Instrument {
 public:
  Instrument(InstrumentKind kind, bool is_double, ExemplarFilter filter)
      : kind_(kind), is_double_(is_double), filter_(filter) {}
  template <typename V, typename A>
  void Record(V value, const A& attrs);
  void AddStorage(MetricStorage* s) ABSL_LOCKS_EXCLUDED(mu_);
  InstrumentKind kind() const { return kind_; }
  bool is_double() const { return is_double_; }
  // Negative counter increments and non-finite values, refused and counted.
  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  const InstrumentKind kind_;
  const bool is_double_;
  const ExemplarFilter filter_;
  // Published with a release store of count_; read with acquire. Fixed
  // capacity: storages only come from readers and views (bounded).
  static constexpr int kMaxStorages = 16;
  MetricStorage* storages_[kMaxStorages] = {};
  std::atomic<int> count_{0};
  std::atomic<int64_t> dropped_{0};  // a counter: relaxed
  absl::Mutex mu_;                   // serializes AddStorage
};

class ObservableInstrument {
 public:
  explicit ObservableInstrument(ObservableCallback callback) : callback_(std::move(callback)) {}
  // Runs the callback once, feeding every storage in `storages` (the
  // collecting reader's).
  void Observe(const std::vector<MetricStorage*>& storages);
  // ObserverResult's entry point.
  static void Deliver(void* sink, double v, bool is_int, const Attributes& attrs);
  // An observable histogram's observation (MeterAccess): a cumulative
  // histogram the callback read from a component.
  static void DeliverHistogram(ObserverResult& result, const SelfHistogram& h,
                               const Attributes& attrs);

 private:
  ObservableCallback callback_;
};

// A reader's link to the provider (MetricReader::collector_).
class MetricCollector {
 public:
  MetricCollector(MeterProviderState* state, size_t index) : state_(state), index_(index) {}
  absl::StatusOr<ResourceMetrics> Collect();
  static void Attach(MetricReader* reader, MetricCollector* c);
  static void Detach(MetricReader* reader);

 private:
  MeterProviderState* state_;
  size_t index_;
};

class MeterProviderState {
 public:
  MeterProviderState(MeterProviderOptions options, Resource resource);
  ~MeterProviderState();
  void Start();  // registers the readers (a periodic reader starts its thread)

  Meter* GetMeter(std::string_view name, std::string_view version, std::string_view schema_url,
                  Attributes attributes);
  Instrument* MakeInstrument(const Meter& meter, std::string_view name, std::string_view unit,
                             std::string_view description, InstrumentKind kind, bool is_double,
                             std::optional<std::vector<double>> boundaries);
  ObservableInstrument* MakeObservable(const Meter& meter, std::string_view name,
                                       std::string_view unit, std::string_view description,
                                       InstrumentKind kind, bool is_double,
                                       ObservableCallback callback);
  // An observable histogram (kind kHistogram, MeterAccess): its callback
  // observes cumulative explicit-bucket histograms.
  ObservableInstrument* MakeObservableHistogram(const Meter& meter, std::string_view name,
                                                std::string_view unit, std::string_view description,
                                                ObservableCallback callback);
  ResourceMetrics Collect(size_t reader_index);
  absl::Status ForceFlush(absl::Time deadline);
  absl::Status Shutdown(absl::Time deadline);
  // The readers' own telemetry (MeterProvider::SelfMetrics).
  std::vector<SelfMetricPoint> SelfMetrics() const {
    std::vector<SelfMetricPoint> out;
    for (const auto& slot : readers_) {
      std::vector<SelfMetricPoint> more = slot->reader->SelfMetrics();
      out.insert(out.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    }
    return out;
  }
  const Resource& resource() const { return resource_; }

 private:
  struct StorageEntry {
    const Meter* meter;
    std::unique_ptr<MetricStorage> storage;
  };
  struct ObservableEntry {
    ObservableInstrument* instrument;
    std::vector<MetricStorage*> storages;  // this reader's
  };
  struct ReaderSlot {
    MetricReader* reader;
    std::unique_ptr<MetricCollector> collector;
    absl::Mutex collect_mu;  // one collection at a time
  };
  // The storages of a new instrument, one per reader and matching view.
  std::vector<std::vector<MetricStorage*>> MakeStorages(
      const Meter& meter, std::string_view name, std::string_view unit,
      std::string_view description, InstrumentKind kind, bool is_double,
      const std::optional<std::vector<double>>& advisory, bool observable = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ObservableInstrument* AddObservable(ObservableCallback callback,
                                      std::vector<std::vector<MetricStorage*>> per_reader)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  MeterProviderOptions options_;
  const Resource resource_;
  const uint64_t start_unix_nano_;
  std::vector<std::unique_ptr<ReaderSlot>> readers_;
  absl::Mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<Meter>> meters_
      ABSL_GUARDED_BY(mu_);
  std::vector<const Meter*> meter_order_ ABSL_GUARDED_BY(mu_);
  std::map<std::tuple<const Meter*, std::string, int, bool, std::string, std::string>, Instrument*>
      by_name_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Instrument>> instruments_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<ObservableInstrument>> observables_ ABSL_GUARDED_BY(mu_);
  // Per reader: its storages in creation order, and its observables.
  std::vector<std::vector<StorageEntry>> storages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<ObservableEntry>> observable_entries_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// The SDK's own entry points beyond the public Meter API.
struct MeterAccess {
  // An observable histogram: at each collection the callback reports
  // cumulative explicit-bucket histograms (ObservableInstrument::
  // DeliverHistogram), reported cumulative or as the difference from the
  // previous collection under delta temporality. For the SDK's own
  // telemetry (otel.sdk.exporter.operation.duration), whose components
  // count without a lock and are read only at a collection.
  static ObservableInstrumentHandle CreateObservableHistogram(Meter& meter, std::string_view name,
                                                              ObservableCallback callback,
                                                              std::string_view unit,
                                                              std::string_view description = {});
};

}  // namespace tracewire::sdk
