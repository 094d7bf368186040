#pragma once
// The process-wide pool of ReadableLogRecords behind UniqueLogRecord
// (log_record_pool.cc). Thread-safe, lock-free, bounded.

#include "tracewire/logs.h"

namespace tracewire::sdk {

// A record from the pool (or a new one). Its fields hold whatever the last
// user left: the caller overwrites every one (LogRecord does, see
// Logger::CreateLogRecord and Logger::Emit).
UniqueLogRecord AcquireLogRecord();

}  // namespace tracewire::sdk
