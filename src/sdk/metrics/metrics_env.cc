// The metrics SDK's environment variables: MeterProviderOptions::FromEnv,
// PeriodicReaderOptions::FromEnv and the temporality preference.

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tracewire/metrics.h"

namespace tracewire {
namespace {

const char* Get(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? nullptr : v;
}

absl::Status ReadMillis(const char* name, absl::Duration* out) {
  const char* v = Get(name);
  if (v == nullptr) return absl::OkStatus();
  int64_t ms;
  if (!absl::SimpleAtoi(v, &ms) || ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": '", v, "' is not a positive number of milliseconds"));
  }
  *out = absl::Milliseconds(ms);
  return absl::OkStatus();
}

}  // namespace

AggregationTemporality TemporalityFor(TemporalityPreference p, InstrumentKind kind) {
  switch (p) {
    case TemporalityPreference::kCumulative:
      return AggregationTemporality::kCumulative;
    case TemporalityPreference::kDelta:
      return kind == InstrumentKind::kUpDownCounter ||
                     kind == InstrumentKind::kObservableUpDownCounter
                 ? AggregationTemporality::kCumulative
                 : AggregationTemporality::kDelta;
    case TemporalityPreference::kLowMemory:
      return kind == InstrumentKind::kCounter || kind == InstrumentKind::kHistogram
                 ? AggregationTemporality::kDelta
                 : AggregationTemporality::kCumulative;
  }
  return AggregationTemporality::kCumulative;
}

absl::StatusOr<TemporalityPreference> ParseTemporalityPreference(std::string_view value) {
  const std::string v = absl::AsciiStrToLower(std::string(value));
  if (v == "cumulative") return TemporalityPreference::kCumulative;
  if (v == "delta") return TemporalityPreference::kDelta;
  if (v == "lowmemory") return TemporalityPreference::kLowMemory;
  return absl::InvalidArgumentError(
      absl::StrCat("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: '", std::string(value),
                   "' is not cumulative, delta or lowmemory"));
}

absl::StatusOr<MeterProviderOptions> MeterProviderOptions::FromEnv() {
  MeterProviderOptions o;
  if (const char* v = Get("OTEL_METRICS_EXEMPLAR_FILTER")) {
    const std::string s = absl::AsciiStrToLower(v);
    if (s == "trace_based") {
      o.exemplar_filter = ExemplarFilter::kTraceBased;
    } else if (s == "always_on") {
      o.exemplar_filter = ExemplarFilter::kAlwaysOn;
    } else if (s == "always_off") {
      o.exemplar_filter = ExemplarFilter::kAlwaysOff;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "OTEL_METRICS_EXEMPLAR_FILTER: '", v, "' is not always_on, always_off or trace_based"));
    }
  }
  if (const char* v = Get("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION")) {
    const std::string s = absl::AsciiStrToLower(v);
    if (s == "explicit_bucket_histogram") {
      o.default_histogram_aggregation = AggregationKind::kExplicitBucketHistogram;
    } else if (s == "base2_exponential_bucket_histogram") {
      o.default_histogram_aggregation = AggregationKind::kBase2ExponentialHistogram;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: '", v,
                       "' is not explicit_bucket_histogram or base2_exponential_bucket_histogram"));
    }
  }
  return o;
}

absl::StatusOr<PeriodicReaderOptions> PeriodicReaderOptions::FromEnv() {
  PeriodicReaderOptions o;
  if (absl::Status st = ReadMillis("OTEL_METRIC_EXPORT_INTERVAL", &o.export_interval); !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadMillis("OTEL_METRIC_EXPORT_TIMEOUT", &o.export_timeout); !st.ok()) {
    return st;
  }
  if (const char* v = Get("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE")) {
    auto t = ParseTemporalityPreference(v);
    if (!t.ok()) return t.status();
    o.temporality = *t;
  }
  return o;
}

}  // namespace tracewire
