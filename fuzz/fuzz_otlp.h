#pragma once
// OTLP helpers of the wire-layer fuzz targets: the request schema of a
// signal, and a signal from a number.

#include "fuzz_check.h"
#include "wire/otlp_schema.h"
#include "wire/otlp_signal.h"

namespace tracewire::fuzz {

inline const wire::MessageDesc& RequestDesc(wire::Signal s) {
  switch (s) {
    case wire::Signal::kTraces:
      return wire::schema::kExportTraceServiceRequest;
    case wire::Signal::kMetrics:
      return wire::schema::kExportMetricsServiceRequest;
    case wire::Signal::kLogs:
      break;
  }
  return wire::schema::kExportLogsServiceRequest;
}

// The signal a target reads: fixed at compile time (TW_FUZZ_SIGNAL 0, 1, 2)
// for the per-signal targets, else taken from the input's first byte.
inline wire::Signal SignalOf(int n) {
  switch (n % 3) {
    case 0:
      return wire::Signal::kTraces;
    case 1:
      return wire::Signal::kMetrics;
  }
  return wire::Signal::kLogs;
}

}  // namespace tracewire::fuzz
