#include "exporter/transport_factory.h"

#include "absl/strings/str_cat.h"
#include "exporter/grpc_transport.h"
#include "exporter/http_transport.h"

namespace tracewire::exporter {

absl::StatusOr<std::unique_ptr<Transport>> CreateTransport(const OtlpExporterOptions& options) {
  if (options.protocol == "grpc") {
    absl::StatusOr<std::unique_ptr<GrpcTransport>> t = GrpcTransport::Create(options);
    if (!t.ok()) return t.status();
    return std::unique_ptr<Transport>(std::move(*t));
  }
  if (options.protocol == "http/protobuf" || options.protocol == "http/json") {
    absl::StatusOr<std::unique_ptr<HttpTransport>> t = HttpTransport::Create(options);
    if (!t.ok()) return t.status();
    return std::unique_ptr<Transport>(std::move(*t));
  }
  return absl::InvalidArgumentError(absl::StrCat("exporter option protocol: '", options.protocol,
                                                 "' is not grpc, http/protobuf or http/json"));
}

}  // namespace tracewire::exporter
