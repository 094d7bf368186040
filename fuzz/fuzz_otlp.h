#pragma once
// OTLP helper of the wire-layer fuzz targets: a signal from a number.

#include "fuzz_check.h"
#include "wire/otlp_schema.h"
#include "wire/otlp_signal.h"

namespace tracewire::fuzz {

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
