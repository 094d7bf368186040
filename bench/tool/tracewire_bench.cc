// tracewire-bench: load generator for the benchmark scenarios of
// shared/bench/WORKLOAD.md.
//
//   tracewire-bench --scenario receive --endpoint HOST:PORT [--streams N]
//                   [--seconds S] [--spans-per-request K] [--rate SPANS_PER_S]
//                   [--gzip] [--receiver-pid PID] [--client-mode callback|thread]
//
// Scenario "receive": a few ExportTraceServiceRequests of K standard spans are
// serialized once (tools::MakeStandardSpansRequest) and sent again and again
// with the generic stub, so the generator never touches libprotobuf while it
// runs. Each of the N streams has its own channel (its own HTTP/2 connection)
// and keeps one call outstanding. With --rate the calls are paced (at most N
// outstanding) instead of sent as fast as possible. A stream answered
// UNAVAILABLE (the receiver's backpressure) pauses --busy-backoff-ms (default
// 20) before its next call, as a client honouring RetryInfo would, instead of
// hammering the receiver with requests it will refuse.
//
// A warm-up (--warmup-seconds, default 1) runs first and is not measured; the
// measured window is then --seconds long (or ends earlier when
// --max-requests calls have completed). Spans and requests are the calls
// completed OK inside the window; errors are every failed call of the whole
// run (warm-up and drain included), so no error goes unseen.
//
// With --receiver-pid, /proc/PID/stat (utime+stime) and /proc/PID/status
// (VmRSS, VmHWM) are read at the start and at the end of the window.
//
// The last line of output is one line of space-separated key=value:
//   scenario=receive spans= requests= errors= seconds= spans_per_s=
//   client_cpu_s_per_1m= receiver_cpu_s_per_1m= receiver_rss_mib=
//   receiver_peak_rss_mib= followed by a few descriptive keys (streams=,
//   spans_per_request=, request_bytes=, gzip=, rate=, client_mode=, busy=
//   (the errors that were UNAVAILABLE), p50_ms=, p99_ms= (latency of the OK
//   calls completed in the window), client_peak_rss_mib=, machine_cpu_util=
//   (busy share of all cores in the window, from /proc/stat), other_cpu_s=
//   (CPU seconds used in the window by neither the receiver nor this
//   generator: the noise of a shared machine; -1 without --receiver-pid)).
// receiver_* are -1 when --receiver-pid is not given (or /proc is unreadable);
// receiver_rss_mib is VmRSS at the end of the window, receiver_peak_rss_mib
// VmHWM (peak since the receiver started) at the end of the window.
// Exit status: 0 when some spans were accepted, 1 otherwise, 2 on bad flags.
//
// Scenario "rpc" (rpc_scenario.h): the gRPC unary echo of the "rpc overhead"
// workload with --tracing off|always|ratio and --in-flight N (default 32);
// it starts its own server and tracewired (--tracewired PATH). Last line:
//   requests_per_s= p50_us= p99_us= client_cpu_us_per_req=
//   server_cpu_us_per_req= receiver_cpu_us_per_req= spans_exported=
//   spans_dropped=

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "http_receive_scenario.h"
#include "logs_scenarios.h"
#include "metrics_scenarios.h"
#include "proc_sample.h"
#include "rpc_scenario.h"
#include "sdk_scenarios.h"
#include "tools/generic_call.h"
#include "tools/synthetic.h"
#include "wire/otlp_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string scenario;
  std::string endpoint;
  int streams = 4;
  double seconds = 10;
  double warmup_seconds = 1;
  int spans_per_request = 512;
  std::string protocol = "grpc";  // receive: grpc | http/protobuf
  int distinct_requests = 4;
  // Every span sent a new trace id (a copy of the prebuilt request with its
  // ids rewritten, per call): for sinks that deduplicate, such as the store.
  bool unique_ids = false;
  double rate = 0;  // spans/s; 0: as fast as possible
  bool gzip = false;
  std::string compression = "none";  // receive over http/protobuf
  int receiver_pid = 0;
  int64_t max_requests = 0;  // 0: bounded by time only
  double call_timeout_s = 10;
  double busy_backoff_ms = 20;  // pause of a stream answered UNAVAILABLE
  std::string client_mode = "callback";
};

// ---- /proc sampling ----------------------------------------------------------

using tracewire::bench::ProcSample;
using tracewire::bench::SampleProc;

// Busy (non-idle, non-iowait) CPU seconds of the whole machine, all cores.
double MachineBusyCpuSeconds() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long v[8] = {};
  if (!(stat >> cpu) || cpu != "cpu") return -1;
  for (auto& x : v) stat >> x;
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

double SelfPeakRssMib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // kB on Linux
}

// ---- Counters ----------------------------------------------------------------

struct Counters {
  std::atomic<int64_t> requests_ok{0};
  std::atomic<int64_t> spans_ok{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> busy{0};     // of which UNAVAILABLE (backpressure)
  std::atomic<int64_t> partial{0};  // OK answers that carried a partial_success

  std::mutex mu;
  std::string first_error;
  std::vector<std::pair<Clock::time_point, double>> latencies_ms;  // completion, latency
};

// ---- The generator -----------------------------------------------------------

// Sends prebuilt requests on N channels, either from N threads each blocking on
// its own completion queue ("thread"), or as N chains of callback-API calls
// where each completion issues the next call ("callback").
class Generator {
 public:
  Generator(const Flags& flags, std::vector<::grpc::Slice> requests,
            std::vector<std::shared_ptr<::grpc::Channel>> channels)
      : flags_(flags), requests_(std::move(requests)), channels_(std::move(channels)) {
    if (flags_.unique_ids) {
      // Where each span's trace id lies in each request.
      struct Ids : tracewire::wire::RequestVisitor {
        const char* base;
        std::vector<size_t> offsets;
        void OnSpan(const tracewire::wire::SpanView& s) override {
          if (s.trace_id.size() == 16) offsets.push_back(s.trace_id.data() - base);
        }
      };
      for (const ::grpc::Slice& r : requests_) {
        Ids v;
        v.base = reinterpret_cast<const char*>(r.begin());
        const std::string_view bytes(v.base, r.size());
        (void)tracewire::wire::ReadExportRequest(tracewire::wire::Signal::kTraces, bytes, &v);
        id_offsets_.push_back(std::move(v.offsets));
      }
      salt_ = static_cast<uint64_t>(Clock::now().time_since_epoch().count()) * 0x9e3779b97f4a7c15ull;
    }
    for (auto& ch : channels_) stubs_.push_back(std::make_unique<::grpc::GenericStub>(ch));
    if (flags_.rate > 0) {
      interval_ = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(flags_.spans_per_request / flags_.rate));
    }
  }

  // Starts issuing calls until Stop() or the request budget is spent.
  void Start() {
    t0_ = Clock::now();
    backoff_ = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::milli>(flags_.busy_backoff_ms));
    if (flags_.client_mode == "thread") {
      for (int i = 0; i < flags_.streams; ++i) threads_.emplace_back([this, i] { ThreadLoop(i); });
    } else if (flags_.rate > 0) {
      threads_.emplace_back([this] { PacerLoop(); });
    } else {
      threads_.emplace_back([this] { RetryLoop(); });
      for (int i = 0; i < flags_.streams; ++i) {
        if (!TakeBudget()) break;
        IssueCallback(i, i);
      }
    }
  }

  // Stops issuing; waits up to `grace` for calls in flight. False if some are
  // still in flight then.
  bool Stop(Clock::duration grace) {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, grace, [&] { return outstanding_ == 0; });
  }

  // Waits until `until`, or until the request budget (--max-requests) is spent
  // and every call has completed.
  void WaitUntil(Clock::time_point until) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_until(l, until, [&] { return budget_spent_ && outstanding_ == 0; });
  }

  Counters& counters() { return counters_; }

 private:
  // Reserves one call of the budget; counts it outstanding.
  bool TakeBudget() {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return false;
    if (flags_.max_requests > 0 && issued_ >= flags_.max_requests) {
      budget_spent_ = true;
      return false;
    }
    ++issued_;
    ++outstanding_;
    return true;
  }

  void CallDone() {
    bool notify;
    {
      std::lock_guard<std::mutex> l(mu_);
      --outstanding_;
      if (flags_.max_requests > 0 && issued_ >= flags_.max_requests) budget_spent_ = true;
      notify = outstanding_ == 0 || stopping_ || flags_.rate > 0 || !retries_.empty();
    }
    if (notify) cv_.notify_all();
  }

  void Record(const ::grpc::Status& st, const ::grpc::ByteBuffer& resp, Clock::time_point began) {
    const Clock::time_point now = Clock::now();
    if (st.ok()) {
      counters_.requests_ok.fetch_add(1, std::memory_order_relaxed);
      counters_.spans_ok.fetch_add(flags_.spans_per_request, std::memory_order_relaxed);
      // An empty response means every span was accepted.
      if (resp.Valid() && resp.Length() > 0) {
        counters_.partial.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      counters_.errors.fetch_add(1, std::memory_order_relaxed);
      if (st.error_code() == ::grpc::StatusCode::UNAVAILABLE) {
        counters_.busy.fetch_add(1, std::memory_order_relaxed);
      }
    }
    std::lock_guard<std::mutex> l(counters_.mu);
    if (!st.ok() && counters_.first_error.empty()) {
      counters_.first_error = std::to_string(st.error_code()) + " " + st.error_message();
    }
    if (st.ok()) {
      counters_.latencies_ms.emplace_back(
          now, std::chrono::duration<double, std::milli>(now - began).count());
    }
  }

  void Prepare(::grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(
                          std::chrono::duration<double>(flags_.call_timeout_s)));
    if (flags_.gzip) ctx->set_compression_algorithm(GRPC_COMPRESS_GZIP);
  }

  // The request of call `seq`: a reference to a prebuilt one, or with
  // --unique-ids a copy whose trace ids begin with `seq` (unique per call).
  ::grpc::Slice RequestFor(int64_t seq) {
    const ::grpc::Slice& base = requests_[seq % requests_.size()];
    if (!flags_.unique_ids) return base;  // a reference, not a copy
    char* copy = new char[base.size()];
    std::memcpy(copy, base.begin(), base.size());
    const uint64_t prefix = static_cast<uint64_t>(seq) ^ salt_;
    for (size_t off : id_offsets_[seq % requests_.size()]) std::memcpy(copy + off, &prefix, 8);
    return ::grpc::Slice(copy, base.size(), [](void* p) { delete[] static_cast<char*>(p); });
  }

  // Callback mode: one call; its completion issues the next one on the same
  // stream unless paced or stopping.
  struct Call {
    ::grpc::ClientContext ctx;
    ::grpc::ByteBuffer req;
    ::grpc::ByteBuffer resp;
    Clock::time_point began;
  };

  void IssueCallback(int stream, int64_t seq) {
    auto* call = new Call;
    Prepare(&call->ctx);
    ::grpc::Slice s = RequestFor(seq);
    call->req = ::grpc::ByteBuffer(&s, 1);
    call->began = Clock::now();
    stubs_[stream]->UnaryCall(&call->ctx, tracewire::tools::kTraceExportMethod,
                              ::grpc::StubOptions(), &call->req, &call->resp,
                              [this, call, stream, seq](::grpc::Status st) {
                                Record(st, call->resp, call->began);
                                delete call;
                                const int64_t next = seq + flags_.streams;
                                bool again = false;
                                if (flags_.rate <= 0) {
                                  if (st.error_code() == ::grpc::StatusCode::UNAVAILABLE &&
                                      backoff_ > Clock::duration::zero()) {
                                    ScheduleRetry(stream, next);
                                  } else {
                                    again = TakeBudget();
                                  }
                                }
                                CallDone();
                                if (again) IssueCallback(stream, next);
                              });
  }

  // Callback mode: a stream answered UNAVAILABLE (the receiver's backpressure)
  // sends its next call after --busy-backoff-ms, from the retry thread. The
  // call is reserved (counted outstanding) now, under the same lock the retry
  // thread drains the queue with at Stop, so none is lost.
  void ScheduleRetry(int stream, int64_t seq) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return;
      if (flags_.max_requests > 0 && issued_ >= flags_.max_requests) {
        budget_spent_ = true;
        return;
      }
      ++issued_;
      ++outstanding_;
      retries_.push_back({Clock::now() + backoff_, stream, seq});
    }
    cv_.notify_all();
  }

  void RetryLoop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      if (stopping_) {
        outstanding_ -= static_cast<int64_t>(retries_.size());
        retries_.clear();
        l.unlock();
        cv_.notify_all();
        return;
      }
      if (retries_.empty()) {
        cv_.wait(l);
        continue;
      }
      // Same back-off for every entry: the queue is in time order.
      const Retry r = retries_.front();
      if (Clock::now() < r.at) {
        cv_.wait_until(l, r.at);
        continue;
      }
      retries_.erase(retries_.begin());
      l.unlock();
      IssueCallback(r.stream, r.seq);
      l.lock();
    }
  }

  // Callback mode with --rate: issues call k at t0 + k * interval, at most
  // `streams` outstanding (a late call is sent as soon as a stream frees up).
  void PacerLoop() {
    for (int64_t k = 0;; ++k) {
      const Clock::time_point at = t0_ + k * interval_;
      std::unique_lock<std::mutex> l(mu_);
      if (cv_.wait_until(l, at, [&] { return stopping_; })) return;
      cv_.wait(l, [&] { return stopping_ || outstanding_ < flags_.streams; });
      if (stopping_) return;
      l.unlock();
      if (!TakeBudget()) return;
      IssueCallback(static_cast<int>(k % flags_.streams), k);
    }
  }

  // Thread mode: blocking calls on a completion queue owned by this thread.
  void ThreadLoop(int stream) {
    ::grpc::CompletionQueue cq;
    for (int64_t n = 0;; ++n) {
      int64_t seq = stream + n * flags_.streams;
      if (interval_ > Clock::duration::zero()) {
        const int64_t k = next_slot_.fetch_add(1);
        seq = k;
        std::unique_lock<std::mutex> l(mu_);
        if (cv_.wait_until(l, t0_ + k * interval_, [&] { return stopping_; })) break;
      }
      if (!TakeBudget()) break;
      ::grpc::ClientContext ctx;
      Prepare(&ctx);
      ::grpc::Slice s = RequestFor(seq);
      ::grpc::ByteBuffer req(&s, 1), resp;
      ::grpc::Status st;
      const Clock::time_point began = Clock::now();
      auto rpc =
          stubs_[stream]->PrepareUnaryCall(&ctx, tracewire::tools::kTraceExportMethod, req, &cq);
      rpc->StartCall();
      rpc->Finish(&resp, &st, reinterpret_cast<void*>(1));
      void* tag;
      bool ok;
      (void)cq.Next(&tag, &ok);
      Record(st, resp, began);
      CallDone();
      if (!st.ok() && st.error_code() == ::grpc::StatusCode::UNAVAILABLE &&
          interval_ == Clock::duration::zero()) {
        std::unique_lock<std::mutex> l(mu_);
        if (cv_.wait_for(l, backoff_, [&] { return stopping_; })) break;
      }
    }
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }

  const Flags flags_;
  const std::vector<::grpc::Slice> requests_;
  std::vector<std::vector<size_t>> id_offsets_;  // with unique_ids: per request
  uint64_t salt_ = 0;
  std::vector<std::shared_ptr<::grpc::Channel>> channels_;
  std::vector<std::unique_ptr<::grpc::GenericStub>> stubs_;
  Clock::duration interval_ = Clock::duration::zero();
  Clock::duration backoff_ = Clock::duration::zero();
  struct Retry {
    Clock::time_point at;
    int stream;
    int64_t seq;
  };
  std::vector<Retry> retries_;  // guarded by mu_
  Clock::time_point t0_;
  std::atomic<int64_t> next_slot_{0};
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable cv_;  // every state change below notifies it
  bool stopping_ = false;
  bool budget_spent_ = false;
  int64_t issued_ = 0;
  int64_t outstanding_ = 0;

  Counters counters_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int RunReceive(const Flags& f) {
  // Requests: a few distinct ones, serialized once.
  std::vector<::grpc::Slice> requests;
  size_t request_bytes = 0;
  for (int i = 0; i < f.distinct_requests; ++i) {
    std::string bytes = tracewire::tools::MakeStandardSpansRequest(f.spans_per_request,
                                                                   static_cast<uint64_t>(i + 1));
    request_bytes = std::max(request_bytes, bytes.size());
    requests.emplace_back(bytes);
  }

  std::vector<std::shared_ptr<::grpc::Channel>> channels;
  for (int i = 0; i < f.streams; ++i) {
    ::grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own connection
    args.SetInt("tracewire.bench.stream", i);
    args.SetMaxSendMessageSize(-1);
    channels.push_back(
        ::grpc::CreateCustomChannel(f.endpoint, ::grpc::InsecureChannelCredentials(), args));
  }
  for (size_t i = 0; i < channels.size(); ++i) {
    if (!channels[i]->WaitForConnected(std::chrono::system_clock::now() +
                                       std::chrono::seconds(10))) {
      std::fprintf(stderr, "tracewire-bench: cannot connect to %s (stream %zu, channel state %d)\n",
                   f.endpoint.c_str(), i, static_cast<int>(channels[i]->GetState(false)));
      return 1;
    }
  }

  Generator gen(f, std::move(requests), channels);
  const Clock::time_point start = Clock::now();
  gen.Start();
  gen.WaitUntil(start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(f.warmup_seconds)));

  Counters& c = gen.counters();
  // ---- window start
  const ProcSample r0 = SampleProc(f.receiver_pid);
  const double cpu0 = SelfCpuSeconds();
  const double m0 = MachineBusyCpuSeconds();
  const int64_t spans0 = c.spans_ok.load(), req0 = c.requests_ok.load();
  const Clock::time_point w0 = Clock::now();
  gen.WaitUntil(
      w0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(f.seconds)));
  const Clock::time_point w1 = Clock::now();
  const int64_t spans1 = c.spans_ok.load(), req1 = c.requests_ok.load();
  const double cpu1 = SelfCpuSeconds();
  const double m1 = MachineBusyCpuSeconds();
  const ProcSample r1 = SampleProc(f.receiver_pid);
  // ---- window end
  const bool drained = gen.Stop(std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(f.call_timeout_s + 5)));
  if (!drained) {
    std::fprintf(stderr, "tracewire-bench: calls still in flight after the deadline\n");
  }

  const double secs = std::chrono::duration<double>(w1 - w0).count();
  const int64_t spans = spans1 - spans0, reqs = req1 - req0;
  const double per_1m = spans > 0 ? 1e6 / static_cast<double>(spans) : 0;
  std::vector<double> lat;
  {
    std::lock_guard<std::mutex> l(c.mu);
    for (auto& [t, ms] : c.latencies_ms) {
      if (t >= w0 && t <= w1) lat.push_back(ms);
    }
    if (!c.first_error.empty()) {
      std::fprintf(stderr, "tracewire-bench: %lld errors, first: %s\n",
                   static_cast<long long>(c.errors.load()), c.first_error.c_str());
    }
  }
  if (c.partial.load() > 0) {
    std::fprintf(stderr, "tracewire-bench: %lld answers carried a partial_success\n",
                 static_cast<long long>(c.partial.load()));
  }
  const bool have_r = r0.ok && r1.ok && spans > 0;
  const double r_cpu = have_r ? (r1.cpu_s - r0.cpu_s) * per_1m : -1;
  // CPU the rest of the machine used in the window (other processes, kernel
  // threads): the noise on a shared machine. -1 without --receiver-pid.
  const double other_cpu =
      (r0.ok && r1.ok && m0 >= 0) ? (m1 - m0) - (r1.cpu_s - r0.cpu_s) - (cpu1 - cpu0) : -1;
  const double r_rss = r1.ok ? r1.rss_mib : -1;
  const double r_hwm = r1.ok ? r1.hwm_mib : -1;
  std::printf(
      "scenario=receive spans=%lld requests=%lld errors=%lld seconds=%.3f spans_per_s=%.0f "
      "client_cpu_s_per_1m=%.3f receiver_cpu_s_per_1m=%.3f receiver_rss_mib=%.1f "
      "receiver_peak_rss_mib=%.1f streams=%d spans_per_request=%d request_bytes=%zu gzip=%d "
      "rate=%.0f client_mode=%s busy=%lld p50_ms=%.2f p99_ms=%.2f client_peak_rss_mib=%.1f "
      "machine_cpu_util=%.2f other_cpu_s=%.2f\n",
      static_cast<long long>(spans), static_cast<long long>(reqs),
      static_cast<long long>(c.errors.load()), secs, secs > 0 ? spans / secs : 0,
      spans > 0 ? (cpu1 - cpu0) * per_1m : -1, r_cpu, r_rss, r_hwm, f.streams, f.spans_per_request,
      request_bytes, f.gzip ? 1 : 0, f.rate, f.client_mode.c_str(),
      static_cast<long long>(c.busy.load()), Percentile(lat, 0.5), Percentile(lat, 0.99),
      SelfPeakRssMib(),
      (m0 >= 0 && secs > 0) ? (m1 - m0) / (secs * std::thread::hardware_concurrency()) : -1,
      other_cpu);
  std::fflush(stdout);
  // Calls still in flight reference the generator: leave without destroying it.
  if (!drained) std::_Exit(spans > 0 ? 0 : 1);
  return spans > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tracewire-bench: load generator for the WORKLOAD.md scenarios"};
  Flags f;
  app.add_option("--scenario", f.scenario,
                 "scenario to run: receive, encode, send, sdk, export, memory, logs, metrics, rpc")
      ->required();
  tracewire::bench::ScenarioArgs sa;
  std::string instrument = "counter";
  app.add_option("--instrument", instrument, "metrics: counter or histogram")
      ->check(CLI::IsMember({"counter", "histogram"}));
  app.add_option("--threads", sa.threads, "application threads (sdk, export)")
      ->check(CLI::Range(1, 64));
  app.add_option("--queue-size", sa.queue_size, "batch processor queue (sdk, export)");
  app.add_option("--batch-size", sa.batch_size, "batch processor batch (sdk, export)");
  app.add_option("--ending-threads-export", sa.ending_threads_export,
                 "who exports full batches (sdk, export): auto (ending threads while the "
                 "cores are busy), never (the export thread), always (ending threads)")
      ->check(CLI::IsMember({"auto", "never", "always"}));
  app.add_flag("--prebuilt", sa.prebuilt, "send: prebuilt bytes instead of encoding");
  app.add_option("--endpoint", f.endpoint, "HOST:PORT of the receiver under test");
  app.add_option("--protocol", f.protocol,
                 "receive: grpc, or http/protobuf (--endpoint is then the OTLP/HTTP HOST:PORT; "
                 "--streams keep-alive connections, one request in flight each)");
  app.add_option("--compression", f.compression,
                 "receive over http/protobuf: none, gzip or zstd, each request compressed by "
                 "its sender as an exporter does (--gzip: gzip)")
      ->check(CLI::IsMember({"none", "gzip", "zstd"}));
  app.add_option("--streams", f.streams, "concurrent streams (one connection each)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", f.seconds, "length of the measured window")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup-seconds", f.warmup_seconds, "unmeasured warm-up before the window")
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("--spans-per-request", f.spans_per_request, "spans in each request")
      ->check(CLI::Range(1, 1 << 20));
  app.add_flag("--unique-ids", f.unique_ids,
               "receive: a new trace id for every span sent (for sinks that deduplicate)");
  app.add_option("--distinct-requests", f.distinct_requests, "distinct requests sent in turn")
      ->check(CLI::Range(1, 64));
  app.add_option("--rate", f.rate, "pace the load at this many spans/s (default: flat out)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--gzip", f.gzip, "compress requests with gzip (costs the generator CPU)");
  app.add_option("--receiver-pid", f.receiver_pid,
                 "receiver process to read CPU time and RSS of, from /proc");
  app.add_option("--max-requests", f.max_requests, "stop after this many calls (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--busy-backoff-ms", f.busy_backoff_ms,
                 "a stream answered UNAVAILABLE waits this long before its next call")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--call-timeout-s", f.call_timeout_s, "deadline of each call")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--client-mode", f.client_mode,
                 "callback: N chains of callback-API calls; thread: N blocking threads")
      ->check(CLI::IsMember({"callback", "thread"}));
  tracewire::bench::RpcArgs rpc;
  app.add_option("--tracing", rpc.tracing,
                 "rpc: off (no interceptors), always (every call sampled), ratio "
                 "(ParentBased(TraceIdRatioBased(0.1))), interceptors (gRPC interceptors that do "
                 "nothing: the floor under any interceptor-based instrumentation)")
      ->check(CLI::IsMember({"off", "always", "ratio", "interceptors"}));
  app.add_option("--server-pollers", rpc.server_pollers,
                 "rpc: MAX_POLLERS of the synchronous server (0: calls in flight + 1)")
      ->check(CLI::Range(0, 4096));
  app.add_option("--absl-deadlock-detection", rpc.absl_deadlock_detection,
                 "rpc: abseil's mutex deadlock detection (on in Debian's abseil, for gRPC's "
                 "locks too); false turns it off in both processes");
  app.add_option("--requests", rpc.requests,
                 "rpc: make exactly this many calls, all measured, instead of a timed window "
                 "(no warm-up); for instruction counts under callgrind")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--in-flight", rpc.in_flight, "rpc: calls in flight")->check(CLI::Range(1, 1024));
  app.add_option("--tracewired", rpc.tracewired,
                 "rpc: tracewired to export to (default: next "
                 "to tracewire-bench)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (f.scenario != "receive") {
    if (f.endpoint.rfind("http://", 0) == 0) f.endpoint = f.endpoint.substr(7);
    sa.endpoint = f.endpoint;
    sa.seconds = f.seconds;
    sa.gzip = f.gzip;
    sa.rate = f.rate;
    if (f.scenario == "encode") return tracewire::bench::RunEncodeScenario(sa);
    if (f.scenario == "send") return tracewire::bench::RunSendScenario(sa);
    if (f.scenario == "sdk") return tracewire::bench::RunSdkScenario(sa);
    if (f.scenario == "export") return tracewire::bench::RunExportScenario(sa);
    if (f.scenario == "memory") return tracewire::bench::RunMemoryScenario(sa);
    if (f.scenario == "metrics") {
      return tracewire::bench::RunMetricsScenario({sa.threads, sa.seconds, instrument});
    }
    if (f.scenario == "logs") return tracewire::bench::RunLogsScenario(sa);
    if (f.scenario == "rpc") {
      rpc.seconds = f.seconds;
      rpc.warmup_seconds = f.warmup_seconds;
      return tracewire::bench::RunRpcScenario(rpc);
    }
    std::fprintf(stderr,
                 "tracewire-bench: unknown scenario '%s' (known: receive, encode, send, sdk, "
                 "export, memory, logs, metrics, rpc)\n",
                 f.scenario.c_str());
    return 2;
  }
  if (f.endpoint.empty()) {
    std::fprintf(stderr, "tracewire-bench: --endpoint HOST:PORT is required for 'receive'\n");
    return 2;
  }
  if (f.endpoint.rfind("http://", 0) == 0) f.endpoint = f.endpoint.substr(7);
  if (f.protocol == "http/protobuf") {
    tracewire::bench::HttpReceiveArgs h;
    h.endpoint = f.endpoint;
    h.streams = f.streams;
    h.spans_per_request = f.spans_per_request;
    h.warmup_seconds = f.warmup_seconds;
    h.seconds = f.seconds;
    h.receiver_pid = f.receiver_pid;
    h.compression = f.gzip && f.compression == "none" ? "gzip" : f.compression;
    return tracewire::bench::RunHttpReceiveScenario(h);
  }
  if (f.protocol != "grpc") {
    std::fprintf(stderr, "tracewire-bench: --protocol is grpc or http/protobuf\n");
    return 2;
  }
  return RunReceive(f);
}
