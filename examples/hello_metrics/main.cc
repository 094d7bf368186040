// hello_metrics: a counter and a histogram, exported the way every
// OpenTelemetry SDK is configured:
//
//   OTEL_SERVICE_NAME=hello OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317
//     build/bin/hello_metrics   (both on one command line)
//
// (OTEL_METRICS_EXPORTER=console prints the points instead of sending them.)
// The periodic reader exports every OTEL_METRIC_EXPORT_INTERVAL (60 s by
// default) and once more at shutdown, so one run sends one collection.

#include <cstdio>

#include "absl/time/clock.h"
#include "tracewire/global.h"
#include "tracewire/metrics.h"
#include "tracewire/sdk.h"

int main() {
  absl::StatusOr<tracewire::Sdk> sdk = tracewire::InitFromEnv();
  if (!sdk.ok()) {
    std::fprintf(stderr, "hello_metrics: %s\n", std::string(sdk.status().message()).c_str());
    return 2;
  }
  // A library would take the global provider, which InitFromEnv has set.
  tracewire::Meter* meter = tracewire::GetMeterProvider()->GetMeter("hello_metrics", "1.0");
  auto requests = meter->CreateInt64Counter("hello.requests", "{request}", "Requests handled");
  auto latency = meter->CreateDoubleHistogram("hello.duration", "ms", "Time per request");
  // The fast path: attribute sets built once, reused for every call.
  const tracewire::AttributeSet ok{{"http.route", "/hello"}, {"http.response.status_code", 200}};
  const tracewire::AttributeSet missing{{"http.route", "/hello"},
                                        {"http.response.status_code", 404}};
  for (int i = 0; i < 100; ++i) {
    const tracewire::AttributeSet& attrs = i % 10 == 0 ? missing : ok;
    requests.Add(1, attrs);
    latency.Record(0.5 + i * 0.25, attrs);
  }
  absl::Status st = sdk->Shutdown(absl::Now() + absl::Seconds(10));
  if (!st.ok()) {
    std::fprintf(stderr, "hello_metrics: shutdown: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("hello_metrics: 100 requests recorded in 2 series\n");
  return 0;
}
