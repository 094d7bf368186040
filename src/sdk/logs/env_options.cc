// LogRecordLimits::FromEnv and BatchLogRecordProcessorOptions::FromEnv.

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tracewire/logs.h"

namespace tracewire {
namespace {

// Reads an integer variable of at least `min` into *out when set; the error
// names the variable.
absl::Status ReadInt(const char* name, int64_t* out, int64_t min) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return absl::OkStatus();
  int64_t n;
  if (!absl::SimpleAtoi(v, &n) || n < min) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": '", v, "' is not an integer of at least ", min));
  }
  *out = n;
  return absl::OkStatus();
}

// The specific variable wins over the general one.
absl::Status ReadLimit(const char* specific, const char* general, uint32_t* out) {
  int64_t n = *out;
  absl::Status st = ReadInt(general, &n, 0);
  if (st.ok()) st = ReadInt(specific, &n, 0);
  if (!st.ok()) return st;
  *out = static_cast<uint32_t>(std::min<int64_t>(n, UINT32_MAX));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LogRecordLimits> LogRecordLimits::FromEnv() {
  LogRecordLimits l;
  absl::Status st = ReadLimit("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT",
                              &l.attribute_count);
  if (st.ok()) {
    st = ReadLimit("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
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
       {ReadInt("OTEL_BLRP_SCHEDULE_DELAY", &delay, 0),
        ReadInt("OTEL_BLRP_EXPORT_TIMEOUT", &timeout, 0),
        ReadInt("OTEL_BLRP_MAX_QUEUE_SIZE", &o.max_queue_size, 2),
        ReadInt("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", &o.max_export_batch_size, 1)}) {
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
