#pragma once
// Resource detection: what the process, the host, the OS and the container
// tell about where telemetry comes from, as the other OpenTelemetry SDKs
// detect it, merged with the environment the specification's way.
//
//   absl::StatusOr<tracewire::Resource> r = tracewire::DetectResource();
//   options.resource = *r;  // TracerProviderOptions, MeterProviderOptions, ...
//
// DetectResource merges, each over the one before (the later wins a key):
//   1. the SDK's telemetry.sdk.* and service.name=unknown_service:<executable>;
//   2. the detectors switched on (all by default):
//        process:   process.pid, process.parent_pid, process.executable.name,
//                   process.executable.path, process.command_args,
//                   process.command_line, process.owner,
//                   process.runtime.name/version/description;
//        host:      host.name, host.arch (amd64, arm64, ...);
//        os:        os.type, os.description, os.name, os.version;
//        container: container.id (from /proc/self/cgroup or mountinfo;
//                   absent outside a container);
//   3. OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME.
// TRACEWIRE_RESOURCE_DETECTORS (a comma list of process, host, os,
// container, or all or none) chooses the detectors from the environment.
//
// Thread safety: every function here may be called from any thread. Those
// that read the environment need no thread to change it (setenv) meanwhile.

#include "absl/status/statusor.h"
#include "tracewire/export.h"
#include "tracewire/telemetry_data.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

struct ResourceDetectors {
  bool process = true;
  bool host = true;
  bool os = true;
  bool container = true;

  // From TRACEWIRE_RESOURCE_DETECTORS (all when unset); InvalidArgument
  // names the variable and the unknown detector.
  static absl::StatusOr<ResourceDetectors> FromEnv();
};

Resource DetectProcessResource();
Resource DetectHostResource();
Resource DetectOsResource();
Resource DetectContainerResource();  // empty outside a container

// The SDK's attributes, the detectors, then the environment (see above).
// InvalidArgument when OTEL_RESOURCE_ATTRIBUTES is malformed.
absl::StatusOr<Resource> DetectResource(const ResourceDetectors& detectors = {});

TRACEWIRE_END_API

}  // namespace tracewire
