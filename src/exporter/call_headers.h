#pragma once
// The headers every export call carries, the same on either transport: the
// configured ones (OTEL_EXPORTER_OTLP_HEADERS, `headers`), then the
// credentials: `authorization: Bearer <token>` (from bearer_token_source
// when set, which is asked on every call so that a rotated token is used at
// once) and `x-api-key`. Names are in lower case, as gRPC metadata requires
// (HTTP does not care).
//
// Thread-safe if bearer_token_source is.

#include <string>
#include <utility>
#include <vector>

#include "tracewire/otlp_exporter_options.h"

namespace tracewire::exporter {

std::vector<std::pair<std::string, std::string>> CallHeaders(const OtlpExporterOptions& options);

}  // namespace tracewire::exporter
