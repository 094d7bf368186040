#pragma once
// ExportPipeline is the exporter's engine, one layer per concern:
//   bounded queue (items and bytes; drop and count, or wait if asked)
//   -> workers (max_in_flight requests at once)
//   -> circuit breaker (open: spill to disk or drop and count)
//   -> size split (requests over max_request_bytes are cut at item boundaries)
//   -> retry loop (retry_policy.h decides; backoff or the server's RetryInfo
//      delay; RESOURCE_EXHAUSTED without RetryInfo splits in halves)
//   -> Transport.
// It works on encoded requests, so SDK batches and forwarded bytes share it.
//
// Lifecycle: Start() starts the workers; Shutdown(deadline) stops taking
// requests and ends backoff waits at once (each request waiting to be
// retried, or failing as the shutdown begins, is retried once right away;
// later waits end at the deadline), lets the queue drain
// until the deadline, then cancels the calls in flight, counts what is left
// as dropped and joins.
// Thread-safe.
//
// fork(): a forked child does not use the parent's pipeline (its threads
// are not there, and its mutexes may hold the parent's waiters); the owner
// builds a new one (OtlpExporter). PrepareFork/AfterForkParent let the gRPC
// calls in flight end before the fork, so that gRPC's own fork handlers run.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "exporter/backoff.h"
#include "exporter/circuit_breaker.h"
#include "exporter/operation_durations.h"
#include "exporter/retry_policy.h"
#include "exporter/spill_buffer.h"
#include "exporter/transport.h"
#include "tracewire/otlp_exporter.h"
#include "tracewire/otlp_exporter_options.h"
#include "wire/otlp_reader.h"

namespace tracewire::exporter {

struct PipelineRequest {
  wire::Signal signal = wire::Signal::kTraces;
  std::string bytes;
  int64_t items = 0;  // spans, data points or log records
  int64_t units = 0;  // item messages
};

class ExportPipeline {
 public:
  ExportPipeline(OtlpExporterOptions options, std::unique_ptr<Transport> transport,
                 common::Clock* clock, uint64_t seed = 1);
  ~ExportPipeline();

  [[nodiscard]] absl::Status Start();
  // Takes the request, or drops and counts it (ResourceExhausted) when the
  // queue is full. FailedPrecondition after Shutdown.
  [[nodiscard]] absl::Status Enqueue(PipelineRequest&& request);
  // Takes the request if it fits now; otherwise returns Unavailable and leaves
  // it with the caller (nothing counted): for upstream backpressure.
  [[nodiscard]] absl::Status TryEnqueue(PipelineRequest& request);
  // Waits until everything queued so far was sent (or dropped), or until the
  // deadline: DeadlineExceeded then.
  [[nodiscard]] absl::Status ForceFlush(absl::Time deadline);
  // Sends one request now, on the calling thread, past the queue, the circuit
  // breaker and the spill: for a caller that keeps the request until it is
  // delivered (PersistentQueue). Splits it when too large, and halves it
  // when the peer asks to. OK: delivered, or dropped as not retryable
  // (counted in the statistics, like Enqueue's). Unavailable: send it again
  // later, after *retry_delay if the server sent RetryInfo; nothing is
  // counted dropped (parts of a split request may have been delivered).
  // Works without Start; Shutdown cancels the calls in progress.
  [[nodiscard]] absl::Status SendNow(PipelineRequest&& request,
                                     std::optional<absl::Duration>* retry_delay);
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);

  ExporterStats Stats();
  void PrepareFork() { transport_->PrepareFork(); }
  void AfterForkParent() { transport_->AfterForkParent(); }
  CircuitBreaker& breaker() { return breaker_; }
  // Free room in the queue, for callers that apply backpressure upstream.
  bool HasRoom(int64_t bytes);

 private:
  struct Outcome {
    bool endpoint_failed = false;  // retries exhausted on retryable errors
    // once: a retryable failure, left to the caller.
    bool retry_later = false;
    std::optional<absl::Duration> retry_delay;
    std::string cause;
  };

  void WorkerLoop();

  void Process(PipelineRequest&& req);
  // once: no retry here, a retryable failure returns retry_later.
  Outcome SendWithRetry(PipelineRequest&& req, bool once = false);
  void Drop(int64_t items, DropReason reason);
  // "UNAVAILABLE: <message>".
  static std::string Cause(const absl::Status& status);
  // "export to <endpoint> failed: <cause>".
  std::string Failed(const std::string& cause) const;
  // "; the last export to <endpoint> failed: <cause>" while exports fail, or "".
  std::string LastProblem() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Log(const std::string& line);
  void LogRateLimited(const std::string& line);

  // Distinct partial_success messages logged (once each) before the rest
  // are only rate-limited.
  static constexpr size_t kMaxRejectionsLogged = 64;

  const OtlpExporterOptions options_;
  const std::unique_ptr<Transport> transport_;
  common::Clock* const clock_;
  CircuitBreaker breaker_;
  std::unique_ptr<SpillBuffer> spill_;
  absl::Notification draining_;  // shutdown began: backoff waits end at once
  absl::Notification cancel_;    // the shutdown deadline passed: stop sending

  absl::Mutex mu_;
  std::deque<PipelineRequest> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_items_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int busy_ ABSL_GUARDED_BY(mu_) = 0;  // workers processing a request
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t seed_ ABSL_GUARDED_BY(mu_);
  int64_t last_log_s_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_rejected_message_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  // The cause of the latest attempt if it failed, "" after a success: a
  // problem is logged when it begins, and named by a shutdown that drops.
  std::string problem_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> rejections_logged_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;

  // Statistics: relaxed atomics, they order nothing.
  std::atomic<int64_t> exported_items_{0}, exported_requests_{0}, retries_{0}, in_flight_{0};
  std::atomic<int64_t> bytes_sent_{0}, bytes_compressed_{0}, spilled_items_{0}, replayed_items_{0};
  std::atomic<int64_t> duration_count_{0}, duration_sum_ns_{0};
  std::atomic<int64_t> failed_attempts_[17] = {};
  OperationDurations operation_durations_;
  std::atomic<int64_t> dropped_[kDropReasonCount] = {};
};

}  // namespace tracewire::exporter
