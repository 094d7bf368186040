#pragma once
// The transport an exporter's options ask for: GrpcTransport for "grpc",
// HttpTransport for "http/protobuf" and "http/json". Thread-safe (a function).

#include <memory>

#include "absl/status/statusor.h"
#include "exporter/transport.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire::exporter {

absl::StatusOr<std::unique_ptr<Transport>> CreateTransport(const OtlpExporterOptions& options);

}  // namespace tracewire::exporter
