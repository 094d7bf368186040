// FormatPrometheusText: the Prometheus text exposition format (0.0.4), the
// format tracewired serves on /metrics (src/common/self_metrics.cc), from a
// collection. Names and units follow the OpenTelemetry Prometheus
// compatibility rules, simplified: invalid characters become '_', the unit
// (with "1" and {annotations} left out) is appended, and monotonic sums end
// in _total.

#include <cmath>

#include "absl/strings/str_cat.h"
#include "tracewire/metric_reader.h"

namespace tracewire {
namespace {

std::string Sanitize(std::string_view s, bool label) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (!label && c == ':');
    out.push_back(ok ? c : '_');
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

std::string UnitSuffix(std::string_view unit) {
  if (unit.empty() || unit == "1" || unit.front() == '{') return "";
  if (unit == "s") return "seconds";
  if (unit == "ms") return "milliseconds";
  if (unit == "By") return "bytes";
  return Sanitize(unit, true);
}

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string LabelValueText(const AnyValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using V = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<V, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<V, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<V, int64_t> || std::is_same_v<V, double>) {
          return absl::StrCat(x);
        } else {
          return "";
        }
      },
      v.value);
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrCat(v);
}
std::string Number(const std::variant<double, int64_t>& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return absl::StrCat(*i);
  return Number(std::get<double>(v));
}

std::string Labels(const std::string& base, const Attributes& attrs, std::string_view extra = {}) {
  std::string out = base;
  for (const KeyValue& kv : attrs) {
    if (!out.empty()) out += ",";
    absl::StrAppend(&out, Sanitize(kv.key, true), "=\"", Escape(LabelValueText(kv.value)), "\"");
  }
  if (!extra.empty()) {
    if (!out.empty()) out += ",";
    out += extra;
  }
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

void Family(std::string* out, const std::string& name, const char* type, const std::string& help) {
  absl::StrAppend(out, "# HELP ", name, " ", help.empty() ? name : Escape(help), "\n# TYPE ", name,
                  " ", type, "\n");
}

}  // namespace

std::string FormatPrometheusText(const ResourceMetrics& metrics) {
  std::string base;
  for (const KeyValue& kv : metrics.resource.attributes) {
    if (kv.key == "service.name") base = absl::StrCat("job=\"", Escape(LabelValueText(kv.value)), "\"");
  }
  std::string out;
  for (const ScopeMetrics& sm : metrics.scope_metrics) {
    for (const MetricData& m : sm.metrics) {
      std::string name = Sanitize(m.name, false);
      const std::string unit = UnitSuffix(m.unit);
      if (!unit.empty() && !name.ends_with("_" + unit)) name += "_" + unit;
      if (const auto* sum = std::get_if<Sum>(&m.data)) {
        if (sum->is_monotonic && !name.ends_with("_total")) name += "_total";
        Family(&out, name, sum->is_monotonic ? "counter" : "gauge", m.description);
        for (const auto& p : sum->data_points) {
          absl::StrAppend(&out, name, Labels(base, p.attributes), " ", Number(p.value), "\n");
        }
      } else if (const auto* g = std::get_if<tracewire::Gauge>(&m.data)) {
        Family(&out, name, "gauge", m.description);
        for (const auto& p : g->data_points) {
          absl::StrAppend(&out, name, Labels(base, p.attributes), " ", Number(p.value), "\n");
        }
      } else if (const auto* h = std::get_if<tracewire::Histogram>(&m.data)) {
        Family(&out, name, "histogram", m.description);
        for (const auto& p : h->data_points) {
          uint64_t cum = 0;
          for (size_t i = 0; i < p.bucket_counts.size(); ++i) {
            cum += p.bucket_counts[i];
            const std::string le =
                i < p.explicit_bounds.size() ? Number(p.explicit_bounds[i]) : std::string("+Inf");
            absl::StrAppend(&out, name, "_bucket",
                            Labels(base, p.attributes, absl::StrCat("le=\"", le, "\"")), " ", cum,
                            "\n");
          }
          absl::StrAppend(&out, name, "_sum", Labels(base, p.attributes), " ",
                          Number(p.sum.value_or(0)), "\n");
          absl::StrAppend(&out, name, "_count", Labels(base, p.attributes), " ", p.count, "\n");
        }
      } else if (const auto* e = std::get_if<ExponentialHistogram>(&m.data)) {
        // The text format has no native histograms: count and sum only.
        Family(&out, name, "summary", m.description);
        for (const auto& p : e->data_points) {
          absl::StrAppend(&out, name, "_sum", Labels(base, p.attributes), " ",
                          Number(p.sum.value_or(0)), "\n");
          absl::StrAppend(&out, name, "_count", Labels(base, p.attributes), " ", p.count, "\n");
        }
      }
    }
  }
  return out;
}

}  // namespace tracewire
