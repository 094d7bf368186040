// The process-wide pool of log records (LogRecordRecycler, CopyLogRecord):
// an emitted record goes back to it once exported, with its strings' and
// attribute vector's capacity, so that the next Emit reuses them and
// allocates nothing in the common case.

#include "sdk/logs/log_record_pool.h"

#include "common/mpmc_queue.h"

namespace tracewire {
namespace sdk {
namespace {

// Enough for a default batch processor's queue and two batches in hand; a
// record released while the pool is full is freed.
constexpr size_t kPoolCapacity = 4096;
// Records whose buffers grew past this are freed, not kept.
constexpr size_t kMaxKeptAttributes = 64;

common::MpmcQueue<ReadableLogRecord*>& Pool() {
  // Process lifetime, never destroyed: records may be released by a batch
  // processor's detached worker after main returns.
  static auto* pool = new common::MpmcQueue<ReadableLogRecord*>(kPoolCapacity);
  return *pool;
}

}  // namespace

UniqueLogRecord AcquireLogRecord() {
  ReadableLogRecord* r = nullptr;
  if (!Pool().TryPop(&r)) r = new ReadableLogRecord();
  return UniqueLogRecord(r);
}

}  // namespace sdk

void LogRecordRecycler::operator()(ReadableLogRecord* record) const {
  if (record->data.attributes.capacity() > sdk::kMaxKeptAttributes ||
      !sdk::Pool().TryPush(record)) {
    delete record;
  }
}

UniqueLogRecord CopyLogRecord(const ReadableLogRecord& record) {
  UniqueLogRecord copy = sdk::AcquireLogRecord();
  *copy = record;
  return copy;
}

}  // namespace tracewire
