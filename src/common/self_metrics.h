#pragma once
// Self-telemetry of the receiver: per-signal counters and gauges, rendered in
// the Prometheus text exposition format. Names follow the OpenTelemetry
// Collector where it has one (otelcol_receiver_accepted_spans, ...), so that
// existing dashboards work.
//
// Thread-safe: counters are relaxed atomics (they order nothing; readers only
// need eventually consistent values).

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace tracewire::common {

struct SignalCounters {
  std::atomic<int64_t> accepted_items{0};      // kept and acknowledged
  std::atomic<int64_t> rejected_items{0};      // invalid, reported in partial_success
  std::atomic<int64_t> refused_items{0};       // in requests answered with an error
  std::atomic<int64_t> accepted_requests{0};   // answered OK (incl. partial success)
  std::atomic<int64_t> partial_requests{0};    // answered OK with partial_success
  std::atomic<int64_t> refused_requests{0};    // answered with an error status
  std::atomic<int64_t> wire_bytes{0};          // request bytes as received
  std::atomic<int64_t> decompressed_bytes{0};  // request bytes after decompression

  static void Add(std::atomic<int64_t>& c, int64_t n) { c.fetch_add(n, std::memory_order_relaxed); }
};

class ReceiverMetrics {
 public:
  // Index with static_cast<int>(wire::Signal): OTLP/gRPC's, and OTLP/HTTP's
  // (rendered with transport="grpc" and transport="http").
  SignalCounters signals[3];
  SignalCounters http_signals[3];
  std::atomic<int64_t> sink_dropped_items{0};  // acknowledged but lost by a failing sink
  // The daemon's state for GET /health: starting until every part is up,
  // serving, then draining from the moment a shutdown begins.
  enum Lifecycle : int { kStarting = 0, kServing = 1, kDraining = 2 };
  std::atomic<int> lifecycle{kStarting};
  std::atomic<int64_t> serving_since_unix_s{0};
  // Certificate rotation (receiver/server_tls.h): files taken, and checks
  // that found bad files (the previous certificates stayed in use).
  std::atomic<int64_t> tls_reloads{0};
  std::atomic<int64_t> tls_reload_failures{0};

  // Gauges read at render time (sink queue depth); may be empty.
  std::function<int64_t()> queue_items;
  std::function<int64_t()> queue_bytes;
  std::function<int64_t()> queue_capacity_bytes;
  // The admission budget (common/admission.h): bytes held, the limit, and
  // requests refused for it. May be empty.
  std::function<int64_t()> admission_used_bytes;
  std::function<int64_t()> admission_limit_bytes;
  std::function<int64_t()> admission_refused;
  // More exposition text (e.g. the forward sink's exporter), may be empty.
  std::function<std::string()> extra_text;

  // The Prometheus text format (version 0.0.4).
  std::string RenderPrometheus() const;
};

}  // namespace tracewire::common
