#pragma once
// Decodes the raw OTLP messages the store keeps (Span, LogRecord, data points,
// Resource, InstrumentationScope) into plain structs for the queries and the
// CLI, with the zero-copy ProtoReader: no protobuf objects. Malformed bytes
// decode as far as they go (never crash). Values are rendered as text.
//
// Pure functions: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracewire::store {

using Attributes = std::vector<std::pair<std::string, std::string>>;

// An AnyValue as text: strings as they are, bool/int/double in their usual
// form, arrays and maps as JSON-like text, bytes as hex.
std::string RenderAnyValue(std::string_view any_value);
// Appends the KeyValue message `kv` to `out`.
void AppendKeyValue(std::string_view kv, Attributes* out);

struct ResourceInfo {
  Attributes attributes;
  std::string service;  // service.name, or "unknown_service"
};
ResourceInfo DecodeResource(std::string_view raw);

struct ScopeInfo {
  std::string name, version;
  Attributes attributes;
};
ScopeInfo DecodeScope(std::string_view raw);

struct SpanEventInfo {
  uint64_t time_unix_nano = 0;
  std::string name;
  Attributes attributes;
};

struct SpanLinkInfo {
  std::string trace_id, span_id;  // raw bytes
  std::string trace_state;
  Attributes attributes;
};

struct SpanInfo {
  std::string trace_id, span_id, parent_span_id;  // raw bytes
  std::string trace_state;
  std::string name;
  uint32_t kind = 0;
  uint64_t start_time_unix_nano = 0, end_time_unix_nano = 0;
  Attributes attributes;
  std::vector<SpanEventInfo> events;
  std::vector<SpanLinkInfo> links;
  uint32_t status_code = 0;  // 0 unset, 1 ok, 2 error
  std::string status_message;
  uint32_t flags = 0;
};
SpanInfo DecodeSpan(std::string_view raw);

struct LogInfo {
  uint64_t time_unix_nano = 0, observed_time_unix_nano = 0;
  uint32_t severity_number = 0;
  std::string severity_text;
  std::string body;
  Attributes attributes;
  std::string trace_id, span_id;  // raw bytes
  uint32_t flags = 0;
  std::string event_name;
};
LogInfo DecodeLogRecord(std::string_view raw);

// One data point of any metric type.
struct PointInfo {
  uint64_t start_time_unix_nano = 0, time_unix_nano = 0;
  Attributes attributes;
  double value = 0;    // gauge/sum: the value; histograms, summary: the sum
  uint64_t count = 0;  // histograms and summary
  bool has_value = false;
};
// `data_field` is the Metric's data field number (5 gauge, 7 sum, 9 histogram,
// 10 exponential histogram, 11 summary).
PointInfo DecodePoint(uint32_t data_field, std::string_view raw);

struct MetricInfo {
  std::string name, description, unit;
  uint32_t data_field = 0;
  uint32_t temporality = 0;              // sum, histograms
  bool monotonic = false;                // sum
  std::vector<std::string_view> points;  // raw data points, views into the input
};
MetricInfo DecodeMetric(std::string_view raw);

// Lowercase hex of raw bytes, and back (false on bad hex).
std::string ToHex(std::string_view bytes);
bool FromHex(std::string_view hex, std::string* bytes);

const char* SpanKindName(uint32_t kind);          // "internal", "server", ...
const char* MetricTypeName(uint32_t data_field);  // "gauge", "sum", ...

// A stable 64-bit hash (the same in every process) of the concatenation.
uint64_t StableHash(std::string_view a, std::string_view b = {}, std::string_view c = {});

}  // namespace tracewire::store
