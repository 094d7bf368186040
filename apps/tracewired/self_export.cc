#include "self_export.h"

#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "tracewire/metric_reader.h"
#include "tracewire/version.h"

namespace tracewire::apps {
namespace {

// A parsed exposition: sample lines by family, with the family's type.
struct ExpositionSample {
  std::string family;
  Attributes labels;
  double value = 0;
};
struct ExpositionFamily {
  std::string name;
  bool counter = false;  // TYPE counter; else gauge
};

// Parses the text format as RenderPrometheus writes it (labels without
// escaped quotes); lines it cannot read are skipped.
void ParseExposition(const std::string& text, std::vector<ExpositionFamily>* families,
                     std::vector<ExpositionSample>* samples) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::vector<absl::string_view> f = absl::StrSplit(line.substr(7), ' ');
      if (f.size() == 2) families->push_back({std::string(f[0]), f[1] == "counter"});
      continue;
    }
    if (line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) continue;
    ExpositionSample s;
    absl::string_view head = line.substr(0, space);
    const std::string value(line.substr(space + 1));
    char* end = nullptr;
    s.value = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    const size_t brace = head.find('{');
    if (brace == absl::string_view::npos) {
      s.family = std::string(head);
    } else {
      if (head.back() != '}') continue;
      s.family = std::string(head.substr(0, brace));
      absl::string_view labels = head.substr(brace + 1, head.size() - brace - 2);
      for (absl::string_view kv : absl::StrSplit(labels, "\",", absl::SkipEmpty())) {
        const size_t eq = kv.find("=\"");
        if (eq == absl::string_view::npos) continue;
        absl::string_view v = kv.substr(eq + 2);
        if (!v.empty() && v.back() == '"') v.remove_suffix(1);
        s.labels.push_back({std::string(kv.substr(0, eq)), AnyValue{std::string(v)}});
      }
    }
    samples->push_back(std::move(s));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SelfExport>> SelfExport::Start(
    const common::ReceiverMetrics* metrics, const std::string& endpoint, absl::Duration interval) {
  OtlpExporterOptions eo;
  eo.endpoint = endpoint;
  absl::StatusOr<std::unique_ptr<MetricExporter>> exporter = MakeOtlpMetricExporter(eo);
  if (!exporter.ok()) return exporter.status();
  PeriodicReaderOptions ro;
  ro.export_interval = interval;
  ro.export_timeout = std::min(interval, absl::Seconds(30));
  MeterProviderOptions mo;
  mo.resource.attributes.push_back({"service.name", std::string("tracewired")});
  mo.resource.attributes.push_back({"service.version", std::string(TRACEWIRE_VERSION_STRING)});
  mo.readers.push_back(PeriodicExportingMetricReader::Create(std::move(*exporter), ro));
  absl::StatusOr<std::unique_ptr<MeterProvider>> provider = MeterProvider::Create(std::move(mo));
  if (!provider.ok()) return provider.status();
  auto self = std::unique_ptr<SelfExport>(new SelfExport());
  self->provider_ = std::move(*provider);
  Meter* meter = self->provider_->GetMeter("tracewired", TRACEWIRE_VERSION_STRING);
  std::vector<ExpositionFamily> families;
  std::vector<ExpositionSample> unused;
  ParseExposition(metrics->RenderPrometheus(), &families, &unused);
  for (const ExpositionFamily& f : families) {
    ObservableCallback cb = [metrics, name = f.name](ObserverResult& r) {
      std::vector<ExpositionFamily> fs;
      std::vector<ExpositionSample> samples;
      ParseExposition(metrics->RenderPrometheus(), &fs, &samples);
      for (const ExpositionSample& s : samples) {
        if (s.family == name) r.Observe(static_cast<int64_t>(s.value), s.labels);
      }
    };
    if (f.counter) {
      meter->CreateInt64ObservableCounter(f.name, std::move(cb));
    } else {
      meter->CreateInt64ObservableUpDownCounter(f.name, std::move(cb));
    }
  }
  return self;
}

absl::Status SelfExport::Shutdown(absl::Time deadline) { return provider_->Shutdown(deadline); }

}  // namespace tracewire::apps
