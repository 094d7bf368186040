// The OTLP and console metric exporters.

#include <cinttypes>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tracewire/metric_reader.h"
#include "tracewire/otlp_exporter.h"

namespace tracewire {
namespace {

class OtlpMetricExporter : public MetricExporter {
 public:
  explicit OtlpMetricExporter(std::unique_ptr<OtlpExporter> e) : exporter_(std::move(e)) {}
  std::vector<SelfMetricPoint> SelfMetrics() const override {
    return ExporterSelfMetrics(ExportSignal::kMetrics, exporter_->Stats());
  }
  absl::Status Export(const ResourceMetrics& m) override {
    std::vector<ScopedItems<MetricData>> groups;
    groups.reserve(m.scope_metrics.size());
    for (const ScopeMetrics& sm : m.scope_metrics) {
      ScopedItems<MetricData> g;
      g.resource = &m.resource;
      g.scope = &sm.scope;
      for (const MetricData& d : sm.metrics) g.items.push_back(&d);
      groups.push_back(std::move(g));
    }
    if (groups.empty()) return absl::OkStatus();
    return exporter_->ExportMetrics(groups);
  }
  absl::Status ForceFlush(absl::Time deadline) override { return exporter_->ForceFlush(deadline); }
  absl::Status Shutdown(absl::Time deadline) override { return exporter_->Shutdown(deadline); }

 private:
  std::unique_ptr<OtlpExporter> exporter_;
};

std::string AttrText(const Attributes& attrs) {
  return absl::StrJoin(attrs, ",", [](std::string* out, const KeyValue& kv) {
    absl::StrAppend(out, kv.key, "=");
    std::visit(
        [out](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) {
            absl::StrAppend(out, v);
          } else if constexpr (std::is_same_v<V, bool>) {
            absl::StrAppend(out, v ? "true" : "false");
          } else if constexpr (std::is_same_v<V, int64_t> || std::is_same_v<V, double>) {
            absl::StrAppend(out, v);
          } else {
            absl::StrAppend(out, "<complex>");
          }
        },
        kv.value.value);
  });
}

std::string NumberText(const std::variant<double, int64_t>& v) {
  return std::visit([](auto x) { return absl::StrCat(x); }, v);
}

class ConsoleMetricExporter : public MetricExporter {
 public:
  explicit ConsoleMetricExporter(std::FILE* out) : out_(out) {}
  absl::Status Export(const ResourceMetrics& m) override {
    std::string s;
    for (const ScopeMetrics& sm : m.scope_metrics) {
      for (const MetricData& d : sm.metrics) {
        const std::string head = absl::StrCat(
            sm.scope.name, " ", d.name, d.unit.empty() ? "" : absl::StrCat(" [", d.unit, "]"));
        if (const auto* sum = std::get_if<Sum>(&d.data)) {
          for (const auto& p : sum->data_points) {
            absl::StrAppend(&s, head, " sum{", AttrText(p.attributes), "} ", NumberText(p.value),
                            "\n");
          }
        } else if (const auto* g = std::get_if<tracewire::Gauge>(&d.data)) {
          for (const auto& p : g->data_points) {
            absl::StrAppend(&s, head, " gauge{", AttrText(p.attributes), "} ", NumberText(p.value),
                            "\n");
          }
        } else if (const auto* h = std::get_if<tracewire::Histogram>(&d.data)) {
          for (const auto& p : h->data_points) {
            absl::StrAppend(&s, head, " histogram{", AttrText(p.attributes), "} count=", p.count,
                            " sum=", p.sum.value_or(0), " buckets=[",
                            absl::StrJoin(p.bucket_counts, ","), "]\n");
          }
        } else if (const auto* e = std::get_if<ExponentialHistogram>(&d.data)) {
          for (const auto& p : e->data_points) {
            absl::StrAppend(&s, head, " exponential_histogram{", AttrText(p.attributes),
                            "} count=", p.count, " sum=", p.sum.value_or(0), " scale=", p.scale,
                            "\n");
          }
        }
      }
    }
    std::fputs(s.c_str(), out_);
    std::fflush(out_);
    return absl::OkStatus();
  }

 private:
  std::FILE* out_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetricExporter>> MakeOtlpMetricExporter(
    const OtlpExporterOptions& options) {
  auto e = OtlpExporter::Create(ExportSignal::kMetrics, options);
  if (!e.ok()) return e.status();
  return std::unique_ptr<MetricExporter>(new OtlpMetricExporter(std::move(*e)));
}

std::unique_ptr<MetricExporter> MakeConsoleMetricExporter(std::FILE* out) {
  return std::make_unique<ConsoleMetricExporter>(out);
}

}  // namespace tracewire
