#pragma once
// The SpanExporter interface and the SDK's exporters: OTLP/gRPC (encodes
// straight to wire bytes and sends with tracewire::OtlpExporter), in-memory
// (tests), a human-readable stream (debugging) and no-op (benchmarks).
//
// Thread safety: a processor calls its exporter's Export from one thread at
// a time, but not always from the same thread: the batch processor's export
// thread, or an application thread inside Span::End when ending threads
// export (BatchSpanProcessorOptions::ending_threads_export, export_when_full),
// or, with the simple processor, every thread that ends a span (one at a
// time). Calls are ordered (each Export returns before the next begins), so
// an exporter needs no lock of its own for Export, but must not keep
// thread-local state between calls. ForceFlush may run on the thread that
// flushes the processor while an Export runs on another; Shutdown is called
// once, after the processor's last Export returned. InMemorySpanExporter's
// accessors are thread-safe.

#include <cstdio>
#include <memory>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tracewire/export.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/self_metric.h"
#include "tracewire/trace.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Called by one thread at a time (see the top of this file).
  [[nodiscard]] virtual absl::Status Export(std::span<const SpanRef> spans) = 0;
  [[nodiscard]] virtual absl::Status ForceFlush(absl::Time deadline) { return absl::OkStatus(); }
  [[nodiscard]] virtual absl::Status Shutdown(absl::Time deadline) { return absl::OkStatus(); }
  // True when Export returns without waiting for I/O, a slow lock or another
  // thread: it encodes and queues (the OTLP exporter), keeps the spans in
  // memory, or does nothing. Only for such an exporter does a batch
  // processor let the threads that end spans export while the cores are busy
  // (BatchSpanProcessorOptions::ending_threads_export). Who overrides it: a
  // user exporter that never blocks (and is cheap enough to run inside
  // Span::End) returns true; the default, false, keeps Export on the
  // processor's export thread (except export_when_full).
  virtual bool ExportNeverBlocks() const { return false; }
  // The component's own telemetry (self_metric.h), read at any time from
  // any thread; the SDK reports it through the metrics SDK
  // (self_telemetry.h). Empty by default.
  virtual std::vector<SelfMetricPoint> SelfMetrics() const { return {}; }
};

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

TRACEWIRE_END_API

}  // namespace tracewire
