#pragma once
// OtlpExporter sends OTLP telemetry of one signal to a receiver over gRPC:
// queue, retry as the OTLP specification says, circuit breaker with on-disk
// spill, TLS/mTLS, bearer token and API key, gzip, shared channels.
//
//   auto options = tracewire::OtlpExporterOptions::FromEnv(tracewire::ExportSignal::kTraces);
//   auto exporter = tracewire::OtlpExporter::Create(tracewire::ExportSignal::kTraces, *options);
//   (*exporter)->ExportEncoded(std::move(request_bytes));
//   (*exporter)->Shutdown(absl::Now() + absl::Seconds(5));
//
// Thread safety: thread-safe: every method may be called from any threads at
// once. Export* never blocks (unless options.block_on_full is set).
// Shutdown(deadline) always returns by the deadline. ExporterStats is a
// value (thread-compatible).
//
// Errors name the endpoint and the cause: a failure prints one line when it
// begins ("tracewire exporter: export to http://h:4317 failed: UNAVAILABLE:
// ...; retrying"), and a Shutdown or ForceFlush that misses its deadline says
// what the last export failed with. The first exporter routes gRPC's own log
// lines through tracewire's (gpr_set_log_function; a failed connection is
// reported by the exporter instead of by gRPC's raw lines); an application
// with its own gRPC log function sets it after creating the exporter, and
// GRPC_VERBOSITY=DEBUG prints gRPC's lines as gRPC does.
//
// fork(): fork() waits for the exports in flight to end (up to 5 s). The
// child gets a new engine and channel of its own, with none of the parent's
// queued requests (the parent sends them), and exports as usual; the parent
// goes on untouched. This needs gRPC's fork support, which the first exporter
// turns on (GRPC_ENABLE_FORK_SUPPORT=1) unless the variable is set. gRPC reads
// it at its first use, so a process that uses gRPC before creating an
// exporter and wants to fork sets GRPC_ENABLE_FORK_SUPPORT=1 itself.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracewire/export.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/self_metric.h"
#include "tracewire/telemetry_data.h"

namespace tracewire {

namespace exporter {
class ExportPipeline;
class Transport;
struct OtlpExporterAccess;
}  // namespace exporter
TRACEWIRE_BEGIN_API

struct ExporterStats {
  int64_t exported_items = 0;  // acknowledged by the receiver (minus partial rejects)
  int64_t exported_requests = 0;
  int64_t retries = 0;
  int64_t in_flight = 0;  // requests being sent now
  int64_t queued_items = 0;
  int64_t queued_bytes = 0;
  int64_t bytes_sent = 0;              // request bytes handed to gRPC (before compression)
  int64_t bytes_sent_compressed = 0;   // after compression (count_compressed_bytes)
  int64_t spilled_items = 0;           // written to the spill buffer
  int64_t replayed_items = 0;          // taken back from it
  int64_t spill_bytes = 0;             // on disk now
  int64_t request_duration_count = 0;  // attempts (one per gRPC call)
  int64_t request_duration_sum_ns = 0;
  // Export operations (a request from its first attempt through its last,
  // backoff included), in seconds, by the final attempt's gRPC code name
  // ("OK", "UNAVAILABLE", ...).
  std::map<std::string, SelfHistogram> operation_durations;
  std::map<std::string, int64_t> failed_attempts;  // by gRPC code name
  std::map<std::string, int64_t> dropped_items;    // by reason (queue_full, ...)
  std::string last_rejected_message;               // the latest partial_success error_message
  std::string last_error;                          // the latest failed attempt's status
  std::string breaker_state;                       // closed | open | half-open
  int64_t breaker_transitions = 0;
  int64_t tls_reloads = 0;          // rotated client certificate files taken
  int64_t tls_reload_failures = 0;  // replacements refused (the channel stays)

  int64_t dropped_total() const {
    int64_t n = 0;
    for (const auto& [k, v] : dropped_items) n += v;
    return n;
  }
};

// The points for `stats` of an exporter of `signal`.
std::vector<SelfMetricPoint> ExporterSelfMetrics(ExportSignal signal, const ExporterStats& stats);

class OtlpExporter {
 public:
  // Fails (InvalidArgument) on bad options or unreadable TLS files: an
  // exporter never starts half-configured.
  static absl::StatusOr<std::unique_ptr<OtlpExporter>> Create(ExportSignal signal,
                                                              const OtlpExporterOptions& options);
  ~OtlpExporter();

  // Hands over one encoded Export*ServiceRequest of this exporter's signal.
  // ResourceExhausted when it was dropped because the queue is full;
  // InvalidArgument when the bytes are not a request.
  [[nodiscard]] absl::Status ExportEncoded(std::string request);

  // Encodes and hands over telemetry of this exporter's signal, grouped by
  // resource and scope, in requests of at most max_request_bytes.
  // InvalidArgument for another signal's items; ResourceExhausted when (some
  // of) it was dropped because the queue is full.
  [[nodiscard]] absl::Status ExportSpans(std::span<const ScopedItems<SpanData>> groups);
  [[nodiscard]] absl::Status ExportMetrics(std::span<const ScopedItems<MetricData>> groups);
  [[nodiscard]] absl::Status ExportLogs(std::span<const ScopedItems<LogRecordData>> groups);

  [[nodiscard]] absl::Status ForceFlush(absl::Time deadline);
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);

  // Asks the endpoint's grpc.health.v1 (service name of this signal, then the
  // server); where the endpoint has no health service, or over OTLP/HTTP,
  // sends an empty Export.
  [[nodiscard]] absl::Status CheckHealth(absl::Time deadline);

  ExporterStats Stats() const;

 private:
  // The SDK's span exporter hands over spans it encoded itself.
  friend struct exporter::OtlpExporterAccess;
  OtlpExporter() = default;
  // Builds the transport and the engine and starts it.
  absl::Status Build();
  template <typename Item, typename SplitFn, typename EncodeFn>
  absl::Status ExportTyped(ExportSignal want, std::span<const ScopedItems<Item>> groups,
                           SplitFn split, EncodeFn encode);
  int64_t max_request_bytes_ = 0;
  ExportSignal signal_ = ExportSignal::kTraces;
  OtlpExporterOptions options_;
  exporter::Transport* transport_ = nullptr;  // owned by pipeline_
  std::unique_ptr<exporter::ExportPipeline> pipeline_;
  int fork_handler_id_ = 0;
};

TRACEWIRE_END_API

}  // namespace tracewire
