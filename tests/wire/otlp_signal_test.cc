// The one table of OTLP signals and collector services against the services
// protoc generates from the official .proto files.

#include "wire/otlp_signal.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "google/protobuf/descriptor.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace tracewire::wire {
namespace {

static_assert(std::is_same_v<Signal, ::tracewire::ExportSignal>,
              "the wire layer and the exporter share one signal type");

const char* GeneratedServiceName(Signal s) {
  switch (s) {
    case Signal::kTraces:
      return ::opentelemetry::proto::collector::trace::v1::TraceService::service_full_name();
    case Signal::kMetrics:
      return ::opentelemetry::proto::collector::metrics::v1::MetricsService::service_full_name();
    case Signal::kLogs:
      break;
  }
  return ::opentelemetry::proto::collector::logs::v1::LogsService::service_full_name();
}

TEST(OtlpSignal, ServiceNamesAndMethodsAreTheGeneratedOnes) {
  int seen = 0;
  for (Signal s : kSignals) {
    EXPECT_EQ(std::string(ServiceName(s)), GeneratedServiceName(s)) << SignalName(s);
    EXPECT_EQ(std::string(ExportMethod(s)), "/" + std::string(GeneratedServiceName(s)) + "/Export")
        << SignalName(s);
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(ServiceName(s));
    ASSERT_NE(service, nullptr) << ServiceName(s);
    EXPECT_NE(service->FindMethodByName("Export"), nullptr) << ServiceName(s);
    ++seen;
  }
  EXPECT_EQ(seen, kSignalCount);
}

TEST(OtlpSignal, NamesFollowTheEnumOrder) {
  EXPECT_STREQ(SignalName(Signal::kTraces), "traces");
  EXPECT_STREQ(SignalName(Signal::kMetrics), "metrics");
  EXPECT_STREQ(SignalName(Signal::kLogs), "logs");
  EXPECT_STREQ(SignalItemName(Signal::kTraces), "spans");
  EXPECT_STREQ(SignalItemName(Signal::kMetrics), "data_points");
  EXPECT_STREQ(SignalItemName(Signal::kLogs), "log_records");
  EXPECT_EQ(kSignals[0], Signal::kTraces);
  EXPECT_EQ(kSignals[1], Signal::kMetrics);
  EXPECT_EQ(kSignals[2], Signal::kLogs);
}

}  // namespace
}  // namespace tracewire::wire
