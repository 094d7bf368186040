// EnableSdkSelfMetrics: the SelfMetrics() points of the providers as
// observable instruments (tracewire/self_telemetry.h).

#include "tracewire/self_telemetry.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "sdk/metrics/meter_provider_state.h"
#include "tracewire/version.h"

namespace tracewire {
namespace {

struct Entry {
  const char* name;
  const char* unit;
  bool monotonic;  // counter; else up-down counter
  bool is_double;
  bool histogram = false;  // an observable histogram (the points carry one)
};

// Every name the SDK's components report (self_metric.h). A point whose name
// is not here is not reported (SdkSelfMetrics tests keep the two in step).
constexpr Entry kCatalog[] = {
    {"otel.sdk.span.started", "{span}", true, false},
    {"otel.sdk.span.live", "{span}", false, false},
    {"otel.sdk.processor.span.processed", "{span}", true, false},
    {"otel.sdk.processor.span.queue.size", "{span}", false, false},
    {"otel.sdk.processor.span.queue.capacity", "{span}", false, false},
    {"otel.sdk.processor.log.processed", "{log_record}", true, false},
    {"otel.sdk.processor.log.queue.size", "{log_record}", false, false},
    {"otel.sdk.processor.log.queue.capacity", "{log_record}", false, false},
    {"otel.sdk.exporter.span.exported", "{span}", true, false},
    {"otel.sdk.exporter.span.inflight", "{span}", false, false},
    {"otel.sdk.exporter.metric_data_point.exported", "{metric_data_point}", true, false},
    {"otel.sdk.exporter.metric_data_point.inflight", "{metric_data_point}", false, false},
    {"otel.sdk.exporter.log.exported", "{log}", true, false},
    {"otel.sdk.exporter.log.inflight", "{log}", false, false},
    {"otel.sdk.exporter.operation.duration", "s", true, true, true},
    {"grpc.client.requests.total", "{request}", true, false},
    {"grpc.client.request.duration.sum", "s", true, true},
    {"grpc.client.errors.total", "{error}", true, false},
    {"tracewire.exporter.retries", "{attempt}", true, false},
    {"tracewire.exporter.bytes_sent", "By", true, false},
    {"tracewire.exporter.queue.items", "{item}", false, false},
    {"tracewire.exporter.breaker.open", "1", false, false},
};

// What the callbacks share: the providers, held weakly.
struct Sources {
  MeterProvider* meters;  // owns the callbacks, so outlives them
  std::weak_ptr<TracerProvider> traces;
  std::weak_ptr<LoggerProvider> logs;

  std::vector<SelfMetricPoint> Points() const {
    std::vector<SelfMetricPoint> out = meters->SelfMetrics();
    auto append = [&out](std::vector<SelfMetricPoint> more) {
      out.insert(out.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    };
    if (auto t = traces.lock()) append(t->SelfMetrics());
    if (auto l = logs.lock()) append(l->SelfMetrics());
    return out;
  }
};

// Attribute values are strings in SelfMetricPoint; the semantic conventions
// make these integers.
AnyValue AttributeValue(const std::string& key, const std::string& value) {
  if (key == "rpc.grpc.status_code") {
    int64_t n;
    if (absl::SimpleAtoi(value, &n)) return AnyValue{n};
  }
  return AnyValue{value};
}

Attributes ToAttributes(const std::map<std::string, std::string>& attrs) {
  Attributes a;
  a.reserve(attrs.size());
  for (const auto& [k, v] : attrs) a.push_back({k, AttributeValue(k, v)});
  return a;
}

void Observe(const Sources& sources, const Entry& entry, ObserverResult& result) {
  if (entry.histogram) {
    // Several components' histograms of the same attributes merge in the
    // storage.
    for (const SelfMetricPoint& p : sources.Points()) {
      if (p.name == entry.name && p.histogram.has_value()) {
        sdk::ObservableInstrument::DeliverHistogram(result, *p.histogram,
                                                    ToAttributes(p.attributes));
      }
    }
    return;
  }
  // Same name and attributes from several components: one sum.
  std::map<std::map<std::string, std::string>, double> sums;
  for (SelfMetricPoint& p : sources.Points()) {
    if (p.name == entry.name) sums[std::move(p.attributes)] += p.value;
  }
  for (const auto& [attrs, value] : sums) {
    const Attributes a = ToAttributes(attrs);
    if (entry.is_double) {
      result.Observe(value, a);
    } else {
      result.Observe(static_cast<int64_t>(value), a);
    }
  }
}

}  // namespace

void EnableSdkSelfMetrics(MeterProvider& meters, std::weak_ptr<TracerProvider> traces,
                          std::weak_ptr<LoggerProvider> logs) {
  auto sources =
      std::make_shared<const Sources>(Sources{&meters, std::move(traces), std::move(logs)});
  Meter* meter = meters.GetMeter("tracewire.sdk", TRACEWIRE_VERSION_STRING);
  for (const Entry& e : kCatalog) {
    ObservableCallback cb = [sources, &e](ObserverResult& r) { Observe(*sources, e, r); };
    if (e.histogram) {
      sdk::MeterAccess::CreateObservableHistogram(*meter, e.name, std::move(cb), e.unit);
    } else if (e.monotonic && e.is_double) {
      meter->CreateDoubleObservableCounter(e.name, std::move(cb), e.unit);
    } else if (e.monotonic) {
      meter->CreateInt64ObservableCounter(e.name, std::move(cb), e.unit);
    } else if (e.is_double) {
      meter->CreateDoubleObservableUpDownCounter(e.name, std::move(cb), e.unit);
    } else {
      meter->CreateInt64ObservableUpDownCounter(e.name, std::move(cb), e.unit);
    }
  }
}

}  // namespace tracewire
