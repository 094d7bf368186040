// SpanLimits::FromEnv and BatchSpanProcessorOptions::FromEnv.

#include <cstdlib>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sdk/env_int.h"
#include "tracewire/trace.h"

namespace tracewire {

namespace sdk {

absl::Status ReadEnvInt(const char* name, int64_t* out, int64_t min) {
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

absl::Status ReadEnvLimit(const char* specific, const char* general, uint32_t* out) {
  int64_t n = *out;
  absl::Status st = *general ? ReadEnvInt(general, &n) : absl::OkStatus();
  if (st.ok()) st = ReadEnvInt(specific, &n);
  if (!st.ok()) return st;
  *out = static_cast<uint32_t>(std::min<int64_t>(n, UINT32_MAX));
  return absl::OkStatus();
}

}  // namespace sdk

namespace {
using sdk::ReadEnvInt;
using sdk::ReadEnvLimit;
}  // namespace

absl::StatusOr<SpanLimits> SpanLimits::FromEnv() {
  SpanLimits l;
  const char* kCount = "OTEL_ATTRIBUTE_COUNT_LIMIT";
  const char* kLength = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
  for (auto [specific, general, field] : {
           std::tuple{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", kCount, &l.attribute_count},
           std::tuple{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", kLength, &l.attribute_value_length},
           std::tuple{"OTEL_SPAN_EVENT_COUNT_LIMIT", "", &l.event_count},
           std::tuple{"OTEL_SPAN_LINK_COUNT_LIMIT", "", &l.link_count},
           std::tuple{"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", kCount, &l.attributes_per_event},
           std::tuple{"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", kCount, &l.attributes_per_link}}) {
    absl::Status st = ReadEnvLimit(specific, general, field);
    if (!st.ok()) return st;
  }
  return l;
}

absl::StatusOr<BatchSpanProcessorOptions> BatchSpanProcessorOptions::FromEnv() {
  BatchSpanProcessorOptions o;
  int64_t delay = absl::ToInt64Milliseconds(o.schedule_delay);
  int64_t timeout = absl::ToInt64Milliseconds(o.export_timeout);
  for (absl::Status st : {ReadEnvInt("OTEL_BSP_MAX_QUEUE_SIZE", &o.max_queue_size, 1),
                          ReadEnvInt("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &o.max_export_batch_size, 1),
                          ReadEnvInt("OTEL_BSP_SCHEDULE_DELAY", &delay, 0),
                          ReadEnvInt("OTEL_BSP_EXPORT_TIMEOUT", &timeout, 0)}) {
    if (!st.ok()) return st;
  }
  if (o.max_export_batch_size > o.max_queue_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '", o.max_export_batch_size,
                     "' is larger than OTEL_BSP_MAX_QUEUE_SIZE (", o.max_queue_size, ")"));
  }
  o.schedule_delay = absl::Milliseconds(delay);
  o.export_timeout = absl::Milliseconds(timeout);
  return o;
}

}  // namespace tracewire
