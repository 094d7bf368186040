// tracewired's YAML configuration loader (receiver/daemon_config.h).
//
// Invariants: ParseDaemonConfigYaml never crashes or throws on any text; a
// refusal always says why; an accepted configuration validates.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "receiver/daemon_config.h"

using tracewire::fuzz::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = tracewire::receiver::ParseDaemonConfigYaml(text);
  if (!config.ok()) {
    FuzzCheck(!config.status().message().empty(), "a refusal names its reason");
    return 0;
  }
  (void)config->Validate();
  return 0;
}
