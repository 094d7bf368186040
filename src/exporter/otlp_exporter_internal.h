#pragma once
// The OTLP exporter's internal entry points, for the SDK's span exporter
// (src/sdk/trace/exporters.cc). Not for users.
//
// Thread-safe, as OtlpExporter.

#include <span>

#include "absl/status/status.h"
#include "tracewire/otlp_exporter.h"
#include "wire/encoded_span.h"

namespace tracewire::exporter {

struct OtlpExporterAccess {
  // Spans whose Span messages the caller encoded (the SDK's batch path),
  // grouped by resource and scope, in requests of at most max_request_bytes.
  // InvalidArgument when `exporter` is not a traces exporter;
  // ResourceExhausted when (some of) it was dropped because the queue is
  // full.
  [[nodiscard]] static absl::Status ExportSpans(
      OtlpExporter& exporter, std::span<const ScopedItems<wire::EncodedSpan>> groups);
};

}  // namespace tracewire::exporter
