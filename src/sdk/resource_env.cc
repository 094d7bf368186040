#include "sdk/resource_env.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/text.h"
#include "sdk/resource_detectors.h"
#include "tracewire/version.h"

namespace tracewire::sdk {
namespace {

void Put(Attributes* attrs, const std::string& key, AnyValue v) {
  for (auto& kv : *attrs) {
    if (kv.key == key) {
      kv.value = std::move(v);
      return;
    }
  }
  attrs->push_back({key, std::move(v)});
}

}  // namespace

Resource SdkResource() {
  Resource r;
  r.attributes = {{"telemetry.sdk.name", "tracewire"},
                  {"telemetry.sdk.language", "cpp"},
                  {"telemetry.sdk.version", TRACEWIRE_VERSION_STRING},
                  {"service.name", absl::StrCat("unknown_service:", ExecutableName())}};
  return r;
}

Resource MergeResources(const Resource& old_resource, const Resource& updating) {
  Resource r = old_resource;
  for (const auto& kv : updating.attributes) Put(&r.attributes, kv.key, kv.value);
  r.dropped_attributes_count += updating.dropped_attributes_count;
  if (r.schema_url.empty()) {
    r.schema_url = updating.schema_url;
  } else if (!updating.schema_url.empty() && updating.schema_url != r.schema_url) {
    r.schema_url.clear();  // conflicting schema URLs: the specification leaves it empty
  }
  return r;
}

absl::StatusOr<Resource> ResourceFromEnv(const std::function<const char*(const char*)>& getenv) {
  Resource r;
  if (const char* v = getenv("OTEL_RESOURCE_ATTRIBUTES")) {
    for (absl::string_view pair : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      const size_t eq = pair.find('=');
      std::string value;
      const std::string key(absl::StripAsciiWhitespace(pair.substr(0, eq)));
      if (eq == absl::string_view::npos || key.empty() ||
          !common::PercentDecode(std::string(absl::StripAsciiWhitespace(pair.substr(eq + 1))),
                                 &value)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "OTEL_RESOURCE_ATTRIBUTES: '", v, "' is not key=value,... (", std::string(pair), ")"));
      }
      Put(&r.attributes, key, value);
    }
  }
  if (const char* v = getenv("OTEL_SERVICE_NAME"); v && *v) {
    Put(&r.attributes, "service.name", std::string(v));  // wins over the attributes
  }
  return r;
}

}  // namespace tracewire::sdk
