// Logger and LogRecord: every field, the current span's context, limits,
// records reused from the pool, the no-op provider, the environment.

#include <gtest/gtest.h>

#include <cstdlib>

#include "tracewire/logs.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

struct Fixture {
  explicit Fixture(LogRecordLimits limits = {}) {
    auto e = std::make_unique<InMemoryLogRecordExporter>();
    exporter = e.get();
    LoggerProviderOptions o;
    o.resource.attributes = {{"service.name", "logs-test"}};
    o.limits = limits;
    o.processors.push_back(std::make_unique<SimpleLogRecordProcessor>(std::move(e)));
    provider = std::move(*LoggerProvider::Create(std::move(o)));
  }
  std::vector<InMemoryLogRecordExporter::FinishedLogRecord> records() const {
    return exporter->records();
  }
  InMemoryLogRecordExporter* exporter;
  std::unique_ptr<LoggerProvider> provider;
};

const AnyValue* Attr(const LogRecordData& d, std::string_view key) {
  for (const KeyValue& kv : d.attributes) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

TEST(Logger, EveryFieldReachesTheExporter) {
  Fixture f;
  Logger* logger = f.provider->GetLogger("lib", "1.2", "https://schema/1", {{"scope.k", "v"}});
  EXPECT_EQ(logger, f.provider->GetLogger("lib", "1.2", "https://schema/1", {{"scope.k", "v"}}));
  LogRecord r = logger->CreateLogRecord();
  ASSERT_TRUE(r);
  r.SetTimestamp(111).SetObservedTimestamp(222).SetSeverity(SeverityNumber::kWarn, "WARNING");
  r.SetBody(AnyValue::KvList{{"a", 1}, {"b", AnyValue::Array{AnyValue("x"), AnyValue(2.5)}}});
  r.SetEventName("cache.miss");
  r.SetAttribute("s", "str").SetAttribute("i", 42).SetAttribute("d", 0.5).SetAttribute("b", true);
  r.SetAttribute("bytes", AnyValue(Bytes{"\x01\x02"}));
  logger->Emit(std::move(r));

  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 1u);
  const LogRecordData& d = recs[0].data;
  EXPECT_EQ(d.time_unix_nano, 111u);
  EXPECT_EQ(d.observed_time_unix_nano, 222u);
  EXPECT_EQ(d.severity_number, 13);
  EXPECT_EQ(d.severity_text, "WARNING");
  ASSERT_TRUE(d.body.has_value());
  EXPECT_EQ(*d.body, AnyValue(AnyValue::KvList{
                         {"a", 1}, {"b", AnyValue::Array{AnyValue("x"), AnyValue(2.5)}}}));
  EXPECT_EQ(d.event_name, "cache.miss");
  EXPECT_EQ(d.attributes, (Attributes{{"s", "str"},
                                      {"i", int64_t{42}},
                                      {"d", 0.5},
                                      {"b", true},
                                      {"bytes", AnyValue(Bytes{"\x01\x02"})}}));
  EXPECT_EQ(d.dropped_attributes_count, 0u);
  EXPECT_FALSE(d.trace_id.has_value());
  EXPECT_FALSE(d.span_id.has_value());
  EXPECT_EQ(recs[0].scope.name, "lib");
  EXPECT_EQ(recs[0].scope.version, "1.2");
  EXPECT_EQ(recs[0].scope.schema_url, "https://schema/1");
  EXPECT_EQ(recs[0].scope.attributes, (Attributes{{"scope.k", "v"}}));
  LogRecordData resource_attrs;
  resource_attrs.attributes = recs[0].resource.attributes;
  ASSERT_NE(Attr(resource_attrs, "service.name"), nullptr);
  EXPECT_EQ(*Attr(resource_attrs, "service.name"), AnyValue("logs-test"));
  EXPECT_NE(Attr(resource_attrs, "telemetry.sdk.name"), nullptr);
}

TEST(Logger, TheCommonCaseFillsTimeSeverityTextAndBody) {
  Fixture f;
  Logger* logger = f.provider->GetLogger("lib");
  logger->Emit(SeverityNumber::kError, "disk full", {{"disk", "/dev/sda"}, {"free", int64_t{0}}});
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 1u);
  const LogRecordData& d = recs[0].data;
  EXPECT_GT(d.time_unix_nano, 0u);
  EXPECT_EQ(d.time_unix_nano, d.observed_time_unix_nano);
  EXPECT_EQ(d.severity_number, 17);
  EXPECT_EQ(d.severity_text, "ERROR");
  EXPECT_EQ(d.body, AnyValue("disk full"));
  EXPECT_EQ(d.attributes, (Attributes{{"disk", "/dev/sda"}, {"free", int64_t{0}}}));
}

TEST(Logger, TheObservedTimestampIsFilledOnlyWhenUnset) {
  Fixture f;
  Logger* logger = f.provider->GetLogger("lib");
  LogRecord r = logger->CreateLogRecord();
  r.SetBody("unset");
  logger->Emit(std::move(r));
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].data.time_unix_nano, 0u) << "the event time stays unset";
  EXPECT_GT(recs[0].data.observed_time_unix_nano, 1600000000ull * 1000000000ull);
}

TEST(Logger, RecordsCarryTheCurrentSpansContext) {
  Fixture f;
  auto tp = std::move(*TracerProvider::Create({}));
  Tracer* tracer = tp->GetTracer("t");
  Logger* logger = f.provider->GetLogger("lib");
  SpanContext outer, inner;
  {
    ScopedSpan span(*tracer, "outer");
    outer = span->GetContext();
    logger->Emit(SeverityNumber::kInfo, "in outer");
    {
      ScopedSpan child(*tracer, "inner");
      inner = child->GetContext();
      logger->Emit(SeverityNumber::kInfo, "in inner");
    }
    logger->Emit(SeverityNumber::kInfo, "in outer again");
  }
  logger->Emit(SeverityNumber::kInfo, "outside");
  // A remote parent attached as the current context counts too.
  SpanContext remote;
  remote.trace_id = TraceId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  remote.span_id = SpanId{1, 1, 1, 1, 1, 1, 1, 2};
  remote.trace_flags = 0;
  remote.is_remote = true;
  {
    Context::Scope scope = Context().WithSpanContext(remote).Attach();
    logger->Emit(SeverityNumber::kInfo, "remote");
  }
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 5u);
  auto check = [](const LogRecordData& d, const SpanContext& sc) {
    ASSERT_TRUE(d.trace_id.has_value());
    ASSERT_TRUE(d.span_id.has_value());
    EXPECT_EQ(*d.trace_id, sc.trace_id);
    EXPECT_EQ(*d.span_id, sc.span_id);
    EXPECT_EQ(d.flags, sc.trace_flags);
  };
  check(recs[0].data, outer);
  check(recs[1].data, inner);
  check(recs[2].data, outer);
  EXPECT_EQ(outer.trace_flags, kTraceFlagSampled);
  EXPECT_FALSE(recs[3].data.trace_id.has_value());
  EXPECT_FALSE(recs[3].data.span_id.has_value());
  EXPECT_EQ(recs[3].data.flags, 0u);
  check(recs[4].data, remote);
  // An explicit context wins over the current span.
  {
    ScopedSpan span(*tracer, "ignored");
    LogRecord r = logger->CreateLogRecord();
    r.SetTraceContext(remote);
    logger->Emit(std::move(r));
  }
  check(f.records().back().data, remote);
}

TEST(Logger, AttributesOverTheLimitsAreDroppedAndCountedAndStringsTruncated) {
  LogRecordLimits limits;
  limits.attribute_count = 2;
  limits.attribute_value_length = 4;
  Fixture f(limits);
  Logger* logger = f.provider->GetLogger("lib");
  LogRecord r = logger->CreateLogRecord();
  r.SetAttribute("a", "abcdefgh");
  r.SetAttribute("b", AnyValue::Array{AnyValue("123456"), AnyValue(7)});
  r.SetAttribute("c", 1);
  r.SetAttribute("d", true);
  r.SetAttribute("a", "é€xyz");  // replaces "a"; é is 2 bytes, € 3: cut before €
  r.SetBody("bodies are not limited");
  logger->Emit(std::move(r));
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 1u);
  const LogRecordData& d = recs[0].data;
  EXPECT_EQ(d.attributes,
            (Attributes{{"a", "é"}, {"b", AnyValue::Array{AnyValue("1234"), AnyValue(7)}}}));
  EXPECT_EQ(d.dropped_attributes_count, 2u);
  EXPECT_EQ(d.body, AnyValue("bodies are not limited"));
}

TEST(Logger, ARecordReusedFromThePoolKeepsNothingOfTheLastOne) {
  Fixture f;
  Logger* logger = f.provider->GetLogger("lib");
  for (int i = 0; i < 50; ++i) {
    LogRecord r = logger->CreateLogRecord();
    r.SetBody("full").SetEventName("e").SetSeverity(SeverityNumber::kFatal, "F");
    r.SetAttribute("x", 1).SetAttribute("y", "long string value past the small buffer");
    r.SetAttribute("z", 2.0).SetTimestamp(5).SetObservedTimestamp(6);
    logger->Emit(std::move(r));
    LogRecord bare = logger->CreateLogRecord();
    bare.SetAttribute("only", "one");
    logger->Emit(std::move(bare));
  }
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 100u);
  for (size_t i = 1; i < recs.size(); i += 2) {
    const LogRecordData& d = recs[i].data;
    EXPECT_FALSE(d.body.has_value());
    EXPECT_EQ(d.event_name, "");
    EXPECT_EQ(d.severity_number, 0);
    EXPECT_EQ(d.severity_text, "");
    EXPECT_EQ(d.time_unix_nano, 0u);
    EXPECT_EQ(d.attributes, (Attributes{{"only", "one"}}));
  }
}

TEST(Logger, SeveralProcessorsEachGetTheRecord) {
  auto a = std::make_unique<InMemoryLogRecordExporter>();
  auto b = std::make_unique<InMemoryLogRecordExporter>();
  InMemoryLogRecordExporter* pa = a.get();
  InMemoryLogRecordExporter* pb = b.get();
  LoggerProviderOptions o;
  o.processors.push_back(std::make_unique<SimpleLogRecordProcessor>(std::move(a)));
  o.processors.push_back(std::make_unique<SimpleLogRecordProcessor>(std::move(b)));
  auto provider = std::move(*LoggerProvider::Create(std::move(o)));
  provider->GetLogger("lib")->Emit(SeverityNumber::kInfo, "twice", {{"k", 1}});
  ASSERT_EQ(pa->records().size(), 1u);
  ASSERT_EQ(pb->records().size(), 1u);
  const LogRecordData x = pa->records()[0].data;
  const LogRecordData y = pb->records()[0].data;
  EXPECT_EQ(x.body, y.body);
  EXPECT_EQ(x.attributes, y.attributes);
  EXPECT_EQ(x.observed_time_unix_nano, y.observed_time_unix_nano);
}

TEST(Logger, AfterShutdownLoggersAreDisabledAndEmitNothing) {
  Fixture f;
  Logger* logger = f.provider->GetLogger("lib");
  EXPECT_TRUE(logger->Enabled());
  ASSERT_TRUE(f.provider->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_TRUE(f.provider->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_FALSE(logger->Enabled());
  EXPECT_FALSE(logger->CreateLogRecord());
  logger->Emit(SeverityNumber::kInfo, "dropped");
  EXPECT_TRUE(f.records().empty());
}

TEST(NoopLoggerProvider, LoggersDoNothing) {
  LoggerProvider* p = NoopLoggerProvider();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p, NoopLoggerProvider());
  Logger* logger = p->GetLogger("anything", "1");
  ASSERT_NE(logger, nullptr);
  EXPECT_FALSE(logger->Enabled());
  LogRecord r = logger->CreateLogRecord();
  EXPECT_FALSE(r);
  r.SetBody("x").SetAttribute("k", 1);  // no effect, no crash
  logger->Emit(std::move(r));
  logger->Emit(SeverityNumber::kInfo, "nothing", {{"k", 1}});
  EXPECT_TRUE(p->ForceFlush(absl::Now()).ok());
  EXPECT_TRUE(p->Shutdown(absl::Now()).ok());
  EXPECT_TRUE(p->resource().attributes.empty());
}

TEST(LogRecordLimits, FromEnvPrefersTheLogRecordVariables) {
  setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "10", 1);
  setenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "3", 1);
  setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20", 1);
  auto l = LogRecordLimits::FromEnv();
  unsetenv("OTEL_ATTRIBUTE_COUNT_LIMIT");
  unsetenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT");
  unsetenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->attribute_count, 3u);
  EXPECT_EQ(l->attribute_value_length, 20u);
  setenv("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "lots", 1);
  auto bad = LogRecordLimits::FromEnv();
  unsetenv("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
            std::string::npos);
}

}  // namespace
}  // namespace tracewire
