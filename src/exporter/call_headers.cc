#include "exporter/call_headers.h"

namespace tracewire::exporter {

std::vector<std::pair<std::string, std::string>> CallHeaders(const OtlpExporterOptions& options) {
  std::vector<std::pair<std::string, std::string>> out(options.headers.begin(),
                                                       options.headers.end());
  const std::string token =
      options.bearer_token_source ? options.bearer_token_source() : options.bearer_token;
  if (!token.empty()) out.emplace_back("authorization", "Bearer " + token);
  if (!options.api_key.empty()) out.emplace_back("x-api-key", options.api_key);
  return out;
}

}  // namespace tracewire::exporter
