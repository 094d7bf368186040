#pragma once
// A sink takes accepted batches. Offer never blocks: it either takes the
// batch (from then on the sink answers for it: written, or counted as lost)
// or refuses it with Unavailable, which the receiver turns into backpressure.
//
// Lifecycle: Start() once, then Offer() (or OfferAsync()) from any thread,
// then Shutdown(), which writes out everything taken and returns by the
// deadline. Shutdown is safe to call twice and without Start.
// Implementations are thread-safe.

#include <cstdint>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "pipeline/batch.h"

namespace tracewire::pipeline {

class Sink {
 public:
  virtual ~Sink() = default;
  [[nodiscard]] virtual absl::Status Start() = 0;
  // Takes `batch` or returns Unavailable (full) / FailedPrecondition (stopped).
  [[nodiscard]] virtual absl::Status Offer(Batch&& batch) = 0;
  // Offer, answered through `done` (Offer's status), exactly once, maybe on
  // another thread and after this returns: for a sink whose taking waits for
  // the disk (a persistent queue with fsync batch), so that the caller's
  // thread does not. `done` must not block. By default, Offer then `done`.
  using OfferDone = absl::AnyInvocable<void(absl::Status) &&>;
  virtual void OfferAsync(Batch&& batch, OfferDone done) {
    std::move(done)(Offer(std::move(batch)));
  }
  // False when an Offer now would be refused as full: the receiver then
  // refuses the request before inflating and reading it. A hint (room may
  // be taken or freed just after), so Offer still decides; true by default
  // and for a sink that is not running (Offer names that).
  virtual bool HasRoom() const { return true; }
  // Writes out what was taken; returns DeadlineExceeded if it could not.
  [[nodiscard]] virtual absl::Status Shutdown(absl::Time deadline) = 0;

  // False for a sink that keeps nothing: the receiver then hands it an empty
  // batch (items counted, bytes not copied).
  virtual bool KeepsBytes() const { return true; }

  // Queue gauges for self-telemetry (0 for sinks without a queue).
  virtual int64_t QueuedBatches() const { return 0; }
  virtual int64_t QueuedBytes() const { return 0; }
  virtual int64_t CapacityBytes() const { return 0; }
};

// Writes batches; called from one thread at a time (the queue's worker),
// except Cancel.
class BatchWriter {
 public:
  virtual ~BatchWriter() = default;
  [[nodiscard]] virtual absl::Status Open() = 0;
  [[nodiscard]] virtual absl::Status Write(const Batch& batch) = 0;
  // Called when the queue runs empty, and periodically. A writer whose Write
  // takes a batch before writing it (FileWriter) reports here, and in Close,
  // the batches it then failed to write: see LostItemsOf.
  [[nodiscard]] virtual absl::Status Flush() = 0;
  [[nodiscard]] virtual absl::Status Close() = 0;
  // Makes the Write calls in progress return soon (a shutdown's deadline
  // passed); later calls may fail. Called from another thread, at most once.
  virtual void Cancel() {}
};

// The items of batches a writer took and then failed to write, riding on the
// error of its Flush or Close (0 when none ride on it). A QueuedSink counts
// them as dropped; a PersistentQueue keeps such records in its log instead.
inline constexpr char kLostItemsUrl[] = "type.tracewire/lost_items";
inline absl::Status WithLostItems(absl::Status status, int64_t items) {
  if (!status.ok() && items > 0) {
    status.SetPayload(kLostItemsUrl, absl::Cord(std::to_string(items)));
  }
  return status;
}
inline int64_t LostItemsOf(const absl::Status& status) {
  auto p = status.GetPayload(kLostItemsUrl);
  int64_t items = 0;
  if (!p || !absl::SimpleAtoi(std::string(*p), &items) || items < 0) return 0;
  return items;
}

}  // namespace tracewire::pipeline
