#pragma once
// MetricsServer serves the receiver's self-telemetry over HTTP:
// GET /metrics in the Prometheus text format, and GET /health like the
// Collector's health_check extension: 200 and {"status":"ok",...} while
// serving, 503 and "starting" or "draining" otherwise (GET /healthz: 200
// "ok" while the process answers). With health_only it serves the health
// paths alone (telemetry.health_listen). It owns one listening thread,
// started in Start() and joined in Shutdown().
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
  MetricsServer(std::string listen, const common::ReceiverMetrics* metrics,
                bool health_only = false);
  ~MetricsServer();

  [[nodiscard]] absl::Status Start();
  int port() const { return port_; }
  void Shutdown();

 private:
  const std::string listen_;
  const common::ReceiverMetrics* const metrics_;
  const bool health_only_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace tracewire::receiver
