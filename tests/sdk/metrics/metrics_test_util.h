#pragma once
// Helpers for the metrics SDK's tests: a provider with a manual reader, and
// look-ups into a collection. Thread-compatible.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tracewire/metrics.h"

namespace tracewire::testing {

struct ManualProvider {
  std::unique_ptr<MeterProvider> provider;
  ManualMetricReader* reader = nullptr;
  Meter* meter = nullptr;
};

inline ManualProvider MakeManualProvider(
    MeterProviderOptions options = {},
    TemporalityPreference t = TemporalityPreference::kCumulative) {
  ManualProvider p;
  auto reader = std::make_unique<ManualMetricReader>(t);
  p.reader = reader.get();
  options.readers.push_back(std::move(reader));
  auto provider = MeterProvider::Create(std::move(options));
  EXPECT_TRUE(provider.ok()) << provider.status();
  if (!provider.ok()) return p;
  p.provider = std::move(*provider);
  p.meter = p.provider->GetMeter("test.meter", "1.0");
  return p;
}

inline ResourceMetrics CollectOrDie(MetricReader* r) {
  auto m = r->Collect();
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : ResourceMetrics{};
}

// The metric named `name`, or null.
inline const MetricData* FindMetric(const ResourceMetrics& rm, std::string_view name) {
  for (const auto& sm : rm.scope_metrics) {
    for (const auto& m : sm.metrics) {
      if (m.name == name) return &m;
    }
  }
  return nullptr;
}

// The attribute `key` of a point as a string ("" when absent).
inline std::string AttrString(const Attributes& attrs, std::string_view key) {
  for (const auto& kv : attrs) {
    if (kv.key != key) continue;
    if (const auto* s = std::get_if<std::string>(&kv.value.value)) return *s;
    if (const auto* b = std::get_if<bool>(&kv.value.value)) return *b ? "true" : "false";
    if (const auto* i = std::get_if<int64_t>(&kv.value.value)) return std::to_string(*i);
  }
  return "";
}

}  // namespace tracewire::testing
