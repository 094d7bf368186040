#include "receiver/otlp_receiver.h"

#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/text.h"
#include "exporter/grpc_log.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "receiver/daemon_config.h"
#include "receiver/decompress.h"
#include "receiver/retry_info.h"
#include "wire/otlp_reader.h"
#include "wire/otlp_signal.h"
#include "wire/proto_writer.h"

namespace tracewire::receiver {
namespace {

namespace otlp_trace = ::opentelemetry::proto::collector::trace::v1;
namespace otlp_metrics = ::opentelemetry::proto::collector::metrics::v1;
namespace otlp_logs = ::opentelemetry::proto::collector::logs::v1;

// Adapts a generated service's raw callback Export to OtlpReceiver.
template <typename Base, wire::Signal kSignal>
class ExportService final : public Base {
 public:
  explicit ExportService(OtlpReceiver* r) : receiver_(r) {}
  ::grpc::ServerUnaryReactor* Export(::grpc::CallbackServerContext* ctx,
                                     const ::grpc::ByteBuffer* request,
                                     ::grpc::ByteBuffer* response) override {
    ::grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    receiver_->HandleExport(kSignal, ctx, request, response,
                            [reactor](::grpc::Status st) { reactor->Finish(std::move(st)); });
    return reactor;
  }

 private:
  OtlpReceiver* receiver_;
};

using TraceExport = ExportService<
    otlp_trace::TraceService::WithRawCallbackMethod_Export<otlp_trace::TraceService::Service>,
    wire::Signal::kTraces>;
using MetricsExport = ExportService<otlp_metrics::MetricsService::WithRawCallbackMethod_Export<
                                        otlp_metrics::MetricsService::Service>,
                                    wire::Signal::kMetrics>;
using LogsExport = ExportService<
    otlp_logs::LogsService::WithRawCallbackMethod_Export<otlp_logs::LogsService::Service>,
    wire::Signal::kLogs>;

std::string_view MetadataValue(const ::grpc::CallbackServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

// Export*ServiceResponse{partial_success{rejected (1), error_message (2)}}.
std::string PartialSuccessResponse(int64_t rejected, const std::string& message) {
  std::string ps;
  if (rejected != 0) {
    wire::AppendVarint(&ps, (1 << 3) | 0);
    wire::AppendVarint(&ps, static_cast<uint64_t>(rejected));
  }
  if (!message.empty()) wire::AppendLenField(&ps, 2, message);
  std::string out;
  wire::AppendLenField(&out, 1, ps);
  return out;
}

}  // namespace

OtlpReceiver::OtlpReceiver(ReceiverOptions options, pipeline::Sink* sink,
                           common::ReceiverMetrics* metrics)
    : options_(std::move(options)),
      sink_(sink),
      metrics_(metrics),
      auth_(options_.bearer_tokens, options_.api_keys) {}

OtlpReceiver::~OtlpReceiver() {
  if (server_) (void)Shutdown(absl::Now());
}

std::string OtlpReceiver::address() const { return absl::StrCat(host_, ":", port_); }

absl::Status OtlpReceiver::Start() {
  if (server_) return absl::FailedPreconditionError("receiver already started");
  int want_port;
  absl::Status st = SplitHostPort("receiver.listen", options_.listen, &host_, &want_port);
  if (!st.ok()) return st;

  exporter::InstallGrpcLogSink();  // gRPC's reason for a port it cannot bind comes to us
  std::shared_ptr<::grpc::ServerCredentials> creds;
  if (!options_.tls_cert_file.empty()) {
    ServerTlsOptions t;
    t.cert_file = options_.tls_cert_file;
    t.key_file = options_.tls_key_file;
    t.client_ca_file = options_.tls_client_ca_file;
    t.reload_interval = options_.tls_reload_interval;
    absl::StatusOr<std::unique_ptr<ServerTls>> tls = ServerTls::Create(std::move(t), metrics_);
    if (!tls.ok()) return tls.status();
    tls_ = std::move(*tls);
    creds = tls_->credentials();
  } else {
    creds = ::grpc::InsecureServerCredentials();
  }

  ::grpc::EnableDefaultHealthCheckService(true);
  ::grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, creds, &port_);
  // One owner per port: without this gRPC sets SO_REUSEPORT, and a second
  // tracewired on the same port would start and take part of the traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Compressed bytes reach us as sent: we inflate with our own bound and count
  // both sizes. The gRPC limit then applies to the bytes on the wire.
  builder.AddChannelArgument(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_request_bytes));
  if (options_.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams);
  }
  if (options_.admission != nullptr && options_.admission->limit() > 0) {
    // gRPC's own buffers (reads not yet handed to us, per-call arenas) under
    // the same bound: past it, gRPC shrinks its windows and reclaims memory.
    ::grpc::ResourceQuota quota("tracewired");
    quota.Resize(static_cast<size_t>(options_.admission->limit()));
    builder.SetResourceQuota(quota);
  }
  services_.push_back(std::make_unique<TraceExport>(this));
  services_.push_back(std::make_unique<MetricsExport>(this));
  services_.push_back(std::make_unique<LogsExport>(this));
  for (auto& s : services_) builder.RegisterService(s.get());
  (void)exporter::TakeGrpcError();  // only what this start logs
  server_ = builder.BuildAndStart();
  const std::string cause = exporter::TakeGrpcError();
  if (!server_ || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen, cause.empty() ? "" : ": ", cause));
  }
  if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(true);
    for (wire::Signal s : wire::kSignals) health->SetServingStatus(wire::ServiceName(s), true);
  }
  if (tls_) tls_->Start();
  return absl::OkStatus();
}

absl::Status OtlpReceiver::ReloadTls() { return tls_ ? tls_->Reload() : absl::OkStatus(); }

absl::Status OtlpReceiver::Shutdown(absl::Time deadline) {
  if (!server_) return absl::OkStatus();
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  server_.reset();
  if (tls_) tls_->Shutdown();
  return absl::OkStatus();
}

void OtlpReceiver::HandleExport(wire::Signal signal, ::grpc::CallbackServerContext* ctx,
                                const ::grpc::ByteBuffer* request, ::grpc::ByteBuffer* response,
                                Finish finish) {
  ::grpc::Status st = HandleExportInline(signal, ctx, request, response, &finish);
  if (finish) std::move(finish)(std::move(st));
}

::grpc::Status OtlpReceiver::HandleExportInline(wire::Signal signal,
                                                ::grpc::CallbackServerContext* ctx,
                                                const ::grpc::ByteBuffer* request,
                                                ::grpc::ByteBuffer* response, Finish* finish) {
  common::SignalCounters& c = metrics_->signals[static_cast<int>(signal)];
  auto refuse = [&c](::grpc::Status st, int64_t items) {
    common::SignalCounters::Add(c.refused_requests, 1);
    common::SignalCounters::Add(c.refused_items, items);
    return st;
  };

  if (!auth_.open() &&
      !auth_.Allows(MetadataValue(ctx, "authorization"), MetadataValue(ctx, "x-api-key"))) {
    return refuse(::grpc::Status(::grpc::StatusCode::UNAUTHENTICATED,
                                 "missing or invalid bearer token or API key"),
                  0);
  }

  // The memory bound, before any work: the ticket counts the request's bytes
  // until the answer is sent and every queued copy is gone.
  std::shared_ptr<common::AdmissionTicket> ticket;
  if (options_.admission != nullptr) {
    ticket = options_.admission->TryAdmit(static_cast<int64_t>(request->Length()));
    if (ticket == nullptr) {
      return refuse(StatusWithRetryInfo(::grpc::StatusCode::UNAVAILABLE,
                                        "receiver is busy: requests in flight and queued are at "
                                        "the memory limit (receiver.max_inflight_mib)",
                                        options_.retry_after),
                    0);
    }
  }

  // Flatten the request: one slice is used in place, several are copied.
  ::grpc::Slice slice;
  if (!request->TrySingleSlice(&slice).ok() && !request->DumpToSingleSlice(&slice).ok()) {
    return refuse(::grpc::Status(::grpc::StatusCode::INTERNAL, "cannot read request"), 0);
  }
  std::string_view bytes(reinterpret_cast<const char*>(slice.begin()), slice.size());
  common::SignalCounters::Add(c.wire_bytes, static_cast<int64_t>(bytes.size()));

  // gRPC hands compressed messages over as sent (per-message decompression is
  // off) and keeps grpc-encoding to itself, so the bytes tell: a gzip stream
  // can never be a protobuf message (0x1f is wire type 7); a zlib header can,
  // rarely, so a zlib-looking message that does not inflate is taken as is.
  std::string inflated;
  if (LooksCompressed(bytes)) {
    absl::Status st = Inflate(bytes, options_.max_request_bytes, &inflated);
    if (st.ok()) {
      bytes = inflated;
    } else if (st.code() == absl::StatusCode::kResourceExhausted || IsGzip(bytes)) {
      return refuse(
          ::grpc::Status(static_cast<::grpc::StatusCode>(st.code()), std::string(st.message())), 0);
    }
  }
  common::SignalCounters::Add(c.decompressed_bytes, static_cast<int64_t>(bytes.size()));

  absl::StatusOr<wire::ReadResult> read = wire::ReadExportRequest(signal, bytes);
  if (!read.ok()) {
    return refuse(
        ::grpc::Status(::grpc::StatusCode::INVALID_ARGUMENT, std::string(read.status().message())),
        0);
  }
  const int64_t accepted = read->items - read->rejected;
  if (accepted > 0) {
    pipeline::Batch batch;
    batch.signal = signal;
    batch.items = accepted;
    // `filtered` is set whenever an item was left out, even one with no data
    // points (a metric without data), so it decides, not the count.
    if (sink_->KeepsBytes()) {
      batch.bytes = !read->filtered.empty() ? std::move(read->filtered) : std::string(bytes);
    }
    // Held from here: the request until it is answered, the batch until
    // every sink is done with it.
    if (ticket != nullptr) {
      ticket->Add(static_cast<int64_t>(batch.bytes.size()));
      batch.admission = ticket;
    }
    // The answer comes when the sink took the batch (or refused it): at once
    // for a memory queue, after the fsync for a persistent one.
    sink_->OfferAsync(
        std::move(batch),
        [&c, refuse, accepted, items = read->items, rejected = read->rejected,
         message = std::move(read->error_message), response, retry_after = options_.retry_after,
         ticket = std::move(ticket), wire_bytes = static_cast<int64_t>(request->Length()),
         finish = std::move(*finish)](absl::Status st) mutable {
          // Answered: gRPC lets go of the received bytes; a queued batch keeps
          // its own copy counted.
          absl::Cleanup release = [&ticket, wire_bytes] {
            if (ticket != nullptr) ticket->Add(-wire_bytes);
          };
          if (!st.ok()) {
            std::move(finish)(refuse(
                StatusWithRetryInfo(::grpc::StatusCode::UNAVAILABLE,
                                    absl::StrCat("receiver is busy: ", st.message()), retry_after),
                items));
            return;
          }
          std::move(finish)(Accept(c, accepted, rejected, message, response));
        });
    *finish = nullptr;
    return ::grpc::Status::OK;  // answered by the callback
  }
  return Accept(c, accepted, read->rejected, read->error_message, response);
}

::grpc::Status OtlpReceiver::Accept(common::SignalCounters& c, int64_t accepted, int64_t rejected,
                                    const std::string& error_message,
                                    ::grpc::ByteBuffer* response) {
  common::SignalCounters::Add(c.accepted_requests, 1);
  common::SignalCounters::Add(c.accepted_items, accepted);
  if (rejected > 0 || !error_message.empty()) {
    common::SignalCounters::Add(c.partial_requests, 1);
    common::SignalCounters::Add(c.rejected_items, rejected);
    const std::string resp = PartialSuccessResponse(rejected, error_message);
    ::grpc::Slice out(resp);
    *response = ::grpc::ByteBuffer(&out, 1);
  } else {
    ::grpc::Slice empty;
    *response = ::grpc::ByteBuffer(&empty, 1);
  }
  return ::grpc::Status::OK;
}

}  // namespace tracewire::receiver
