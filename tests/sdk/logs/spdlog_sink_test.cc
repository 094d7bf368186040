// OtelSink: spdlog calls become log records with the message's time, the
// level as severity, the logger's name as the scope, the source location,
// and the current span's context.

#include "tracewire/spdlog_sink.h"

#include <gtest/gtest.h>

#include <memory>

#include "spdlog/spdlog.h"
#include "tracewire/logs.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

const AnyValue* Attr(const LogRecordData& d, std::string_view key) {
  for (const KeyValue& kv : d.attributes) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

struct SinkFixture {
  SinkFixture() {
    auto e = std::make_unique<InMemoryLogRecordExporter>();
    exporter = e.get();
    LoggerProviderOptions o;
    o.processors.push_back(std::make_unique<SimpleLogRecordProcessor>(std::move(e)));
    provider = std::move(*LoggerProvider::Create(std::move(o)));
    sink = std::make_shared<OtelSinkMt>(provider.get());
    log = std::make_shared<spdlog::logger>("payments", sink);
    log->set_level(spdlog::level::trace);
  }
  InMemoryLogRecordExporter* exporter;
  std::unique_ptr<LoggerProvider> provider;
  std::shared_ptr<OtelSinkMt> sink;
  std::shared_ptr<spdlog::logger> log;
};

TEST(OtelSink, TurnsSpdlogCallsIntoLogRecords) {
  SinkFixture f;
  const uint64_t before = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  f.log->info("charged {} cents to {}", 250, "acct-1");
  f.log->warn("slow");
  f.log->error("failed");
  f.log->critical("down");
  f.log->debug("dbg");
  f.log->trace("trc");
  const auto recs = f.exporter->records();
  ASSERT_EQ(recs.size(), 6u);
  const LogRecordData& d = recs[0].data;
  EXPECT_EQ(d.body, AnyValue("charged 250 cents to acct-1"));
  EXPECT_EQ(d.severity_number, 9);
  EXPECT_EQ(d.severity_text, "info");
  EXPECT_GE(d.time_unix_nano + 1000000, before);  // spdlog's clock, same epoch
  EXPECT_GT(d.observed_time_unix_nano, 0u);
  EXPECT_EQ(recs[0].scope.name, "payments");
  ASSERT_NE(Attr(d, "thread.id"), nullptr);
  EXPECT_FALSE(d.trace_id.has_value());
  const int expected[] = {9, 13, 17, 21, 5, 1};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(recs[i].data.severity_number, expected[i]) << i;
  EXPECT_EQ(recs[1].data.severity_text, "warning");
  EXPECT_EQ(recs[3].data.severity_text, "critical");
}

TEST(OtelSink, CarriesTheCurrentSpanAndTheSourceLocation) {
  SinkFixture f;
  auto tp = std::move(*TracerProvider::Create({}));
  SpanContext sc;
  {
    ScopedSpan span(*tp->GetTracer("t"), "request");
    sc = span->GetContext();
    SPDLOG_LOGGER_INFO(f.log, "inside {}", "the span");
  }
  const auto recs = f.exporter->records();
  ASSERT_EQ(recs.size(), 1u);
  const LogRecordData& d = recs[0].data;
  ASSERT_TRUE(d.trace_id.has_value());
  EXPECT_EQ(*d.trace_id, sc.trace_id);
  EXPECT_EQ(*d.span_id, sc.span_id);
  EXPECT_EQ(d.flags, sc.trace_flags);
  EXPECT_EQ(d.body, AnyValue("inside the span"));
  ASSERT_NE(Attr(d, "code.lineno"), nullptr);
  EXPECT_GT(std::get<int64_t>(Attr(d, "code.lineno")->value), 0);
  ASSERT_NE(Attr(d, "code.filepath"), nullptr);
  EXPECT_NE(std::get<std::string>(Attr(d, "code.filepath")->value).find("spdlog_sink_test"),
            std::string::npos);
  ASSERT_NE(Attr(d, "code.function"), nullptr);
}

TEST(OtelSink, EachSpdlogLoggerIsItsOwnScope) {
  SinkFixture f;
  auto other = std::make_shared<spdlog::logger>("db", f.sink);
  f.log->info("a");
  other->info("b");
  f.log->info("c");
  const auto recs = f.exporter->records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].scope.name, "payments");
  EXPECT_EQ(recs[1].scope.name, "db");
  EXPECT_EQ(recs[2].scope.name, "payments");
}

TEST(OtelSink, ANoopProviderTakesNothing) {
  auto sink = std::make_shared<OtelSinkSt>(NoopLoggerProvider());
  spdlog::logger log("quiet", sink);
  log.info("nothing happens");  // no crash, nothing recorded
  SUCCEED();
}

}  // namespace
}  // namespace tracewire
