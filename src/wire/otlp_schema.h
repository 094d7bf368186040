#pragma once
// A compact description of the OTLP v1 messages: field numbers, kinds and
// OTLP/JSON names. One table serves structural validation (otlp_validate.h)
// and the OTLP/JSON writer (otlp_json.h), so neither needs libprotobuf's
// reflection on the hot path.
//
// The tables are immutable constants: thread-safe.

#include <cstddef>
#include <cstdint>

#include "wire/otlp_signal.h"
#include "wire/proto_reader.h"

namespace tracewire::wire {

enum class FieldKind : uint8_t {
  kString,
  kBytes,  // base64 in JSON
  kId,     // trace or span id: bytes on the wire, lowercase hex in OTLP/JSON
  kBool,
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kSint32,
  kSint64,
  kFixed32,
  kFixed64,
  kSfixed64,
  kDouble,
  kEnum,  // integer in OTLP/JSON
  kMessage,
};

struct MessageDesc;

struct FieldDesc {
  uint32_t number;
  const char* json_name;
  FieldKind kind;
  bool repeated;
  bool has_presence;  // oneof members, `optional` scalars and singular messages
  const MessageDesc* message;  // kMessage only
  // Members of a (real) oneof share this 1-based number; 0 for other fields.
  // Setting one member clears the others.
  uint8_t oneof = 0;
};

struct MessageDesc {
  // OTLP field numbers stay below this; larger numbers are unknown fields.
  static constexpr uint32_t kMaxIndexedNumber = 32;

  template <size_t N>
  constexpr MessageDesc(const char* name, const FieldDesc (&f)[N])
      : full_name(name), fields(f), field_count(N), by_number{} {
    for (size_t i = 0; i < N; ++i) {
      if (f[i].number < kMaxIndexedNumber) by_number[f[i].number] = &f[i];
    }
  }

  const char* full_name;
  const FieldDesc* fields;
  size_t field_count;
  const FieldDesc* by_number[kMaxIndexedNumber];

  // Returns the field with this number, or nullptr for an unknown field.
  const FieldDesc* Find(uint32_t number) const {
    return number < kMaxIndexedNumber ? by_number[number] : nullptr;
  }
};

// The wire type a field of this kind is written with when not packed.
WireType ExpectedWireType(FieldKind kind);
// True for numeric kinds that may be packed (repeated, kLen on the wire).
bool IsPackable(FieldKind kind);

namespace schema {
extern const MessageDesc kAnyValue;
extern const MessageDesc kArrayValue;
extern const MessageDesc kKeyValueList;
extern const MessageDesc kKeyValue;
extern const MessageDesc kInstrumentationScope;
extern const MessageDesc kEntityRef;
extern const MessageDesc kResource;

extern const MessageDesc kSpan;
extern const MessageDesc kSpanEvent;
extern const MessageDesc kSpanLink;
extern const MessageDesc kStatus;
extern const MessageDesc kScopeSpans;
extern const MessageDesc kResourceSpans;
extern const MessageDesc kExportTraceServiceRequest;

extern const MessageDesc kMetric;
extern const MessageDesc kGauge;
extern const MessageDesc kSum;
extern const MessageDesc kHistogram;
extern const MessageDesc kExponentialHistogram;
extern const MessageDesc kSummary;
extern const MessageDesc kNumberDataPoint;
extern const MessageDesc kHistogramDataPoint;
extern const MessageDesc kExponentialHistogramDataPoint;
extern const MessageDesc kBuckets;
extern const MessageDesc kSummaryDataPoint;
extern const MessageDesc kValueAtQuantile;
extern const MessageDesc kExemplar;
extern const MessageDesc kScopeMetrics;
extern const MessageDesc kResourceMetrics;
extern const MessageDesc kExportMetricsServiceRequest;

extern const MessageDesc kLogRecord;
extern const MessageDesc kScopeLogs;
extern const MessageDesc kResourceLogs;
extern const MessageDesc kExportLogsServiceRequest;

// The Export*ServiceRequest of a signal.
const MessageDesc& ExportRequestOf(Signal signal);
}  // namespace schema

}  // namespace tracewire::wire
