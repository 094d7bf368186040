// Span exporters and the simple processor: in-memory (tests), stream
// (debugging) and OTLP/gRPC (through tracewire::OtlpExporter).

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "sdk/console_text.h"
#include "absl/strings/str_format.h"
#include "exporter/otlp_exporter_internal.h"
#include "sdk/trace/record_encoder.h"
#include "sdk/trace/span_record.h"
#include "sdk/trace/span_ref_access.h"
#include "tracewire/span_exporter.h"
#include "wire/otlp_encoder.h"

namespace tracewire {
namespace {

using sdk::HexText;
using sdk::ValueText;

class SimpleSpanProcessor : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> e) : exporter_(std::move(e)) {}
  void OnEnd(SpanRef span) override {
    if (!(span.flags() & kTraceFlagSampled)) return;  // recorded only: not exported
    absl::MutexLock l(&mu_);                          // Exporters are called one at a time.
    if (shut_down_) return;
    (void)exporter_->Export(std::span<const SpanRef>(&span, 1));
  }
  absl::Status ForceFlush(absl::Time deadline) override { return exporter_->ForceFlush(deadline); }
  absl::Status Shutdown(absl::Time deadline) override {
    {
      absl::MutexLock l(&mu_);
      if (shut_down_) return absl::OkStatus();
      shut_down_ = true;
    }
    return exporter_->Shutdown(deadline);
  }

 private:
  absl::Mutex mu_;
  const std::unique_ptr<SpanExporter> exporter_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};



class StreamSpanExporter : public SpanExporter {
 public:
  explicit StreamSpanExporter(std::FILE* out) : out_(out) {}
  absl::Status Export(std::span<const SpanRef> spans) override {
    static const char* const kKinds[] = {"UNSPECIFIED", "INTERNAL", "SERVER",
                                         "CLIENT",      "PRODUCER", "CONSUMER"};
    static const char* const kStatus[] = {"UNSET", "OK", "ERROR"};
    for (const SpanRef& r : spans) {
      const SpanData& d = r.data();
      std::string s = absl::StrFormat(
          "span %s trace=%s id=%s parent=%s kind=%s scope=%s duration_us=%d status=%s%s\n", d.name,
          HexText(d.trace_id.data(), 16), HexText(d.span_id.data(), 8),
          d.parent_span_id ? HexText(d.parent_span_id->data(), 8) : "-",
          kKinds[static_cast<int>(d.kind)], r.scope().name,
          (d.end_time_unix_nano - d.start_time_unix_nano) / 1000,
          kStatus[static_cast<int>(d.status_code)],
          d.status_message.empty() ? "" : " (" + d.status_message + ")");
      for (const auto& kv : d.attributes) {
        absl::StrAppend(&s, "  ", kv.key, " = ", ValueText(kv.value), "\n");
      }
      for (const auto& e : d.events) absl::StrAppend(&s, "  event ", e.name, "\n");
      for (const auto& l : d.links) {
        absl::StrAppend(&s, "  link ", HexText(l.trace_id.data(), 16), "/", HexText(l.span_id.data(), 8),
                        "\n");
      }
      std::fputs(s.c_str(), out_);
    }
    std::fflush(out_);
    return absl::OkStatus();
  }

 private:
  std::FILE* out_;
};

class OtlpSpanExporter : public SpanExporter {
 public:
  OtlpSpanExporter(std::unique_ptr<OtlpExporter> e, bool never_blocks)
      : exporter_(std::move(e)), never_blocks_(never_blocks) {}
  std::vector<SelfMetricPoint> SelfMetrics() const override {
    return ExporterSelfMetrics(ExportSignal::kTraces, exporter_->Stats());
  }
  absl::Status Export(std::span<const SpanRef> spans) override {
    // Each span's record is encoded straight to its Span message, into one
    // buffer reused from batch to batch; then the messages are grouped by
    // (resource, scope), as spans of one provider share the resource.
    buffer_.Clear();
    ends_.clear();
    for (const SpanRef& r : spans) {
      encoder_.Append(*sdk::SpanRefAccess::Get(r), &buffer_);
      ends_.push_back(buffer_.size());
    }
    messages_.resize(spans.size());
    groups_.clear();
    size_t begin = 0;
    for (size_t i = 0; i < spans.size(); ++i) {
      messages_[i].message = std::string_view(buffer_.data() + begin, ends_[i] - begin);
      begin = ends_[i];
      const Resource* res = &spans[i].resource();
      const InstrumentationScope* scope = &spans[i].scope();
      ScopedItems<wire::EncodedSpan>* g = nullptr;
      for (auto& x : groups_) {
        if (x.resource == res && x.scope == scope) {
          g = &x;
          break;
        }
      }
      if (g == nullptr) g = &groups_.emplace_back(ScopedItems<wire::EncodedSpan>{res, scope, {}});
      g->items.push_back(&messages_[i]);
    }
    return exporter::OtlpExporterAccess::ExportSpans(*exporter_, groups_);
  }
  // Encodes and queues the request; a full queue drops it (counted), unless
  // options.block_on_full makes Export wait for room.
  bool ExportNeverBlocks() const override { return never_blocks_; }
  absl::Status ForceFlush(absl::Time deadline) override { return exporter_->ForceFlush(deadline); }
  absl::Status Shutdown(absl::Time deadline) override { return exporter_->Shutdown(deadline); }

 private:
  std::unique_ptr<OtlpExporter> exporter_;
  const bool never_blocks_;
  // Reused between batches.
  sdk::RecordEncoder encoder_;
  sdk::ByteBuf buffer_;
  std::vector<size_t> ends_;
  std::vector<wire::EncodedSpan> messages_;
  std::vector<ScopedItems<wire::EncodedSpan>> groups_;
};

}  // namespace

std::unique_ptr<SpanProcessor> MakeSimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter) {
  return std::make_unique<SimpleSpanProcessor>(std::move(exporter));
}

absl::Status InMemorySpanExporter::Export(std::span<const SpanRef> spans) {
  absl::MutexLock l(&mu_);
  for (const SpanRef& r : spans) {
    FinishedSpan f;
    f.data = r.data();
    f.resource = r.resource();
    f.scope = r.scope();
    spans_.push_back(std::move(f));
  }
  return absl::OkStatus();
}

std::vector<InMemorySpanExporter::FinishedSpan> InMemorySpanExporter::spans() const {
  absl::MutexLock l(&mu_);
  return spans_;
}

void InMemorySpanExporter::Clear() {
  absl::MutexLock l(&mu_);
  spans_.clear();
}

std::unique_ptr<SpanExporter> MakeStreamSpanExporter(std::FILE* out) {
  return std::make_unique<StreamSpanExporter>(out);
}

absl::StatusOr<std::unique_ptr<SpanExporter>> MakeOtlpSpanExporter(
    const OtlpExporterOptions& options) {
  auto e = OtlpExporter::Create(ExportSignal::kTraces, options);
  if (!e.ok()) return e.status();
  return std::unique_ptr<SpanExporter>(
      new OtlpSpanExporter(std::move(*e), options.block_on_full <= absl::ZeroDuration()));
}

std::unique_ptr<SpanExporter> MakeNoopSpanExporter() {
  struct Noop : SpanExporter {
    absl::Status Export(std::span<const SpanRef>) override { return absl::OkStatus(); }
    bool ExportNeverBlocks() const override { return true; }
  };
  return std::make_unique<Noop>();
}

}  // namespace tracewire
