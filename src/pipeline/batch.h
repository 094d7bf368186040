#pragma once
// One accepted Export request on its way to a sink.

#include <cstdint>
#include <string>

#include "wire/otlp_reader.h"

namespace tracewire::pipeline {

struct Batch {
  wire::Signal signal = wire::Signal::kTraces;
  std::string bytes;  // Uncompressed Export*ServiceRequest holding only valid items.
  int64_t items = 0;  // spans, data points or log records in `bytes`
};

}  // namespace tracewire::pipeline
