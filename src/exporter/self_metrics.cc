// ExporterSelfMetrics: ExporterStats as semantic-convention data points.

#include "common/grpc_codes.h"
#include "tracewire/otlp_exporter.h"

namespace tracewire {

std::vector<SelfMetricPoint> ExporterSelfMetrics(ExportSignal signal, const ExporterStats& s) {
  static const char* const kItem[] = {"span", "metric_data_point", "log"};
  static const char* const kComponent[] = {"otlp_grpc_span_exporter", "otlp_grpc_metric_exporter",
                                           "otlp_grpc_log_exporter"};
  const std::string item = kItem[static_cast<int>(signal)];
  const std::map<std::string, std::string> base = {
      {"otel.component.type", kComponent[static_cast<int>(signal)]}};
  auto with = [&base](const std::string& k, const std::string& v) {
    auto m = base;
    m[k] = v;
    return m;
  };
  std::vector<SelfMetricPoint> out;
  const std::string exported = "otel.sdk.exporter." + item + ".exported";
  const std::string unit = "{" + item + "}";
  out.push_back({exported, unit, base, static_cast<double>(s.exported_items), true});
  for (const auto& [reason, n] : s.dropped_items) {
    out.push_back({exported, unit, with("error.type", reason), static_cast<double>(n), true});
  }
  out.push_back({"otel.sdk.exporter." + item + ".inflight", unit, base,
                 static_cast<double>(s.in_flight), false});
  for (const auto& [code, h] : s.operation_durations) {
    SelfMetricPoint p{"otel.sdk.exporter.operation.duration", "s", base, 0, true, h};
    p.attributes["rpc.grpc.status_code"] = std::to_string(common::GrpcCodeNumber(code));
    if (code != "OK") p.attributes["error.type"] = code;
    out.push_back(std::move(p));
  }
  // The seed documents' names (003 §11).
  out.push_back({"grpc.client.requests.total", "{request}", base,
                 static_cast<double>(s.request_duration_count), true});
  out.push_back({"grpc.client.request.duration.sum", "s", base,
                 static_cast<double>(s.request_duration_sum_ns) / 1e9, true});
  for (const auto& [code, n] : s.failed_attempts) {
    out.push_back({"grpc.client.errors.total", "{error}", with("rpc.grpc.status_code", code),
                   static_cast<double>(n), true});
  }
  out.push_back(
      {"tracewire.exporter.retries", "{attempt}", base, static_cast<double>(s.retries), true});
  out.push_back({"tracewire.exporter.bytes_sent", "By", with("compression", "before"),
                 static_cast<double>(s.bytes_sent), true});
  out.push_back({"tracewire.exporter.bytes_sent", "By", with("compression", "after"),
                 static_cast<double>(s.bytes_sent_compressed), true});
  out.push_back(
      {"tracewire.exporter.queue.items", unit, base, static_cast<double>(s.queued_items), false});
  out.push_back({"tracewire.exporter.breaker.open", "1", with("state", s.breaker_state),
                 s.breaker_state == "closed" ? 0.0 : 1.0, false});
  return out;
}

}  // namespace tracewire
