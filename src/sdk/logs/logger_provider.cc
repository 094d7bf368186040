// LoggerProvider, its state, Logger and the no-op provider.

#include "sdk/logs/log_record_pool.h"
#include "sdk/logs/logger_provider_state.h"
#include "sdk/resource_env.h"

namespace tracewire {
namespace sdk {

LoggerProviderState::LoggerProviderState(LoggerProviderOptions options)
    : resource_(MergeResources(SdkResource(), options.resource)),
      limits_(options.limits),
      processors_(std::move(options.processors)) {}

Logger* LoggerProviderState::GetLogger(std::string_view name, std::string_view version,
                                       std::string_view schema_url, Attributes attributes) {
  absl::MutexLock lock(&mu_);
  for (const auto& l : loggers_) {
    const InstrumentationScope& s = l->scope();
    if (s.name == name && s.version == version && s.schema_url == schema_url &&
        s.attributes == attributes) {
      return l.get();
    }
  }
  InstrumentationScope scope;
  scope.name = std::string(name);
  scope.version = std::string(version);
  scope.schema_url = std::string(schema_url);
  scope.attributes = std::move(attributes);
  loggers_.push_back(std::unique_ptr<Logger>(new Logger(this, std::move(scope))));
  return loggers_.back().get();
}

void LoggerProviderState::Dispatch(UniqueLogRecord record) {
  const size_t n = processors_.size();
  if (n == 0) return;  // no processor: nothing to count it against
  for (size_t i = 0; i + 1 < n; ++i) processors_[i]->OnEmit(CopyLogRecord(*record));
  processors_[n - 1]->OnEmit(std::move(record));
}

absl::Status LoggerProviderState::ForceFlush(absl::Time deadline) {
  absl::Status result;
  for (auto& p : processors_) result.Update(p->ForceFlush(deadline));
  return result;
}

absl::Status LoggerProviderState::Shutdown(absl::Time deadline) {
  if (shut_down_.exchange(true, std::memory_order_acq_rel)) return absl::OkStatus();
  absl::Status result;
  for (auto& p : processors_) result.Update(p->Shutdown(deadline));
  return result;
}

}  // namespace sdk

absl::StatusOr<std::unique_ptr<LoggerProvider>> LoggerProvider::Create(
    LoggerProviderOptions options) {
  for (const auto& p : options.processors) {
    if (p == nullptr) return absl::InvalidArgumentError("LoggerProviderOptions: null processor");
  }
  return std::unique_ptr<LoggerProvider>(
      new LoggerProvider(std::make_unique<sdk::LoggerProviderState>(std::move(options))));
}

LoggerProvider::LoggerProvider(std::unique_ptr<sdk::LoggerProviderState> state)
    : state_(std::move(state)) {}

LoggerProvider::~LoggerProvider() {
  if (state_ != nullptr && !state_->shut_down()) {
    // Best effort at destruction: what misses the deadline is counted by the
    // processors as dropped (shutdown).
    state_->Shutdown(absl::Now() + absl::Seconds(5)).IgnoreError();
  }
}

Logger* LoggerProvider::GetLogger(std::string_view name, std::string_view version,
                                  std::string_view schema_url, Attributes attributes) {
  if (state_ == nullptr) {
    static Logger* noop = new Logger(nullptr, InstrumentationScope{});
    return noop;
  }
  return state_->GetLogger(name, version, schema_url, std::move(attributes));
}

absl::Status LoggerProvider::ForceFlush(absl::Time deadline) {
  return state_ ? state_->ForceFlush(deadline) : absl::OkStatus();
}

absl::Status LoggerProvider::Shutdown(absl::Time deadline) {
  return state_ ? state_->Shutdown(deadline) : absl::OkStatus();
}

std::vector<SelfMetricPoint> LoggerProvider::SelfMetrics() const {
  std::vector<SelfMetricPoint> out;
  if (!state_) return out;
  for (const auto& p : state_->processors()) {
    std::vector<SelfMetricPoint> more = p->SelfMetrics();
    out.insert(out.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  return out;
}

const Resource& LoggerProvider::resource() const {
  static const Resource* empty = new Resource();
  return state_ ? state_->resource() : *empty;
}

LoggerProvider* NoopLoggerProvider() {
  static LoggerProvider* provider = new LoggerProvider(nullptr);
  return provider;
}

}  // namespace tracewire
