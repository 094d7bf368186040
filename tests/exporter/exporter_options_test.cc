#include <gtest/gtest.h>

#include <map>

#include "exporter/grpc_transport.h"
#include "tracewire/otlp_exporter_options.h"

namespace tracewire {
namespace {

absl::StatusOr<OtlpExporterOptions> FromEnv(ExportSignal s,
                                            std::map<std::string, std::string> env) {
  return OtlpExporterOptions::FromEnv(s, [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(ExporterOptionsEnv, DefaultsWithNothingSet) {
  auto o = FromEnv(ExportSignal::kTraces, {});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "http://localhost:4317");
  EXPECT_EQ(o->timeout, absl::Seconds(10));
  EXPECT_EQ(o->compression, "none");
  EXPECT_TRUE(o->headers.empty());
}

TEST(ExporterOptionsEnv, ReadsEveryVariable) {
  auto o = FromEnv(ExportSignal::kMetrics,
                   {{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"},
                    {"OTEL_EXPORTER_OTLP_HEADERS", "Api-Key=a%20b%2Cc, x-tenant = t1"},
                    {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                    {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                    {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem"},
                    {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/c.pem"},
                    {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/c.key"},
                    {"OTEL_EXPORTER_OTLP_INSECURE", "true"},
                    {"OTLP_AUTH_TOKEN", "tok"},
                    {"OTLP_API_KEY", "key"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "https://collector:4317");
  EXPECT_EQ(o->headers.at("api-key"), "a b,c");  // percent-decoded, key lowercased
  EXPECT_EQ(o->headers.at("x-tenant"), "t1");
  EXPECT_EQ(o->timeout, absl::Milliseconds(2500));
  EXPECT_EQ(o->compression, "gzip");
  EXPECT_EQ(o->ca_file, "/ca.pem");
  EXPECT_EQ(o->client_cert_file, "/c.pem");
  EXPECT_EQ(o->client_key_file, "/c.key");
  EXPECT_TRUE(o->insecure);
  EXPECT_EQ(o->bearer_token, "tok");
  EXPECT_EQ(o->api_key, "key");
}

TEST(ExporterOptionsEnv, PerSignalVariableWins) {
  std::map<std::string, std::string> env = {
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4317"},
      {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4317"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "1000"},
      {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "3000"}};
  auto logs = FromEnv(ExportSignal::kLogs, env);
  auto traces = FromEnv(ExportSignal::kTraces, env);
  ASSERT_TRUE(logs.ok() && traces.ok());
  EXPECT_EQ(logs->endpoint, "http://logs:4317");
  EXPECT_EQ(logs->timeout, absl::Seconds(1));
  EXPECT_EQ(traces->endpoint, "http://general:4317");
  EXPECT_EQ(traces->timeout, absl::Seconds(3));
}

struct BadEnv {
  // The test's name: Table/ExporterOptionsBadEnv.NamesTheVariableAndTheValue/NAME.
  const char* name;
  const char* var;
  const char* value;
};

// What gtest prints for a case, e.g. in a failure.
void PrintTo(const BadEnv& e, std::ostream* os) { *os << e.var << "=" << e.value; }

class ExporterOptionsBadEnv : public ::testing::TestWithParam<BadEnv> {};

TEST_P(ExporterOptionsBadEnv, NamesTheVariableAndTheValue) {
  auto o = FromEnv(ExportSignal::kTraces, {{GetParam().var, GetParam().value}});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(o.status().message());
  EXPECT_NE(msg.find(GetParam().var), std::string::npos) << msg;
  EXPECT_NE(msg.find(GetParam().value), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExporterOptionsBadEnv,
    ::testing::Values(BadEnv{"TimeoutNotANumber", "OTEL_EXPORTER_OTLP_TIMEOUT", "ten"},
                      BadEnv{"TimeoutNegative", "OTEL_EXPORTER_OTLP_TIMEOUT", "-5"},
                      BadEnv{"TracesTimeoutZero", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0"},
                      BadEnv{"CompressionBrotli", "OTEL_EXPORTER_OTLP_COMPRESSION", "br"},
                      BadEnv{"InsecureYes", "OTEL_EXPORTER_OTLP_INSECURE", "yes"},
                      BadEnv{"EndpointFtpScheme", "OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x:1"},
                      BadEnv{"HeaderWithoutValue", "OTEL_EXPORTER_OTLP_HEADERS", "novalue"},
                      BadEnv{"HeaderBadPercentEscape", "OTEL_EXPORTER_OTLP_HEADERS", "k=%zz"},
                      BadEnv{"TracesHeaderEmptyKey", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "=v"}),
    [](const ::testing::TestParamInfo<BadEnv>& info) { return std::string(info.param.name); });

TEST(ExporterOptions, ValidateNamesTheOption) {
  OtlpExporterOptions o;
  o.client_cert_file = "/c.pem";
  EXPECT_NE(std::string(o.Validate().message()).find("client_cert_file"), std::string::npos);
  o = OtlpExporterOptions();
  o.compression = "br";
  EXPECT_NE(std::string(o.Validate().message()).find("compression"), std::string::npos);
  o = OtlpExporterOptions();
  o.max_in_flight = 0;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(ParseEndpoint, SchemeDecidesTls) {
  auto p = exporter::ParseEndpoint("http://127.0.0.1:4317/", false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->target, "127.0.0.1:4317");
  EXPECT_FALSE(p->tls);
  p = exporter::ParseEndpoint("https://collector.example:443", false);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->tls);
  EXPECT_EQ(p->target, "collector.example:443");
  p = exporter::ParseEndpoint("collector:4317", false);
  EXPECT_TRUE(p->tls);
  p = exporter::ParseEndpoint("collector:4317", true);
  EXPECT_FALSE(p->tls);
  p = exporter::ParseEndpoint("http://127.0.0.1:1,http://127.0.0.1:2", false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->target, "ipv4:127.0.0.1:1,127.0.0.1:2");
  EXPECT_FALSE(exporter::ParseEndpoint("http://a:1,https://b:2", false).ok());
  EXPECT_FALSE(exporter::ParseEndpoint("http://name:1,http://other:2", false).ok());
  EXPECT_FALSE(exporter::ParseEndpoint("http://nohost", false).ok());
}

}  // namespace
}  // namespace tracewire
