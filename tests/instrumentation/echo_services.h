#pragma once
// The echo test service (tests/proto/tracewire/test/echo.proto) on the three
// server APIs, instrumented, on 127.0.0.1 port 0, and what the tests share to
// capture spans. Each handler reports in its response the trace id and span
// id of the context it runs in and the baggage it received.
//
// Thread safety: servers serve on gRPC's threads; SpanCapture is thread-safe.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tracewire/grpc.h"
#include "tracewire/span_exporter.h"
#include "tracewire/span_processor.h"
#include "tracewire/test/echo.grpc.pb.h"
#include "tracewire/trace.h"

namespace tracewire::testing {

std::string Hex(const uint8_t* p, size_t n);
template <size_t N>
std::string Hex(const std::array<uint8_t, N>& a) {
  return Hex(a.data(), N);
}

// The spans ended through a TracerProvider with a simple processor, kept by an
// InMemorySpanExporter; Await waits until that many have ended.
class SpanCapture {
 public:
  SpanCapture();
  TracerProvider* provider() { return provider_.get(); }
  // At least `n` spans, waiting up to 10 s for them (fewer on timeout).
  std::vector<SpanData> Await(size_t n);
  std::vector<SpanData> Spans();

 private:
  class Exporter;
  Exporter* exporter_;
  std::unique_ptr<TracerProvider> provider_;
};

const SpanData* FindSpan(const std::vector<SpanData>& spans, std::string_view name, SpanKind kind);
const AnyValue* FindAttr(const SpanData& span, std::string_view key);
std::string StringAttr(const SpanData& span, std::string_view key);  // "" when absent
int64_t IntAttr(const SpanData& span, std::string_view key);         // -1 when absent

// Writes what the handler sees (context) into the response.
void Report(const Context& context, tracewire::test::EchoResponse* response);

// The synchronous service. `downstream`, when set, makes Unary call it and
// answer with its response (the chain test).
class SyncEcho final : public tracewire::test::Echo::Service {
 public:
  std::unique_ptr<tracewire::test::Echo::Stub> downstream;
  // Handlers entered so far; AwaitEntered waits for `n`.
  bool AwaitEntered(int n);

  grpc::Status Unary(grpc::ServerContext* ctx, const tracewire::test::EchoRequest* req,
                     tracewire::test::EchoResponse* resp) override;
  grpc::Status ServerStream(grpc::ServerContext* ctx, const tracewire::test::EchoRequest* req,
                            grpc::ServerWriter<tracewire::test::EchoResponse>* writer) override;
  grpc::Status ClientStream(grpc::ServerContext* ctx,
                            grpc::ServerReader<tracewire::test::EchoRequest>* reader,
                            tracewire::test::EchoResponse* resp) override;
  grpc::Status BidiStream(grpc::ServerContext* ctx,
                          grpc::ServerReaderWriter<tracewire::test::EchoResponse,
                                                   tracewire::test::EchoRequest>* stream) override;

 private:
  void Enter();
  absl::Mutex mu_;
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
};

// The callback service: every kind; the handlers take the call's context
// from ServerSpanContext.
class CallbackEcho final : public tracewire::test::Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx,
                                  const tracewire::test::EchoRequest* req,
                                  tracewire::test::EchoResponse* resp) override;
  grpc::ServerWriteReactor<tracewire::test::EchoResponse>* ServerStream(
      grpc::CallbackServerContext* ctx, const tracewire::test::EchoRequest* req) override;
  grpc::ServerReadReactor<tracewire::test::EchoRequest>* ClientStream(
      grpc::CallbackServerContext* ctx, tracewire::test::EchoResponse* resp) override;
  grpc::ServerBidiReactor<tracewire::test::EchoRequest, tracewire::test::EchoResponse>* BidiStream(
      grpc::CallbackServerContext* ctx) override;
};

// An instrumented server on 127.0.0.1:0 serving one service (synchronous or
// callback), or the asynchronous service with its completion-queue thread
// (Unary and ServerStream requested).
class TestServer {
 public:
  TestServer(grpc::Service* service, GrpcInstrumentationOptions options);
  // The asynchronous echo server.
  explicit TestServer(GrpcInstrumentationOptions options);
  ~TestServer();
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::unique_ptr<tracewire::test::Echo::Stub> Stub(GrpcInstrumentationOptions options) const;

 private:
  void ServeAsync();
  int port_ = 0;
  std::unique_ptr<tracewire::test::Echo::AsyncService> async_service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread cq_thread_;
  // Set when the server stops: the asynchronous calls request no new calls.
  std::atomic<bool> stopping_{false};
  char stop_tag_ = 0;  // its address is the alarm's tag that starts the stop
};

}  // namespace tracewire::testing
