#pragma once
// The metrics API and SDK: MeterProvider -> Meter -> instruments.
//
//   tracewire::MeterProviderOptions options;
//   options.readers.push_back(tracewire::PeriodicExportingMetricReader::Create(...));
//   auto provider = tracewire::MeterProvider::Create(std::move(options));
//   tracewire::Meter* meter = (*provider)->GetMeter("my.library", "1.0");
//   auto requests = meter->CreateInt64Counter("http.server.requests", "{request}");
//   requests.Add(1, {{"http.route", "/users"}, {"http.response.status_code", 200}});
//
//   // The fast path: a prebuilt attribute set, hashed once.
//   const tracewire::AttributeSet users{{"http.route", "/users"}};
//   requests.Add(1, users);
//
// Instruments are small handles (a pointer): copy them freely; they are valid
// as long as their provider. A default-constructed instrument, and every
// instrument of NoopMeterProvider(), records nothing (a branch and return).
// Recording on a series (attribute set) seen before takes no lock and
// allocates nothing; the first measurement of a new series takes the
// instrument's mutex. Each instrument keeps at most cardinality_limit series
// (2000 by default) per reader and view; later attribute sets are recorded in
// the series with the single attribute otel.metric.overflow=true.
//
// Thread safety: MeterProvider, Meter and every instrument are thread-safe.
// Observable callbacks run on the thread that collects (a reader's), one
// collection at a time per reader; they must not call back into the provider
// (Collect, ForceFlush, Shutdown). AttributeSet is an immutable value.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracewire/export.h"
#include "tracewire/metric_reader.h"
#include "tracewire/telemetry_data.h"
#include "tracewire/trace.h"

namespace tracewire {

namespace sdk {
class Instrument;
class MeterProviderState;
class ObservableInstrument;
struct MeterAccess;
}  // namespace sdk
TRACEWIRE_BEGIN_API

class Meter;

// A set of attributes built once and reused: sorted by key (the last value
// of a duplicated key wins), hashed once. Recording with it looks the
// series up by that hash.
class AttributeSet {
 public:
  AttributeSet();
  AttributeSet(std::initializer_list<AttributeView> attributes);
  explicit AttributeSet(Attributes attributes);
  const Attributes& attributes() const { return attributes_; }
  uint64_t hash() const { return hash_; }
  // Unique per constructed set (copies share it): the series remembers the
  // set that created it, and a set with that id skips the comparison.
  uint64_t id() const { return id_; }

 private:
  Attributes attributes_;
  uint64_t hash_ = 0;
  uint64_t id_ = 0;
};

namespace metrics_internal {
// The instruments' out-of-line recording entry points.
void RecordInt(sdk::Instrument* i, int64_t v, std::span<const AttributeView> a);
void RecordDouble(sdk::Instrument* i, double v, std::span<const AttributeView> a);
void RecordIntSet(sdk::Instrument* i, int64_t v, const AttributeSet& a);
void RecordDoubleSet(sdk::Instrument* i, double v, const AttributeSet& a);
template <typename T>
inline void Record(sdk::Instrument* i, T v, std::span<const AttributeView> a) {
  if constexpr (std::is_same_v<T, int64_t>) {
    RecordInt(i, v, a);
  } else {
    RecordDouble(i, v, a);
  }
}
template <typename T>
inline void Record(sdk::Instrument* i, T v, const AttributeSet& a) {
  if constexpr (std::is_same_v<T, int64_t>) {
    RecordIntSet(i, v, a);
  } else {
    RecordDoubleSet(i, v, a);
  }
}
}  // namespace metrics_internal

// The synchronous instruments: Counter, UpDownCounter, HistogramInstrument
// and GaugeInstrument (named apart from the Histogram and Gauge data types of
// telemetry_data.h). T is int64_t or double. Add on a Counter
// ignores negative values; every instrument ignores NaN and infinities (counted
// as dropped, never recorded); histograms take negative values.
#define TRACEWIRE_SYNC_INSTRUMENT(Class, Method)                                               \
  template <typename T>                                                                        \
  class Class {                                                                                \
   public:                                                                                     \
    Class() = default;                                                                         \
    void Method(T value, std::initializer_list<AttributeView> attributes = {}) const {         \
      if (i_ != nullptr) {                                                                     \
        metrics_internal::Record<T>(                                                           \
            i_, value, std::span<const AttributeView>(attributes.begin(), attributes.size())); \
      }                                                                                        \
    }                                                                                          \
    void Method(T value, std::span<const AttributeView> attributes) const {                    \
      if (i_ != nullptr) metrics_internal::Record<T>(i_, value, attributes);                   \
    }                                                                                          \
    void Method(T value, const AttributeSet& attributes) const {                               \
      if (i_ != nullptr) metrics_internal::Record<T>(i_, value, attributes);                   \
    }                                                                                          \
    bool enabled() const { return i_ != nullptr; }                                             \
                                                                                               \
   private:                                                                                    \
    friend class Meter;                                                                        \
    explicit Class(sdk::Instrument* i) : i_(i) {}                                              \
    sdk::Instrument* i_ = nullptr;                                                             \
  };

TRACEWIRE_SYNC_INSTRUMENT(Counter, Add)
TRACEWIRE_SYNC_INSTRUMENT(UpDownCounter, Add)
TRACEWIRE_SYNC_INSTRUMENT(HistogramInstrument, Record)
TRACEWIRE_SYNC_INSTRUMENT(GaugeInstrument, Record)
#undef TRACEWIRE_SYNC_INSTRUMENT

// What an observable instrument's callback reports into.
class ObserverResult {
 public:
  void Observe(int64_t value, std::initializer_list<AttributeView> attributes = {});
  void Observe(double value, std::initializer_list<AttributeView> attributes = {});
  void Observe(int64_t value, const Attributes& attributes);
  void Observe(double value, const Attributes& attributes);

 private:
  friend class sdk::ObservableInstrument;
  explicit ObserverResult(void* sink) : sink_(sink) {}
  void* sink_;
};
using ObservableCallback = std::function<void(ObserverResult&)>;

// An observable instrument: its callback runs at every collection. The
// handle says whether it is live; the callback is kept as long as the
// provider.
class ObservableInstrumentHandle {
 public:
  ObservableInstrumentHandle() = default;
  bool enabled() const { return i_ != nullptr; }

 private:
  friend class Meter;
  friend struct sdk::MeterAccess;
  explicit ObservableInstrumentHandle(sdk::ObservableInstrument* i) : i_(i) {}
  sdk::ObservableInstrument* i_ = nullptr;
};

class Meter {
 public:
  Counter<int64_t> CreateInt64Counter(std::string_view name, std::string_view unit = {},
                                      std::string_view description = {});
  Counter<double> CreateDoubleCounter(std::string_view name, std::string_view unit = {},
                                      std::string_view description = {});
  UpDownCounter<int64_t> CreateInt64UpDownCounter(std::string_view name, std::string_view unit = {},
                                                  std::string_view description = {});
  UpDownCounter<double> CreateDoubleUpDownCounter(std::string_view name, std::string_view unit = {},
                                                  std::string_view description = {});
  // `boundaries`: the advisory explicit bucket boundaries. Unset, or `{}`:
  // no advice, the specification's defaults (or a view's). An empty vector
  // is advice too: no boundaries, one bucket (-inf, +inf), as the
  // specification has it (the JS SDK's `explicitBucketBoundaries: []`).
  HistogramInstrument<int64_t> CreateInt64Histogram(
      std::string_view name, std::string_view unit = {}, std::string_view description = {},
      std::optional<std::vector<double>> boundaries = std::nullopt);
  HistogramInstrument<double> CreateDoubleHistogram(
      std::string_view name, std::string_view unit = {}, std::string_view description = {},
      std::optional<std::vector<double>> boundaries = std::nullopt);
  // A braced list of boundaries, `{0, 5, 10}`; `{}` is no advice.
  HistogramInstrument<int64_t> CreateInt64Histogram(std::string_view name, std::string_view unit,
                                                    std::string_view description,
                                                    std::initializer_list<double> boundaries) {
    return CreateInt64Histogram(name, unit, description, Advice(boundaries));
  }
  HistogramInstrument<double> CreateDoubleHistogram(std::string_view name, std::string_view unit,
                                                    std::string_view description,
                                                    std::initializer_list<double> boundaries) {
    return CreateDoubleHistogram(name, unit, description, Advice(boundaries));
  }
  GaugeInstrument<int64_t> CreateInt64Gauge(std::string_view name, std::string_view unit = {},
                                            std::string_view description = {});
  GaugeInstrument<double> CreateDoubleGauge(std::string_view name, std::string_view unit = {},
                                            std::string_view description = {});
  // Observable counter values are the cumulative totals the callback sees.
  ObservableInstrumentHandle CreateInt64ObservableCounter(std::string_view name,
                                                          ObservableCallback callback,
                                                          std::string_view unit = {},
                                                          std::string_view description = {});
  ObservableInstrumentHandle CreateDoubleObservableCounter(std::string_view name,
                                                           ObservableCallback callback,
                                                           std::string_view unit = {},
                                                           std::string_view description = {});
  ObservableInstrumentHandle CreateInt64ObservableUpDownCounter(std::string_view name,
                                                                ObservableCallback callback,
                                                                std::string_view unit = {},
                                                                std::string_view description = {});
  ObservableInstrumentHandle CreateDoubleObservableUpDownCounter(std::string_view name,
                                                                 ObservableCallback callback,
                                                                 std::string_view unit = {},
                                                                 std::string_view description = {});
  ObservableInstrumentHandle CreateInt64ObservableGauge(std::string_view name,
                                                        ObservableCallback callback,
                                                        std::string_view unit = {},
                                                        std::string_view description = {});
  ObservableInstrumentHandle CreateDoubleObservableGauge(std::string_view name,
                                                         ObservableCallback callback,
                                                         std::string_view unit = {},
                                                         std::string_view description = {});

  const InstrumentationScope& scope() const { return scope_; }

 private:
  friend class sdk::MeterProviderState;
  friend class MeterProvider;
  friend struct sdk::MeterAccess;
  Meter(sdk::MeterProviderState* p, InstrumentationScope scope)
      : provider_(p), scope_(std::move(scope)) {}
  static std::optional<std::vector<double>> Advice(std::initializer_list<double> boundaries) {
    if (boundaries.size() == 0) return std::nullopt;
    return std::vector<double>(boundaries);
  }
  sdk::Instrument* Make(std::string_view name, std::string_view unit, std::string_view description,
                        InstrumentKind kind, bool is_double,
                        std::optional<std::vector<double>> boundaries);
  ObservableInstrumentHandle MakeObservable(std::string_view name, std::string_view unit,
                                            std::string_view description, InstrumentKind kind,
                                            bool is_double, ObservableCallback callback);
  sdk::MeterProviderState* provider_;  // null: the no-op meter
  const InstrumentationScope scope_;
};

enum class AggregationKind : uint8_t {
  kDefault,  // by instrument kind: sum, last value or the default histogram
  kDrop,
  kSum,
  kLastValue,
  kExplicitBucketHistogram,
  kBase2ExponentialHistogram,
};

// Which instruments a view applies to: every field that is set must match.
struct InstrumentSelector {
  std::string name;  // "" or "*": any; '*' and '?' are wildcards
  std::optional<InstrumentKind> kind;
  std::string meter_name;  // "": any
  std::string unit;        // "": any
};

// How the selected instruments' streams are shaped.
struct MetricStream {
  std::string name;         // "": the instrument's (renaming needs a selector of one name)
  std::string description;  // "": the instrument's
  // Keep only these attribute keys (unset: keep all).
  std::optional<std::vector<std::string>> attribute_keys;
  AggregationKind aggregation = AggregationKind::kDefault;
  std::vector<double> boundaries;  // explicit histogram; empty: the default
  bool record_min_max = true;
  int32_t max_size = 160;          // exponential histogram
  int32_t max_scale = 20;          // exponential histogram
  uint32_t cardinality_limit = 0;  // 0: the provider's
};

struct View {
  InstrumentSelector selector;
  MetricStream stream;
};

enum class ExemplarFilter : uint8_t { kTraceBased, kAlwaysOn, kAlwaysOff };

struct MeterProviderOptions {
  Resource resource;  // merged over the SDK's telemetry.sdk.* attributes
  std::vector<std::unique_ptr<MetricReader>> readers;
  std::vector<View> views;
  ExemplarFilter exemplar_filter = ExemplarFilter::kTraceBased;
  // The aggregation of histograms without a view that says otherwise.
  AggregationKind default_histogram_aggregation = AggregationKind::kExplicitBucketHistogram;
  uint32_t cardinality_limit = 2000;
  // From OTEL_METRICS_EXEMPLAR_FILTER (always_on | always_off | trace_based)
  // and OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION
  // (explicit_bucket_histogram | base2_exponential_bucket_histogram);
  // InvalidArgument naming the variable on a bad value. Readers, views and
  // the resource are left empty.
  static absl::StatusOr<MeterProviderOptions> FromEnv();
};

// The specification's default explicit bucket boundaries.
const std::vector<double>& DefaultHistogramBoundaries();

class MeterProvider {
 public:
  // InvalidArgument on a bad view (a rename selecting more than one name,
  // unsorted boundaries, max_size < 2, max_scale outside -10..20).
  static absl::StatusOr<std::unique_ptr<MeterProvider>> Create(MeterProviderOptions options);
  ~MeterProvider();  // shuts down with a 5 s deadline if not shut down

  // The meter of an instrumentation scope; the same pointer for the same
  // scope, valid as long as the provider.
  Meter* GetMeter(std::string_view name, std::string_view version = {},
                  std::string_view schema_url = {}, Attributes attributes = {});

  [[nodiscard]] absl::Status ForceFlush(absl::Time deadline);
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);
  // Its processors' (readers') and their exporters' own telemetry
  // (self_telemetry.h); empty for the no-op provider.
  std::vector<SelfMetricPoint> SelfMetrics() const;
  const Resource& resource() const;

 private:
  friend MeterProvider* NoopMeterProvider();
  MeterProvider() = default;
  explicit MeterProvider(std::unique_ptr<sdk::MeterProviderState> state);
  std::unique_ptr<sdk::MeterProviderState> state_;  // null: the no-op provider
};

// A provider whose meters' instruments record nothing (process lifetime).
MeterProvider* NoopMeterProvider();

TRACEWIRE_END_API

}  // namespace tracewire
