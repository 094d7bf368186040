// hello_logs: log records through the logs SDK and through spdlog, each
// carrying the trace and span ids of the span current when it was written:
//
//   OTEL_SERVICE_NAME=hello OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317
//     build/bin/hello_logs   (both on one command line)
//
// (OTEL_LOGS_EXPORTER=console prints the records instead of sending them.)

#include <spdlog/spdlog.h>

#include <cstdio>

#include "absl/time/clock.h"
#include "tracewire/global.h"
#include "tracewire/logs.h"
#include "tracewire/sdk.h"
#include "tracewire/spdlog_sink.h"

int main() {
  absl::StatusOr<tracewire::Sdk> sdk = tracewire::InitFromEnv();
  if (!sdk.ok()) {
    std::fprintf(stderr, "hello_logs: %s\n", std::string(sdk.status().message()).c_str());
    return 2;
  }
  tracewire::Logger* logger = tracewire::GetLoggerProvider()->GetLogger("hello_logs", "1.0");
  tracewire::Tracer* tracer = tracewire::GetTracerProvider()->GetTracer("hello_logs", "1.0");
  // An application's existing spdlog lines reach OTLP through the sink.
  auto app_log = std::make_shared<spdlog::logger>(
      "app", std::make_shared<tracewire::OtelSinkMt>(tracewire::GetLoggerProvider().get()));
  {
    tracewire::ScopedSpan login(*tracer, "login", tracewire::SpanKind::kServer);
    logger->Emit(tracewire::SeverityNumber::kInfo, "user 42 logged in",
                 {{"user.id", int64_t{42}}, {"enduser.role", "admin"}});
    app_log->warn("password expires in {} days", 3);
  }
  absl::Status st = sdk->Shutdown(absl::Now() + absl::Seconds(10));
  if (!st.ok()) {
    std::fprintf(stderr, "hello_logs: shutdown: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("hello_logs: 2 log records sent, 1 span\n");
  return 0;
}
