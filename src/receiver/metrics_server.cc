#include "receiver/metrics_server.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "receiver/daemon_config.h"

namespace tracewire::receiver {

MetricsServer::MetricsServer(std::string listen, const common::ReceiverMetrics* metrics,
                             bool health_only)
    : listen_(std::move(listen)), metrics_(metrics), health_only_(health_only) {}

MetricsServer::~MetricsServer() { Shutdown(); }

absl::Status MetricsServer::Start() {
  std::string host;
  int port;
  absl::Status st = SplitHostPort("telemetry.metrics_listen", listen_, &host, &port);
  if (!st.ok()) return st;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  http_ = std::make_unique<httplib::Server>();
  const common::ReceiverMetrics* m = metrics_;
  if (!health_only_) {
    http_->Get("/metrics", [m](const httplib::Request&, httplib::Response& res) {
      res.set_content(m->RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
  http_->Get("/health", [m](const httplib::Request&, httplib::Response& res) {
    const int state = m->lifecycle.load(std::memory_order_acquire);
    static const char* const kState[] = {"starting", "ok", "draining"};
    std::string body = absl::StrCat("{\"status\":\"", kState[std::clamp(state, 0, 2)], "\"");
    if (state == common::ReceiverMetrics::kServing) {
      const int64_t since = m->serving_since_unix_s.load(std::memory_order_relaxed);
      absl::StrAppend(
          &body, ",\"upSince\":\"",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(since), absl::UTCTimeZone()),
          "\",\"uptime\":\"", absl::ToUnixSeconds(absl::Now()) - since, "s\"");
    }
    body += "}\n";
    res.status = state == common::ReceiverMetrics::kServing ? 200 : 503;
    res.set_content(body, "application/json");
  });
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second process
  // bind the same port: SO_REUSEADDR only (restart over TIME_WAIT).
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  errno = 0;
  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
  } else {
    port_ = http_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    http_.reset();
    const int error = errno;  // bind(2)'s, if that was what failed
    return absl::UnavailableError(
        absl::StrCat(health_only_ ? "/health" : "/metrics", ": cannot listen on ", listen_,
                     error != 0 ? ": " : "", error != 0 ? std::strerror(error) : ""));
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return absl::OkStatus();
}

void MetricsServer::Shutdown() {
  if (!http_) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

}  // namespace tracewire::receiver
