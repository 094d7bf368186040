#include "wire/otlp_schema.h"

#include <iterator>

namespace tracewire::wire {

WireType ExpectedWireType(FieldKind kind) {
  switch (kind) {
    case FieldKind::kString:
    case FieldKind::kBytes:
    case FieldKind::kId:
    case FieldKind::kMessage:
      return WireType::kLen;
    case FieldKind::kFixed32:
      return WireType::kFixed32;
    case FieldKind::kFixed64:
    case FieldKind::kSfixed64:
    case FieldKind::kDouble:
      return WireType::kFixed64;
    default:
      return WireType::kVarint;
  }
}

bool IsPackable(FieldKind kind) {
  return kind != FieldKind::kString && kind != FieldKind::kBytes && kind != FieldKind::kId &&
         kind != FieldKind::kMessage;
}

namespace schema {
namespace {
using K = FieldKind;
constexpr bool R = true;   // repeated
constexpr bool P = true;   // has presence
constexpr bool _ = false;

#define TW_MESSAGE(var, name, ...)                        \
  constexpr FieldDesc var##Fields[] = {__VA_ARGS__};      \
  }                                                       \
  constinit const MessageDesc var(name, var##Fields); \
  namespace {

// common.v1
TW_MESSAGE(kAnyValue, "opentelemetry.proto.common.v1.AnyValue",
           {1, "stringValue", K::kString, _, P, nullptr, 1},
           {2, "boolValue", K::kBool, _, P, nullptr, 1},
           {3, "intValue", K::kInt64, _, P, nullptr, 1},
           {4, "doubleValue", K::kDouble, _, P, nullptr, 1},
           {5, "arrayValue", K::kMessage, _, P, &kArrayValue, 1},
           {6, "kvlistValue", K::kMessage, _, P, &kKeyValueList, 1},
           {7, "bytesValue", K::kBytes, _, P, nullptr, 1})
TW_MESSAGE(kArrayValue, "opentelemetry.proto.common.v1.ArrayValue",
           {1, "values", K::kMessage, R, _, &kAnyValue})
TW_MESSAGE(kKeyValueList, "opentelemetry.proto.common.v1.KeyValueList",
           {1, "values", K::kMessage, R, _, &kKeyValue})
TW_MESSAGE(kKeyValue, "opentelemetry.proto.common.v1.KeyValue",
           {1, "key", K::kString, _, _, nullptr},
           {2, "value", K::kMessage, _, P, &kAnyValue})
TW_MESSAGE(kInstrumentationScope, "opentelemetry.proto.common.v1.InstrumentationScope",
           {1, "name", K::kString, _, _, nullptr},
           {2, "version", K::kString, _, _, nullptr},
           {3, "attributes", K::kMessage, R, _, &kKeyValue},
           {4, "droppedAttributesCount", K::kUint32, _, _, nullptr})
TW_MESSAGE(kEntityRef, "opentelemetry.proto.common.v1.EntityRef",
           {1, "schemaUrl", K::kString, _, _, nullptr},
           {2, "type", K::kString, _, _, nullptr},
           {3, "idKeys", K::kString, R, _, nullptr},
           {4, "descriptionKeys", K::kString, R, _, nullptr})
TW_MESSAGE(kResource, "opentelemetry.proto.resource.v1.Resource",
           {1, "attributes", K::kMessage, R, _, &kKeyValue},
           {2, "droppedAttributesCount", K::kUint32, _, _, nullptr},
           {3, "entityRefs", K::kMessage, R, _, &kEntityRef})

// trace.v1
TW_MESSAGE(kSpanEvent, "opentelemetry.proto.trace.v1.Span.Event",
           {1, "timeUnixNano", K::kFixed64, _, _, nullptr},
           {2, "name", K::kString, _, _, nullptr},
           {3, "attributes", K::kMessage, R, _, &kKeyValue},
           {4, "droppedAttributesCount", K::kUint32, _, _, nullptr})
TW_MESSAGE(kSpanLink, "opentelemetry.proto.trace.v1.Span.Link",
           {1, "traceId", K::kId, _, _, nullptr},
           {2, "spanId", K::kId, _, _, nullptr},
           {3, "traceState", K::kString, _, _, nullptr},
           {4, "attributes", K::kMessage, R, _, &kKeyValue},
           {5, "droppedAttributesCount", K::kUint32, _, _, nullptr},
           {6, "flags", K::kFixed32, _, _, nullptr})
TW_MESSAGE(kStatus, "opentelemetry.proto.trace.v1.Status",
           {2, "message", K::kString, _, _, nullptr},
           {3, "code", K::kEnum, _, _, nullptr})
TW_MESSAGE(kSpan, "opentelemetry.proto.trace.v1.Span",
           {1, "traceId", K::kId, _, _, nullptr},
           {2, "spanId", K::kId, _, _, nullptr},
           {3, "traceState", K::kString, _, _, nullptr},
           {4, "parentSpanId", K::kId, _, _, nullptr},
           {16, "flags", K::kFixed32, _, _, nullptr},
           {5, "name", K::kString, _, _, nullptr},
           {6, "kind", K::kEnum, _, _, nullptr},
           {7, "startTimeUnixNano", K::kFixed64, _, _, nullptr},
           {8, "endTimeUnixNano", K::kFixed64, _, _, nullptr},
           {9, "attributes", K::kMessage, R, _, &kKeyValue},
           {10, "droppedAttributesCount", K::kUint32, _, _, nullptr},
           {11, "events", K::kMessage, R, _, &kSpanEvent},
           {12, "droppedEventsCount", K::kUint32, _, _, nullptr},
           {13, "links", K::kMessage, R, _, &kSpanLink},
           {14, "droppedLinksCount", K::kUint32, _, _, nullptr},
           {15, "status", K::kMessage, _, P, &kStatus})
TW_MESSAGE(kScopeSpans, "opentelemetry.proto.trace.v1.ScopeSpans",
           {1, "scope", K::kMessage, _, P, &kInstrumentationScope},
           {2, "spans", K::kMessage, R, _, &kSpan},
           {3, "schemaUrl", K::kString, _, _, nullptr})
TW_MESSAGE(kResourceSpans, "opentelemetry.proto.trace.v1.ResourceSpans",
           {1, "resource", K::kMessage, _, P, &kResource},
           {2, "scopeSpans", K::kMessage, R, _, &kScopeSpans},
           {3, "schemaUrl", K::kString, _, _, nullptr})
TW_MESSAGE(kExportTraceServiceRequest,
           "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
           {1, "resourceSpans", K::kMessage, R, _, &kResourceSpans})

// metrics.v1
TW_MESSAGE(kExemplar, "opentelemetry.proto.metrics.v1.Exemplar",
           {7, "filteredAttributes", K::kMessage, R, _, &kKeyValue},
           {2, "timeUnixNano", K::kFixed64, _, _, nullptr},
           {3, "asDouble", K::kDouble, _, P, nullptr, 1},
           {6, "asInt", K::kSfixed64, _, P, nullptr, 1},
           {4, "spanId", K::kId, _, _, nullptr},
           {5, "traceId", K::kId, _, _, nullptr})
TW_MESSAGE(kNumberDataPoint, "opentelemetry.proto.metrics.v1.NumberDataPoint",
           {7, "attributes", K::kMessage, R, _, &kKeyValue},
           {2, "startTimeUnixNano", K::kFixed64, _, _, nullptr},
           {3, "timeUnixNano", K::kFixed64, _, _, nullptr},
           {4, "asDouble", K::kDouble, _, P, nullptr, 1},
           {6, "asInt", K::kSfixed64, _, P, nullptr, 1},
           {5, "exemplars", K::kMessage, R, _, &kExemplar},
           {8, "flags", K::kUint32, _, _, nullptr})
TW_MESSAGE(kHistogramDataPoint, "opentelemetry.proto.metrics.v1.HistogramDataPoint",
           {9, "attributes", K::kMessage, R, _, &kKeyValue},
           {2, "startTimeUnixNano", K::kFixed64, _, _, nullptr},
           {3, "timeUnixNano", K::kFixed64, _, _, nullptr},
           {4, "count", K::kFixed64, _, _, nullptr},
           {5, "sum", K::kDouble, _, P, nullptr},
           {6, "bucketCounts", K::kFixed64, R, _, nullptr},
           {7, "explicitBounds", K::kDouble, R, _, nullptr},
           {8, "exemplars", K::kMessage, R, _, &kExemplar},
           {10, "flags", K::kUint32, _, _, nullptr},
           {11, "min", K::kDouble, _, P, nullptr},
           {12, "max", K::kDouble, _, P, nullptr})
TW_MESSAGE(kBuckets, "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets",
           {1, "offset", K::kSint32, _, _, nullptr},
           {2, "bucketCounts", K::kUint64, R, _, nullptr})
TW_MESSAGE(kExponentialHistogramDataPoint,
           "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
           {1, "attributes", K::kMessage, R, _, &kKeyValue},
           {2, "startTimeUnixNano", K::kFixed64, _, _, nullptr},
           {3, "timeUnixNano", K::kFixed64, _, _, nullptr},
           {4, "count", K::kFixed64, _, _, nullptr},
           {5, "sum", K::kDouble, _, P, nullptr},
           {6, "scale", K::kSint32, _, _, nullptr},
           {7, "zeroCount", K::kFixed64, _, _, nullptr},
           {8, "positive", K::kMessage, _, P, &kBuckets},
           {9, "negative", K::kMessage, _, P, &kBuckets},
           {10, "flags", K::kUint32, _, _, nullptr},
           {11, "exemplars", K::kMessage, R, _, &kExemplar},
           {12, "min", K::kDouble, _, P, nullptr},
           {13, "max", K::kDouble, _, P, nullptr},
           {14, "zeroThreshold", K::kDouble, _, _, nullptr})
TW_MESSAGE(kValueAtQuantile, "opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile",
           {1, "quantile", K::kDouble, _, _, nullptr},
           {2, "value", K::kDouble, _, _, nullptr})
TW_MESSAGE(kSummaryDataPoint, "opentelemetry.proto.metrics.v1.SummaryDataPoint",
           {7, "attributes", K::kMessage, R, _, &kKeyValue},
           {2, "startTimeUnixNano", K::kFixed64, _, _, nullptr},
           {3, "timeUnixNano", K::kFixed64, _, _, nullptr},
           {4, "count", K::kFixed64, _, _, nullptr},
           {5, "sum", K::kDouble, _, _, nullptr},
           {6, "quantileValues", K::kMessage, R, _, &kValueAtQuantile},
           {8, "flags", K::kUint32, _, _, nullptr})
TW_MESSAGE(kGauge, "opentelemetry.proto.metrics.v1.Gauge",
           {1, "dataPoints", K::kMessage, R, _, &kNumberDataPoint})
TW_MESSAGE(kSum, "opentelemetry.proto.metrics.v1.Sum",
           {1, "dataPoints", K::kMessage, R, _, &kNumberDataPoint},
           {2, "aggregationTemporality", K::kEnum, _, _, nullptr},
           {3, "isMonotonic", K::kBool, _, _, nullptr})
TW_MESSAGE(kHistogram, "opentelemetry.proto.metrics.v1.Histogram",
           {1, "dataPoints", K::kMessage, R, _, &kHistogramDataPoint},
           {2, "aggregationTemporality", K::kEnum, _, _, nullptr})
TW_MESSAGE(kExponentialHistogram, "opentelemetry.proto.metrics.v1.ExponentialHistogram",
           {1, "dataPoints", K::kMessage, R, _, &kExponentialHistogramDataPoint},
           {2, "aggregationTemporality", K::kEnum, _, _, nullptr})
TW_MESSAGE(kSummary, "opentelemetry.proto.metrics.v1.Summary",
           {1, "dataPoints", K::kMessage, R, _, &kSummaryDataPoint})
TW_MESSAGE(kMetric, "opentelemetry.proto.metrics.v1.Metric",
           {1, "name", K::kString, _, _, nullptr},
           {2, "description", K::kString, _, _, nullptr},
           {3, "unit", K::kString, _, _, nullptr},
           {5, "gauge", K::kMessage, _, P, &kGauge, 1},
           {7, "sum", K::kMessage, _, P, &kSum, 1},
           {9, "histogram", K::kMessage, _, P, &kHistogram, 1},
           {10, "exponentialHistogram", K::kMessage, _, P, &kExponentialHistogram, 1},
           {11, "summary", K::kMessage, _, P, &kSummary, 1},
           {12, "metadata", K::kMessage, R, _, &kKeyValue})
TW_MESSAGE(kScopeMetrics, "opentelemetry.proto.metrics.v1.ScopeMetrics",
           {1, "scope", K::kMessage, _, P, &kInstrumentationScope},
           {2, "metrics", K::kMessage, R, _, &kMetric},
           {3, "schemaUrl", K::kString, _, _, nullptr})
TW_MESSAGE(kResourceMetrics, "opentelemetry.proto.metrics.v1.ResourceMetrics",
           {1, "resource", K::kMessage, _, P, &kResource},
           {2, "scopeMetrics", K::kMessage, R, _, &kScopeMetrics},
           {3, "schemaUrl", K::kString, _, _, nullptr})
TW_MESSAGE(kExportMetricsServiceRequest,
           "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
           {1, "resourceMetrics", K::kMessage, R, _, &kResourceMetrics})

// logs.v1
TW_MESSAGE(kLogRecord, "opentelemetry.proto.logs.v1.LogRecord",
           {1, "timeUnixNano", K::kFixed64, _, _, nullptr},
           {11, "observedTimeUnixNano", K::kFixed64, _, _, nullptr},
           {2, "severityNumber", K::kEnum, _, _, nullptr},
           {3, "severityText", K::kString, _, _, nullptr},
           {5, "body", K::kMessage, _, P, &kAnyValue},
           {6, "attributes", K::kMessage, R, _, &kKeyValue},
           {7, "droppedAttributesCount", K::kUint32, _, _, nullptr},
           {8, "flags", K::kFixed32, _, _, nullptr},
           {9, "traceId", K::kId, _, _, nullptr},
           {10, "spanId", K::kId, _, _, nullptr},
           {12, "eventName", K::kString, _, _, nullptr})
TW_MESSAGE(kScopeLogs, "opentelemetry.proto.logs.v1.ScopeLogs",
           {1, "scope", K::kMessage, _, P, &kInstrumentationScope},
           {2, "logRecords", K::kMessage, R, _, &kLogRecord},
           {3, "schemaUrl", K::kString, _, _, nullptr})
TW_MESSAGE(kResourceLogs, "opentelemetry.proto.logs.v1.ResourceLogs",
           {1, "resource", K::kMessage, _, P, &kResource},
           {2, "scopeLogs", K::kMessage, R, _, &kScopeLogs},
           {3, "schemaUrl", K::kString, _, _, nullptr})
TW_MESSAGE(kExportLogsServiceRequest,
           "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
           {1, "resourceLogs", K::kMessage, R, _, &kResourceLogs})

#undef TW_MESSAGE
}  // namespace
}  // namespace schema
}  // namespace tracewire::wire

namespace tracewire::wire::schema {

const MessageDesc& ExportRequestOf(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return kExportTraceServiceRequest;
    case Signal::kMetrics:
      return kExportMetricsServiceRequest;
    case Signal::kLogs:
      break;
  }
  return kExportLogsServiceRequest;
}

}  // namespace tracewire::wire::schema
