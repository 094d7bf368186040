// The test echo services and span capture of echo_services.h (named *_test.cc
// so that the tests' glob compiles it into tracewire_tests).

#include "instrumentation/echo_services.h"

#include <grpcpp/alarm.h>

#include <algorithm>

#include "absl/synchronization/notification.h"

namespace tracewire::testing {

using tracewire::test::EchoRequest;
using tracewire::test::EchoResponse;

std::string Hex(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

class SpanCapture::Exporter final : public SpanExporter {
 public:
  absl::Status Export(std::span<const SpanRef> spans) override {
    absl::Status s = memory_.Export(spans);
    absl::MutexLock lock(&mu_);
    count_ += spans.size();
    return s;
  }
  bool ExportNeverBlocks() const override { return true; }
  std::vector<SpanData> Await(size_t n) {
    {
      absl::MutexLock lock(&mu_);
      auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return count_ >= n; };
      mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    }
    return Spans();
  }
  std::vector<SpanData> Spans() const {
    std::vector<SpanData> out;
    for (auto& s : memory_.spans()) out.push_back(s.data);
    return out;
  }

 private:
  InMemorySpanExporter memory_;
  absl::Mutex mu_;
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

SpanCapture::SpanCapture() {
  auto e = std::make_unique<Exporter>();
  exporter_ = e.get();
  TracerProviderOptions o;
  o.processors.push_back(MakeSimpleSpanProcessor(std::move(e)));
  provider_ = std::move(*TracerProvider::Create(std::move(o)));
}

std::vector<SpanData> SpanCapture::Await(size_t n) { return exporter_->Await(n); }
std::vector<SpanData> SpanCapture::Spans() { return exporter_->Spans(); }

const SpanData* FindSpan(const std::vector<SpanData>& spans, std::string_view name, SpanKind kind) {
  for (const SpanData& s : spans) {
    if (s.name == name && s.kind == kind) return &s;
  }
  return nullptr;
}

const AnyValue* FindAttr(const SpanData& span, std::string_view key) {
  for (const KeyValue& kv : span.attributes) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

std::string StringAttr(const SpanData& span, std::string_view key) {
  const AnyValue* v = FindAttr(span, key);
  if (v == nullptr) return "";
  const std::string* s = std::get_if<std::string>(&v->value);
  return s == nullptr ? "" : *s;
}

int64_t IntAttr(const SpanData& span, std::string_view key) {
  const AnyValue* v = FindAttr(span, key);
  if (v == nullptr) return -1;
  const int64_t* i = std::get_if<int64_t>(&v->value);
  return i == nullptr ? -1 : *i;
}

void Report(const Context& context, EchoResponse* response) {
  response->set_trace_id(Hex(context.span_context().trace_id));
  response->set_span_id(Hex(context.span_context().span_id));
  std::string baggage;
  for (const auto& [k, e] : context.baggage().entries()) {
    if (!baggage.empty()) baggage += ',';
    baggage += k + "=" + e.value;
  }
  response->set_baggage(baggage);
}

namespace {

// Waits the request's delay, or until the call is cancelled (bounded: the
// delay is at most a few seconds in the tests), then the status it asks for.
grpc::Status Outcome(grpc::ServerContextBase* ctx, const EchoRequest& req) {
  absl::Time until = absl::Now() + absl::Milliseconds(req.delay_ms());
  while (absl::Now() < until) {
    if (ctx->IsCancelled()) return grpc::Status(grpc::CANCELLED, "cancelled");
    absl::SleepFor(absl::Milliseconds(2));
  }
  if (req.fail_code() != 0) {
    return grpc::Status(static_cast<grpc::StatusCode>(req.fail_code()), "failed as asked");
  }
  return grpc::Status::OK;
}

}  // namespace

void SyncEcho::Enter() {
  absl::MutexLock lock(&mu_);
  ++entered_;
}

bool SyncEcho::AwaitEntered(int n) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return entered_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
}

grpc::Status SyncEcho::Unary(grpc::ServerContext* ctx, const EchoRequest* req, EchoResponse* resp) {
  Enter();
  if (downstream != nullptr) {
    grpc::ClientContext c;
    return downstream->Unary(&c, *req, resp);
  }
  Report(Context::Current(), resp);
  resp->set_message(req->message());
  return Outcome(ctx, *req);
}

grpc::Status SyncEcho::ServerStream(grpc::ServerContext* ctx, const EchoRequest* req,
                                    grpc::ServerWriter<EchoResponse>* writer) {
  Enter();
  EchoResponse resp;
  Report(Context::Current(), &resp);
  for (int i = 0; i < req->response_count(); ++i) writer->Write(resp);
  return Outcome(ctx, *req);
}

grpc::Status SyncEcho::ClientStream(grpc::ServerContext* ctx,
                                    grpc::ServerReader<EchoRequest>* reader, EchoResponse* resp) {
  Enter();
  EchoRequest req;
  EchoRequest last;
  int n = 0;
  while (reader->Read(&req)) {
    last = req;
    ++n;
  }
  Report(Context::Current(), resp);
  resp->set_message(std::to_string(n));
  return Outcome(ctx, last);
}

grpc::Status SyncEcho::BidiStream(grpc::ServerContext* ctx,
                                  grpc::ServerReaderWriter<EchoResponse, EchoRequest>* stream) {
  Enter();
  EchoRequest req;
  EchoRequest last;
  EchoResponse resp;
  Report(Context::Current(), &resp);
  while (stream->Read(&req)) {
    last = req;
    for (int i = 0; i < std::max(1, req.response_count()); ++i) stream->Write(resp);
  }
  return Outcome(ctx, last);
}

grpc::ServerUnaryReactor* CallbackEcho::Unary(grpc::CallbackServerContext* ctx,
                                              const EchoRequest* req, EchoResponse* resp) {
  if (req->delay_ms() > 0) {
    // Waits for the call to be cancelled (by the client or its deadline),
    // then finishes it: no thread is held meanwhile.
    class UntilCancelled final : public grpc::ServerUnaryReactor {
     public:
      void OnCancel() override { Finish(grpc::Status(grpc::CANCELLED, "cancelled")); }
      void OnDone() override { delete this; }
    };
    return new UntilCancelled();
  }
  Report(ServerSpanContext(ctx), resp);
  resp->set_message(req->message());
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(req->fail_code() == 0
                ? grpc::Status::OK
                : grpc::Status(static_cast<grpc::StatusCode>(req->fail_code()), "failed as asked"));
  return r;
}

grpc::ServerWriteReactor<EchoResponse>* CallbackEcho::ServerStream(grpc::CallbackServerContext* ctx,
                                                                   const EchoRequest* req) {
  class Writer final : public grpc::ServerWriteReactor<EchoResponse> {
   public:
    Writer(const Context& context, int count) : left_(count) {
      Report(context, &resp_);
      Next();
    }
    void OnWriteDone(bool ok) override {
      if (!ok) return Finish(grpc::Status(grpc::UNKNOWN, "write failed"));
      Next();
    }
    void OnDone() override { delete this; }

   private:
    void Next() {
      if (left_-- > 0) return StartWrite(&resp_);
      Finish(grpc::Status::OK);
    }
    EchoResponse resp_;
    int left_;
  };
  return new Writer(ServerSpanContext(ctx), req->response_count());
}

grpc::ServerReadReactor<EchoRequest>* CallbackEcho::ClientStream(grpc::CallbackServerContext* ctx,
                                                                 EchoResponse* resp) {
  class Reader final : public grpc::ServerReadReactor<EchoRequest> {
   public:
    Reader(const Context& context, EchoResponse* resp) : resp_(resp) {
      Report(context, resp_);
      StartRead(&req_);
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        ++n_;
        return StartRead(&req_);
      }
      resp_->set_message(std::to_string(n_));
      Finish(grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    EchoRequest req_;
    EchoResponse* resp_;
    int n_ = 0;
  };
  return new Reader(ServerSpanContext(ctx), resp);
}

grpc::ServerBidiReactor<EchoRequest, EchoResponse>* CallbackEcho::BidiStream(
    grpc::CallbackServerContext* ctx) {
  class Bidi final : public grpc::ServerBidiReactor<EchoRequest, EchoResponse> {
   public:
    explicit Bidi(const Context& context) {
      Report(context, &resp_);
      StartRead(&req_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) return Finish(grpc::Status::OK);
      StartWrite(&resp_);
    }
    void OnWriteDone(bool ok) override {
      if (!ok) return Finish(grpc::Status(grpc::UNKNOWN, "write failed"));
      StartRead(&req_);
    }
    void OnDone() override { delete this; }

   private:
    EchoRequest req_;
    EchoResponse resp_;
  };
  return new Bidi(ServerSpanContext(ctx));
}

TestServer::TestServer(grpc::Service* service, GrpcInstrumentationOptions options) {
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  b.RegisterService(service);
  InstrumentServer(b, std::move(options));
  server_ = b.BuildAndStart();
}

TestServer::TestServer(GrpcInstrumentationOptions options) {
  async_service_ = std::make_unique<tracewire::test::Echo::AsyncService>();
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  b.RegisterService(async_service_.get());
  InstrumentServer(b, std::move(options));
  cq_ = b.AddCompletionQueue();
  server_ = b.BuildAndStart();
  cq_thread_ = std::thread([this] { ServeAsync(); });
}

// The asynchronous server stops in an order that never starts an operation
// on a shut-down completion queue (gRPC asserts): no new calls requested, the
// server shut down (its calls cancelled), then the completion-queue thread,
// woken by an alarm, handles what is left until the queue is quiet and only
// then shuts it down and drains it.
TestServer::~TestServer() {
  stopping_.store(true);
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (cq_ != nullptr) {
    grpc::Alarm alarm;
    alarm.Set(cq_.get(), std::chrono::system_clock::now(), &stop_tag_);
    cq_thread_.join();
  }
}

std::unique_ptr<tracewire::test::Echo::Stub> TestServer::Stub(
    GrpcInstrumentationOptions options) const {
  return tracewire::test::Echo::NewStub(CreateInstrumentedChannel(
      address(), grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), std::move(options)));
}

namespace {

// One asynchronous call: Unary or ServerStream, as a state machine driven by
// the completion queue's tags.
class AsyncCall {
 public:
  virtual ~AsyncCall() = default;
  virtual void Proceed(bool ok) = 0;
};

// A request with a delay is not answered until the call is done (cancelled
// by the client or its deadline: AsyncNotifyWhenDone), then finished with
// CANCELLED. Deleted once both the finish and the done tags are back.
class AsyncUnary final : public AsyncCall {
 public:
  AsyncUnary(tracewire::test::Echo::AsyncService* s, grpc::ServerCompletionQueue* cq,
             const std::atomic<bool>* stopping)
      : service_(s), cq_(cq), stopping_(stopping), responder_(&ctx_), done_tag_(this) {
    ctx_.AsyncNotifyWhenDone(&done_tag_);
    service_->RequestUnary(&ctx_, &req_, &responder_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    if (state_ == kRequested) {
      if (!ok) {  // shutting down: the call never started, nor will its done tag
        delete this;
        return;
      }
      if (!stopping_->load()) new AsyncUnary(service_, cq_, stopping_);
      // The handler: the call's context comes from ServerSpanContext.
      Report(ServerSpanContext(&ctx_), &resp_);
      resp_.set_message(req_.message());
      if (req_.delay_ms() > 0) {
        state_ = kWaiting;
        if (done_) Finish(grpc::Status(grpc::CANCELLED, "cancelled"));
        return;
      }
      Finish(req_.fail_code() == 0
                 ? grpc::Status::OK
                 : grpc::Status(static_cast<grpc::StatusCode>(req_.fail_code()), "failed"));
      return;
    }
    finished_ = true;
    MaybeDelete();
  }

 private:
  class DoneTag final : public AsyncCall {
   public:
    explicit DoneTag(AsyncUnary* call) : call_(call) {}
    void Proceed(bool) override { call_->OnDone(); }

   private:
    AsyncUnary* call_;
  };
  enum State { kRequested, kWaiting, kFinishing };
  void Finish(const grpc::Status& status) {
    state_ = kFinishing;
    responder_.Finish(resp_, status, this);
  }
  void OnDone() {
    done_ = true;
    if (state_ == kWaiting) return Finish(grpc::Status(grpc::CANCELLED, "cancelled"));
    MaybeDelete();
  }
  void MaybeDelete() {
    if (done_ && finished_) delete this;
  }
  tracewire::test::Echo::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  const std::atomic<bool>* stopping_;
  grpc::ServerContext ctx_;
  EchoRequest req_;
  EchoResponse resp_;
  grpc::ServerAsyncResponseWriter<EchoResponse> responder_;
  DoneTag done_tag_;
  State state_ = kRequested;
  bool done_ = false;
  bool finished_ = false;
};

class AsyncServerStream final : public AsyncCall {
 public:
  AsyncServerStream(tracewire::test::Echo::AsyncService* s, grpc::ServerCompletionQueue* cq,
                    const std::atomic<bool>* stopping)
      : service_(s), cq_(cq), stopping_(stopping), writer_(&ctx_) {
    service_->RequestServerStream(&ctx_, &req_, &writer_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    if (!ok || state_ == 2) {
      delete this;
      return;
    }
    if (state_ == 0) {
      if (!stopping_->load()) new AsyncServerStream(service_, cq_, stopping_);
      state_ = 1;
      Report(ServerSpanContext(&ctx_), &resp_);
      left_ = req_.response_count();
    }
    if (left_-- > 0) {
      writer_.Write(resp_, this);
      return;
    }
    state_ = 2;
    writer_.Finish(grpc::Status::OK, this);
  }

 private:
  tracewire::test::Echo::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  const std::atomic<bool>* stopping_;
  grpc::ServerContext ctx_;
  EchoRequest req_;
  EchoResponse resp_;
  grpc::ServerAsyncWriter<EchoResponse> writer_;
  int state_ = 0;
  int left_ = 0;
};

}  // namespace

void TestServer::ServeAsync() {
  new AsyncUnary(async_service_.get(), cq_.get(), &stopping_);
  new AsyncServerStream(async_service_.get(), cq_.get(), &stopping_);
  void* tag = nullptr;
  bool ok = false;
  while (cq_->Next(&tag, &ok)) {
    if (tag == &stop_tag_) break;
    static_cast<AsyncCall*>(tag)->Proceed(ok);
  }
  // Stopping: the cancelled calls finish; quiet for 200 ms means none is left.
  for (int i = 0; i < 1000; ++i) {
    auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(200);
    if (cq_->AsyncNext(&tag, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT) break;
    static_cast<AsyncCall*>(tag)->Proceed(ok);
  }
  cq_->Shutdown();
  while (cq_->Next(&tag, &ok)) static_cast<AsyncCall*>(tag)->Proceed(ok);
}

}  // namespace tracewire::testing
