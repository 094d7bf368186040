#pragma once
// The SDK's internals behind TracerProvider: the recorded-span storage and
// its pool, and the provider's shared state.
//
// ProviderState is thread-safe. A RecordedSpan is written by the one thread
// that owns its Span handle until End, then only read (by processors) until
// its last SpanRef is released, when it returns to the pool.

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/mpmc_queue.h"
#include "tracewire/trace.h"

namespace tracewire::sdk {

struct RecordedSpan {
  SpanData data;
  const InstrumentationScope* scope = nullptr;
  ProviderState* provider = nullptr;
  std::atomic<int32_t> refs{0};  // SpanRefs alive; acq_rel on release
  bool ended = false;
  // While recording, data.attributes and data.events keep the elements of
  // earlier spans for reuse; only the first attr_count / event_count are
  // this span's. End() trims them to size.
  uint32_t attr_count = 0;
  uint32_t event_count = 0;
  uint64_t key_bits = 0;  // one bit per attribute key set (span.cc KeyBit)
  uint32_t pool_shard = 0;  // the pool it returns to
};

class ProviderState {
 public:
  explicit ProviderState(TracerProviderOptions options);
  ~ProviderState();

  Tracer* GetTracer(std::string_view name, std::string_view version, std::string_view schema_url,
                    Attributes attributes);
  RecordedSpan* Acquire();
  void Release(RecordedSpan* s);

  const Resource& resource() const { return resource_; }
  const Sampler& sampler() const { return *sampler_; }
  IdGenerator& ids() { return *ids_; }
  const SpanLimits& limits() const { return limits_; }
  const std::vector<std::unique_ptr<SpanProcessor>>& processors() const { return processors_; }
  bool shut_down() const { return shut_down_.load(std::memory_order_acquire); }

  absl::Status ForceFlush(absl::Time deadline);
  absl::Status Shutdown(absl::Time deadline);

 private:
  Resource resource_;
  std::shared_ptr<Sampler> sampler_;
  std::vector<std::unique_ptr<SpanProcessor>> processors_;
  std::unique_ptr<IdGenerator> ids_;
  SpanLimits limits_;
  // Free spans, one pool per CPU (modulo kPoolShards): threads on different
  // CPUs take spans from different pools, so starting spans on two threads
  // does not contend on one queue's cache lines. A span returns to the pool
  // it came from.
  static constexpr size_t kPoolShards = 4;
  std::unique_ptr<common::MpmcQueue<RecordedSpan*>> pools_[kPoolShards];
  std::atomic<bool> shut_down_{false};  // release/acquire: a flag read by span ends
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Tracer>> tracers_ ABSL_GUARDED_BY(mu_);
};

// Truncates string values (also inside arrays) to `limit` bytes.
void TruncateValue(AnyValue* v, uint32_t limit);

}  // namespace tracewire::sdk
