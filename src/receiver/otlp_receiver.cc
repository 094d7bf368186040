#include "receiver/otlp_receiver.h"

#include <fstream>
#include <sstream>

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
#include "receiver/retry_info.h"
#include "wire/otlp_signal.h"

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

}  // namespace

OtlpReceiver::OtlpReceiver(ReceiverOptions options, pipeline::Sink* sink,
                           common::ReceiverMetrics* metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      auth_(options_.bearer_tokens, options_.api_keys),
      handler_(ExportHandlerOptions{options_.max_request_bytes, options_.retry_after,
                                    options_.admission},
               &auth_, sink, metrics) {}

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
  // Flatten the request: one slice is used in place, several are copied.
  // The slice lives in the answer's callback, as long as the bytes are read.
  auto slice = std::make_shared<::grpc::Slice>();
  if (!request->TrySingleSlice(slice.get()).ok() && !request->DumpToSingleSlice(slice.get()).ok()) {
    std::move(finish)(::grpc::Status(::grpc::StatusCode::INTERNAL, "cannot read request"));
    return;
  }
  ExportCall call;
  call.signal = signal;
  call.authorization = MetadataValue(ctx, "authorization");
  call.api_key = MetadataValue(ctx, "x-api-key");
  call.body = std::string_view(reinterpret_cast<const char*>(slice->begin()), slice->size());
  call.encoding = ExportCall::Encoding::kSniff;
  handler_.Handle(call, [slice, response, finish = std::move(finish)](ExportAnswer a) mutable {
    if (!a.status.ok()) {
      const auto code = static_cast<::grpc::StatusCode>(a.status.code());
      const std::string message(a.status.message());
      std::move(finish)(a.retry_after.has_value()
                            ? StatusWithRetryInfo(code, message, *a.retry_after)
                            : ::grpc::Status(code, message));
      return;
    }
    ::grpc::Slice out(a.response);
    *response = ::grpc::ByteBuffer(&out, 1);
    std::move(finish)(::grpc::Status::OK);
  });
}

}  // namespace tracewire::receiver
