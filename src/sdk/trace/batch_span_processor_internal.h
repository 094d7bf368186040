#pragma once
// Test seams of the batch span processor; not for users.

namespace tracewire::batch_span_processor_internal {

// Makes the export threads of batch processors (those whose
// ending_threads_export is kWhenCoresBusy) read the spare cores from `read`
// instead of measuring them; nullptr measures again. Thread-safe.
void SetSpareCoresForTest(double (*read)());

}  // namespace tracewire::batch_span_processor_internal
