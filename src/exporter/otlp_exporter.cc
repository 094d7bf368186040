#include "tracewire/otlp_exporter.h"

#include <cstdio>

#include "common/fork_handlers.h"
#include "exporter/export_pipeline.h"
#include "exporter/grpc_transport.h"
#include "exporter/otlp_exporter_internal.h"
#include "exporter/transport_factory.h"
#include "wire/otlp_encoder.h"
#include "wire/otlp_signal.h"
#include "wire/otlp_split.h"

namespace tracewire {

absl::StatusOr<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(
    ExportSignal signal, const OtlpExporterOptions& options) {
  std::unique_ptr<OtlpExporter> e(new OtlpExporter());
  e->signal_ = signal;
  e->max_request_bytes_ = options.max_request_bytes;
  e->options_ = options;
  absl::Status st = e->Build();
  if (!st.ok()) return st;
  // fork(): before it, let the calls in flight end (gRPC's own fork handlers
  // run only when no thread is inside gRPC). In the child, the parent's engine
  // is left as it is, never used and never destroyed: its threads are not
  // there, its mutexes may hold the parent's waiters, and its channel's
  // connections are the parent's. The child gets a new engine and channel and
  // none of the parent's queued requests (the parent sends those).
  OtlpExporter* raw = e.get();
  e->fork_handler_id_ = common::RegisterForkHandler(
      {[raw] { raw->pipeline_->PrepareFork(); }, [raw] { raw->pipeline_->AfterForkParent(); },
       nullptr,
       [raw] {
         (void)raw->pipeline_.release();  // Lifetime: leaked on purpose (see above).
         absl::Status rebuilt = raw->Build();
         if (!rebuilt.ok()) {
           std::fprintf(stderr, "tracewire exporter: after fork: %s\n",
                        std::string(rebuilt.message()).c_str());
         }
       }});
  return e;
}

absl::Status OtlpExporter::Build() {
  absl::StatusOr<std::unique_ptr<exporter::Transport>> transport =
      exporter::CreateTransport(options_);
  if (!transport.ok()) return transport.status();
  transport_ = transport->get();
  pipeline_ = std::make_unique<exporter::ExportPipeline>(
      options_, std::move(*transport), common::RealClock::Get(),
      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  return pipeline_->Start();
}

OtlpExporter::~OtlpExporter() {
  if (fork_handler_id_ != 0) common::UnregisterForkHandler(fork_handler_id_);
  if (pipeline_) (void)pipeline_->Shutdown(absl::Now());
}

absl::Status OtlpExporter::ExportEncoded(std::string request) {
  absl::StatusOr<wire::RequestPart> counts = wire::CountRequestItems(signal_, request);
  if (!counts.ok()) return counts.status();
  if (counts->units == 0) return absl::OkStatus();  // Nothing to send.
  return pipeline_->Enqueue({signal_, std::move(request), counts->items, counts->units});
}

template <typename Item, typename SplitFn, typename EncodeFn>
absl::Status OtlpExporter::ExportTyped(ExportSignal want, std::span<const ScopedItems<Item>> groups,
                                       SplitFn split, EncodeFn encode) {
  if (want != signal_) {
    return absl::InvalidArgumentError("items of another signal than this exporter's");
  }
  const auto make_request = [this, &encode](std::span<const ScopedItems<Item>> part,
                                            size_t reserve) {
    exporter::PipelineRequest req;
    req.signal = signal_;
    req.bytes.reserve(reserve);
    encode(part, &req.bytes);
    for (const auto& g : part) req.units += static_cast<int64_t>(g.items.size());
    req.items = req.units;
    if constexpr (std::is_same_v<Item, MetricData>) {
      req.items = 0;
      for (const auto& g : part) {
        for (const MetricData* m : g.items) {
          std::visit([&req](const auto& d) { req.items += d.data_points.size(); }, m->data);
        }
      }
    }
    return req;
  };
  // The common case: the whole batch fits in one request. Encoding it sizes
  // every item once; splitting first would size every item a second time.
  {
    exporter::PipelineRequest whole = make_request(groups, 0);
    if (static_cast<int64_t>(whole.bytes.size()) <= max_request_bytes_) {
      if (whole.units == 0) return absl::OkStatus();
      return pipeline_->Enqueue(std::move(whole));
    }
  }
  absl::Status result;
  for (auto& part : split(groups, static_cast<size_t>(max_request_bytes_))) {
    exporter::PipelineRequest req = make_request(part.groups, part.encoded_size);
    if (req.units == 0) continue;
    absl::Status st = pipeline_->Enqueue(std::move(req));
    if (!st.ok()) result = st;
  }
  return result;
}

absl::Status OtlpExporter::ExportSpans(std::span<const ScopedItems<SpanData>> groups) {
  return ExportTyped(
      ExportSignal::kTraces, groups,
      [](auto g, size_t max) { return wire::SplitTracesRequest(g, max); },
      [](std::span<const ScopedItems<SpanData>> g, std::string* out) {
        wire::EncodeTracesRequest(g, out);
      });
}

absl::Status exporter::OtlpExporterAccess::ExportSpans(
    OtlpExporter& exporter, std::span<const ScopedItems<wire::EncodedSpan>> groups) {
  return exporter.ExportTyped(
      ExportSignal::kTraces, groups,
      [](auto g, size_t max) { return wire::SplitTracesRequest(g, max); },
      [](std::span<const ScopedItems<wire::EncodedSpan>> g, std::string* out) {
        wire::EncodeTracesRequest(g, out);
      });
}

absl::Status OtlpExporter::ExportMetrics(std::span<const ScopedItems<MetricData>> groups) {
  return ExportTyped(
      ExportSignal::kMetrics, groups,
      [](auto g, size_t max) { return wire::SplitMetricsRequest(g, max); },
      [](std::span<const ScopedItems<MetricData>> g, std::string* out) {
        wire::EncodeMetricsRequest(g, out);
      });
}

absl::Status OtlpExporter::ExportLogs(std::span<const ScopedItems<LogRecordData>> groups) {
  return ExportTyped(
      ExportSignal::kLogs, groups,
      [](auto g, size_t max) { return wire::SplitLogsRequest(g, max); },
      [](std::span<const ScopedItems<LogRecordData>> g, std::string* out) {
        wire::EncodeLogsRequest(g, out);
      });
}

absl::Status OtlpExporter::ForceFlush(absl::Time deadline) {
  return pipeline_->ForceFlush(deadline);
}

absl::Status OtlpExporter::Shutdown(absl::Time deadline) { return pipeline_->Shutdown(deadline); }

ExporterStats OtlpExporter::Stats() const { return pipeline_->Stats(); }

absl::Status OtlpExporter::CheckHealth(absl::Time deadline) {
  const std::string service = wire::ServiceName(signal_);
  // OTLP/HTTP has no health service: an empty Export request below.
  auto* grpc = dynamic_cast<exporter::GrpcTransport*>(transport_);
  for (const std::string& name : {service, std::string()}) {
    if (grpc == nullptr) break;
    std::string request, response;
    if (!name.empty()) {
      request.push_back(0x0a);  // HealthCheckRequest.service
      request.push_back(static_cast<char>(name.size()));
      request += name;
    }
    exporter::SendResult r =
        grpc->Call("/grpc.health.v1.Health/Check", request, deadline, &response);
    if (r.status.code() == absl::StatusCode::kUnimplemented) break;  // No health service.
    if (r.status.code() == absl::StatusCode::kNotFound) continue;    // Try the server's.
    if (!r.status.ok()) return r.status;
    if (response == std::string("\x08\x01", 2)) return absl::OkStatus();  // SERVING
    return absl::UnavailableError("endpoint reports NOT_SERVING");
  }
  // Fall back to an empty Export request.
  exporter::SendResult r = transport_->Send(signal_, "", deadline);
  return r.status;
}

}  // namespace tracewire
