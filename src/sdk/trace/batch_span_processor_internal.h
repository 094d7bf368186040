#pragma once
// The batch span processor's internals: its engine, Span::End's path into
// its queue, and test seams. Not for users.

#include <cstddef>

#include "sdk/batch/batch_engine.h"
#include "sdk/batch/ending_thread_export.h"
#include "tracewire/trace.h"

namespace tracewire::sdk {

struct RecordedSpan;

// The span processor's engine: the plain core with the ending-thread layer
// (striping, export on the threads that end spans).
using SpanBatchEngine = BatchEngine<SpanRef, EndingThreadLayer<SpanRef>>;

// Span::End's path when a BatchSpanProcessor is the provider's only
// processor: a queue cell claimed before the span is sealed, and filled with
// its record after. Thread-safe, as BatchSpanProcessor::OnEnd.
struct BatchSpanProcessorAccess {
  using Claim = SpanBatchEngine::Slot;
  // `processor` as a BatchSpanProcessor, or nullptr: a provider asks once,
  // when it is made (no RTTI: a registry of the live batch processors, so
  // it also holds across shared libraries). Thread-safe.
  static BatchSpanProcessor* AsBatch(SpanProcessor* processor);
  // False when the queue is full or shut down (End then seals and calls
  // OnEnd).
  static bool TryClaim(BatchSpanProcessor& processor, Claim* claim);
  // Publishes `record` (one reference, handed over) in the claimed cell.
  static void Fill(BatchSpanProcessor& processor, const Claim& claim, RecordedSpan* record);
};

}  // namespace tracewire::sdk

namespace tracewire::batch_span_processor_internal {

// Makes the export threads of batch processors (those whose
// ending_threads_export is kWhenCoresBusy) read the spare cores from `read`
// instead of measuring them; nullptr measures again. Thread-safe.
void SetSpareCoresForTest(double (*read)());

}  // namespace tracewire::batch_span_processor_internal
