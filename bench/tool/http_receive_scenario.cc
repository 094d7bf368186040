#include "http_receive_scenario.h"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "httplib.h"
#include "proc_sample.h"
#include "tools/synthetic.h"

namespace tracewire::bench {
namespace {

std::string Gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), /*level=*/3);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

std::string Compress(const std::string& compression, const std::string& data) {
  if (compression == "gzip") return Gzip(data);
  if (compression == "zstd") return Zstd(data);
  return data;
}

}  // namespace

int RunHttpReceiveScenario(const HttpReceiveArgs& a) {
  const size_t colon = a.endpoint.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "tracewire-bench: --endpoint HOST:PORT\n");
    return 2;
  }
  const std::string host = a.endpoint.substr(0, colon);
  const int port = std::stoi(a.endpoint.substr(colon + 1));
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    bodies.push_back(tools::MakeStandardSpansRequest(a.spans_per_request, i + 1));
  }
  const bool compress = a.compression != "none";
  std::atomic<bool> stop{false};
  std::atomic<int64_t> spans_ok{0}, errors{0}, raw_bytes{0}, wire_bytes{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < a.streams; ++s) {
    threads.emplace_back([&, s] {
      httplib::Client http(host, port);
      http.set_keep_alive(true);
      http.set_tcp_nodelay(true);  // as the exporter: no Nagle wait between header and body
      http.set_read_timeout(30, 0);
      httplib::Headers headers;
      if (compress) headers.emplace("Content-Encoding", a.compression);
      std::string compressed;
      for (size_t i = static_cast<size_t>(s); !stop.load(std::memory_order_relaxed); ++i) {
        const std::string& body = bodies[i % bodies.size()];
        if (compress) compressed = Compress(a.compression, body);
        const std::string& sent = compress ? compressed : body;
        raw_bytes.fetch_add(static_cast<int64_t>(body.size()), std::memory_order_relaxed);
        wire_bytes.fetch_add(static_cast<int64_t>(sent.size()), std::memory_order_relaxed);
        auto res = http.Post("/v1/traces", headers, sent, "application/x-protobuf");
        if (res && res->status == 200) {
          spans_ok.fetch_add(a.spans_per_request, std::memory_order_relaxed);
        } else {
          errors.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.warmup_seconds));
  const ProcSample r0 = SampleProc(a.receiver_pid);
  const ProcSample c0 = SampleProc(static_cast<int>(::getpid()));
  const int64_t n0 = spans_ok.load();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  const auto t1 = std::chrono::steady_clock::now();
  const int64_t n1 = spans_ok.load();
  const ProcSample r1 = SampleProc(a.receiver_pid);
  const ProcSample c1 = SampleProc(static_cast<int>(::getpid()));
  stop = true;
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const int64_t spans = n1 - n0;
  const double r_cpu =
      (r0.ok && r1.ok && spans > 0) ? (r1.cpu_s - r0.cpu_s) * 1e6 / static_cast<double>(spans) : -1;
  const double c_cpu =
      (c0.ok && c1.ok && spans > 0) ? (c1.cpu_s - c0.cpu_s) * 1e6 / static_cast<double>(spans) : -1;
  const double ratio = raw_bytes.load() > 0 ? static_cast<double>(wire_bytes.load()) /
                                                  static_cast<double>(raw_bytes.load())
                                            : 0;
  std::printf(
      "scenario=receive protocol=http/protobuf spans=%lld errors=%lld seconds=%.3f "
      "spans_per_s=%.0f receiver_cpu_s_per_1m=%.3f receiver_rss_mib=%.1f streams=%d gzip=%d "
      "compression=%s wire_ratio=%.3f client_cpu_s_per_1m=%.3f\n",
      static_cast<long long>(spans), static_cast<long long>(errors.load()), secs,
      secs > 0 ? spans / secs : 0, r_cpu, r1.ok ? r1.rss_mib : -1, a.streams,
      a.compression == "gzip" ? 1 : 0, a.compression.c_str(), ratio, c_cpu);
  std::fflush(stdout);
  return spans > 0 ? 0 : 1;
}

}  // namespace tracewire::bench
