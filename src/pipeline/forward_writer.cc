#include "pipeline/forward_writer.h"

#include "absl/time/clock.h"
#include "exporter/transport_factory.h"
#include "pipeline/persistent_queue.h"
#include "wire/otlp_split.h"

namespace tracewire::pipeline {

absl::StatusOr<std::unique_ptr<ForwardWriter>> ForwardWriter::Create(
    const OtlpExporterOptions& options) {
  OtlpExporterOptions o = options;
  o.breaker.enabled = false;  // the queue backs off; its log is the spill
  o.breaker.spill_dir.clear();
  o.max_in_flight = 1;  // no pipeline workers run: the queue's call
  auto transport = exporter::CreateTransport(o);
  if (!transport.ok()) return transport.status();
  auto p = std::make_unique<exporter::ExportPipeline>(
      o, std::move(*transport), common::RealClock::Get(),
      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  return std::unique_ptr<ForwardWriter>(new ForwardWriter(std::move(p)));
}

absl::Status ForwardWriter::Write(const Batch& batch) {
  absl::StatusOr<wire::RequestPart> counts = wire::CountRequestItems(batch.signal, batch.bytes);
  if (!counts.ok()) return counts.status();  // not retryable: dropped and counted
  exporter::PipelineRequest req{batch.signal, batch.bytes, counts->items, counts->units};
  std::optional<absl::Duration> delay;
  absl::Status st = pipeline_->SendNow(std::move(req), &delay);
  if (!st.ok() && delay.has_value()) return RetryAfterStatus(std::move(st), *delay);
  return st;
}

}  // namespace tracewire::pipeline
