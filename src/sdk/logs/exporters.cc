// The log record exporters: OTLP/gRPC (through OtlpExporter::ExportLogs),
// a human-readable stream, no-op and in-memory.

#include <cinttypes>
#include <utility>
#include <variant>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sdk/console_text.h"
#include "absl/strings/str_join.h"
#include "tracewire/logs.h"
#include "tracewire/otlp_exporter.h"

namespace tracewire {
namespace {

using sdk::HexText;
using sdk::ValueText;

class OtlpLogRecordExporter : public LogRecordExporter {
 public:
  OtlpLogRecordExporter(std::unique_ptr<OtlpExporter> exporter, bool never_blocks)
      : exporter_(std::move(exporter)), never_blocks_(never_blocks) {}
  std::vector<SelfMetricPoint> SelfMetrics() const override {
    return ExporterSelfMetrics(ExportSignal::kLogs, exporter_->Stats());
  }
  bool ExportNeverBlocks() const override { return never_blocks_; }

  absl::Status Export(std::span<const UniqueLogRecord> records) override {
    // Group by (resource, scope): a batch holds a few scopes, in runs.
    groups_.clear();
    for (const UniqueLogRecord& r : records) {
      ScopedItems<LogRecordData>* g = nullptr;
      for (auto& candidate : groups_) {
        if (candidate.resource == r->resource && candidate.scope == r->scope) {
          g = &candidate;
          break;
        }
      }
      if (g == nullptr) {
        g = &groups_.emplace_back();
        g->resource = r->resource;
        g->scope = r->scope;
      }
      g->items.push_back(&r->data);
    }
    return exporter_->ExportLogs(groups_);
  }
  absl::Status ForceFlush(absl::Time deadline) override { return exporter_->ForceFlush(deadline); }
  absl::Status Shutdown(absl::Time deadline) override { return exporter_->Shutdown(deadline); }

 private:
  std::unique_ptr<OtlpExporter> exporter_;
  const bool never_blocks_;
  std::vector<ScopedItems<LogRecordData>> groups_;  // reused: Export runs one at a time
};



class StreamLogRecordExporter : public LogRecordExporter {
 public:
  explicit StreamLogRecordExporter(std::FILE* out) : out_(out) {}
  absl::Status Export(std::span<const UniqueLogRecord> records) override {
    for (const UniqueLogRecord& r : records) {
      const LogRecordData& d = r->data;
      std::string line = absl::StrCat(
          "log ", d.time_unix_nano, " ", d.observed_time_unix_nano, " sev=", d.severity_number,
          d.severity_text.empty() ? "" : absl::StrCat(" (", d.severity_text, ")"),
          " scope=", r->scope ? r->scope->name : "");
      if (!d.event_name.empty()) absl::StrAppend(&line, " event=", d.event_name);
      if (d.trace_id) absl::StrAppend(&line, " trace=", HexText(d.trace_id->data(), 16));
      if (d.span_id) absl::StrAppend(&line, " span=", HexText(d.span_id->data(), 8));
      if (d.body) absl::StrAppend(&line, " body=", ValueText(*d.body));
      for (const KeyValue& kv : d.attributes) {
        absl::StrAppend(&line, " ", kv.key, "=", ValueText(kv.value));
      }
      if (d.dropped_attributes_count > 0) {
        absl::StrAppend(&line, " dropped_attributes=", d.dropped_attributes_count);
      }
      line.push_back('\n');
      if (std::fwrite(line.data(), 1, line.size(), out_) != line.size()) {
        return absl::UnavailableError("log stream exporter: write failed");
      }
    }
    return std::fflush(out_) == 0 ? absl::OkStatus()
                                  : absl::UnavailableError("log stream exporter: flush failed");
  }

 private:
  std::FILE* out_;
};

class NoopLogRecordExporter : public LogRecordExporter {
 public:
  absl::Status Export(std::span<const UniqueLogRecord>) override { return absl::OkStatus(); }
  bool ExportNeverBlocks() const override { return true; }
};

}  // namespace

absl::StatusOr<std::unique_ptr<LogRecordExporter>> MakeOtlpLogRecordExporter(
    const OtlpExporterOptions& options) {
  absl::StatusOr<std::unique_ptr<OtlpExporter>> e =
      OtlpExporter::Create(ExportSignal::kLogs, options);
  if (!e.ok()) return e.status();
  return std::unique_ptr<LogRecordExporter>(
      new OtlpLogRecordExporter(std::move(*e), options.block_on_full <= absl::ZeroDuration()));
}

std::unique_ptr<LogRecordExporter> MakeStreamLogRecordExporter(std::FILE* out) {
  return std::make_unique<StreamLogRecordExporter>(out);
}

std::unique_ptr<LogRecordExporter> MakeNoopLogRecordExporter() {
  return std::make_unique<NoopLogRecordExporter>();
}

absl::Status InMemoryLogRecordExporter::Export(std::span<const UniqueLogRecord> records) {
  absl::MutexLock l(&mu_);
  for (const UniqueLogRecord& r : records) {
    records_.push_back(FinishedLogRecord{r->data, r->resource ? *r->resource : Resource{},
                                         r->scope ? *r->scope : InstrumentationScope{}});
  }
  return absl::OkStatus();
}

std::vector<InMemoryLogRecordExporter::FinishedLogRecord> InMemoryLogRecordExporter::records()
    const {
  absl::MutexLock l(&mu_);
  return records_;
}

void InMemoryLogRecordExporter::Clear() {
  absl::MutexLock l(&mu_);
  records_.clear();
}

}  // namespace tracewire
