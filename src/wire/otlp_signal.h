#pragma once
// The OTLP signals and their OTLP/gRPC collector services: one table of the
// services' full names and Export method paths, for the exporter, the
// receiver and the tools.
//
// Signal is the public tracewire::ExportSignal under the wire layer's name:
// one type, so code passes a signal across layers without a conversion.
//
// Constants and pure functions: thread-safe.

#include <cstdint>

#include "tracewire/export_signal.h"

namespace tracewire::wire {

using Signal = ::tracewire::ExportSignal;

inline constexpr int kSignalCount = 3;
inline constexpr Signal kSignals[kSignalCount] = {Signal::kTraces, Signal::kMetrics, Signal::kLogs};

namespace signal_internal {

inline constexpr const char* kNames[kSignalCount] = {"traces", "metrics", "logs"};
inline constexpr const char* kItemNames[kSignalCount] = {"spans", "data_points", "log_records"};
inline constexpr const char* kServiceNames[kSignalCount] = {
    "opentelemetry.proto.collector.trace.v1.TraceService",
    "opentelemetry.proto.collector.metrics.v1.MetricsService",
    "opentelemetry.proto.collector.logs.v1.LogsService",
};
inline constexpr const char* kExportMethods[kSignalCount] = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

}  // namespace signal_internal

// "traces", "metrics" or "logs".
constexpr const char* SignalName(Signal s) { return signal_internal::kNames[static_cast<int>(s)]; }
// "spans", "data_points" or "log_records": what one item counts as.
constexpr const char* SignalItemName(Signal s) {
  return signal_internal::kItemNames[static_cast<int>(s)];
}
// The gRPC service's full name, e.g.
// "opentelemetry.proto.collector.trace.v1.TraceService" (as grpc.health.v1
// names it).
constexpr const char* ServiceName(Signal s) {
  return signal_internal::kServiceNames[static_cast<int>(s)];
}
// The Export method's path, e.g.
// "/opentelemetry.proto.collector.trace.v1.TraceService/Export".
constexpr const char* ExportMethod(Signal s) {
  return signal_internal::kExportMethods[static_cast<int>(s)];
}

}  // namespace tracewire::wire
