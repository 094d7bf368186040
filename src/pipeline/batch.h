#pragma once
// One accepted Export request on its way to a sink.

#include <cstdint>
#include <memory>
#include <string>

#include "common/admission.h"
#include "wire/otlp_reader.h"

namespace tracewire::pipeline {

struct Batch {
  wire::Signal signal = wire::Signal::kTraces;
  std::string bytes;  // Uncompressed Export*ServiceRequest holding only valid items.
  int64_t items = 0;  // spans, data points or log records in `bytes`
  // The receiver's admission of the request (common/admission.h): its bytes
  // stay counted against the daemon's memory limit while any copy of the
  // batch (a sink's queue, a fan-out copy) holds this. May be null.
  std::shared_ptr<common::AdmissionTicket> admission;
};

}  // namespace tracewire::pipeline
