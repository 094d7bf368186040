// MeterProvider, Meter, the instruments' entry points and MeterProviderState.

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/wall_clock.h"
#include "sdk/metrics/meter_provider_state.h"
#include "sdk/resource_env.h"
#include "tracewire/context.h"

namespace tracewire {
namespace sdk {

namespace {

bool IsObservable(InstrumentKind k) {
  return k == InstrumentKind::kObservableCounter || k == InstrumentKind::kObservableUpDownCounter ||
         k == InstrumentKind::kObservableGauge;
}

bool Matches(const InstrumentSelector& sel, const Meter& meter, std::string_view name,
             std::string_view unit, InstrumentKind kind) {
  if (!sel.name.empty() && !WildcardMatch(sel.name, name)) return false;
  if (sel.kind.has_value() && *sel.kind != kind) return false;
  if (!sel.meter_name.empty() && sel.meter_name != meter.scope().name) return false;
  if (!sel.unit.empty() && sel.unit != unit) return false;
  return true;
}

}  // namespace

template <typename V, typename A>
void Instrument::Record(V value, const A& attrs) {
  if constexpr (std::is_same_v<V, double>) {
    if (!std::isfinite(value)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  if (kind_ == InstrumentKind::kCounter && value < 0) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ExemplarContext ex;
  if (filter_ != ExemplarFilter::kAlwaysOff) {
    const SpanContext& sc = Context::Current().span_context();
    ex.take = filter_ == ExemplarFilter::kAlwaysOn || (sc.IsSampled() && sc.IsValid());
    if (ex.take) {
      ex.trace_id = sc.trace_id;
      ex.span_id = sc.span_id;
      ex.time_unix_nano = common::WallNanos();
    }
  }
  const int n = count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) storages_[i]->Record(value, attrs, ex);
}

void Instrument::AddStorage(MetricStorage* s) {
  absl::MutexLock l(&mu_);
  const int n = count_.load(std::memory_order_relaxed);
  if (n >= kMaxStorages) return;  // validated by Create: at most kMaxStorages streams
  storages_[n] = s;
  count_.store(n + 1, std::memory_order_release);
}

void ObservableInstrument::Observe(const std::vector<MetricStorage*>& storages) {
  if (!callback_ || storages.empty()) return;
  ObserverResult result(const_cast<std::vector<MetricStorage*>*>(&storages));
  callback_(result);
}

void ObservableInstrument::Deliver(void* sink, double v, bool is_int, const Attributes& attrs) {
  if (!std::isfinite(v)) return;
  for (MetricStorage* s : *static_cast<std::vector<MetricStorage*>*>(sink)) {
    s->Observe(v, is_int, attrs);
  }
}

void ObservableInstrument::DeliverHistogram(ObserverResult& result, const SelfHistogram& h,
                                            const Attributes& attrs) {
  if (h.bucket_counts.size() != h.bounds.size() + 1 || !std::isfinite(h.sum)) return;
  for (MetricStorage* s : *static_cast<std::vector<MetricStorage*>*>(result.sink_)) {
    s->ObserveHistogram(h, attrs);
  }
}

ObservableInstrumentHandle MeterAccess::CreateObservableHistogram(Meter& meter,
                                                                  std::string_view name,
                                                                  ObservableCallback callback,
                                                                  std::string_view unit,
                                                                  std::string_view description) {
  if (meter.provider_ == nullptr) return ObservableInstrumentHandle();
  return ObservableInstrumentHandle(meter.provider_->MakeObservableHistogram(
      meter, name, unit, description, std::move(callback)));
}

absl::StatusOr<ResourceMetrics> MetricCollector::Collect() { return state_->Collect(index_); }

void MetricCollector::Attach(MetricReader* reader, MetricCollector* c) {
  {
    absl::MutexLock l(&reader->mu_);
    reader->collector_ = c;
  }
  reader->OnRegistered();
}

void MetricCollector::Detach(MetricReader* reader) {
  absl::MutexLock l(&reader->mu_);
  reader->collector_ = nullptr;
}

MeterProviderState::MeterProviderState(MeterProviderOptions options, Resource resource)
    : options_(std::move(options)),
      resource_(std::move(resource)),
      start_unix_nano_(common::WallNanos()) {
  for (size_t i = 0; i < options_.readers.size(); ++i) {
    auto slot = std::make_unique<ReaderSlot>();
    slot->reader = options_.readers[i].get();
    slot->collector = std::make_unique<MetricCollector>(this, i);
    readers_.push_back(std::move(slot));
  }
  absl::MutexLock l(&mu_);
  storages_.resize(readers_.size());
  observable_entries_.resize(readers_.size());
}

void MeterProviderState::Start() {
  for (auto& r : readers_) MetricCollector::Attach(r->reader, r->collector.get());
}

MeterProviderState::~MeterProviderState() {
  for (auto& r : readers_) MetricCollector::Detach(r->reader);
  options_.readers.clear();  // a periodic reader's thread stops before the storages go
}

Meter* MeterProviderState::GetMeter(std::string_view name, std::string_view version,
                                    std::string_view schema_url, Attributes attributes) {
  absl::MutexLock l(&mu_);
  auto key = std::make_tuple(std::string(name), std::string(version), std::string(schema_url));
  auto it = meters_.find(key);
  if (it != meters_.end()) return it->second.get();
  InstrumentationScope scope;
  scope.name = std::string(name);
  scope.version = std::string(version);
  scope.schema_url = std::string(schema_url);
  scope.attributes = std::move(attributes);
  auto* m = new Meter(this, std::move(scope));
  meters_.emplace(std::move(key), std::unique_ptr<Meter>(m));
  meter_order_.push_back(m);
  return m;
}

std::vector<std::vector<MetricStorage*>> MeterProviderState::MakeStorages(
    const Meter& meter, std::string_view name, std::string_view unit, std::string_view description,
    InstrumentKind kind, bool is_double, const std::optional<std::vector<double>>& advisory,
    bool observable) {
  std::vector<const View*> views;
  for (const View& v : options_.views) {
    if (Matches(v.selector, meter, name, unit, kind)) views.push_back(&v);
  }
  static const View kNoView;
  if (views.empty()) views.push_back(&kNoView);
  std::vector<std::vector<MetricStorage*>> out(readers_.size());
  for (size_t r = 0; r < readers_.size(); ++r) {
    for (const View* v : views) {
      const MetricStream& st = v->stream;
      StreamConfig c;
      c.name = st.name.empty() ? std::string(name) : st.name;
      c.description = st.description.empty() ? std::string(description) : st.description;
      c.unit = std::string(unit);
      c.kind = kind;
      c.is_double = is_double;
      c.observable = observable || IsObservable(kind);
      c.aggregation = st.aggregation;
      if (c.aggregation == AggregationKind::kDefault) {
        switch (kind) {
          case InstrumentKind::kCounter:
          case InstrumentKind::kUpDownCounter:
          case InstrumentKind::kObservableCounter:
          case InstrumentKind::kObservableUpDownCounter:
            c.aggregation = AggregationKind::kSum;
            break;
          case InstrumentKind::kGauge:
          case InstrumentKind::kObservableGauge:
            c.aggregation = AggregationKind::kLastValue;
            break;
          case InstrumentKind::kHistogram:
            c.aggregation = options_.default_histogram_aggregation;
            break;
        }
      }
      // Aggregations that do not fit observable instruments fall back to
      // their default (histograms of callbacks have no measurements).
      // An observable histogram reports the histograms it observes.
      if (observable && kind == InstrumentKind::kHistogram &&
          c.aggregation != AggregationKind::kDrop) {
        c.aggregation = AggregationKind::kExplicitBucketHistogram;
      }
      if (IsObservable(kind) && (c.aggregation == AggregationKind::kExplicitBucketHistogram ||
                                 c.aggregation == AggregationKind::kBase2ExponentialHistogram)) {
        c.aggregation = kind == InstrumentKind::kObservableGauge ? AggregationKind::kLastValue
                                                                 : AggregationKind::kSum;
      }
      // Advice given as no boundaries is one bucket, not the defaults.
      c.boundaries = !st.boundaries.empty() ? st.boundaries
                     : advisory.has_value() ? *advisory
                                            : DefaultHistogramBoundaries();
      c.record_min_max = st.record_min_max;
      c.max_size = st.max_size;
      c.max_scale = st.max_scale;
      c.cardinality_limit =
          st.cardinality_limit > 0 ? st.cardinality_limit : options_.cardinality_limit;
      if (st.attribute_keys.has_value()) {
        std::vector<std::string> keys = *st.attribute_keys;
        std::sort(keys.begin(), keys.end());
        c.attribute_keys = std::move(keys);
      }
      c.monotonic = kind == InstrumentKind::kCounter || kind == InstrumentKind::kHistogram ||
                    kind == InstrumentKind::kObservableCounter;
      c.temporality = TemporalityFor(readers_[r]->reader->temporality(), kind);
      if (c.aggregation == AggregationKind::kLastValue) {
        c.temporality = AggregationTemporality::kUnspecified;
      }
      auto storage = std::make_unique<MetricStorage>(std::move(c), start_unix_nano_);
      out[r].push_back(storage.get());
      storages_[r].push_back({&meter, std::move(storage)});
    }
  }
  return out;
}

Instrument* MeterProviderState::MakeInstrument(const Meter& meter, std::string_view name,
                                               std::string_view unit, std::string_view description,
                                               InstrumentKind kind, bool is_double,
                                               std::optional<std::vector<double>> boundaries) {
  absl::MutexLock l(&mu_);
  if (shut_down_) return nullptr;
  auto key =
      std::make_tuple(&meter, absl::AsciiStrToLower(std::string(name)), static_cast<int>(kind),
                      is_double, std::string(unit), std::string(description));
  if (auto it = by_name_.find(key); it != by_name_.end()) return it->second;
  auto inst = std::make_unique<Instrument>(kind, is_double, options_.exemplar_filter);
  if (boundaries.has_value() && (!std::is_sorted(boundaries->begin(), boundaries->end()) ||
                                 std::any_of(boundaries->begin(), boundaries->end(),
                                             [](double b) { return !std::isfinite(b); }))) {
    boundaries.reset();  // advisory only: a bad one is ignored
  }
  for (auto& per_reader :
       MakeStorages(meter, name, unit, description, kind, is_double, boundaries)) {
    for (MetricStorage* s : per_reader) inst->AddStorage(s);
  }
  Instrument* p = inst.get();
  instruments_.push_back(std::move(inst));
  by_name_[key] = p;
  return p;
}

ObservableInstrument* MeterProviderState::MakeObservable(const Meter& meter, std::string_view name,
                                                         std::string_view unit,
                                                         std::string_view description,
                                                         InstrumentKind kind, bool is_double,
                                                         ObservableCallback callback) {
  absl::MutexLock l(&mu_);
  if (shut_down_) return nullptr;
  return AddObservable(std::move(callback),
                       MakeStorages(meter, name, unit, description, kind, is_double, std::nullopt));
}

ObservableInstrument* MeterProviderState::MakeObservableHistogram(const Meter& meter,
                                                                  std::string_view name,
                                                                  std::string_view unit,
                                                                  std::string_view description,
                                                                  ObservableCallback callback) {
  absl::MutexLock l(&mu_);
  if (shut_down_) return nullptr;
  return AddObservable(std::move(callback),
                       MakeStorages(meter, name, unit, description, InstrumentKind::kHistogram,
                                    /*is_double=*/true, std::nullopt, /*observable=*/true));
}

ObservableInstrument* MeterProviderState::AddObservable(
    ObservableCallback callback, std::vector<std::vector<MetricStorage*>> per_reader) {
  auto inst = std::make_unique<ObservableInstrument>(std::move(callback));
  for (size_t r = 0; r < per_reader.size(); ++r) {
    observable_entries_[r].push_back({inst.get(), std::move(per_reader[r])});
  }
  ObservableInstrument* p = inst.get();
  observables_.push_back(std::move(inst));
  return p;
}

ResourceMetrics MeterProviderState::Collect(size_t reader_index) {
  ReaderSlot& slot = *readers_[reader_index];
  absl::MutexLock collect(&slot.collect_mu);
  std::vector<ObservableEntry> observables;
  std::vector<std::pair<const Meter*, MetricStorage*>> storages;
  std::vector<const Meter*> meters;
  {
    absl::MutexLock l(&mu_);
    observables = observable_entries_[reader_index];
    for (const auto& e : storages_[reader_index]) storages.push_back({e.meter, e.storage.get()});
    meters = meter_order_;
  }
  for (const ObservableEntry& e : observables) e.instrument->Observe(e.storages);
  const uint64_t now = common::WallNanos();
  ResourceMetrics out;
  out.resource = resource_;
  for (const Meter* m : meters) {
    ScopeMetrics sm;
    for (const auto& [meter, storage] : storages) {
      if (meter != m) continue;
      storage->Collect(now, &sm.metrics);
      out.overflowed_measurements += storage->overflowed();
    }
    if (sm.metrics.empty()) continue;
    sm.scope = m->scope();
    out.scope_metrics.push_back(std::move(sm));
  }
  return out;
}

absl::Status MeterProviderState::ForceFlush(absl::Time deadline) {
  absl::Status first;
  for (auto& r : readers_) {
    absl::Status st = r->reader->ForceFlush(deadline);
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

absl::Status MeterProviderState::Shutdown(absl::Time deadline) {
  {
    absl::MutexLock l(&mu_);
    if (shut_down_) return absl::FailedPreconditionError("meter provider already shut down");
    shut_down_ = true;
  }
  absl::Status first;
  for (auto& r : readers_) {
    absl::Status st = r->reader->Shutdown(deadline);
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

}  // namespace sdk

// ---- The public classes -------------------------------------------------

namespace metrics_internal {
void RecordInt(sdk::Instrument* i, int64_t v, std::span<const AttributeView> a) { i->Record(v, a); }
void RecordDouble(sdk::Instrument* i, double v, std::span<const AttributeView> a) {
  i->Record(v, a);
}
void RecordIntSet(sdk::Instrument* i, int64_t v, const AttributeSet& a) { i->Record(v, a); }
void RecordDoubleSet(sdk::Instrument* i, double v, const AttributeSet& a) { i->Record(v, a); }
}  // namespace metrics_internal

void ObserverResult::Observe(int64_t value, std::initializer_list<AttributeView> attributes) {
  Attributes a;
  for (const AttributeView& v : attributes) a.push_back(sdk::ToKeyValue(v));
  sdk::ObservableInstrument::Deliver(sink_, static_cast<double>(value), true, a);
}
void ObserverResult::Observe(double value, std::initializer_list<AttributeView> attributes) {
  Attributes a;
  for (const AttributeView& v : attributes) a.push_back(sdk::ToKeyValue(v));
  sdk::ObservableInstrument::Deliver(sink_, value, false, a);
}
void ObserverResult::Observe(int64_t value, const Attributes& attributes) {
  sdk::ObservableInstrument::Deliver(sink_, static_cast<double>(value), true, attributes);
}
void ObserverResult::Observe(double value, const Attributes& attributes) {
  sdk::ObservableInstrument::Deliver(sink_, value, false, attributes);
}

sdk::Instrument* Meter::Make(std::string_view name, std::string_view unit,
                             std::string_view description, InstrumentKind kind, bool is_double,
                             std::optional<std::vector<double>> boundaries) {
  if (provider_ == nullptr) return nullptr;
  return provider_->MakeInstrument(*this, name, unit, description, kind, is_double,
                                   std::move(boundaries));
}

ObservableInstrumentHandle Meter::MakeObservable(std::string_view name, std::string_view unit,
                                                 std::string_view description, InstrumentKind kind,
                                                 bool is_double, ObservableCallback callback) {
  if (provider_ == nullptr) return ObservableInstrumentHandle();
  return ObservableInstrumentHandle(provider_->MakeObservable(*this, name, unit, description, kind,
                                                              is_double, std::move(callback)));
}

#define TW_SYNC(Ret, Fn, Kind, Dbl)                                                    \
  Ret Meter::Fn(std::string_view name, std::string_view unit, std::string_view desc) { \
    return Ret(Make(name, unit, desc, InstrumentKind::Kind, Dbl, std::nullopt));       \
  }
TW_SYNC(Counter<int64_t>, CreateInt64Counter, kCounter, false)
TW_SYNC(Counter<double>, CreateDoubleCounter, kCounter, true)
TW_SYNC(UpDownCounter<int64_t>, CreateInt64UpDownCounter, kUpDownCounter, false)
TW_SYNC(UpDownCounter<double>, CreateDoubleUpDownCounter, kUpDownCounter, true)
TW_SYNC(GaugeInstrument<int64_t>, CreateInt64Gauge, kGauge, false)
TW_SYNC(GaugeInstrument<double>, CreateDoubleGauge, kGauge, true)
#undef TW_SYNC

HistogramInstrument<int64_t> Meter::CreateInt64Histogram(
    std::string_view name, std::string_view unit, std::string_view description,
    std::optional<std::vector<double>> boundaries) {
  return HistogramInstrument<int64_t>(
      Make(name, unit, description, InstrumentKind::kHistogram, false, std::move(boundaries)));
}
HistogramInstrument<double> Meter::CreateDoubleHistogram(
    std::string_view name, std::string_view unit, std::string_view description,
    std::optional<std::vector<double>> boundaries) {
  return HistogramInstrument<double>(
      Make(name, unit, description, InstrumentKind::kHistogram, true, std::move(boundaries)));
}

#define TW_OBS(Fn, Kind, Dbl)                                                                \
  ObservableInstrumentHandle Meter::Fn(std::string_view name, ObservableCallback callback,   \
                                       std::string_view unit, std::string_view desc) {       \
    return MakeObservable(name, unit, desc, InstrumentKind::Kind, Dbl, std::move(callback)); \
  }
TW_OBS(CreateInt64ObservableCounter, kObservableCounter, false)
TW_OBS(CreateDoubleObservableCounter, kObservableCounter, true)
TW_OBS(CreateInt64ObservableUpDownCounter, kObservableUpDownCounter, false)
TW_OBS(CreateDoubleObservableUpDownCounter, kObservableUpDownCounter, true)
TW_OBS(CreateInt64ObservableGauge, kObservableGauge, false)
TW_OBS(CreateDoubleObservableGauge, kObservableGauge, true)
#undef TW_OBS

const std::vector<double>& DefaultHistogramBoundaries() {
  static const std::vector<double> b = {0,   5,   10,   25,   50,   75,   100,  250,
                                        500, 750, 1000, 2500, 5000, 7500, 10000};
  return b;
}

absl::StatusOr<std::unique_ptr<MeterProvider>> MeterProvider::Create(MeterProviderOptions options) {
  for (const View& v : options.views) {
    const MetricStream& s = v.stream;
    const bool wildcard =
        v.selector.name.empty() || v.selector.name.find_first_of("*?") != std::string::npos;
    if (!s.name.empty() && wildcard) {
      return absl::InvalidArgumentError(absl::StrCat("view renaming to '", s.name,
                                                     "' selects more than one instrument name ('",
                                                     v.selector.name, "')"));
    }
    if (!std::is_sorted(s.boundaries.begin(), s.boundaries.end()) ||
        std::adjacent_find(s.boundaries.begin(), s.boundaries.end()) != s.boundaries.end() ||
        std::any_of(s.boundaries.begin(), s.boundaries.end(),
                    [](double b) { return !std::isfinite(b); })) {
      return absl::InvalidArgumentError(
          absl::StrCat("view '", v.selector.name, "': boundaries must be finite and increasing"));
    }
    if (s.max_size < 2 || s.max_scale < -10 || s.max_scale > 20) {
      return absl::InvalidArgumentError(absl::StrCat(
          "view '", v.selector.name, "': max_size must be >= 2 and max_scale in -10..20"));
    }
  }
  if (options.cardinality_limit == 0) {
    return absl::InvalidArgumentError("cardinality_limit must be at least 1");
  }
  if (options.readers.size() * std::max<size_t>(1, options.views.size()) > 16) {
    return absl::InvalidArgumentError("at most 16 streams (readers x views) per instrument");
  }
  for (const auto& r : options.readers) {
    if (r == nullptr) return absl::InvalidArgumentError("a null metric reader");
  }
  Resource resource = sdk::MergeResources(sdk::SdkResource(), options.resource);
  auto state = std::make_unique<sdk::MeterProviderState>(std::move(options), std::move(resource));
  state->Start();
  return std::unique_ptr<MeterProvider>(new MeterProvider(std::move(state)));
}

MeterProvider::MeterProvider(std::unique_ptr<sdk::MeterProviderState> state)
    : state_(std::move(state)) {}

MeterProvider::~MeterProvider() {
  if (state_ != nullptr) state_->Shutdown(absl::Now() + absl::Seconds(5)).IgnoreError();
}

Meter* MeterProvider::GetMeter(std::string_view name, std::string_view version,
                               std::string_view schema_url, Attributes attributes) {
  if (state_ == nullptr) {
    static Meter* noop = new Meter(nullptr, InstrumentationScope{});
    return noop;
  }
  return state_->GetMeter(name, version, schema_url, std::move(attributes));
}

absl::Status MeterProvider::ForceFlush(absl::Time deadline) {
  return state_ == nullptr ? absl::OkStatus() : state_->ForceFlush(deadline);
}
absl::Status MeterProvider::Shutdown(absl::Time deadline) {
  return state_ == nullptr ? absl::OkStatus() : state_->Shutdown(deadline);
}
std::vector<SelfMetricPoint> MeterProvider::SelfMetrics() const {
  return state_ == nullptr ? std::vector<SelfMetricPoint>{} : state_->SelfMetrics();
}
const Resource& MeterProvider::resource() const {
  static const Resource empty;
  return state_ == nullptr ? empty : state_->resource();
}

MeterProvider* NoopMeterProvider() {
  static MeterProvider* p = new MeterProvider();
  return p;
}

}  // namespace tracewire
