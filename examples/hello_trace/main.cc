// hello_trace: the smallest tracewire program. Configure it the way every
// OpenTelemetry SDK is configured:
//
//   OTEL_SERVICE_NAME=hello OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317
//     build/bin/hello_trace   (both on one command line)
//
// (OTEL_TRACES_EXPORTER=console prints the spans instead of sending them.)

#include <cstdio>

#include "absl/time/clock.h"
#include "tracewire/sdk.h"

int main() {
  absl::StatusOr<tracewire::Sdk> sdk = tracewire::InitFromEnv();
  if (!sdk.ok()) {
    std::fprintf(stderr, "hello_trace: %s\n", std::string(sdk.status().message()).c_str());
    return 2;
  }
  tracewire::Tracer* tracer = sdk->tracer_provider->GetTracer("hello_trace", "1.0");
  {
    tracewire::ScopedSpan request(*tracer, "handle request",
                                  {.kind = tracewire::SpanKind::kServer});
    request->SetAttribute("http.route", "/hello");
    for (int i = 0; i < 3; ++i) {
      tracewire::Span step = tracer->StartSpan("step");  // a child of "handle request"
      step.SetAttribute("step.index", i);
      step.AddEvent("working");
      step.End();
    }
    request->SetStatus(tracewire::StatusCode::kOk);
  }
  absl::Status st = sdk->Shutdown(absl::Now() + absl::Seconds(10));
  if (!st.ok()) {
    std::fprintf(stderr, "hello_trace: shutdown: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("hello_trace: 4 spans sent\n");
  return 0;
}
