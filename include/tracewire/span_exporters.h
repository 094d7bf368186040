#pragma once
// Span exporters: OTLP/gRPC (encodes straight to wire bytes and sends with
// tracewire::OtlpExporter), in-memory (tests), a human-readable stream
// (debugging) and no-op (benchmarks).
//
// Each is called by one processor thread at a time; InMemorySpanExporter's
// accessors are thread-safe.

#include <cstdio>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tracewire/otlp_exporter.h"
#include "tracewire/trace.h"

namespace tracewire {

absl::StatusOr<std::unique_ptr<SpanExporter>> MakeOtlpSpanExporter(
    const OtlpExporterOptions& options);
std::unique_ptr<SpanExporter> MakeStreamSpanExporter(std::FILE* out = stdout);
std::unique_ptr<SpanExporter> MakeNoopSpanExporter();

// Keeps copies of every exported span.
class InMemorySpanExporter : public SpanExporter {
 public:
  struct FinishedSpan {
    SpanData data;
    Resource resource;
    InstrumentationScope scope;
  };
  absl::Status Export(std::span<const SpanRef> spans) override;
  bool ExportNeverBlocks() const override { return true; }
  std::vector<FinishedSpan> spans() const;
  void Clear();

 private:
  mutable absl::Mutex mu_;
  std::vector<FinishedSpan> spans_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracewire
