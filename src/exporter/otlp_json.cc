// OTLP/JSON from binary OTLP by a table of the OTLP messages (the fields the
// exporter may send): each message is walked with the wire layer's reader
// and written field by field, without generated classes or reflection.

#include "exporter/otlp_json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "wire/proto_reader.h"

namespace tracewire::exporter {
namespace {

using wire::Field;
using wire::ProtoReader;
using wire::WireType;

enum class Kind : uint8_t {
  kString,
  kBytes,  // base64
  kId,     // trace and span ids: hex, as OTLP/JSON asks
  kBool,
  kInt32,  // also enums: numbers, as OTLP/JSON asks
  kUint32,
  kSint32,
  kFixed32,
  kInt64,  // 64-bit integers as decimal strings (proto3 JSON)
  kUint64,
  kFixed64,
  kSfixed64,
  kDouble,
  kMessage,
};

struct MessageSpec;
struct FieldSpec {
  uint32_t number;
  const char* name;  // lowerCamelCase
  Kind kind;
  bool repeated;
  const MessageSpec* message;
};
struct MessageSpec {
  const FieldSpec* fields;
  size_t size;
};

#define TW_SPEC(name, ...)                            \
  constexpr FieldSpec name##Fields[] = {__VA_ARGS__}; \
  constexpr MessageSpec name = {name##Fields, sizeof(name##Fields) / sizeof(FieldSpec)};

extern const MessageSpec kAnyValue;
extern const MessageSpec kKeyValue;

constexpr FieldSpec kArrayValueFields[] = {{1, "values", Kind::kMessage, true, &kAnyValue}};
constexpr MessageSpec kArrayValue = {kArrayValueFields, 1};
constexpr FieldSpec kKeyValueListFields[] = {{1, "values", Kind::kMessage, true, &kKeyValue}};
constexpr MessageSpec kKeyValueList = {kKeyValueListFields, 1};
constexpr FieldSpec kAnyValueFields[] = {
    {1, "stringValue", Kind::kString, false, nullptr},
    {2, "boolValue", Kind::kBool, false, nullptr},
    {3, "intValue", Kind::kInt64, false, nullptr},
    {4, "doubleValue", Kind::kDouble, false, nullptr},
    {5, "arrayValue", Kind::kMessage, false, &kArrayValue},
    {6, "kvlistValue", Kind::kMessage, false, &kKeyValueList},
    {7, "bytesValue", Kind::kBytes, false, nullptr},
};
constexpr MessageSpec kAnyValue = {kAnyValueFields, 7};
constexpr FieldSpec kKeyValueFields[] = {{1, "key", Kind::kString, false, nullptr},
                                         {2, "value", Kind::kMessage, false, &kAnyValue}};
constexpr MessageSpec kKeyValue = {kKeyValueFields, 2};

TW_SPEC(kScope, {1, "name", Kind::kString, false, nullptr},
        {2, "version", Kind::kString, false, nullptr},
        {3, "attributes", Kind::kMessage, true, &kKeyValue},
        {4, "droppedAttributesCount", Kind::kUint32, false, nullptr})
TW_SPEC(kEntityRef, {1, "schemaUrl", Kind::kString, false, nullptr},
        {2, "type", Kind::kString, false, nullptr}, {3, "idKeys", Kind::kString, true, nullptr},
        {4, "descriptionKeys", Kind::kString, true, nullptr})
TW_SPEC(kResource, {1, "attributes", Kind::kMessage, true, &kKeyValue},
        {2, "droppedAttributesCount", Kind::kUint32, false, nullptr},
        {3, "entityRefs", Kind::kMessage, true, &kEntityRef})

// Traces.
TW_SPEC(kEvent, {1, "timeUnixNano", Kind::kFixed64, false, nullptr},
        {2, "name", Kind::kString, false, nullptr},
        {3, "attributes", Kind::kMessage, true, &kKeyValue},
        {4, "droppedAttributesCount", Kind::kUint32, false, nullptr})
TW_SPEC(kLink, {1, "traceId", Kind::kId, false, nullptr}, {2, "spanId", Kind::kId, false, nullptr},
        {3, "traceState", Kind::kString, false, nullptr},
        {4, "attributes", Kind::kMessage, true, &kKeyValue},
        {5, "droppedAttributesCount", Kind::kUint32, false, nullptr},
        {6, "flags", Kind::kFixed32, false, nullptr})
TW_SPEC(kStatus, {2, "message", Kind::kString, false, nullptr},
        {3, "code", Kind::kInt32, false, nullptr})
TW_SPEC(kSpan, {1, "traceId", Kind::kId, false, nullptr}, {2, "spanId", Kind::kId, false, nullptr},
        {3, "traceState", Kind::kString, false, nullptr},
        {4, "parentSpanId", Kind::kId, false, nullptr},
        {16, "flags", Kind::kFixed32, false, nullptr}, {5, "name", Kind::kString, false, nullptr},
        {6, "kind", Kind::kInt32, false, nullptr},
        {7, "startTimeUnixNano", Kind::kFixed64, false, nullptr},
        {8, "endTimeUnixNano", Kind::kFixed64, false, nullptr},
        {9, "attributes", Kind::kMessage, true, &kKeyValue},
        {10, "droppedAttributesCount", Kind::kUint32, false, nullptr},
        {11, "events", Kind::kMessage, true, &kEvent},
        {12, "droppedEventsCount", Kind::kUint32, false, nullptr},
        {13, "links", Kind::kMessage, true, &kLink},
        {14, "droppedLinksCount", Kind::kUint32, false, nullptr},
        {15, "status", Kind::kMessage, false, &kStatus})
TW_SPEC(kScopeSpans, {1, "scope", Kind::kMessage, false, &kScope},
        {2, "spans", Kind::kMessage, true, &kSpan}, {3, "schemaUrl", Kind::kString, false, nullptr})
TW_SPEC(kResourceSpans, {1, "resource", Kind::kMessage, false, &kResource},
        {2, "scopeSpans", Kind::kMessage, true, &kScopeSpans},
        {3, "schemaUrl", Kind::kString, false, nullptr})
TW_SPEC(kTracesRequest, {1, "resourceSpans", Kind::kMessage, true, &kResourceSpans})

// Logs.
TW_SPEC(kLogRecord, {1, "timeUnixNano", Kind::kFixed64, false, nullptr},
        {11, "observedTimeUnixNano", Kind::kFixed64, false, nullptr},
        {2, "severityNumber", Kind::kInt32, false, nullptr},
        {3, "severityText", Kind::kString, false, nullptr},
        {5, "body", Kind::kMessage, false, &kAnyValue},
        {6, "attributes", Kind::kMessage, true, &kKeyValue},
        {7, "droppedAttributesCount", Kind::kUint32, false, nullptr},
        {8, "flags", Kind::kFixed32, false, nullptr}, {9, "traceId", Kind::kId, false, nullptr},
        {10, "spanId", Kind::kId, false, nullptr}, {12, "eventName", Kind::kString, false, nullptr})
TW_SPEC(kScopeLogs, {1, "scope", Kind::kMessage, false, &kScope},
        {2, "logRecords", Kind::kMessage, true, &kLogRecord},
        {3, "schemaUrl", Kind::kString, false, nullptr})
TW_SPEC(kResourceLogs, {1, "resource", Kind::kMessage, false, &kResource},
        {2, "scopeLogs", Kind::kMessage, true, &kScopeLogs},
        {3, "schemaUrl", Kind::kString, false, nullptr})
TW_SPEC(kLogsRequest, {1, "resourceLogs", Kind::kMessage, true, &kResourceLogs})

// Metrics.
TW_SPEC(kExemplar, {7, "filteredAttributes", Kind::kMessage, true, &kKeyValue},
        {2, "timeUnixNano", Kind::kFixed64, false, nullptr},
        {3, "asDouble", Kind::kDouble, false, nullptr},
        {6, "asInt", Kind::kSfixed64, false, nullptr}, {4, "spanId", Kind::kId, false, nullptr},
        {5, "traceId", Kind::kId, false, nullptr})
TW_SPEC(kNumberPoint, {7, "attributes", Kind::kMessage, true, &kKeyValue},
        {2, "startTimeUnixNano", Kind::kFixed64, false, nullptr},
        {3, "timeUnixNano", Kind::kFixed64, false, nullptr},
        {4, "asDouble", Kind::kDouble, false, nullptr},
        {6, "asInt", Kind::kSfixed64, false, nullptr},
        {5, "exemplars", Kind::kMessage, true, &kExemplar},
        {8, "flags", Kind::kUint32, false, nullptr})
TW_SPEC(kHistogramPoint, {9, "attributes", Kind::kMessage, true, &kKeyValue},
        {2, "startTimeUnixNano", Kind::kFixed64, false, nullptr},
        {3, "timeUnixNano", Kind::kFixed64, false, nullptr},
        {4, "count", Kind::kFixed64, false, nullptr}, {5, "sum", Kind::kDouble, false, nullptr},
        {6, "bucketCounts", Kind::kFixed64, true, nullptr},
        {7, "explicitBounds", Kind::kDouble, true, nullptr},
        {8, "exemplars", Kind::kMessage, true, &kExemplar},
        {10, "flags", Kind::kUint32, false, nullptr}, {11, "min", Kind::kDouble, false, nullptr},
        {12, "max", Kind::kDouble, false, nullptr})
TW_SPEC(kBuckets, {1, "offset", Kind::kSint32, false, nullptr},
        {2, "bucketCounts", Kind::kUint64, true, nullptr})
TW_SPEC(kExpHistogramPoint, {1, "attributes", Kind::kMessage, true, &kKeyValue},
        {2, "startTimeUnixNano", Kind::kFixed64, false, nullptr},
        {3, "timeUnixNano", Kind::kFixed64, false, nullptr},
        {4, "count", Kind::kFixed64, false, nullptr}, {5, "sum", Kind::kDouble, false, nullptr},
        {6, "scale", Kind::kSint32, false, nullptr},
        {7, "zeroCount", Kind::kFixed64, false, nullptr},
        {8, "positive", Kind::kMessage, false, &kBuckets},
        {9, "negative", Kind::kMessage, false, &kBuckets},
        {10, "flags", Kind::kUint32, false, nullptr},
        {11, "exemplars", Kind::kMessage, true, &kExemplar},
        {12, "min", Kind::kDouble, false, nullptr}, {13, "max", Kind::kDouble, false, nullptr},
        {14, "zeroThreshold", Kind::kDouble, false, nullptr})
TW_SPEC(kQuantile, {1, "quantile", Kind::kDouble, false, nullptr},
        {2, "value", Kind::kDouble, false, nullptr})
TW_SPEC(kSummaryPoint, {7, "attributes", Kind::kMessage, true, &kKeyValue},
        {2, "startTimeUnixNano", Kind::kFixed64, false, nullptr},
        {3, "timeUnixNano", Kind::kFixed64, false, nullptr},
        {4, "count", Kind::kFixed64, false, nullptr}, {5, "sum", Kind::kDouble, false, nullptr},
        {6, "quantileValues", Kind::kMessage, true, &kQuantile},
        {8, "flags", Kind::kUint32, false, nullptr})
TW_SPEC(kGauge, {1, "dataPoints", Kind::kMessage, true, &kNumberPoint})
TW_SPEC(kSum, {1, "dataPoints", Kind::kMessage, true, &kNumberPoint},
        {2, "aggregationTemporality", Kind::kInt32, false, nullptr},
        {3, "isMonotonic", Kind::kBool, false, nullptr})
TW_SPEC(kHistogram, {1, "dataPoints", Kind::kMessage, true, &kHistogramPoint},
        {2, "aggregationTemporality", Kind::kInt32, false, nullptr})
TW_SPEC(kExpHistogram, {1, "dataPoints", Kind::kMessage, true, &kExpHistogramPoint},
        {2, "aggregationTemporality", Kind::kInt32, false, nullptr})
TW_SPEC(kSummary, {1, "dataPoints", Kind::kMessage, true, &kSummaryPoint})
TW_SPEC(kMetric, {1, "name", Kind::kString, false, nullptr},
        {2, "description", Kind::kString, false, nullptr},
        {3, "unit", Kind::kString, false, nullptr}, {5, "gauge", Kind::kMessage, false, &kGauge},
        {7, "sum", Kind::kMessage, false, &kSum},
        {9, "histogram", Kind::kMessage, false, &kHistogram},
        {10, "exponentialHistogram", Kind::kMessage, false, &kExpHistogram},
        {11, "summary", Kind::kMessage, false, &kSummary},
        {12, "metadata", Kind::kMessage, true, &kKeyValue})
TW_SPEC(kScopeMetrics, {1, "scope", Kind::kMessage, false, &kScope},
        {2, "metrics", Kind::kMessage, true, &kMetric},
        {3, "schemaUrl", Kind::kString, false, nullptr})
TW_SPEC(kResourceMetrics, {1, "resource", Kind::kMessage, false, &kResource},
        {2, "scopeMetrics", Kind::kMessage, true, &kScopeMetrics},
        {3, "schemaUrl", Kind::kString, false, nullptr})
TW_SPEC(kMetricsRequest, {1, "resourceMetrics", Kind::kMessage, true, &kResourceMetrics})

#undef TW_SPEC

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void AppendDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("\"NaN\"");
  } else if (std::isinf(d)) {
    out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    out->append(buf, r.ptr);
  }
}

bool ReadVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Whether a field's wire type fits its kind (unpacked).
bool WireTypeFits(Kind k, WireType t) {
  switch (k) {
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kId:
    case Kind::kMessage:
      return t == WireType::kLen;
    case Kind::kFixed64:
    case Kind::kSfixed64:
    case Kind::kDouble:
      return t == WireType::kFixed64;
    case Kind::kFixed32:
      return t == WireType::kFixed32;
    default:
      return t == WireType::kVarint;
  }
}

absl::Status WriteMessage(const MessageSpec& spec, std::string_view bytes, int depth,
                          std::string* out);

// One scalar (or message) value from its raw wire value.
absl::Status WriteValue(const FieldSpec& f, uint64_t value, std::string_view payload, int depth,
                        std::string* out) {
  switch (f.kind) {
    case Kind::kString:
      AppendJsonString(payload, out);
      break;
    case Kind::kBytes:
      AppendJsonString(absl::Base64Escape(absl::string_view(payload.data(), payload.size())), out);
      break;
    case Kind::kId:
      AppendJsonString(absl::BytesToHexString(absl::string_view(payload.data(), payload.size())),
                       out);
      break;
    case Kind::kBool:
      out->append(value != 0 ? "true" : "false");
      break;
    case Kind::kInt32:
      absl::StrAppend(out, static_cast<int32_t>(value));
      break;
    case Kind::kUint32:
    case Kind::kFixed32:
      absl::StrAppend(out, static_cast<uint32_t>(value));
      break;
    case Kind::kSint32: {
      const auto u = static_cast<uint32_t>(value);
      absl::StrAppend(out, static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1)));
      break;
    }
    case Kind::kInt64:
    case Kind::kSfixed64:
      absl::StrAppend(out, "\"", static_cast<int64_t>(value), "\"");
      break;
    case Kind::kUint64:
    case Kind::kFixed64:
      absl::StrAppend(out, "\"", value, "\"");
      break;
    case Kind::kDouble: {
      double d;
      std::memcpy(&d, &value, sizeof d);
      AppendDouble(d, out);
      break;
    }
    case Kind::kMessage:
      return WriteMessage(*f.message, payload, depth + 1, out);
  }
  return absl::OkStatus();
}

// The values of a packed repeated scalar.
absl::Status WritePacked(const FieldSpec& f, std::string_view data, int depth, std::string* out,
                         bool* first) {
  while (!data.empty()) {
    uint64_t v = 0;
    if (f.kind == Kind::kFixed64 || f.kind == Kind::kSfixed64 || f.kind == Kind::kDouble) {
      if (data.size() < 8) return absl::InvalidArgumentError("truncated packed field");
      std::memcpy(&v, data.data(), 8);
      data.remove_prefix(8);
    } else if (f.kind == Kind::kFixed32) {
      if (data.size() < 4) return absl::InvalidArgumentError("truncated packed field");
      uint32_t u;
      std::memcpy(&u, data.data(), 4);
      v = u;
      data.remove_prefix(4);
    } else if (!ReadVarint(&data, &v)) {
      return absl::InvalidArgumentError("truncated packed field");
    }
    if (!*first) out->push_back(',');
    *first = false;
    absl::Status st = WriteValue(f, v, {}, depth, out);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status WriteMessage(const MessageSpec& spec, std::string_view bytes, int depth,
                          std::string* out) {
  if (depth > 64) return absl::InvalidArgumentError("message nested too deeply");
  std::vector<std::pair<const FieldSpec*, Field>> fields;
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    for (size_t i = 0; i < spec.size; ++i) {
      if (spec.fields[i].number == f.number) {
        fields.emplace_back(&spec.fields[i], f);
        break;
      }
    }
  }
  if (!r.ok()) return absl::InvalidArgumentError("malformed protobuf");
  out->push_back('{');
  bool first_field = true;
  for (size_t i = 0; i < spec.size; ++i) {
    const FieldSpec& fs = spec.fields[i];
    const Field* last = nullptr;
    int count = 0;
    for (const auto& [s, field] : fields) {
      if (s != &fs) continue;
      const bool packed = fs.repeated && fs.kind != Kind::kMessage && fs.kind != Kind::kString &&
                          fs.kind != Kind::kBytes && fs.kind != Kind::kId &&
                          field.type == WireType::kLen;
      if (!packed && !WireTypeFits(fs.kind, field.type)) {
        return absl::InvalidArgumentError(absl::StrCat("field ", fs.name, ": wrong wire type"));
      }
      last = &field;
      ++count;
    }
    if (count == 0) continue;
    if (!first_field) out->push_back(',');
    first_field = false;
    AppendJsonString(fs.name, out);
    out->push_back(':');
    if (!fs.repeated) {  // The last occurrence wins.
      absl::Status st = WriteValue(fs, last->value, last->bytes, depth, out);
      if (!st.ok()) return st;
      continue;
    }
    out->push_back('[');
    bool first = true;
    for (const auto& [s, field] : fields) {
      if (s != &fs) continue;
      absl::Status st;
      if (field.type == WireType::kLen && fs.kind != Kind::kMessage && fs.kind != Kind::kString &&
          fs.kind != Kind::kBytes && fs.kind != Kind::kId) {
        st = WritePacked(fs, field.bytes, depth, out, &first);
      } else {
        if (!first) out->push_back(',');
        first = false;
        st = WriteValue(fs, field.value, field.bytes, depth, out);
      }
      if (!st.ok()) return st;
    }
    out->push_back(']');
  }
  out->push_back('}');
  return absl::OkStatus();
}

// The value after "key": in a JSON text (a number, a quoted number or a
// string), or nullopt. A plain scan: the answers are small and flat.
std::optional<std::string> FindValue(const std::string& body, const std::string& key) {
  const size_t k = body.find("\"" + key + "\"");
  if (k == std::string::npos) return std::nullopt;
  size_t p = body.find(':', k + key.size() + 2);
  if (p == std::string::npos) return std::nullopt;
  ++p;
  while (p < body.size() && (body[p] == ' ' || body[p] == '\n' || body[p] == '\t')) ++p;
  if (p >= body.size()) return std::nullopt;
  std::string v;
  if (body[p] == '"') {
    for (++p; p < body.size() && body[p] != '"'; ++p) {
      if (body[p] == '\\' && p + 1 < body.size()) {
        ++p;
        const char e = body[p];
        if (e == 'n') {
          v.push_back('\n');
        } else if (e == 't') {
          v.push_back('\t');
        } else if (e == 'u' && p + 4 < body.size()) {
          uint32_t cp = 0;
          if (absl::SimpleHexAtoi(body.substr(p + 1, 4), &cp) && cp < 0x80) {
            v.push_back(static_cast<char>(cp));
          } else {
            v.push_back('?');
          }
          p += 4;
        } else {
          v.push_back(e);
        }
      } else {
        v.push_back(body[p]);
      }
    }
    return v;
  }
  while (p < body.size() && (absl::ascii_isdigit(body[p]) || body[p] == '-'))
    v.push_back(body[p++]);
  return v;
}

}  // namespace

absl::Status OtlpRequestToJson(wire::Signal signal, const std::string& request, std::string* out) {
  const MessageSpec* spec = &kTracesRequest;
  if (signal == wire::Signal::kMetrics) spec = &kMetricsRequest;
  if (signal == wire::Signal::kLogs) spec = &kLogsRequest;
  return WriteMessage(*spec, request, 0, out);
}

void ParseJsonPartialSuccess(const std::string& body, int64_t* rejected, std::string* message) {
  const size_t ps = body.find("\"partialSuccess\"");
  if (ps == std::string::npos) return;
  const std::string rest = body.substr(ps);
  for (const char* key : {"rejectedSpans", "rejectedDataPoints", "rejectedLogRecords"}) {
    std::optional<std::string> v = FindValue(rest, key);
    int64_t n;
    if (v.has_value() && absl::SimpleAtoi(*v, &n)) *rejected = n;
  }
  if (std::optional<std::string> m = FindValue(rest, "errorMessage")) *message = *m;
}

}  // namespace tracewire::exporter
