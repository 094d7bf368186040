#pragma once
// The SDK's internals behind LoggerProvider: the provider's shared state,
// which its Loggers point to.
//
// Thread-safe.

#include <atomic>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "tracewire/logs.h"

namespace tracewire::sdk {

class LoggerProviderState {
 public:
  explicit LoggerProviderState(LoggerProviderOptions options);

  Logger* GetLogger(std::string_view name, std::string_view version, std::string_view schema_url,
                    Attributes attributes);
  // Hands an emitted record to the processors (the last one gets it, the
  // others copies).
  void Dispatch(UniqueLogRecord record);

  const Resource& resource() const { return resource_; }
  const LogRecordLimits& limits() const { return limits_; }
  bool shut_down() const { return shut_down_.load(std::memory_order_acquire); }

  absl::Status ForceFlush(absl::Time deadline);
  absl::Status Shutdown(absl::Time deadline);
  const std::vector<std::unique_ptr<LogRecordProcessor>>& processors() const { return processors_; }

 private:
  const Resource resource_;
  const LogRecordLimits limits_;
  const std::vector<std::unique_ptr<LogRecordProcessor>> processors_;
  std::atomic<bool> shut_down_{false};  // release/acquire: read by every CreateLogRecord
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Logger>> loggers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracewire::sdk
