// BatchLogRecordProcessor: exports on a full batch, on the schedule delay
// (injected clock), on ForceFlush and at Shutdown; a full queue drops and
// counts; options and OTEL_BLRP_*.

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "sdk/logs/batch_log_record_processor_access.h"
#include "tracewire/logs.h"

namespace tracewire {
namespace {

// Counts exported records; can hold Export until released.
class GateExporter : public LogRecordExporter {
 public:
  absl::Status Export(std::span<const UniqueLogRecord> records) override {
    absl::MutexLock l(&mu_);
    ++calls_;
    mu_.Await(absl::Condition(
        +[](bool* open) { return *open; }, &open_));
    for (const auto& r : records) bodies_.push_back(std::get<std::string>(r->data.body->value));
    batches_.push_back(records.size());
    return absl::OkStatus();
  }
  absl::Status ForceFlush(absl::Time) override {
    absl::MutexLock l(&mu_);
    ++flushes_;
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Time) override {
    absl::MutexLock l(&mu_);
    ++shutdowns_;
    return absl::OkStatus();
  }
  void SetOpen(bool open) {
    absl::MutexLock l(&mu_);
    open_ = open;
  }
  bool WaitFor(size_t records) {
    absl::MutexLock l(&mu_);
    auto ok = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return bodies_.size() >= records; };
    return mu_.AwaitWithTimeout(absl::Condition(&ok), absl::Seconds(30));
  }
  bool WaitForCalls(int n) {
    absl::MutexLock l(&mu_);
    auto ok = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return calls_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&ok), absl::Seconds(30));
  }
  std::vector<std::string> bodies() {
    absl::MutexLock l(&mu_);
    return bodies_;
  }
  std::vector<size_t> batches() {
    absl::MutexLock l(&mu_);
    return batches_;
  }
  int flushes() {
    absl::MutexLock l(&mu_);
    return flushes_;
  }
  int shutdowns() {
    absl::MutexLock l(&mu_);
    return shutdowns_;
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int flushes_ ABSL_GUARDED_BY(mu_) = 0;
  int shutdowns_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> bodies_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> batches_ ABSL_GUARDED_BY(mu_);
};

struct Pipeline {
  Pipeline(int64_t queue, int64_t batch, absl::Duration delay = absl::Seconds(1)) {
    auto e = std::make_unique<GateExporter>();
    exporter = e.get();
    BatchLogRecordProcessorOptions o;
    o.max_queue_size = queue;
    o.max_export_batch_size = batch;
    o.schedule_delay = delay;
    auto p = sdk::BatchLogRecordProcessorAccess::Create(std::move(e), o, &clock);
    EXPECT_TRUE(p.ok()) << p.status();
    processor = p->get();
    LoggerProviderOptions po;
    po.processors.push_back(std::move(*p));
    provider = std::move(*LoggerProvider::Create(std::move(po)));
    logger = provider->GetLogger("batch");
  }
  void Emit(int n, int from = 0) {
    for (int i = from; i < from + n; ++i) {
      logger->Emit(SeverityNumber::kInfo, std::to_string(i));
    }
  }
  common::FakeClock clock;
  GateExporter* exporter;
  BatchLogRecordProcessor* processor;
  std::unique_ptr<LoggerProvider> provider;
  Logger* logger;
};

TEST(BatchLogRecordProcessor, ExportsWhenABatchIsFull) {
  Pipeline s(64, 5);
  s.Emit(10);
  ASSERT_TRUE(s.exporter->WaitFor(10));
  EXPECT_EQ(s.exporter->batches(), (std::vector<size_t>{5, 5}));
  EXPECT_EQ(s.exporter->bodies().front(), "0");
  EXPECT_EQ(s.exporter->bodies().back(), "9");
}

TEST(BatchLogRecordProcessor, ExportsAfterTheScheduleDelayOnTheInjectedClock) {
  Pipeline s(64, 16, absl::Seconds(1));
  s.Emit(3);
  const int64_t before = sdk::BatchLogRecordProcessorAccess::WorkerPasses(*s.processor);
  s.clock.Advance(absl::Milliseconds(500));
  sdk::BatchLogRecordProcessorAccess::WakeForTest(*s.processor);
  for (int i = 0; i < 300000; ++i) {  // wait for the worker's pass (bounded)
    if (sdk::BatchLogRecordProcessorAccess::WorkerPasses(*s.processor) > before) break;
    std::this_thread::yield();
  }
  ASSERT_GT(sdk::BatchLogRecordProcessorAccess::WorkerPasses(*s.processor), before);
  EXPECT_TRUE(s.exporter->bodies().empty()) << "exported before the delay";
  s.clock.Advance(absl::Milliseconds(500));
  sdk::BatchLogRecordProcessorAccess::WakeForTest(*s.processor);
  ASSERT_TRUE(s.exporter->WaitFor(3));
  EXPECT_EQ(s.exporter->batches(), std::vector<size_t>{3});
}

TEST(BatchLogRecordProcessor, ForceFlushExportsThenFlushesTheExporter) {
  Pipeline s(64, 16, absl::Hours(1));
  s.Emit(7);
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->bodies().size(), 7u);
  EXPECT_EQ(s.exporter->flushes(), 1);
}

TEST(BatchLogRecordProcessor, ShutdownExportsWhatIsQueuedAndShutsTheExporterDown) {
  Pipeline s(64, 16, absl::Hours(1));
  s.Emit(9);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->bodies().size(), 9u);
  EXPECT_EQ(s.exporter->shutdowns(), 1);
  const LogRecordProcessorStats st = s.processor->Stats();
  EXPECT_EQ(st.ended, 9);
  EXPECT_EQ(st.exported, 9);
  EXPECT_EQ(st.queue_size, 0);
  // Emitting after shutdown is off at the logger; a record straight to the
  // processor is dropped and counted.
  s.processor->OnEmit(CopyLogRecord(ReadableLogRecord{}));
  EXPECT_EQ(s.processor->Stats().dropped_shutdown, 1);
}

TEST(BatchLogRecordProcessor, AFullQueueDropsAndCounts) {
  Pipeline s(8, 4, absl::Hours(1));
  s.exporter->SetOpen(false);
  s.Emit(4);
  ASSERT_TRUE(s.exporter->WaitForCalls(1));  // the first batch is held in Export
  s.Emit(10, 4);                             // 8 cells: 2 dropped
  LogRecordProcessorStats st = s.processor->Stats();
  EXPECT_EQ(st.dropped_queue_full, 2);
  EXPECT_EQ(st.queue_size, 12);
  EXPECT_EQ(st.queue_capacity, 8);
  EXPECT_EQ(st.ended, 14);
  s.exporter->SetOpen(true);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  st = s.processor->Stats();
  EXPECT_EQ(st.exported, 12);
  EXPECT_EQ(st.ended, st.exported + st.dropped_queue_full);
}

TEST(BatchLogRecordProcessor, CreateRejectsBadSizes) {
  BatchLogRecordProcessorOptions o;
  o.max_export_batch_size = 4096;
  EXPECT_FALSE(BatchLogRecordProcessor::Create(MakeNoopLogRecordExporter(), o).ok());
  o = {};
  o.max_queue_size = 1;
  EXPECT_FALSE(BatchLogRecordProcessor::Create(MakeNoopLogRecordExporter(), o).ok());
  EXPECT_FALSE(BatchLogRecordProcessor::Create(nullptr).ok());
  EXPECT_TRUE(BatchLogRecordProcessor::Create(MakeNoopLogRecordExporter()).ok());
}

TEST(BatchLogRecordProcessorOptions, FromEnvHasTheSpecificationsDefaultsAndNamesBadVariables) {
  auto d = BatchLogRecordProcessorOptions::FromEnv();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->schedule_delay, absl::Milliseconds(1000));
  EXPECT_EQ(d->export_timeout, absl::Milliseconds(30000));
  EXPECT_EQ(d->max_queue_size, 2048);
  EXPECT_EQ(d->max_export_batch_size, 512);
  setenv("OTEL_BLRP_SCHEDULE_DELAY", "250", 1);
  setenv("OTEL_BLRP_EXPORT_TIMEOUT", "900", 1);
  setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "100", 1);
  setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "10", 1);
  auto o = BatchLogRecordProcessorOptions::FromEnv();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->schedule_delay, absl::Milliseconds(250));
  EXPECT_EQ(o->export_timeout, absl::Milliseconds(900));
  EXPECT_EQ(o->max_queue_size, 100);
  EXPECT_EQ(o->max_export_batch_size, 10);
  setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "200", 1);
  auto big = BatchLogRecordProcessorOptions::FromEnv();
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"), std::string::npos);
  setenv("OTEL_BLRP_SCHEDULE_DELAY", "-1", 1);
  auto neg = BatchLogRecordProcessorOptions::FromEnv();
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("OTEL_BLRP_SCHEDULE_DELAY"), std::string::npos);
  for (const char* v : {"OTEL_BLRP_SCHEDULE_DELAY", "OTEL_BLRP_EXPORT_TIMEOUT",
                        "OTEL_BLRP_MAX_QUEUE_SIZE", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"}) {
    unsetenv(v);
  }
}

}  // namespace
}  // namespace tracewire
