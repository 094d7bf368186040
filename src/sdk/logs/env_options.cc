// LogRecordLimits::FromEnv and BatchLogRecordProcessorOptions::FromEnv.

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sdk/env_int.h"
#include "tracewire/logs.h"

namespace tracewire {
namespace {
using sdk::ReadEnvInt;
using sdk::ReadEnvLimit;
}  // namespace

absl::StatusOr<LogRecordLimits> LogRecordLimits::FromEnv() {
  LogRecordLimits l;
  absl::Status st = ReadEnvLimit("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT",
                              &l.attribute_count);
  if (st.ok()) {
    st = ReadEnvLimit("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                   "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", &l.attribute_value_length);
  }
  if (!st.ok()) return st;
  return l;
}

absl::StatusOr<BatchLogRecordProcessorOptions> BatchLogRecordProcessorOptions::FromEnv() {
  BatchLogRecordProcessorOptions o;
  int64_t delay = absl::ToInt64Milliseconds(o.schedule_delay);
  int64_t timeout = absl::ToInt64Milliseconds(o.export_timeout);
  for (absl::Status st :
       {ReadEnvInt("OTEL_BLRP_SCHEDULE_DELAY", &delay, 0),
        ReadEnvInt("OTEL_BLRP_EXPORT_TIMEOUT", &timeout, 0),
        ReadEnvInt("OTEL_BLRP_MAX_QUEUE_SIZE", &o.max_queue_size, 2),
        ReadEnvInt("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", &o.max_export_batch_size, 1)}) {
    if (!st.ok()) return st;
  }
  if (o.max_export_batch_size > o.max_queue_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '", o.max_export_batch_size,
                     "' is larger than OTEL_BLRP_MAX_QUEUE_SIZE (", o.max_queue_size, ")"));
  }
  o.schedule_delay = absl::Milliseconds(delay);
  o.export_timeout = absl::Milliseconds(timeout);
  return o;
}

}  // namespace tracewire
