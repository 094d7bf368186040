#include "common/self_metrics.h"

#include "absl/strings/str_cat.h"

namespace tracewire::common {
namespace {

const char* const kSignal[] = {"traces", "metrics", "logs"};
// The Collector's item names per signal.
const char* const kItem[] = {"spans", "metric_points", "log_records"};

void Family(std::string* out, const std::string& name, const char* type, const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void Sample(std::string* out, const std::string& name, const std::string& labels, int64_t v) {
  absl::StrAppend(out, name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", v,
                  "\n");
}

const char* const kTransport[2] = {"grpc", "http"};

std::string Recv(int t) {
  return absl::StrCat("receiver=\"otlp\",transport=\"", kTransport[t], "\"");
}

}  // namespace

std::string ReceiverMetrics::RenderPrometheus() const {
  std::string out;
  const SignalCounters* const by_transport[2] = {signals, http_signals};
  auto load = [](const std::atomic<int64_t>& a) { return a.load(std::memory_order_relaxed); };
  for (int s = 0; s < 3; ++s) {
    const std::string item = kItem[s];
    std::string n = "otelcol_receiver_accepted_" + item;
    Family(&out, n, "counter", "Items successfully pushed into the pipeline.");
    for (int t = 0; t < 2; ++t) Sample(&out, n, Recv(t), load(by_transport[t][s].accepted_items));
    n = "otelcol_receiver_refused_" + item;
    Family(&out, n, "counter", "Items that could not be pushed into the pipeline.");
    for (int t = 0; t < 2; ++t) Sample(&out, n, Recv(t), load(by_transport[t][s].refused_items));
    n = "tracewire_receiver_rejected_" + item;
    Family(&out, n, "counter", "Invalid items reported back in partial_success.");
    for (int t = 0; t < 2; ++t) Sample(&out, n, Recv(t), load(by_transport[t][s].rejected_items));
  }
  Family(&out, "tracewire_receiver_requests", "counter",
         "Export requests by signal and outcome (accepted, partial, refused).");
  for (int t = 0; t < 2; ++t) {
    for (int s = 0; s < 3; ++s) {
      const SignalCounters& c = by_transport[t][s];
      const std::string l = absl::StrCat(Recv(t), ",signal=\"", kSignal[s], "\",outcome=");
      Sample(&out, "tracewire_receiver_requests", l + "\"accepted\"", load(c.accepted_requests));
      Sample(&out, "tracewire_receiver_requests", l + "\"partial\"", load(c.partial_requests));
      Sample(&out, "tracewire_receiver_requests", l + "\"refused\"", load(c.refused_requests));
    }
  }
  Family(&out, "tracewire_receiver_received_bytes", "counter",
         "Request bytes by stage: wire (as received) and decompressed.");
  for (int t = 0; t < 2; ++t) {
    for (int s = 0; s < 3; ++s) {
      const SignalCounters& c = by_transport[t][s];
      const std::string l = absl::StrCat(Recv(t), ",signal=\"", kSignal[s], "\",stage=");
      Sample(&out, "tracewire_receiver_received_bytes", l + "\"wire\"", load(c.wire_bytes));
      Sample(&out, "tracewire_receiver_received_bytes", l + "\"decompressed\"",
             load(c.decompressed_bytes));
    }
  }
  Family(&out, "tracewire_sink_dropped_items", "counter",
         "Acknowledged items a sink failed to keep (write errors).");
  Sample(&out, "tracewire_sink_dropped_items", "", sink_dropped_items.load());
  Family(&out, "tracewire_receiver_tls_reloads", "counter",
         "TLS certificate reloads: ok (new files in use) or failed (bad files, the previous "
         "certificates stay in use).");
  Sample(&out, "tracewire_receiver_tls_reloads", "result=\"ok\"",
         tls_reloads.load(std::memory_order_relaxed));
  Sample(&out, "tracewire_receiver_tls_reloads", "result=\"failed\"",
         tls_reload_failures.load(std::memory_order_relaxed));
  if (queue_items) {
    Family(&out, "otelcol_exporter_queue_size", "gauge", "Batches waiting in the sink queue.");
    Sample(&out, "otelcol_exporter_queue_size", "", queue_items());
  }
  if (queue_bytes) {
    Family(&out, "tracewire_sink_queue_bytes", "gauge", "Bytes waiting in the sink queue.");
    Sample(&out, "tracewire_sink_queue_bytes", "", queue_bytes());
  }
  if (queue_capacity_bytes) {
    Family(&out, "tracewire_sink_queue_capacity_bytes", "gauge", "Sink queue capacity in bytes.");
    Sample(&out, "tracewire_sink_queue_capacity_bytes", "", queue_capacity_bytes());
  }
  if (admission_used_bytes) {
    Family(&out, "tracewire_receiver_inflight_bytes", "gauge",
           "Bytes of requests held in memory, in flight and queued (receiver.max_inflight_mib).");
    Sample(&out, "tracewire_receiver_inflight_bytes", "", admission_used_bytes());
  }
  if (admission_limit_bytes) {
    Family(&out, "tracewire_receiver_inflight_limit_bytes", "gauge",
           "The limit on tracewire_receiver_inflight_bytes (0: none).");
    Sample(&out, "tracewire_receiver_inflight_limit_bytes", "", admission_limit_bytes());
  }
  if (admission_refused) {
    Family(&out, "tracewire_receiver_admission_refused_requests", "counter",
           "Requests answered UNAVAILABLE because the in-flight limit was reached.");
    Sample(&out, "tracewire_receiver_admission_refused_requests", "", admission_refused());
  }
  if (extra_text) out += extra_text();
  return out;
}

}  // namespace tracewire::common
