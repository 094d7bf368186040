#pragma once
// Splits an OTLP Export request into smaller requests at item boundaries,
// keeping each item's resource and scope: for batches over a size limit, and
// for halving a request a peer refused as too large. Works on the bytes, so
// it serves encoded SDK batches and forwarded requests alike. Items keep
// their order and are copied byte for byte.
//
// Pure functions: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "wire/otlp_reader.h"

namespace tracewire::wire {

struct RequestPart {
  std::string bytes;
  int64_t items = 0;  // spans, data points or log records
  int64_t units = 0;  // item messages (metrics count once each)
};

// Splits into requests of at most `max_bytes` each; an item too large for the
// limit on its own goes into a request of its own. InvalidArgument when the
// bytes are not a request.
absl::StatusOr<std::vector<RequestPart>> SplitRequest(Signal signal, std::string_view bytes,
                                                      size_t max_bytes);

// Splits into two requests holding the first and second half of the item
// messages. A request of one item message comes back as one part.
absl::StatusOr<std::vector<RequestPart>> SplitInHalves(Signal signal, std::string_view bytes);

// Counts the items (spans, data points, log records) and item messages of a
// request without validating the items. InvalidArgument when the bytes are
// not a request.
absl::StatusOr<RequestPart> CountRequestItems(Signal signal, std::string_view bytes);

// The data points of one Metric message.
int64_t MetricDataPoints(std::string_view metric);

}  // namespace tracewire::wire
