#include "pipeline/forward_sink.h"

#include "exporter/transport_factory.h"
#include "wire/otlp_split.h"

namespace tracewire::pipeline {

absl::StatusOr<std::unique_ptr<ForwardSink>> ForwardSink::Create(
    const OtlpExporterOptions& options) {
  auto transport = exporter::CreateTransport(options);
  if (!transport.ok()) return transport.status();
  auto p = std::make_unique<exporter::ExportPipeline>(
      options, std::move(*transport), common::RealClock::Get(),
      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  return std::unique_ptr<ForwardSink>(new ForwardSink(std::move(p), options.max_queue_bytes));
}

absl::Status ForwardSink::Offer(Batch&& batch) {
  absl::StatusOr<wire::RequestPart> counts = wire::CountRequestItems(batch.signal, batch.bytes);
  if (!counts.ok()) return counts.status();
  exporter::PipelineRequest req{batch.signal, std::move(batch.bytes), counts->items, counts->units};
  absl::Status st = pipeline_->TryEnqueue(req);
  if (!st.ok()) batch.bytes = std::move(req.bytes);  // Still the caller's.
  return st;
}

int64_t ForwardSink::QueuedBatches() const {
  return const_cast<exporter::ExportPipeline*>(pipeline_.get())->Stats().queued_items;
}

int64_t ForwardSink::QueuedBytes() const {
  return const_cast<exporter::ExportPipeline*>(pipeline_.get())->Stats().queued_bytes;
}

}  // namespace tracewire::pipeline
