#pragma once
// Span processors: what a TracerProvider hands each span to when it starts
// and ends (TracerProviderOptions::processors). The simple processor exports
// each span as it ends; the batch processor queues them and exports batches.
//
// Thread safety: a provider calls its processors' OnStart and OnEnd from
// every thread that starts or ends a span, concurrently, so an
// implementation must be thread-safe; OnEnd must not block. ForceFlush and
// Shutdown may be called from any thread. The processors here are
// thread-safe. Each calls its SpanExporter's Export from one thread at a
// time, but not always the same thread (span_exporter.h): the simple
// processor from the thread that ends the span; the batch processor from its
// export thread, or from an application thread in Span::End
// (BatchSpanProcessorOptions::ending_threads_export and export_when_full).
//
// SpanProcessor's methods take the Span and SpanRef of trace.h (which
// includes this header): an implementation includes trace.h.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracewire/context.h"
#include "tracewire/export.h"
#include "tracewire/self_metric.h"

namespace tracewire {

namespace sdk {
struct BatchSpanProcessorAccess;
}  // namespace sdk
TRACEWIRE_BEGIN_API

class Span;
class SpanExporter;
class SpanRef;

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // The span has started: a processor may set attributes on it.
  virtual void OnStart(Span& span, const Context& parent) {}
  // Called on the thread that ends the span; must not block.
  virtual void OnEnd(SpanRef span) = 0;
  [[nodiscard]] virtual absl::Status ForceFlush(absl::Time deadline) = 0;
  [[nodiscard]] virtual absl::Status Shutdown(absl::Time deadline) = 0;
  // The component's own telemetry (self_metric.h), read at any time from
  // any thread; the SDK reports it through the metrics SDK
  // (self_telemetry.h). Empty by default.
  virtual std::vector<SelfMetricPoint> SelfMetrics() const { return {}; }
};

// Exports each span as it ends, on the ending thread (tests, debugging).
std::unique_ptr<SpanProcessor> MakeSimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter);

struct BatchSpanProcessorOptions {
  int64_t max_queue_size = 2048;
  int64_t max_export_batch_size = 512;
  absl::Duration schedule_delay = absl::Milliseconds(5000);
  absl::Duration export_timeout = absl::Milliseconds(30000);
  // A thread that ends a span and finds the queue full while no export is
  // running (the export thread is starved of CPU, or its core was taken
  // from the machine) exports a batch itself instead of dropping the span.
  // While another thread exports, it yields its core and tries again, and
  // drops (counted) only once no span has been exported for
  // export_when_full_patience: with more threads ending spans than cores,
  // the thread exporting is often off its core for milliseconds.
  // Who sets it: an application with an exporter whose Export may block
  // (I/O, a lock) turns it off, so that Span::End never runs Export nor
  // waits, and a full queue drops instead. The OTLP exporter's Export does
  // not block (it encodes and queues): leave it on.
  bool export_when_full = true;
  absl::Duration export_when_full_patience = absl::Milliseconds(50);
  // Whether a thread that ends a span exports a batch itself when it finds
  // one queued (its Span::End then runs the exporter's Export), instead of
  // leaving it to the export thread.
  //
  // kWhenCoresBusy: only for an exporter whose ExportNeverBlocks(), and only
  // while the process leaves less than a quarter of a core spare, until it
  // leaves more than three quarters (the export thread measures this every
  // 100 ms while spans arrive: the process's CPU time against the cores of
  // its affinity mask; CPU quotas and other processes are not seen). Then
  // no core is idle for the export thread: waking it takes a core from a
  // thread ending spans, costs two context switches, and moves the queue's
  // cache lines between cores (2 threads ending spans on 2 cores made ×1.28
  // the spans per second this way). While a core is idle, the export thread
  // uses it, and the ending threads do not pay for the export.
  // kAlways: whatever the exporter and the cores (tests that want exports
  // on the ending thread). kNever: only the export thread (and
  // export_when_full).
  //
  // Who sets it: an application that wants no export work on its own
  // threads (latency-sensitive request threads) sets kNever, and turns off
  // export_when_full too; the default suits the others.
  //
  // Needs export_when_full. A thread that finds another exporting does not
  // wait: the batch it took waits (counted in the queue's size) for its next
  // look or for the export thread. The export thread still exports a full
  // batch that no ending thread took within 100 ms, and at the high water
  // mark.
  enum class EndingThreadsExport { kWhenCoresBusy, kNever, kAlways };
  EndingThreadsExport ending_threads_export = EndingThreadsExport::kWhenCoresBusy;
  // From OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
  // OTEL_BSP_SCHEDULE_DELAY and OTEL_BSP_EXPORT_TIMEOUT (milliseconds).
  static absl::StatusOr<BatchSpanProcessorOptions> FromEnv();
};

struct BatchSpanProcessorStats {
  int64_t processed = 0;           // spans handed to the exporter
  int64_t dropped_queue_full = 0;  // otel.sdk.processor.span.processed{error.type=queue_full}
  int64_t export_failures = 0;     // spans in batches the exporter failed
  int64_t exported_when_full = 0;  // of `processed`: by ending threads (export_when_full)
  // Of `processed`: by ending threads that found a batch queued
  // (ending_threads_export).
  int64_t exported_on_ending_threads = 0;
  // Of `dropped_queue_full`: found the exporter in use by another thread, so
  // the ending thread could not export a batch to make room. The others found
  // nothing to take (cells claimed by a consumer not done with them), or
  // export_when_full off, or the processor shut down.
  int64_t dropped_export_busy = 0;
  int64_t queue_size = 0;
  int64_t queue_capacity = 0;
};

// The statistics as semantic-convention points
// (otel.sdk.processor.span.processed{error.type=queue_full}, queue size and capacity).
std::vector<SelfMetricPoint> BatchSpanProcessorSelfMetrics(const BatchSpanProcessorStats& stats);

// Queues ended spans (lock-free; full: drop and count) and exports them in
// batches of at most max_export_batch_size from its own thread, when a batch
// is full or the schedule delay has passed; ForceFlush and Shutdown export in
// batches too. The span-end path takes no lock in the common case and wakes
// the thread once per batch or less, not per span. A full queue: see
// export_when_full.
class BatchSpanProcessor : public SpanProcessor {
 public:
  // Starts the export thread.
  static std::unique_ptr<BatchSpanProcessor> Create(std::unique_ptr<SpanExporter> exporter,
                                                    BatchSpanProcessorOptions options = {});
  ~BatchSpanProcessor() override;
  void OnEnd(SpanRef span) override;
  // Waits until what was queued before the call is exported, then calls the
  // exporter's ForceFlush on the calling thread.
  absl::Status ForceFlush(absl::Time deadline) override;
  // Exports what is queued, by the deadline; a hung exporter cannot hold it
  // past the deadline.
  absl::Status Shutdown(absl::Time deadline) override;
  BatchSpanProcessorStats Stats() const;
  // BatchSpanProcessorSelfMetrics(Stats()) and the exporter's.
  std::vector<SelfMetricPoint> SelfMetrics() const override;

 private:
  // The SDK's span-end path (src/sdk/trace): claims a queue cell before the
  // span is sealed.
  friend struct sdk::BatchSpanProcessorAccess;
  struct Impl;

  explicit BatchSpanProcessor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

TRACEWIRE_END_API

}  // namespace tracewire
