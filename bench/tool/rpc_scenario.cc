#include "rpc_scenario.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proc_sample.h"
#include "tracewire/grpc.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/sampler.h"
#include "tracewire/span_exporter.h"
#include "tracewire/span_processor.h"
#include "tracewire/test/echo.grpc.pb.h"
#include "tracewire/trace.h"

namespace tracewire::bench {
namespace {

using tracewire::test::Echo;
using tracewire::test::EchoRequest;
using tracewire::test::EchoResponse;
using Clock = std::chrono::steady_clock;

// A TracerProvider for one side, exporting to tracewired, and its processor.
struct Tracing {
  std::unique_ptr<TracerProvider> provider;
  BatchSpanProcessor* processor = nullptr;  // owned by provider
};

Tracing MakeTracing(const RpcArgs& args, const std::string& endpoint, const char* service) {
  Tracing t;
  if (args.tracing == "off" || args.tracing == "interceptors") return t;
  OtlpExporterOptions eo;
  eo.endpoint = "http://" + endpoint;
  auto exporter = MakeOtlpSpanExporter(eo);
  if (!exporter.ok()) {
    std::fprintf(stderr, "rpc: %s\n", exporter.status().ToString().c_str());
    std::exit(2);
  }
  auto processor = BatchSpanProcessor::Create(std::move(*exporter), {});
  t.processor = processor.get();
  TracerProviderOptions o;
  o.resource.attributes.push_back({"service.name", std::string(service)});
  o.sampler = args.tracing == "ratio" ? MakeParentBasedSampler(MakeTraceIdRatioSampler(0.1))
                                      : MakeParentBasedSampler(MakeAlwaysOnSampler());
  o.processors.push_back(std::move(processor));
  auto provider = TracerProvider::Create(std::move(o));
  if (!provider.ok()) std::exit(2);
  t.provider = std::move(*provider);
  return t;
}

// `--tracing interceptors`: gRPC's interceptor machinery with interceptors
// that do nothing, on both sides. Its cost is the floor under what any
// interceptor-based instrumentation adds.
class NoopInterceptor final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }
};
class NoopInterceptors final : public grpc::experimental::ServerInterceptorFactoryInterface,
                               public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new NoopInterceptor;
  }
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new NoopInterceptor;
  }
};

class EchoService final : public Echo::Service {
  grpc::Status Unary(grpc::ServerContext*, const EchoRequest* req, EchoResponse* resp) override {
    resp->set_message(req->message());
    return grpc::Status::OK;
  }
};

// The server child: serves until `control` reaches end of file, then writes
// "exported dropped" to `report` and exits.
[[noreturn]] void ServeChild(const RpcArgs& args, const std::string& otlp, int port_fd,
                             int control_fd, int report_fd) {
  Tracing tracing = MakeTracing(args, otlp, "rpc-bench-server");
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  // gRPC's synchronous server ends a polling thread once more than
  // MAX_POLLERS (default 2) are idle and starts one when none is: with 32
  // calls in flight that is a thread created and ended every few calls.
  // Enough pollers for every call in flight keep the threads alive.
  const int pollers = args.server_pollers > 0 ? args.server_pollers : args.in_flight + 1;
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, pollers);
  if (args.tracing == "interceptors") {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
    f.push_back(std::make_unique<NoopInterceptors>());
    builder.experimental().SetInterceptorCreators(std::move(f));
  }
  if (tracing.provider) InstrumentServer(builder, {.tracer_provider = tracing.provider.get()});
  auto server = builder.BuildAndStart();
  const std::string port_line = std::to_string(server ? port : 0) + "\n";
  (void)!write(port_fd, port_line.data(), port_line.size());
  close(port_fd);
  char c;
  while (read(control_fd, &c, 1) > 0) {
  }
  if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  int64_t exported = 0, dropped = 0;
  if (tracing.provider) {
    (void)tracing.provider->ForceFlush(absl::Now() + absl::Seconds(10));
    const auto s = tracing.processor->Stats();
    exported = s.processed - s.export_failures;
    dropped = s.dropped_queue_full + s.export_failures;
    (void)tracing.provider->Shutdown(absl::Now() + absl::Seconds(10));
  }
  const std::string r = std::to_string(exported) + " " + std::to_string(dropped) + "\n";
  (void)!write(report_fd, r.data(), r.size());
  _exit(server ? 0 : 1);
}

std::string ReadLine(int fd) {
  std::string s;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') s += c;
  return s;
}

// tracewired --sink none on 127.0.0.1:0; returns its pid and address.
pid_t StartReceiver(const std::string& path, std::string* address) {
  int out[2];
  if (pipe(out) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    execl(path.c_str(), path.c_str(), "--listen", "127.0.0.1:0", "--sink", "none",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  const std::string line = ReadLine(out[0]);  // "tracewired listening on 127.0.0.1:PORT"
  close(out[0]);
  const size_t at = line.rfind(' ');
  if (line.rfind("tracewired listening on ", 0) != 0 || at == std::string::npos) return -1;
  *address = line.substr(at + 1);
  return pid;
}

// The closed-loop client: `in_flight` chains of callback-API calls.
class Load {
 public:
  // limit > 0: issues exactly `limit` calls in all.
  Load(Echo::Stub* stub, int chains, int payload, int64_t limit)
      : stub_(stub), chains_(chains), limit_(limit) {
    request_.set_message(std::string(static_cast<size_t>(payload), 'x'));
  }
  void Start() {
    const int64_t n = limit_ > 0 ? std::min<int64_t>(chains_, limit_) : chains_;
    for (int64_t i = 0; i < n; ++i) Next();
  }
  void Measure(bool on) { measuring_.store(on); }
  // Stops issuing calls and waits for those in flight.
  void Stop() {
    stopping_.store(true);
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return active_ == 0; });
  }
  // With a limit: waits until all `limit` calls have finished.
  void WaitForLimit() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return active_ == 0 && issued_ >= limit_; });
  }
  std::vector<double> TakeLatencies() {
    std::lock_guard lock(mu_);
    return std::move(latencies_us_);
  }
  int64_t errors() const { return errors_.load(); }

 private:
  struct Call {
    grpc::ClientContext context;
    EchoResponse response;
    Clock::time_point start;
  };
  void Next() {
    {
      std::lock_guard lock(mu_);
      ++active_;
      ++issued_;
    }
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->start = Clock::now();
    stub_->async()->Unary(&call->context, &request_, &call->response,
                          [this, call](grpc::Status status) { Done(call, status); });
  }
  void Done(Call* call, const grpc::Status& status) {
    const double us =
        std::chrono::duration<double, std::micro>(Clock::now() - call->start).count();
    delete call;
    if (!status.ok()) errors_.fetch_add(1);
    bool again = !stopping_.load();
    {
      std::lock_guard lock(mu_);
      if (limit_ > 0 && issued_ >= limit_) again = false;
      if (measuring_.load() && status.ok()) latencies_us_.push_back(us);
      --active_;
      if (active_ == 0 && !again) cv_.notify_all();
    }
    if (again) Next();
  }

  Echo::Stub* stub_;
  const int chains_;
  const int64_t limit_;
  EchoRequest request_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> measuring_{false};
  std::atomic<int64_t> errors_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  int64_t issued_ = 0;
  std::vector<double> latencies_us_;
};

double CpuSelf() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int RunRpcScenario(const RpcArgs& args) {
  // Debian's abseil (no NDEBUG) checks every absl::Mutex lock for deadlocks,
  // gRPC's own included; off, the benchmark shows what that costs.
  if (!args.absl_deadlock_detection) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  if (args.tracing != "off" && args.tracing != "always" && args.tracing != "ratio" &&
      args.tracing != "interceptors") {
    std::fprintf(stderr, "rpc: --tracing must be off, always, ratio or interceptors\n");
    return 2;
  }
  std::string receiver_path = args.tracewired;
  if (receiver_path.empty()) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string("./x");
    receiver_path = dir.substr(0, dir.rfind('/')) + "/tracewired";
  }
  std::string otlp;
  const pid_t receiver = StartReceiver(receiver_path, &otlp);
  if (receiver <= 0) {
    std::fprintf(stderr, "rpc: could not start %s\n", receiver_path.c_str());
    return 2;
  }
  // The server is forked before this process uses gRPC.
  int port_pipe[2], control[2], report[2];
  if (pipe(port_pipe) != 0 || pipe(control) != 0 || pipe(report) != 0) return 2;
  const pid_t server = fork();
  if (server == 0) {
    close(port_pipe[0]);
    close(control[1]);
    close(report[0]);
    ServeChild(args, otlp, port_pipe[1], control[0], report[1]);
  }
  close(port_pipe[1]);
  close(control[0]);
  close(report[1]);
  const std::string port = ReadLine(port_pipe[0]);
  close(port_pipe[0]);
  if (port.empty() || port == "0") {
    std::fprintf(stderr, "rpc: the server did not start\n");
    kill(receiver, SIGKILL);
    return 2;
  }
  std::fprintf(stderr, "rpc: tracing=%s server 127.0.0.1:%s (pid %d), tracewired %s (pid %d)\n",
               args.tracing.c_str(), port.c_str(), server, otlp.c_str(), receiver);

  Tracing tracing = MakeTracing(args, otlp, "rpc-bench-client");
  const std::string target = "127.0.0.1:" + port;
  std::shared_ptr<grpc::Channel> channel;
  if (tracing.provider) {
    channel = CreateInstrumentedChannel(target, grpc::InsecureChannelCredentials(), {},
                                        {.tracer_provider = tracing.provider.get()});
  } else if (args.tracing == "interceptors") {
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> f;
    f.push_back(std::make_unique<NoopInterceptors>());
    channel = grpc::experimental::CreateCustomChannelWithInterceptors(
        target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), std::move(f));
  } else {
    channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }
  auto stub = Echo::NewStub(channel);
  Load load(stub.get(), args.in_flight, args.payload_bytes, args.requests);
  if (args.requests == 0) {
    load.Start();
    std::this_thread::sleep_for(std::chrono::duration<double>(args.warmup_seconds));
  }
  const ProcSample server0 = SampleProc(server), receiver0 = SampleProc(receiver);
  const double client0 = CpuSelf();
  const auto t0 = Clock::now();
  load.Measure(true);
  if (args.requests > 0) {
    load.Start();
    load.WaitForLimit();
  } else {
    std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
  }
  load.Measure(false);
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double client_cpu = CpuSelf() - client0;
  const ProcSample server1 = SampleProc(server), receiver1 = SampleProc(receiver);
  load.Stop();
  std::vector<double> lat = load.TakeLatencies();
  const double n = std::max<double>(1, static_cast<double>(lat.size()));

  int64_t exported = 0, dropped = 0;
  if (tracing.provider) {
    (void)tracing.provider->ForceFlush(absl::Now() + absl::Seconds(10));
    const auto s = tracing.processor->Stats();
    exported += s.processed - s.export_failures;
    dropped += s.dropped_queue_full + s.export_failures;
  }
  close(control[1]);  // the server stops, flushes and reports
  long long server_exported = 0, server_dropped = 0;
  std::sscanf(ReadLine(report[0]).c_str(), "%lld %lld", &server_exported, &server_dropped);
  close(report[0]);
  int status = 0;
  waitpid(server, &status, 0);
  exported += server_exported;
  dropped += server_dropped;
  if (tracing.provider) (void)tracing.provider->Shutdown(absl::Now() + absl::Seconds(10));
  kill(receiver, SIGTERM);
  waitpid(receiver, nullptr, 0);

  const double p50 = Percentile(lat, 0.50), p99 = Percentile(lat, 0.99);
  std::fprintf(stderr, "rpc: %zu calls in %.2f s, %lld errors\n", lat.size(), elapsed,
               static_cast<long long>(load.errors()));
  std::printf(
      "requests_per_s=%.0f p50_us=%.1f p99_us=%.1f client_cpu_us_per_req=%.2f "
      "server_cpu_us_per_req=%.2f receiver_cpu_us_per_req=%.2f spans_exported=%lld "
      "spans_dropped=%lld\n",
      static_cast<double>(lat.size()) / elapsed, p50, p99, client_cpu * 1e6 / n,
      (server1.cpu_s - server0.cpu_s) * 1e6 / n, (receiver1.cpu_s - receiver0.cpu_s) * 1e6 / n,
      static_cast<long long>(exported), static_cast<long long>(dropped));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

}  // namespace tracewire::bench
