#pragma once
// ExportHandler: what the OTLP receivers do with one Export request, whatever
// the transport (OTLP/gRPC in otlp_receiver.h, OTLP/HTTP in http_receiver.h).
//
//   authenticate -> refuse if the sink has no room (Sink::HasRoom) ->
//   admit (memory budget) -> inflate (bounded) -> read and
//   validate with the wire reader -> offer the valid items to the sink ->
//   answer: OK with partial_success, or an error code (and a retry delay).
//
// The transports only translate: the request's headers or metadata and body
// into an ExportCall, the ExportAnswer into their status codes and bodies.
// Counting (ReceiverMetrics) happens here once, for every transport.
//
// Invariants: nothing is acknowledged that the sink did not take (the answer
// of an offered batch comes from the sink's callback); every refused request
// is counted, with its items when it was read (a request refused before it
// was read, for no room or memory, counts none); the inflated size never exceeds
// max_request_bytes (+1 byte).
//
// Thread-safe: Handle from any threads at once. `done` is called exactly
// once, on the calling thread or later on the sink's.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/admission.h"
#include "common/self_metrics.h"
#include "pipeline/sink.h"
#include "receiver/authenticator.h"
#include "wire/otlp_signal.h"

namespace tracewire::receiver {

struct ExportCall {
  wire::Signal signal = wire::Signal::kTraces;
  std::string_view authorization;  // header values, empty when absent
  std::string_view api_key;
  // The body as received. Must stay valid until `done` is called.
  std::string_view body;
  // How the body is compressed. kSniff: from its first bytes (gRPC hands
  // over compressed messages as sent and keeps grpc-encoding to itself).
  enum class Encoding { kSniff, kIdentity, kGzip, kDeflate, kZstd };
  Encoding encoding = Encoding::kSniff;
};

struct ExportAnswer {
  // OK, or the error: UNAUTHENTICATED, RESOURCE_EXHAUSTED (too large),
  // INVALID_ARGUMENT (malformed), UNAVAILABLE (busy: retry_after set),
  // INTERNAL.
  absl::Status status;
  std::optional<absl::Duration> retry_after;
  // With OK: the serialized Export*ServiceResponse (empty: no partial
  // success to report).
  std::string response;
};

struct ExportHandlerOptions {
  int64_t max_request_bytes = 64ll << 20;  // after inflating
  absl::Duration retry_after = absl::Seconds(1);
  // The daemon's memory bound; null: none. Not owned.
  common::AdmissionBudget* admission = nullptr;
  // Counts into ReceiverMetrics::http_signals instead of signals.
  bool http = false;
};

class ExportHandler {
 public:
  using Done = absl::AnyInvocable<void(ExportAnswer) &&>;

  // `sink` and `metrics` must outlive the handler and every `done`.
  ExportHandler(ExportHandlerOptions options, const Authenticator* auth, pipeline::Sink* sink,
                common::ReceiverMetrics* metrics);

  void Handle(const ExportCall& call, Done done);
  // Counts a request a transport refused before Handle (e.g. a body that
  // is not OTLP/JSON).
  void CountRefused(wire::Signal signal);

 private:
  // Everything up to the sink's offer; moves `*done` into the offer's
  // callback when the answer is left to it.
  ExportAnswer HandleInline(const ExportCall& call, Done* done);

  const ExportHandlerOptions options_;
  const Authenticator* const auth_;
  pipeline::Sink* const sink_;
  common::SignalCounters* const counters_;  // the transport's, by signal
};

// Export*ServiceResponse{partial_success{rejected, error_message}}; empty
// when there is nothing to report.
std::string PartialSuccessResponse(int64_t rejected, const std::string& message);

}  // namespace tracewire::receiver
