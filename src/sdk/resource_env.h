#pragma once
// Resources: the SDK's own telemetry.sdk.* attributes, attributes from
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, and the merge rule of the
// specification (the updating resource's values win; schema URLs merge when
// one is empty or both are equal). Pure functions: thread-safe.

#include <functional>

#include "absl/status/statusor.h"
#include "tracewire/telemetry_data.h"

namespace tracewire::sdk {

// telemetry.sdk.* and service.name=unknown_service:<executable name>.
Resource SdkResource();
// `updating` wins on conflicting keys.
Resource MergeResources(const Resource& old_resource, const Resource& updating);
// From the environment (getenv returns nullptr if unset). A malformed
// OTEL_RESOURCE_ATTRIBUTES is InvalidArgument naming the variable and value.
absl::StatusOr<Resource> ResourceFromEnv(const std::function<const char*(const char*)>& getenv);

}  // namespace tracewire::sdk
