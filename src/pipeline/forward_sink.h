#pragma once
// ForwardSink sends accepted requests on to another OTLP/gRPC receiver with
// the exporter's engine (queue, retry, circuit breaker and spill), keeping
// the received bytes as they are. When its queue is full it refuses, and the
// receiver answers UNAVAILABLE with RetryInfo: backpressure flows back.
//
// Thread-safe.

#include <memory>

#include "exporter/export_pipeline.h"
#include "pipeline/sink.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire::pipeline {

class ForwardSink : public Sink {
 public:
  // Fails on bad options or unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<ForwardSink>> Create(const OtlpExporterOptions& options);

  absl::Status Start() override { return pipeline_->Start(); }
  absl::Status Offer(Batch&& batch) override;
  absl::Status Shutdown(absl::Time deadline) override { return pipeline_->Shutdown(deadline); }
  int64_t QueuedBatches() const override;
  int64_t QueuedBytes() const override;
  int64_t CapacityBytes() const override { return capacity_bytes_; }

  ExporterStats Stats() const { return pipeline_->Stats(); }

 private:
  explicit ForwardSink(std::unique_ptr<exporter::ExportPipeline> p, int64_t capacity)
      : pipeline_(std::move(p)), capacity_bytes_(capacity) {}
  std::unique_ptr<exporter::ExportPipeline> pipeline_;
  const int64_t capacity_bytes_;
};

}  // namespace tracewire::pipeline
