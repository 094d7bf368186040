#pragma once
// Sends prebuilt request bytes to a gRPC method with the generic stub, so the
// caller pays no protobuf serialization: the CLI, the benchmark and the tests
// use it. Thread-safe (one GenericCaller may be used from many threads).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "wire/otlp_signal.h"

namespace tracewire::tools {

// The Export methods' paths, from the one table in wire/otlp_signal.h.
inline constexpr const char* kTraceExportMethod = wire::ExportMethod(wire::Signal::kTraces);
inline constexpr const char* kMetricsExportMethod = wire::ExportMethod(wire::Signal::kMetrics);
inline constexpr const char* kLogsExportMethod = wire::ExportMethod(wire::Signal::kLogs);

struct CallResult {
  ::grpc::Status status;
  std::string response;  // serialized response message (on OK)
};

class GenericCaller {
 public:
  explicit GenericCaller(std::shared_ptr<::grpc::Channel> channel)
      : channel_(std::move(channel)), stub_(channel_) {}

  // Blocks until the call completes. `context` carries deadline, metadata and
  // compression; it must be fresh for each call.
  CallResult Call(::grpc::ClientContext* context, const std::string& method,
                  const std::string& request);

 private:
  std::shared_ptr<::grpc::Channel> channel_;
  ::grpc::GenericStub stub_;
};

}  // namespace tracewire::tools
