#pragma once
// An spdlog sink that turns spdlog calls into OpenTelemetry log records, so
// that an application's existing log lines reach OTLP unchanged:
//
//   auto sink = std::make_shared<tracewire::OtelSinkMt>(logger_provider);
//   auto log = std::make_shared<spdlog::logger>("payments", sink);
//   log->info("charged {} cents", amount);  // inside a span: carries its ids
//
// Each message becomes a record of the Logger whose scope name is the spdlog
// logger's name (an unnamed logger: "spdlog"): the timestamp of the message,
// the observed timestamp of the call, the severity (trace 1, debug 5, info 9,
// warn 13, err 17, critical 21) and spdlog's level name as the severity text,
// the formatted message (without the pattern) as a string body, thread.id,
// and with a source location (SPDLOG_LOGGER_INFO and the like)
// code.filepath, code.lineno and code.function. The trace id, span id and
// flags are those of the current span of the thread that runs the sink: the
// thread that logs, for spdlog's synchronous loggers (an async logger runs
// sinks on its own thread, which has no current span).
//
// Header-only, so that tracewire itself never depends on spdlog: include it
// from a program that links spdlog.
//
// Thread safety: OtelSinkMt (std::mutex) is thread-safe, as spdlog's _mt
// sinks are; OtelSinkSt is for a single thread, as spdlog's _st sinks. The
// LoggerProvider must outlive the sink.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "spdlog/details/null_mutex.h"
#include "spdlog/sinks/base_sink.h"
#include "tracewire/export.h"
#include "tracewire/logs.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

template <typename Mutex>
class OtelSink : public spdlog::sinks::base_sink<Mutex> {
 public:
  explicit OtelSink(LoggerProvider* provider) : provider_(provider) {}

  // spdlog's level as an OpenTelemetry severity number.
  static uint8_t SeverityOf(spdlog::level::level_enum level) {
    switch (level) {
      case spdlog::level::trace:
        return 1;
      case spdlog::level::debug:
        return 5;
      case spdlog::level::info:
        return 9;
      case spdlog::level::warn:
        return 13;
      case spdlog::level::err:
        return 17;
      case spdlog::level::critical:
        return 21;
      default:
        return 0;
    }
  }

 protected:
  // Called under the sink's mutex.
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view name(msg.logger_name.data(), msg.logger_name.size());
    Logger* logger = LoggerFor(name.empty() ? std::string_view("spdlog") : name);
    if (!logger->Enabled()) return;
    LogRecord record = logger->CreateLogRecord();
    const auto since_epoch = msg.time.time_since_epoch();
    record.SetTimestamp(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count()));
    const auto level_name = spdlog::level::to_string_view(msg.level);
    record.SetSeverity(SeverityOf(msg.level),
                       std::string_view(level_name.data(), level_name.size()));
    record.SetBody(std::string_view(msg.payload.data(), msg.payload.size()));
    record.SetAttribute("thread.id", static_cast<int64_t>(msg.thread_id));
    if (!msg.source.empty()) {
      if (msg.source.filename != nullptr) record.SetAttribute("code.filepath", msg.source.filename);
      record.SetAttribute("code.lineno", static_cast<int64_t>(msg.source.line));
      if (msg.source.funcname != nullptr) record.SetAttribute("code.function", msg.source.funcname);
    }
    logger->Emit(std::move(record));
  }

  void flush_() override {}

 private:
  // The last logger used: a sink usually serves one spdlog logger.
  Logger* LoggerFor(std::string_view name) {
    if (last_ == nullptr || last_name_ != name) {
      last_ = provider_->GetLogger(name);
      last_name_.assign(name);
    }
    return last_;
  }

  LoggerProvider* const provider_;
  Logger* last_ = nullptr;  // guarded by the sink's mutex
  std::string last_name_;
};

using OtelSinkMt = OtelSink<std::mutex>;
using OtelSinkSt = OtelSink<spdlog::details::null_mutex>;

TRACEWIRE_END_API

}  // namespace tracewire
