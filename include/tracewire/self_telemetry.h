#pragma once
// The SDK's own telemetry, reported through the metrics SDK.
//
//   tracewire::EnableSdkSelfMetrics(*meters, tracer_provider, logger_provider);
//
// Registers observable instruments on the meter "tracewire.sdk" of `meters`.
// At each collection they read the SelfMetrics() of the providers' processors,
// readers and exporters (self_metric.h) and report them under the semantic
// conventions' names:
//   otel.sdk.processor.{span,log}.processed        counter   {error.type=queue_full, ...}
//   otel.sdk.processor.{span,log}.queue.size       up-down counter
//   otel.sdk.processor.{span,log}.queue.capacity   up-down counter
//   otel.sdk.exporter.{span,metric_data_point,log}.exported  counter  {error.type}
//   otel.sdk.exporter.{span,metric_data_point,log}.inflight  up-down counter
//   otel.sdk.exporter.operation.duration   histogram (s)  {rpc.grpc.status_code, error.type}
// and the seed documents' grpc.client.requests.total, grpc.client.errors.total
// and grpc.client.request.duration.sum, and tracewire.exporter.retries,
// bytes_sent, queue.items and breaker.open. Points of the same name and
// attributes from several components are summed.
//
// Invariant: the hot paths pay nothing for it: processors and exporters count
// with relaxed atomics whether or not it is on, and only a collection reads
// them. ExporterSelfMetrics and BatchSpanProcessorSelfMetrics are the same
// counters as points, for code that wants them without a MeterProvider.
//
//   otel.sdk.span.started {otel.span.sampling_result, otel.span.parent.origin}
//   otel.sdk.span.live {otel.span.sampling_result}
// The operation duration is an observable histogram: each exporter keeps a
// cumulative one (one observation per export operation, retries and backoff
// included) and a collection reports it, or its difference from the last
// collection under delta temporality.
//
// InitFromEnv turns it on unless TRACEWIRE_SDK_SELF_METRICS=false.
//
// Thread safety: EnableSdkSelfMetrics may be called from any thread, once per
// MeterProvider. The providers are held weakly: one that is destroyed simply
// reports nothing more.

#include <memory>

#include "tracewire/export.h"
#include "tracewire/logs.h"
#include "tracewire/metrics.h"
#include "tracewire/trace.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

// `meters` reports its own readers' and exporters' telemetry too. Either
// provider may be null.
void EnableSdkSelfMetrics(MeterProvider& meters, std::weak_ptr<TracerProvider> traces,
                          std::weak_ptr<LoggerProvider> logs);

TRACEWIRE_END_API

}  // namespace tracewire
