#pragma once
// Encodes a span record (span_record.h) straight to an OTLP Span message,
// without decoding it into a SpanData first. The bytes are those
// wire::EncodeTracesRequest writes for the decoded span (sdk::Materialize):
// the same fields, in the same order, with the same omissions.
//
// Thread-compatible: a RecordEncoder reuses its buffers between calls.

#include <cstdint>
#include <string>
#include <vector>

#include "sdk/trace/span_record.h"

namespace tracewire::sdk {

class RecordEncoder {
 public:
  // Appends the Span message of `r` to *out.
  void Append(const RecordedSpan& r, std::string* out);

 private:
  std::vector<uint32_t> sizes_;  // nested message sizes, in pre-order
};

}  // namespace tracewire::sdk
