#pragma once
// Metric readers and exporters: how the values a MeterProvider aggregates
// leave it (tracewire/metrics.h holds the provider and the instruments).
//
//   auto exporter = tracewire::MakeOtlpMetricExporter(otlp_options);
//   auto reader = tracewire::PeriodicExportingMetricReader::Create(std::move(*exporter), {});
//   provider_options.readers.push_back(std::move(reader));
//
// A reader is registered with one provider (MeterProviderOptions::readers)
// and then owned by it. Each reader has its own temporality and its own
// aggregation state: a delta reader and a cumulative one may read the same
// instruments.
//   - ManualMetricReader: Collect() returns the current values (tests, pull).
//   - PeriodicExportingMetricReader: collects every export_interval on a thread
//     it owns and hands the data to a MetricExporter.
//   - FormatPrometheusText(): the Prometheus text exposition (0.0.4) of what a
//     reader collected, for an application's own /metrics page.
//
// Thread safety: readers are thread-safe (Collect, ForceFlush and Shutdown
// from any threads; a collection runs one at a time per reader). A
// MetricExporter's Export is called by one thread at a time (its reader's);
// ForceFlush and Shutdown may come from another. InMemoryMetricExporter is
// thread-safe. ResourceMetrics is a value type (thread-compatible).

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tracewire/export.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/self_metric.h"
#include "tracewire/telemetry_data.h"

namespace tracewire {

namespace sdk {
class MetricCollector;
class PeriodicReaderState;
}  // namespace sdk
TRACEWIRE_BEGIN_API

enum class InstrumentKind : uint8_t {
  kCounter,
  kUpDownCounter,
  kHistogram,
  kGauge,
  kObservableCounter,
  kObservableUpDownCounter,
  kObservableGauge,
};

// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, as the specification
// defines it: cumulative for every kind; delta for counters, histograms and
// observable counters (up-down counters stay cumulative); low memory: delta
// for synchronous counters and histograms only.
enum class TemporalityPreference : uint8_t { kCumulative, kDelta, kLowMemory };
AggregationTemporality TemporalityFor(TemporalityPreference preference, InstrumentKind kind);
// "cumulative" | "delta" | "lowmemory" (case-insensitive); InvalidArgument
// naming OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE otherwise.
absl::StatusOr<TemporalityPreference> ParseTemporalityPreference(std::string_view value);

struct ScopeMetrics {
  InstrumentationScope scope;
  std::vector<MetricData> metrics;
};

// What one collection of one reader produced.
struct ResourceMetrics {
  Resource resource;
  std::vector<ScopeMetrics> scope_metrics;
  // Measurements recorded into the overflow series (cardinality limit) since
  // the provider started, summed over the instruments: reported, not lost.
  int64_t overflowed_measurements = 0;
  // Number of data points over every scope.
  int64_t DataPointCount() const;
};

class MetricExporter {
 public:
  virtual ~MetricExporter() = default;
  // Called by one thread at a time (the reader's).
  [[nodiscard]] virtual absl::Status Export(const ResourceMetrics& metrics) = 0;
  [[nodiscard]] virtual absl::Status ForceFlush(absl::Time deadline) { return absl::OkStatus(); }
  [[nodiscard]] virtual absl::Status Shutdown(absl::Time deadline) { return absl::OkStatus(); }
  // The component's own telemetry (self_metric.h), read at any time from
  // any thread; the SDK reports it through the metrics SDK
  // (self_telemetry.h). Empty by default.
  virtual std::vector<SelfMetricPoint> SelfMetrics() const { return {}; }
};

// OTLP/gRPC over tracewire::OtlpExporter (signal metrics).
absl::StatusOr<std::unique_ptr<MetricExporter>> MakeOtlpMetricExporter(
    const OtlpExporterOptions& options);
// One human-readable line per data point.
std::unique_ptr<MetricExporter> MakeConsoleMetricExporter(std::FILE* out = stdout);

// Keeps every export; Wait* let tests wait on the export event.
class InMemoryMetricExporter : public MetricExporter {
 public:
  absl::Status Export(const ResourceMetrics& metrics) override;
  std::vector<ResourceMetrics> exports() const;
  // Waits until at least `n` exports happened or the deadline passed; true
  // when they did.
  bool WaitForExports(size_t n, absl::Time deadline) const;
  absl::Status Shutdown(absl::Time deadline) override;
  bool shut_down() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<ResourceMetrics> exports_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// The base of the readers: registered with one provider, which then owns it.
class MetricReader {
 public:
  explicit MetricReader(TemporalityPreference temporality = TemporalityPreference::kCumulative)
      : temporality_(temporality) {}
  virtual ~MetricReader();
  MetricReader(const MetricReader&) = delete;
  MetricReader& operator=(const MetricReader&) = delete;

  TemporalityPreference temporality() const { return temporality_; }
  // FailedPrecondition before the reader is registered or after shutdown.
  absl::StatusOr<ResourceMetrics> Collect();
  [[nodiscard]] virtual absl::Status ForceFlush(absl::Time deadline) { return absl::OkStatus(); }
  [[nodiscard]] virtual absl::Status Shutdown(absl::Time deadline);
  // The reader's own telemetry (its exporter's); empty by default.
  virtual std::vector<SelfMetricPoint> SelfMetrics() const { return {}; }

 protected:
  // Called by the provider when the reader is registered, before any Collect.
  virtual void OnRegistered() {}

 private:
  friend class sdk::MetricCollector;
  const TemporalityPreference temporality_;
  mutable absl::Mutex mu_;
  sdk::MetricCollector* collector_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// Collect() on demand: tests, and pull endpoints (Prometheus).
class ManualMetricReader : public MetricReader {
 public:
  using MetricReader::MetricReader;
};

struct PeriodicReaderOptions {
  absl::Duration export_interval = absl::Milliseconds(60000);
  absl::Duration export_timeout = absl::Milliseconds(30000);
  TemporalityPreference temporality = TemporalityPreference::kCumulative;
  // From OTEL_METRIC_EXPORT_INTERVAL and OTEL_METRIC_EXPORT_TIMEOUT
  // (milliseconds) and OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
  // InvalidArgument naming the variable on a bad value.
  static absl::StatusOr<PeriodicReaderOptions> FromEnv();
};

// Collects and exports every export_interval on a thread it owns (started
// when the provider registers it); ForceFlush collects and exports at once;
// Shutdown exports a last time, then shuts the exporter down. Both return by
// their deadline (an export still running then is left to finish on the
// reader's thread, which Shutdown then detaches: see docs/design.md).
class PeriodicExportingMetricReader : public MetricReader {
 public:
  static std::unique_ptr<PeriodicExportingMetricReader> Create(
      std::unique_ptr<MetricExporter> exporter, PeriodicReaderOptions options = {});
  ~PeriodicExportingMetricReader() override;
  absl::Status ForceFlush(absl::Time deadline) override;
  absl::Status Shutdown(absl::Time deadline) override;
  // Exports done so far (each collection handed to the exporter), and the
  // ones that failed.
  int64_t exports() const;
  int64_t failed_exports() const;
  // The exporter's.
  std::vector<SelfMetricPoint> SelfMetrics() const override;

 private:
  PeriodicExportingMetricReader(std::unique_ptr<MetricExporter> exporter,
                                PeriodicReaderOptions options);
  void OnRegistered() override;
  std::shared_ptr<sdk::PeriodicReaderState> state_;
};

// The Prometheus text exposition format (0.0.4) of `metrics`: names with
// dots and other characters replaced by '_', the unit and _total suffixes
// as the OpenTelemetry Prometheus compatibility rules say, histograms as
// _bucket{le=...}/_sum/_count, exponential histograms as their count and sum
// only, and the resource's service.name as a job label.
std::string FormatPrometheusText(const ResourceMetrics& metrics);

TRACEWIRE_END_API

}  // namespace tracewire
