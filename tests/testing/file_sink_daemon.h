#pragma once
// A tracewired configuration for tests that read what arrived: listens on
// 127.0.0.1:0, no /metrics endpoint, the file sink writing into `dir`.

#include <string>

#include "receiver/daemon_config.h"

namespace tracewire::testing {

inline receiver::DaemonConfig FileSinkConfig(const std::string& dir) {
  receiver::DaemonConfig c;
  c.listen = "127.0.0.1:0";
  c.metrics_listen = "";
  c.sink = "file";
  c.file_dir = dir;
  return c;
}

}  // namespace tracewire::testing
