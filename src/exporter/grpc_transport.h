#pragma once
// GrpcTransport sends Export requests as bytes with gRPC's generic stub over
// a channel shared by every exporter with the same endpoint and credentials
// (ChannelPool), with per-attempt deadline, headers, credentials and
// compression. Thread-safe.

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exporter/transport.h"
#include "tracewire/otlp_exporter_options.h"

#include "grpcpp/generic/generic_stub.h"

namespace tracewire::exporter {

// The gRPC target and whether it needs TLS, from an endpoint option:
// "http://h:p" plaintext, "https://h:p" TLS, "h:p" TLS unless insecure;
// several comma-separated IP endpoints become one round-robin target.
struct ParsedEndpoint {
  std::string target;
  bool tls = false;
};
absl::StatusOr<ParsedEndpoint> ParseEndpoint(const std::string& endpoint, bool insecure);

// Channels shared per endpoint and credentials. Thread-safe.
class ChannelPool {
 public:
  static ChannelPool& Default();
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> Get(const OtlpExporterOptions& options);

 private:
  absl::Mutex mu_;
  std::map<std::string, std::weak_ptr<::grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

class GrpcTransport : public Transport {
 public:
  // Builds (or shares) the channel; fails on unreadable TLS files or a bad endpoint.
  static absl::StatusOr<std::unique_ptr<GrpcTransport>> Create(const OtlpExporterOptions& options,
                                                               ChannelPool* pool = nullptr);
  ~GrpcTransport() override;

  SendResult Send(wire::Signal signal, const std::string& request, absl::Time deadline) override;
  // Any unary method with raw bytes; `response` receives the reply on OK.
  SendResult Call(const std::string& method, const std::string& request, absl::Time deadline,
                  std::string* response);
  void CancelAll() override;

  std::shared_ptr<::grpc::Channel> channel() const { return channel_; }

 private:
  GrpcTransport(const OtlpExporterOptions& options, std::shared_ptr<::grpc::Channel> channel);

  const OtlpExporterOptions options_;
  std::shared_ptr<::grpc::Channel> channel_;
  std::unique_ptr<::grpc::GenericStub> stub_;
  absl::Mutex mu_;
  std::set<::grpc::ClientContext*> active_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// The size of `data` compressed as gRPC compresses a message (gzip or zlib).
int64_t CompressedSize(const std::string& data, bool gzip);

// Reads the RetryInfo delay from serialized google.rpc.Status details.
std::optional<absl::Duration> ParseRetryInfo(const std::string& status_details);
// Reads partial_success from a serialized Export*ServiceResponse.
void ParsePartialSuccess(const std::string& response, int64_t* rejected, std::string* message);

}  // namespace tracewire::exporter
