// Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from
// the messages the tests use: the every-field requests of tests/wire, the
// same with invalid items, and small synthetic requests.
//
//   tracewire_fuzz_seeds SOURCE_DIR/fuzz/corpus
//
// Run by hand when the messages change; the corpora are committed.

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/span_block.h"
#include "wire/test_messages.h"

namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  // Per signal: the every-field request, the same with invalid items, a
  // minimal request and an empty one.
  std::vector<std::vector<std::string>> requests(3);
  // The every-field requests cut to their first resource and scope (the
  // rest repeats them), to keep the corpora small.
  {
    auto t = tw_test::EveryFieldTraceRequest();
    t.mutable_resource_spans()->DeleteSubrange(1, t.resource_spans_size() - 1);
    t.mutable_resource_spans(0)->mutable_scope_spans()->DeleteSubrange(
        1, t.resource_spans(0).scope_spans_size() - 1);
    requests[0].push_back(t.SerializeAsString());
    t.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_trace_id(
        std::string(16, '\0'));
    t.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_end_time_unix_nano(1);
    requests[0].push_back(t.SerializeAsString());
  }
  {
    auto m = tw_test::EveryFieldMetricsRequest();
    m.mutable_resource_metrics()->DeleteSubrange(1, m.resource_metrics_size() - 1);
    m.mutable_resource_metrics(0)->mutable_scope_metrics()->DeleteSubrange(
        1, m.resource_metrics(0).scope_metrics_size() - 1);
    requests[1].push_back(m.SerializeAsString());
    m.mutable_resource_metrics(0)->mutable_scope_metrics(0)->mutable_metrics(0)->clear_name();
    requests[1].push_back(m.SerializeAsString());
  }
  {
    auto l = tw_test::EveryFieldLogsRequest();
    l.mutable_resource_logs()->DeleteSubrange(1, l.resource_logs_size() - 1);
    l.mutable_resource_logs(0)->mutable_scope_logs()->DeleteSubrange(
        1, l.resource_logs(0).scope_logs_size() - 1);
    requests[2].push_back(l.SerializeAsString());
    l.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records(0)->set_span_id(
        std::string(8, '\0'));
    requests[2].push_back(l.SerializeAsString());
  }
  {
    tw_test::TraceRequest t;
    auto* s = t.add_resource_spans()->add_scope_spans()->add_spans();
    s->set_trace_id(tw_test::SeqBytes(16, 1));
    s->set_span_id(tw_test::SeqBytes(8, 1));
    s->set_name("GET /");
    requests[0].push_back(t.SerializeAsString());
    tw_test::MetricsRequest m;
    auto* metric = m.add_resource_metrics()->add_scope_metrics()->add_metrics();
    metric->set_name("requests");
    metric->mutable_sum()->add_data_points()->set_as_int(1);
    requests[1].push_back(m.SerializeAsString());
    tw_test::LogsRequest l;
    l.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body()->set_string_value(
        "hello");
    requests[2].push_back(l.SerializeAsString());
    for (auto& r : requests) r.push_back("");
  }

  const char* per_signal[] = {"otlp_traces_fuzzer", "otlp_metrics_fuzzer", "otlp_logs_fuzzer"};
  for (int s = 0; s < 3; ++s) {
    for (size_t i = 0; i < requests[s].size(); ++i) {
      const std::string n = "seed" + std::to_string(i);
      Write(root / per_signal[s], n, requests[s][i]);
      Write(root / "otlp_json_fuzzer", std::to_string(s) + n, std::string(1, char(s)) + requests[s][i]);
      // A signal byte, a size byte (16 + 8 * b bytes per part), the request.
      Write(root / "otlp_split_fuzzer", std::to_string(s) + n,
            std::string(1, char(s)) + std::string(1, char(40)) + requests[s][i]);
    }
  }

  const std::string text = "OTLP over gRPC: traces, metrics and logs. " + requests[0][2];
  Write(root / "inflate_fuzzer", "plain", std::string(1, char(8)) + text);
  Write(root / "inflate_fuzzer", "gzip", std::string(1, char(8)) + Gzip(text));
  Write(root / "inflate_fuzzer", "gzip_over_limit", std::string(1, char(0)) + Gzip(text));

  // A selector byte (0 traceparent/tracestate, 1 baggage, 2 b3, 3 X-B3-*),
  // then name:value lines.
  Write(root / "propagation_fuzzer", "tracecontext",
        std::string(1, char(0)) +
            "traceparent:00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n"
            "tracestate:congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\n");
  Write(root / "propagation_fuzzer", "baggage",
        std::string(1, char(1)) + "baggage:userId=alice,serverNode=DF%2028;ttl=30,isProduction=false\n");
  Write(root / "propagation_fuzzer", "b3single",
        std::string(1, char(2)) + "b3:80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90\n");
  Write(root / "propagation_fuzzer", "b3multi",
        std::string(1, char(3)) +
            "x-b3-traceid:80f198ee56343ba864fe8b2a57d3eff7\nx-b3-spanid:e457b5a2e4d86bd1\n"
            "x-b3-sampled:1\nx-b3-parentspanid:05e3ac9a4f6e3b90\n");
  // Span blocks: [u32 size of cols][cols][compressed data], from the
  // every-field traces request's bytes standing in for spans.
  for (int n : {1, 3, 40}) {
    tracewire::store::BlockBuilder b;
    const std::vector<std::pair<std::string, std::string>> attrs = {{"http.route", "/a"},
                                                                    {"error", "true"}};
    for (int i = 0; i < n; ++i) {
      tracewire::store::BlockBuilder::Span s;
      const std::string trace_id(16, static_cast<char>(i + 1)), span_id(8, static_cast<char>(i));
      s.raw = requests[0][0];
      s.trace_id = trace_id;
      s.span_id = span_id;
      s.parent_span_id = i % 2 ? span_id : std::string_view();
      s.name = i % 3 ? "GET /a" : "query";
      s.service = i % 2 ? "api" : "db";
      s.start_ns = 1000 * i;
      s.duration_ns = 7 * i;
      s.status = i % 4 == 0 ? 2 : 0;
      s.resource_id = 1 + i / 10;
      s.scope_id = 1;
      s.attributes = attrs.data();
      s.attribute_count = static_cast<size_t>(i % 3);
      b.Add(s);
    }
    const std::string cols = b.Cols();
    const uint32_t size = static_cast<uint32_t>(cols.size());
    Write(root / "store_block_fuzzer", "block" + std::to_string(n),
          std::string(reinterpret_cast<const char*>(&size), 4) + cols +
              tracewire::store::CompressData(b.Data()));
  }
  std::printf("seeds written under %s\n", root.c_str());
  return 0;
}
