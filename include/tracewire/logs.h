#pragma once
// The logs API and SDK: LoggerProvider -> Logger -> LogRecord, processors
// (simple, batch) and exporters (OTLP/gRPC, stream, in-memory).
//
//   auto provider = tracewire::LoggerProvider::Create(options);
//   tracewire::Logger* logger = (*provider)->GetLogger("my.library", "1.0");
//   logger->Emit(tracewire::SeverityNumber::kInfo, "user signed in",
//                {{"user.id", id}, {"http.route", "/login"}});
//
//   tracewire::LogRecord record = logger->CreateLogRecord();
//   record.SetSeverity(tracewire::SeverityNumber::kWarn, "WARN");
//   record.SetBody(tracewire::AnyValue::KvList{{"k", 1}});
//   record.SetEventName("cache.miss");
//   logger->Emit(std::move(record));
//
// Emit fills, when they are unset: the observed timestamp (now), and the
// trace id, span id and trace flags of the calling thread's current span
// (Context::Current()). Attributes over LogRecordLimits are dropped and
// counted in dropped_attributes_count; strings over the length limit are
// truncated. Records come from a bounded process-wide pool and go back to it
// once exported, so that emitting allocates nothing in the common case.
//
// Thread safety: LoggerProvider and Logger are thread-safe (Emit from any
// threads at once). A LogRecord is thread-compatible: one thread builds it and
// hands it to Emit (it may move between threads in between). Processors:
// OnEmit is called from every thread that emits, concurrently, and must not
// block; ForceFlush and Shutdown from any thread. An exporter's Export is
// called by one thread at a time (the batch processor's worker, or under the
// simple processor's lock); InMemoryLogRecordExporter's accessors are
// thread-safe. NoopLoggerProvider() and its loggers are thread-safe.

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tracewire/export.h"
#include "tracewire/self_metric.h"
#include "tracewire/otlp_exporter_options.h"
#include "tracewire/span_context.h"
#include "tracewire/telemetry_data.h"
#include "tracewire/trace.h"

namespace tracewire {

namespace sdk {
class LoggerProviderState;
struct BatchLogRecordProcessorAccess;
}  // namespace sdk
TRACEWIRE_BEGIN_API

class Logger;
class LoggerProvider;

// An emitted log record, as processors and exporters see it. scope and
// resource point into the provider and stay valid while it lives.
struct ReadableLogRecord {
  LogRecordData data;
  const InstrumentationScope* scope = nullptr;
  const Resource* resource = nullptr;
};

// Returns a record to the SDK's pool (or frees it when the pool is full).
struct LogRecordRecycler {
  void operator()(ReadableLogRecord* record) const;
};
using UniqueLogRecord = std::unique_ptr<ReadableLogRecord, LogRecordRecycler>;

// A copy of `record` (from the pool), for a processor that keeps one.
UniqueLogRecord CopyLogRecord(const ReadableLogRecord& record);

struct LogRecordLimits {
  uint32_t attribute_count = 128;
  uint32_t attribute_value_length = UINT32_MAX;  // strings are truncated to this many bytes
  // From OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT and
  // OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT, or the general
  // OTEL_ATTRIBUTE_{COUNT,VALUE_LENGTH}_LIMIT. Errors name the variable.
  static absl::StatusOr<LogRecordLimits> FromEnv();
};

// A record being built: from Logger::CreateLogRecord, handed to Logger::Emit.
// Move-only. A record of a no-op logger (or after its provider shut down)
// is empty: its setters do nothing.
class LogRecord {
 public:
  LogRecord() = default;
  LogRecord(LogRecord&&) noexcept = default;
  LogRecord& operator=(LogRecord&&) noexcept = default;

  LogRecord& SetTimestamp(uint64_t unix_nano);
  LogRecord& SetTimestamp(absl::Time t) { return SetTimestamp(ToUnixNanos(t)); }
  LogRecord& SetObservedTimestamp(uint64_t unix_nano);
  LogRecord& SetSeverity(SeverityNumber number, std::string_view text = {}) {
    return SetSeverity(static_cast<uint8_t>(number), text);
  }
  LogRecord& SetSeverity(uint8_t number, std::string_view text = {});  // 0-24
  LogRecord& SetBody(std::string_view body);
  LogRecord& SetBody(const char* body) { return SetBody(std::string_view(body)); }
  LogRecord& SetBody(const std::string& body) { return SetBody(std::string_view(body)); }
  LogRecord& SetBody(AnyValue body);
  LogRecord& SetEventName(std::string_view name);
  // Replaces a value already set under `key`.
  LogRecord& SetAttribute(std::string_view key, std::string_view value);
  LogRecord& SetAttribute(std::string_view key, const char* value) {
    return SetAttribute(key, std::string_view(value));
  }
  LogRecord& SetAttribute(std::string_view key, const std::string& value) {
    return SetAttribute(key, std::string_view(value));
  }
  LogRecord& SetAttribute(std::string_view key, int64_t value);
  LogRecord& SetAttribute(std::string_view key, int value) {
    return SetAttribute(key, int64_t{value});
  }
  LogRecord& SetAttribute(std::string_view key, double value);
  LogRecord& SetAttribute(std::string_view key, bool value);
  LogRecord& SetAttribute(std::string_view key, AnyValue value);
  LogRecord& SetAttribute(const AttributeView& attribute);
  // Instead of the current span's (Emit then leaves them as set here).
  LogRecord& SetTraceContext(const SpanContext& context);

  explicit operator bool() const { return rec_ != nullptr; }

 private:
  friend class Logger;
  static uint64_t ToUnixNanos(absl::Time t);
  KeyValue* Slot(std::string_view key);  // the attribute to write, or null (dropped)

  UniqueLogRecord rec_;
  const LogRecordLimits* limits_ = nullptr;
  uint32_t attribute_count_ = 0;  // attributes in use; the vector may hold more, to reuse
  bool body_set_ = false;
  bool trace_set_ = false;
};

class Logger {
 public:
  // A record to fill and Emit (empty for a no-op logger).
  LogRecord CreateLogRecord();
  void Emit(LogRecord&& record);
  // The common case: now, a severity, a string body and scalar attributes.
  void Emit(SeverityNumber severity, std::string_view body,
            std::initializer_list<AttributeView> attributes = {});
  // False for a no-op logger and after the provider shut down: a caller may
  // skip building a record.
  bool Enabled() const;
  const InstrumentationScope& scope() const { return scope_; }

 private:
  friend class sdk::LoggerProviderState;
  friend class LoggerProvider;  // its no-op logger
  Logger(sdk::LoggerProviderState* p, InstrumentationScope scope)
      : provider_(p), scope_(std::move(scope)) {}
  sdk::LoggerProviderState* provider_;  // null: no-op
  const InstrumentationScope scope_;
};

// What a LoggerProvider hands each emitted record to.
class LogRecordProcessor {
 public:
  virtual ~LogRecordProcessor() = default;
  // Takes the record; called on the emitting thread, must not block. With
  // several processors, each but the last gets a copy.
  virtual void OnEmit(UniqueLogRecord record) = 0;
  [[nodiscard]] virtual absl::Status ForceFlush(absl::Time deadline) = 0;
  [[nodiscard]] virtual absl::Status Shutdown(absl::Time deadline) = 0;
  // The component's own telemetry (self_metric.h), read at any time from
  // any thread; the SDK reports it through the metrics SDK
  // (self_telemetry.h). Empty by default.
  virtual std::vector<SelfMetricPoint> SelfMetrics() const { return {}; }
};

class LogRecordExporter {
 public:
  virtual ~LogRecordExporter() = default;
  // Called by one thread at a time; the records are released after it returns.
  [[nodiscard]] virtual absl::Status Export(std::span<const UniqueLogRecord> records) = 0;
  [[nodiscard]] virtual absl::Status ForceFlush(absl::Time deadline) { return absl::OkStatus(); }
  // Called once, after the last Export returned.
  [[nodiscard]] virtual absl::Status Shutdown(absl::Time deadline) { return absl::OkStatus(); }
  // True when Export returns without waiting for I/O, a slow lock or another
  // thread (the OTLP exporter without block_on_full queues; no-op and
  // in-memory). Only then may the batch processor run Export on an emitting
  // thread (BatchLogRecordProcessorOptions::export_when_full).
  virtual bool ExportNeverBlocks() const { return false; }
  // The component's own telemetry (self_metric.h), read at any time from
  // any thread; the SDK reports it through the metrics SDK
  // (self_telemetry.h). Empty by default.
  virtual std::vector<SelfMetricPoint> SelfMetrics() const { return {}; }
};

struct LogRecordProcessorStats;
// A batch processor's stats as semantic-convention points
// (otel.sdk.processor.log.processed{error.type}, queue size and capacity).
std::vector<SelfMetricPoint> LogRecordProcessorSelfMetrics(const LogRecordProcessorStats& stats);

struct LogRecordProcessorStats {
  int64_t ended = 0;                  // records handed to OnEmit
  int64_t exported = 0;               // in exports that succeeded
  int64_t dropped_queue_full = 0;     // otel.sdk.processor.log.processed{error.type=queue_full}
  int64_t dropped_export_failed = 0;  // in exports that failed
  int64_t dropped_shutdown = 0;       // emitted after shutdown, or left at its deadline
  int64_t exported_when_full = 0;     // of exported and failed: by emitting threads
  int64_t queue_size = 0;             // queued, or in a batch not yet exported
  int64_t queue_capacity = 0;
};

// Exports each record as it is emitted, on the emitting thread, under a lock
// (tests, debugging).
class SimpleLogRecordProcessor : public LogRecordProcessor {
 public:
  explicit SimpleLogRecordProcessor(std::unique_ptr<LogRecordExporter> exporter)
      : exporter_(std::move(exporter)) {}
  void OnEmit(UniqueLogRecord record) override;
  absl::Status ForceFlush(absl::Time deadline) override;
  absl::Status Shutdown(absl::Time deadline) override;
  LogRecordProcessorStats Stats() const;

 private:
  mutable absl::Mutex mu_;
  std::unique_ptr<LogRecordExporter> exporter_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  LogRecordProcessorStats stats_ ABSL_GUARDED_BY(mu_);
};

struct BatchLogRecordProcessorOptions {
  int64_t max_queue_size = 2048;
  int64_t max_export_batch_size = 512;
  absl::Duration schedule_delay = absl::Milliseconds(1000);
  // Bounds the exporter's ForceFlush and Shutdown calls the processor makes
  // (Export itself takes no deadline: the OTLP exporter's only queues).
  absl::Duration export_timeout = absl::Milliseconds(30000);
  // For an exporter whose ExportNeverBlocks(): a thread that emits and finds
  // the queue full exports a batch itself (Emit then runs Export) instead of
  // dropping; while another thread exports, it yields its core and tries
  // again, and drops (counted) only once no record has left the queue for
  // export_when_full_patience. The export thread can be off its core for
  // longer than 2,048 records last at full speed, above all with more
  // emitting threads than cores. Who turns it off: an application that wants
  // no export work and no wait on its own threads; a full queue then drops.
  bool export_when_full = true;
  absl::Duration export_when_full_patience = absl::Milliseconds(50);
  // From OTEL_BLRP_SCHEDULE_DELAY, OTEL_BLRP_EXPORT_TIMEOUT (milliseconds),
  // OTEL_BLRP_MAX_QUEUE_SIZE and OTEL_BLRP_MAX_EXPORT_BATCH_SIZE. Errors
  // name the variable.
  static absl::StatusOr<BatchLogRecordProcessorOptions> FromEnv();
};

// Queues records (lock-free; full: drop and count) and exports them in
// batches from its own thread: when a batch is full, when the schedule delay
// has passed, on ForceFlush and at Shutdown (sdk::BatchEngine,
// src/sdk/batch/batch_engine.h).
class BatchLogRecordProcessor : public LogRecordProcessor {
 public:
  // InvalidArgument for sizes under 1 (queue under 2) or a batch larger than
  // the queue. Starts the export thread.
  static absl::StatusOr<std::unique_ptr<BatchLogRecordProcessor>> Create(
      std::unique_ptr<LogRecordExporter> exporter, BatchLogRecordProcessorOptions options = {});
  ~BatchLogRecordProcessor() override;
  void OnEmit(UniqueLogRecord record) override;
  // Waits until what was emitted before the call is exported, then flushes the
  // exporter.
  absl::Status ForceFlush(absl::Time deadline) override;
  // Exports what is queued by the deadline, then shuts the exporter down.
  absl::Status Shutdown(absl::Time deadline) override;
  LogRecordProcessorStats Stats() const;
  // LogRecordProcessorSelfMetrics(Stats()) and the exporter's.
  std::vector<SelfMetricPoint> SelfMetrics() const override;

 private:
  // Tests inject a clock for the schedule delay (src/sdk/logs).
  friend struct sdk::BatchLogRecordProcessorAccess;
  struct Impl;
  explicit BatchLogRecordProcessor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

absl::StatusOr<std::unique_ptr<LogRecordExporter>> MakeOtlpLogRecordExporter(
    const OtlpExporterOptions& options);
// One line per record (debugging).
std::unique_ptr<LogRecordExporter> MakeStreamLogRecordExporter(std::FILE* out = stdout);
std::unique_ptr<LogRecordExporter> MakeNoopLogRecordExporter();

// Keeps copies of every exported record.
class InMemoryLogRecordExporter : public LogRecordExporter {
 public:
  struct FinishedLogRecord {
    LogRecordData data;
    Resource resource;
    InstrumentationScope scope;
  };
  absl::Status Export(std::span<const UniqueLogRecord> records) override;
  bool ExportNeverBlocks() const override { return true; }
  std::vector<FinishedLogRecord> records() const;
  void Clear();

 private:
  mutable absl::Mutex mu_;
  std::vector<FinishedLogRecord> records_ ABSL_GUARDED_BY(mu_);
};

struct LoggerProviderOptions {
  Resource resource;  // merged over the SDK's telemetry.sdk.* attributes
  std::vector<std::unique_ptr<LogRecordProcessor>> processors;
  LogRecordLimits limits;
};

class LoggerProvider {
 public:
  static absl::StatusOr<std::unique_ptr<LoggerProvider>> Create(LoggerProviderOptions options);
  ~LoggerProvider();  // shuts down with a 5 s deadline if not shut down

  // The logger of an instrumentation scope; the same pointer for the same
  // scope, valid as long as the provider.
  Logger* GetLogger(std::string_view name, std::string_view version = {},
                    std::string_view schema_url = {}, Attributes attributes = {});

  [[nodiscard]] absl::Status ForceFlush(absl::Time deadline);
  // After it, loggers are disabled and emit nothing. A second call returns OK.
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);
  // Its processors' (readers') and their exporters' own telemetry
  // (self_telemetry.h); empty for the no-op provider.
  std::vector<SelfMetricPoint> SelfMetrics() const;
  const Resource& resource() const;

 private:
  friend LoggerProvider* NoopLoggerProvider();
  explicit LoggerProvider(std::unique_ptr<sdk::LoggerProviderState> state);
  std::unique_ptr<sdk::LoggerProviderState> state_;  // null: no-op
};

// A provider whose loggers do nothing (a test of Enabled() and a return):
// the cost of logging when it is off. Lives as long as the process.
LoggerProvider* NoopLoggerProvider();

TRACEWIRE_END_API

}  // namespace tracewire
