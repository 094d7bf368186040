#pragma once
// Encodes a span record (span_record.h) straight to an OTLP Span message,
// without decoding it into a SpanData first. The bytes are those
// wire::EncodeTracesRequest writes for the decoded span (sdk::Materialize):
// the same fields, in the same order, with the same omissions.
//
// Stateless: thread-safe.

#include <cstdint>

#include "sdk/trace/span_record.h"

namespace tracewire::sdk {

class RecordEncoder {
 public:
  // Appends the Span message of `r` to *out.
  void Append(const RecordedSpan& r, ByteBuf* out);
};

}  // namespace tracewire::sdk
