#pragma once
// Plain C++ values for OTLP telemetry: what the SDK records and the exporter
// encodes. No protobuf types: the encoders (wire/otlp_encoder.h) write OTLP
// wire bytes straight from these structs.
//
// Thread safety: value types, thread-compatible: const access from any
// threads at once; a thread that modifies one needs it to itself.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tracewire/export.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct KeyValue;

// An OTLP AnyValue. Bytes are held in a distinct type so that a std::string
// is always a string value.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

struct AnyValue {
  using Array = std::vector<AnyValue>;
  using KvList = std::vector<KeyValue>;
  std::variant<std::monostate, std::string, bool, int64_t, double, Array, KvList, Bytes> value;

  // Defined below, once KeyValue is complete (clang needs it for the variant).
  AnyValue();
  AnyValue(std::string s);
  AnyValue(const char* s);
  AnyValue(bool b);
  AnyValue(int v);
  AnyValue(int64_t v);
  AnyValue(double d);
  AnyValue(Array a);
  AnyValue(KvList kv);
  AnyValue(Bytes b);

  bool operator==(const AnyValue&) const;
};

struct KeyValue {
  std::string key;
  AnyValue value;
  bool operator==(const KeyValue&) const = default;
};

inline AnyValue::AnyValue() = default;
inline AnyValue::AnyValue(std::string s) : value(std::move(s)) {}
inline AnyValue::AnyValue(const char* s) : value(std::string(s)) {}
inline AnyValue::AnyValue(bool b) : value(b) {}
inline AnyValue::AnyValue(int v) : value(static_cast<int64_t>(v)) {}
inline AnyValue::AnyValue(int64_t v) : value(v) {}
inline AnyValue::AnyValue(double d) : value(d) {}
inline AnyValue::AnyValue(Array a) : value(std::move(a)) {}
inline AnyValue::AnyValue(KvList kv) : value(std::move(kv)) {}
inline AnyValue::AnyValue(Bytes b) : value(std::move(b)) {}
inline bool AnyValue::operator==(const AnyValue& o) const { return value == o.value; }

using Attributes = std::vector<KeyValue>;

struct Resource {
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
  std::string schema_url;
};

struct InstrumentationScope {
  std::string name;
  std::string version;
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
  std::string schema_url;
};

enum class SpanKind : uint8_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  uint64_t time_unix_nano = 0;
  std::string name;
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
};

struct SpanLink {
  TraceId trace_id{};
  SpanId span_id{};
  std::string trace_state;
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
};

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  std::string trace_state;
  std::optional<SpanId> parent_span_id;
  uint32_t flags = 0;  // W3C trace flags in bits 0-7, is-remote bits 8-9
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events_count = 0;
  std::vector<SpanLink> links;
  uint32_t dropped_links_count = 0;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
};

enum class AggregationTemporality : uint8_t { kUnspecified = 0, kDelta = 1, kCumulative = 2 };

struct Exemplar {
  Attributes filtered_attributes;
  uint64_t time_unix_nano = 0;
  std::variant<double, int64_t> value = 0.0;
  std::optional<SpanId> span_id;
  std::optional<TraceId> trace_id;
};

struct NumberDataPoint {
  Attributes attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  std::variant<double, int64_t> value = 0.0;
  std::vector<Exemplar> exemplars;
  uint32_t flags = 0;
};

struct HistogramDataPoint {
  Attributes attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  std::optional<double> sum;
  std::vector<uint64_t> bucket_counts;
  std::vector<double> explicit_bounds;
  std::vector<Exemplar> exemplars;
  uint32_t flags = 0;
  std::optional<double> min;
  std::optional<double> max;
};

struct ExponentialHistogramDataPoint {
  struct Buckets {
    int32_t offset = 0;
    std::vector<uint64_t> bucket_counts;
  };
  Attributes attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  std::optional<double> sum;
  int32_t scale = 0;
  uint64_t zero_count = 0;
  Buckets positive;
  Buckets negative;
  uint32_t flags = 0;
  std::vector<Exemplar> exemplars;
  std::optional<double> min;
  std::optional<double> max;
  double zero_threshold = 0;
};

struct SummaryDataPoint {
  struct ValueAtQuantile {
    double quantile = 0;
    double value = 0;
  };
  Attributes attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  double sum = 0;
  std::vector<ValueAtQuantile> quantile_values;
  uint32_t flags = 0;
};

struct Gauge {
  std::vector<NumberDataPoint> data_points;
};
struct Sum {
  std::vector<NumberDataPoint> data_points;
  AggregationTemporality aggregation_temporality = AggregationTemporality::kCumulative;
  bool is_monotonic = false;
};
struct Histogram {
  std::vector<HistogramDataPoint> data_points;
  AggregationTemporality aggregation_temporality = AggregationTemporality::kCumulative;
};
struct ExponentialHistogram {
  std::vector<ExponentialHistogramDataPoint> data_points;
  AggregationTemporality aggregation_temporality = AggregationTemporality::kCumulative;
};
struct Summary {
  std::vector<SummaryDataPoint> data_points;
};

struct MetricData {
  std::string name;
  std::string description;
  std::string unit;
  std::variant<Gauge, Sum, Histogram, ExponentialHistogram, Summary> data;
  Attributes metadata;
};

enum class SeverityNumber : uint8_t {
  kUnspecified = 0,
  kTrace = 1,
  kDebug = 5,
  kInfo = 9,
  kWarn = 13,
  kError = 17,
  kFatal = 21
};

struct LogRecordData {
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  uint8_t severity_number = 0;  // 0-24, see SeverityNumber for the bases
  std::string severity_text;
  std::optional<AnyValue> body;
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
  std::optional<TraceId> trace_id;
  std::optional<SpanId> span_id;
  std::string event_name;
};

// Items of one signal under one resource and scope: the unit the encoders
// group by. Pointers are borrowed for the duration of an encode call.
template <typename Item>
struct ScopedItems {
  const Resource* resource = nullptr;
  const InstrumentationScope* scope = nullptr;
  std::vector<const Item*> items;
};

TRACEWIRE_END_API

}  // namespace tracewire
