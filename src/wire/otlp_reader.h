#pragma once
// Reads OTLP Export*ServiceRequest bytes without building protobuf objects.
//
// ReadExportRequest walks a request once: it checks that the bytes are a
// well-formed message of the right type, validates each item (span, metric,
// log record) against the OTLP rules tracewire enforces, counts items, hands
// views of each item to an optional visitor, and, when some items are invalid,
// produces the same request without them (the valid items are kept byte for
// byte).
//
// Item rules:
//   span:       trace_id 16 bytes and not all zero; span_id 8 bytes and not
//               all zero; parent_span_id empty or 8 bytes; end >= start.
//   metric:     a name and exactly one data field; histogram points whose
//               bucket_counts and explicit_bounds disagree are invalid.
//   log record: trace_id empty or 16 non-zero bytes; span_id empty or 8
//               non-zero bytes.
//
// Pure functions: thread-safe. Views point into the caller's buffer.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "wire/otlp_signal.h"

namespace tracewire::wire {

struct SpanView {
  std::string_view trace_id;
  std::string_view span_id;
  std::string_view parent_span_id;
  std::string_view name;
  uint32_t kind = 0;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  std::string_view raw;  // The whole Span message.
};

struct MetricView {
  std::string_view name;
  uint32_t data_field = 0;  // 5 gauge, 7 sum, 9 histogram, 10 exp. histogram, 11 summary.
  int64_t data_points = 0;
  std::string_view raw;
};

struct LogRecordView {
  uint64_t time_unix_nano = 0;
  uint32_t severity_number = 0;
  std::string_view trace_id;
  std::string_view span_id;
  std::string_view raw;
};

// Receives the valid items of a request in order. Resource and scope bytes
// are the raw Resource and InstrumentationScope messages (may be empty).
class RequestVisitor {
 public:
  virtual ~RequestVisitor() = default;
  virtual void OnResource(std::string_view resource) {}
  virtual void OnScope(std::string_view scope) {}
  virtual void OnSpan(const SpanView& span) {}
  virtual void OnMetric(const MetricView& metric) {}
  virtual void OnLogRecord(const LogRecordView& record) {}
};

struct ReadResult {
  int64_t items = 0;     // spans, data points or log records in the request
  int64_t rejected = 0;  // of which invalid
  int64_t resources = 0;
  int64_t scopes = 0;
  // Names the first few problems and where they are; empty when none.
  std::string error_message;
  // When some item was invalid (even one counting no items, such as a metric
  // without data points): the request without the invalid items. Otherwise
  // empty (the input bytes are the accepted request).
  std::string filtered;
};

// kValidate checks every field of every item (strings UTF-8, nested
// messages well formed). kTrusted, for bytes this process validated before
// (a sink reading what the receiver accepted): items are still framed and
// their rules checked, but their fields are not validated again (a quarter
// of a store writer's time went into validating a second time).
enum class ReadMode { kValidate, kTrusted };

// Returns InvalidArgument when `bytes` is not a well-formed request of the
// signal's type. `visitor` may be null.
absl::StatusOr<ReadResult> ReadExportRequest(Signal signal, std::string_view bytes,
                                             RequestVisitor* visitor = nullptr,
                                             ReadMode mode = ReadMode::kValidate);

}  // namespace tracewire::wire
