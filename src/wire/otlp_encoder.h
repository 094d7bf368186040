#pragma once
// OTLP encoders: write Export{Trace,Metrics,Logs}ServiceRequest wire bytes
// straight from the plain structs of tracewire/telemetry_data.h, without
// building protobuf message objects.
//
// Grouping. Every ScopedItems group names a Resource and an
// InstrumentationScope by pointer. Groups with the same Resource pointer,
// anywhere in the input, go into one ResourceSpans (ResourceMetrics,
// ResourceLogs); groups with the same Resource and the same scope pointer go
// into one ScopeSpans (ScopeMetrics, ScopeLogs). Resources appear in the order
// of their first group, scopes within a resource in the order of their first
// group, and items in group order, then in each group's order ("plan order").
// A null Resource or scope pointer is a key like any other and encodes as an
// absent resource or scope field. Groups without items are skipped; a request
// without items is zero bytes, which is a valid empty request.
//
// Encoding. Fields are written in field-number order, following proto3:
// scalars at their default value (0, "", false) are omitted, except oneof
// members (AnyValue's value, as_double/as_int) and `optional` fields
// (histogram sum/min/max), which are written when set. The output is
// therefore byte-identical to libprotobuf's serialization of the equivalent
// message. Choices where the structs leave presence open:
//   - Span and Link trace_id/span_id are always written; parent_span_id, and
//     Exemplar and LogRecord ids, only when the std::optional is set.
//   - Span.status is written unless code is UNSET and message is empty.
//   - ExponentialHistogram positive/negative buckets are written unless
//     offset is 0 and there are no counts.
//   - KeyValue.value is always written (an empty AnyValue for monostate);
//     LogRecord.body is written when set.
//   - Metric data is always written (the variant always holds one kind).
// Sizes are computed first, into a size cache, then the bytes are written
// forward into a buffer grown once per call: there is no per-field allocation.
//
// Pure functions of their arguments: thread-safe. The structs must not change
// during a call.
//
// REQUIRES: no null item pointers in any ScopedItems::items.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tracewire/telemetry_data.h"
#include "wire/encoded_span.h"

namespace tracewire::wire {

// Each appends one request to *out (nothing when there are no items).
void EncodeTracesRequest(std::span<const ScopedItems<SpanData>> groups, std::string* out);
void EncodeTracesRequest(std::span<const ScopedItems<EncodedSpan>> groups, std::string* out);
void EncodeMetricsRequest(std::span<const ScopedItems<MetricData>> groups, std::string* out);
void EncodeLogsRequest(std::span<const ScopedItems<LogRecordData>> groups, std::string* out);

// The number of bytes the Encode*Request call would append.
size_t EncodedTracesRequestSize(std::span<const ScopedItems<SpanData>> groups);
size_t EncodedMetricsRequestSize(std::span<const ScopedItems<MetricData>> groups);
size_t EncodedLogsRequestSize(std::span<const ScopedItems<LogRecordData>> groups);

// The size of one item's message (a Span, Metric or LogRecord: what
// libprotobuf's ByteSizeLong returns, without the field tag and length).
size_t EncodedSpanSize(const SpanData& span);
size_t EncodedMetricSize(const MetricData& metric);
size_t EncodedLogRecordSize(const LogRecordData& record);

// The bytes a message of `message_size` bytes takes as a length-delimited
// field numbered below 16 (a tag byte, the length varint, the message): what
// an item adds to its ScopeSpans/ScopeMetrics/ScopeLogs.
size_t LengthDelimitedFieldSize(size_t message_size);

// One request's worth of a split: groups to pass to Encode*Request, and the
// exact number of bytes that call appends.
template <typename Item>
struct RequestSplit {
  std::vector<ScopedItems<Item>> groups;
  size_t encoded_size = 0;
};

// Splits `groups` into requests that each encode to at most
// `max_request_bytes`. Every item lands in exactly one request, and the
// requests' items, concatenated in encoded order, are the items of the whole
// request in its plan order (see above), so input order is kept when groups
// are already grouped. An item too large for any request goes alone in its
// own request, which then exceeds the limit. Each split's groups have
// distinct (resource, scope) pairs in plan order. A request's size counts the
// resource and scope wrappers it repeats. No items: no requests.
std::vector<RequestSplit<SpanData>> SplitTracesRequest(
    std::span<const ScopedItems<SpanData>> groups, size_t max_request_bytes);
std::vector<RequestSplit<EncodedSpan>> SplitTracesRequest(
    std::span<const ScopedItems<EncodedSpan>> groups, size_t max_request_bytes);
std::vector<RequestSplit<MetricData>> SplitMetricsRequest(
    std::span<const ScopedItems<MetricData>> groups, size_t max_request_bytes);
std::vector<RequestSplit<LogRecordData>> SplitLogsRequest(
    std::span<const ScopedItems<LogRecordData>> groups, size_t max_request_bytes);

}  // namespace tracewire::wire
