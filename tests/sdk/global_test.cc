#include "tracewire/global.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "propagation/map_carrier.h"
#include "testing/scoped_env.h"
#include "tracewire/sdk.h"
#include "tracewire/span_exporter.h"
#include "tracewire/span_processor.h"

namespace tracewire {
namespace {

// Each test leaves the globals as it found them: no-op.
class GlobalProviders : public ::testing::Test {
 protected:
  void TearDown() override {
    SetTracerProvider(nullptr);
    SetLoggerProvider(nullptr);
    SetTextMapPropagator(nullptr);
  }
};

TEST_F(GlobalProviders, NoopUntilSetThenTheSetProviderThenNoopAgain) {
  std::shared_ptr<TracerProvider> noop = GetTracerProvider();
  ASSERT_NE(noop, nullptr);
  EXPECT_EQ(noop.get(), NoopTracerProvider());
  Tracer* tracer = noop->GetTracer("lib");
  EXPECT_EQ(tracer, NoopTracer());
  Span span = tracer->StartSpan("nothing");
  EXPECT_FALSE(span.IsRecording());
  span.End();
  EXPECT_TRUE(noop->ForceFlush(absl::Now()).ok());
  EXPECT_TRUE(noop->resource().attributes.empty());

  auto exporter = std::make_unique<InMemorySpanExporter>();
  InMemorySpanExporter* spans = exporter.get();
  TracerProviderOptions options;
  options.processors.push_back(MakeSimpleSpanProcessor(std::move(exporter)));
  auto created = TracerProvider::Create(std::move(options));
  ASSERT_TRUE(created.ok());
  std::shared_ptr<TracerProvider> real = std::move(*created);
  SetTracerProvider(real);
  EXPECT_EQ(GetTracerProvider(), real);
  GetTracerProvider()->GetTracer("lib")->StartSpan("recorded").End();
  ASSERT_EQ(spans->spans().size(), 1u);
  EXPECT_EQ(spans->spans()[0].data.name, "recorded");

  SetTracerProvider(nullptr);
  EXPECT_EQ(GetTracerProvider().get(), NoopTracerProvider());
  // The provider lives while someone holds it.
  EXPECT_EQ(real.use_count(), 1);
}

TEST_F(GlobalProviders, LoggerProviderIsNoopUntilSet) {
  EXPECT_EQ(GetLoggerProvider().get(), NoopLoggerProvider());
  EXPECT_FALSE(GetLoggerProvider()->GetLogger("lib")->Enabled());
  auto exporter = std::make_unique<InMemoryLogRecordExporter>();
  InMemoryLogRecordExporter* records = exporter.get();
  LoggerProviderOptions options;
  options.processors.push_back(std::make_unique<SimpleLogRecordProcessor>(std::move(exporter)));
  auto created = LoggerProvider::Create(std::move(options));
  ASSERT_TRUE(created.ok());
  SetLoggerProvider(std::move(*created));
  Logger* logger = GetLoggerProvider()->GetLogger("lib");
  EXPECT_TRUE(logger->Enabled());
  logger->Emit(SeverityNumber::kInfo, "hello");
  ASSERT_EQ(records->records().size(), 1u);
  SetLoggerProvider(nullptr);
  EXPECT_EQ(GetLoggerProvider().get(), NoopLoggerProvider());
}

TEST_F(GlobalProviders, DefaultPropagatorIsTraceContextAndBaggage) {
  SpanContext sc{TraceId{1, 2, 3}, SpanId{4, 5}, kTraceFlagSampled, "", false};
  Context ctx = Context().WithSpanContext(sc).WithBaggage(Baggage().Set("k", "v"));
  MapCarrier carrier;
  GetTextMapPropagator()->Inject(carrier, ctx);
  EXPECT_EQ(carrier.headers().count("traceparent"), 1u);
  EXPECT_EQ(carrier.headers().at("baggage"), "k=v");
  Context back = GetTextMapPropagator()->Extract(carrier, Context());
  EXPECT_EQ(back.span_context().trace_id, sc.trace_id);
  EXPECT_EQ(back.baggage().Get("k"), std::optional<std::string>("v"));

  SetTextMapPropagator(MakeB3Propagator(/*single_header=*/true));
  MapCarrier b3;
  GetTextMapPropagator()->Inject(b3, ctx);
  EXPECT_EQ(b3.headers().count("b3"), 1u);
  EXPECT_EQ(b3.headers().count("traceparent"), 0u);
}

TEST_F(GlobalProviders, InitFromEnvInstallsWhatItMakes) {
  testing::ScopedEnv env;
  env.Set("OTEL_TRACES_EXPORTER", "none")
      .Set("OTEL_METRICS_EXPORTER", "none")
      .Set("OTEL_LOGS_EXPORTER", "none")
      .Set("OTEL_PROPAGATORS", "b3multi");
  auto sdk = InitFromEnv();
  ASSERT_TRUE(sdk.ok()) << sdk.status();
  EXPECT_EQ(GetTracerProvider(), sdk->tracer_provider);
  EXPECT_EQ(GetTextMapPropagator(), sdk->propagator);
  // The detected resource: this process.
  bool has_pid = false;
  for (const auto& kv : sdk->tracer_provider->resource().attributes) {
    has_pid |= kv.key == "process.pid";
  }
  EXPECT_TRUE(has_pid);
  EXPECT_TRUE(sdk->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  // A shut-down provider is no longer the global one.
  EXPECT_EQ(GetTracerProvider().get(), NoopTracerProvider());
}

}  // namespace
}  // namespace tracewire
