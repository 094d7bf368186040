#pragma once
// OtlpReceiver serves the OTLP/gRPC TraceService, MetricsService and
// LogsService Export methods and grpc.health.v1. It takes the raw request
// bytes (no libprotobuf parse) and hands them to the ExportHandler
// (export_handler.h), which authenticates, inflates gzip/deflate itself
// (to count wire bytes and bound the output), validates every item with the
// wire reader, answers invalid items with partial_success, and offers the
// valid ones to a Sink. A full sink is answered with UNAVAILABLE and a
// google.rpc.RetryInfo; nothing is acknowledged that the sink did not take.
// With an admission budget, a request that would take the bytes held past
// the budget is answered the same way before it is inflated or read.
//
// Lifecycle: Start() binds and serves; Shutdown(deadline) stops accepting,
// lets requests in flight finish (cancelling them at the deadline) and
// returns. Thread-safe; the handlers run on gRPC's threads and never block:
// a sink that waits for the disk answers later (Sink::OfferAsync).

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/admission.h"
#include "common/self_metrics.h"
#include "pipeline/sink.h"
#include "receiver/authenticator.h"
#include "receiver/export_handler.h"
#include "receiver/server_tls.h"

namespace grpc {
class Server;
class CallbackServerContext;
class ByteBuffer;
class Service;
class Status;
}  // namespace grpc

namespace tracewire::receiver {

struct ReceiverOptions {
  std::string listen = "127.0.0.1:4317";  // port 0 picks a free port
  int64_t max_request_bytes = 64ll << 20;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Certificate rotation: how often the three files are read again (zero:
  // only on ReloadTls()); see server_tls.h.
  absl::Duration tls_reload_interval = absl::Seconds(60);
  std::vector<std::string> bearer_tokens;
  std::vector<std::string> api_keys;
  absl::Duration retry_after = absl::Seconds(1);
  // The daemon's memory bound on requests in flight and queued; null: none.
  // Not owned; must outlive the receiver and every batch it made.
  common::AdmissionBudget* admission = nullptr;
  // HTTP/2 streams a connection may have open at once (0: gRPC's default).
  int max_concurrent_streams = 0;
};

class OtlpReceiver {
 public:
  // `sink` and `metrics` must outlive the receiver.
  OtlpReceiver(ReceiverOptions options, pipeline::Sink* sink, common::ReceiverMetrics* metrics);
  ~OtlpReceiver();

  [[nodiscard]] absl::Status Start();
  // The bound port, after Start.
  int port() const { return port_; }
  // "host:port" as bound.
  std::string address() const;
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);
  // Reads the TLS files again now (SIGHUP): OK when they were taken or are
  // unchanged, or without TLS; the error when they are bad (the current
  // certificates stay in use).
  [[nodiscard]] absl::Status ReloadTls();
  // The TLS credentials as they rotate, after Start; null without TLS.
  const ServerTls* tls() const { return tls_.get(); }

  // Handles one Export call; public for the generated-service adapters.
  // `finish` gets the answer, exactly once: on this thread, or later on the
  // sink's (a persistent queue answers after its fsync); `response` is
  // filled before it is called and must live until then.
  using Finish = absl::AnyInvocable<void(::grpc::Status) &&>;
  void HandleExport(wire::Signal signal, ::grpc::CallbackServerContext* ctx,
                    const ::grpc::ByteBuffer* request, ::grpc::ByteBuffer* response, Finish finish);

 private:
  const ReceiverOptions options_;
  common::ReceiverMetrics* const metrics_;
  const Authenticator auth_;
  ExportHandler handler_;           // what every Export does (export_handler.h)
  std::unique_ptr<ServerTls> tls_;  // set by Start when TLS is on
  std::vector<std::unique_ptr<::grpc::Service>> services_;
  std::unique_ptr<::grpc::Server> server_;
  std::string host_;
  int port_ = 0;
};

}  // namespace tracewire::receiver
