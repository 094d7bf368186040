#pragma once
// GrpcTransport sends Export requests as bytes with gRPC's generic stub over
// a channel shared by every exporter with the same endpoint and credentials
// (ChannelPool), with per-attempt deadline, headers, credentials and
// compression. Thread-safe.
//
// Each call runs on a completion queue that the calling thread drives, not on
// gRPC's callback threads: those do not run in a forked child, and a call
// made there must still complete.

#include <atomic>
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
  bool scheme = false;  // the endpoint said http:// or https://
};
absl::StatusOr<ParsedEndpoint> ParseEndpoint(const std::string& endpoint, bool insecure);

// Channels shared per endpoint and credentials. Thread-safe. A forked child
// starts with an empty Default() pool: the parent's channels (and their
// connections) are the parent's.
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
  void PrepareFork() override;
  void AfterForkParent() override;

  std::shared_ptr<::grpc::Channel> channel() const { return channel_; }

 private:
  GrpcTransport(const OtlpExporterOptions& options, std::shared_ptr<::grpc::Channel> channel);

  // A failed call's status, with what the user can do about it where we
  // know: TLS to a peer that does not speak it because the endpoint had no
  // scheme.
  absl::Status Explain(const ::grpc::Status& status) const;

  const OtlpExporterOptions options_;
  // TLS because the endpoint has no scheme (the OTLP specification's
  // default), not because it said https://: how to ask for plaintext, else "".
  std::string implicit_tls_hint_;
  absl::Mutex mu_;
  const std::shared_ptr<::grpc::Channel> channel_;
  const std::unique_ptr<::grpc::GenericStub> stub_;
  std::set<::grpc::ClientContext*> active_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> forking_{false};  // no call starts while set (PrepareFork)
  std::atomic<int> calls_{0};         // calls counted in; seq_cst with forking_
};

// Sets GRPC_ENABLE_FORK_SUPPORT=1 unless the variable is set already (to 0 to
// opt out), so that gRPC gives a forked child fresh polling state and
// threads, and runs gRPC's fork handlers from ours. Called before the first
// channel is built; gRPC reads the variable at its first use, so a process
// that used gRPC before sets the variable itself.
void EnableGrpcForkSupportByDefault();

// The size of `data` compressed as gRPC compresses a message (gzip or zlib).
int64_t CompressedSize(const std::string& data, bool gzip);

// Reads the RetryInfo delay from serialized google.rpc.Status details.
std::optional<absl::Duration> ParseRetryInfo(const std::string& status_details);
// Reads partial_success from a serialized Export*ServiceResponse.
void ParsePartialSuccess(const std::string& response, int64_t* rejected, std::string* message);

}  // namespace tracewire::exporter
