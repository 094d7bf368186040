#pragma once
// MetricsServer serves the receiver's self-telemetry over HTTP:
// GET /metrics in the Prometheus text format, GET /healthz. It owns one
// listening thread, started in Start() and joined in Shutdown().
//
// Thread-safe.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "common/self_metrics.h"

namespace httplib {
class Server;
}

namespace tracewire::receiver {

class MetricsServer {
 public:
  MetricsServer(std::string listen, const common::ReceiverMetrics* metrics);
  ~MetricsServer();

  [[nodiscard]] absl::Status Start();
  int port() const { return port_; }
  void Shutdown();

 private:
  const std::string listen_;
  const common::ReceiverMetrics* const metrics_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace tracewire::receiver
