#pragma once
// ForwardWriter: the forward sink's BatchWriter behind a PersistentQueue.
// Write sends the request to the next hop at once, on the calling thread,
// with the exporter's transport (ExportPipeline::SendNow: no queue, no retry
// loop, no circuit breaker, no spill, since the queue's log holds the request
// until it is delivered and the queue retries). Write returns OK when the
// next hop answered OK or partial success (or the request was dropped as not
// retryable, counted in Stats()), and Unavailable, with the server's
// RetryInfo delay attached (RetryAfterStatus), when it must be sent again.
//
// Thread-safe: several queue workers write at once (max_in_flight).

#include <memory>

#include "exporter/export_pipeline.h"
#include "pipeline/sink.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire::pipeline {

class ForwardWriter : public BatchWriter {
 public:
  // Fails on bad options or unreadable TLS files. The options' breaker,
  // spill and retry settings are not used.
  static absl::StatusOr<std::unique_ptr<ForwardWriter>> Create(const OtlpExporterOptions& options);

  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Write(const Batch& batch) override;
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::Status Close() override { return pipeline_->Shutdown(absl::Now()); }
  void Cancel() override { (void)pipeline_->Shutdown(absl::Now()); }

  ExporterStats Stats() const { return pipeline_->Stats(); }

 private:
  explicit ForwardWriter(std::unique_ptr<exporter::ExportPipeline> p) : pipeline_(std::move(p)) {}
  const std::unique_ptr<exporter::ExportPipeline> pipeline_;
};

}  // namespace tracewire::pipeline
