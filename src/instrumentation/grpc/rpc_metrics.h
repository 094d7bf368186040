#pragma once
// The rpc metrics of the gRPC instrumentation, recorded through the metrics
// SDK (tracewire/metrics.h) for every call the filter lets through, sampled
// or not:
//   rpc.{server,client}.duration         histogram, ms   (older conventions)
//   rpc.{server,client}.call.duration    histogram, s    (OTEL_SEMCONV_STABILITY_OPT_IN=rpc)
//   rpc.{server,client}.request.size     histogram, By, one point per message
//   rpc.{server,client}.response.size    histogram, By, one point per message
//   rpc.{server,client}.requests_per_rpc histogram, {count}
//   rpc.{server,client}.responses_per_rpc histogram, {count}
// with rpc.system, rpc.service, rpc.method and (per call) rpc.grpc.status_code;
// or, with the newer conventions, rpc.system.name, the fully qualified
// rpc.method and rpc.response.status_code; rpc/dup records both durations,
// each with its own attributes, and the others with the older ones.
//
// Invariant: a call's duration and per-RPC counts are recorded before its
// span ends, so whoever has seen the span end can collect them.
// Invariant: instruments are created once per MeterProvider (the options'
// one, or each global provider in turn) and recording on them takes no lock.
// Thread safety: RpcMetrics is immutable after construction: thread-safe.

#include <cstdint>
#include <memory>

#include "instrumentation/grpc/rpc_call_facts.h"
#include "tracewire/metrics.h"

namespace tracewire::instrumentation {

class RpcMetrics {
 public:
  explicit RpcMetrics(MeterProvider& provider);

  // One message's uncompressed size; `sent` from the recording side's view.
  void RecordMessage(const RpcCallFacts& call, bool sent, int64_t bytes) const;
  // The call's duration and message counts, at its end.
  void RecordCall(const RpcCallFacts& call) const;
  // Whether any instrument records (false for the no-op MeterProvider, or
  // views that drop them all): the interceptors then skip the metrics.
  bool enabled() const { return enabled_; }
  // Whether a message size is recorded: measuring one costs a serialised
  // size per message, skipped when nobody records it.
  bool records_sizes() const { return records_sizes_; }

 private:
  struct Side {
    HistogramInstrument<double> duration_ms;
    HistogramInstrument<double> call_duration_s;
    HistogramInstrument<int64_t> request_size;
    HistogramInstrument<int64_t> response_size;
    HistogramInstrument<int64_t> requests_per_rpc;
    HistogramInstrument<int64_t> responses_per_rpc;
  };
  const Side& SideOf(const RpcCallFacts& call) const {
    return call.kind == SpanKind::kServer ? server_ : client_;
  }
  Side server_;
  Side client_;
  bool enabled_ = false;
  bool records_sizes_ = false;
};

// The RpcMetrics of one call, and what keeps its provider alive until the
// call ends.
struct CallMetrics {
  const RpcMetrics* metrics = nullptr;  // never null once resolved
  std::shared_ptr<const void> keep;
};
// The global MeterProvider's RpcMetrics (cached per provider).
CallMetrics GlobalRpcMetrics();

}  // namespace tracewire::instrumentation
