#include "exporter/export_pipeline.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_codes.h"
#include "wire/otlp_split.h"

namespace tracewire::exporter {

ExportPipeline::ExportPipeline(OtlpExporterOptions options, std::unique_ptr<Transport> transport,
                               common::Clock* clock, uint64_t seed)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      clock_(clock),
      breaker_(options_.breaker, clock),
      seed_(seed) {}

ExportPipeline::~ExportPipeline() { (void)Shutdown(absl::Now()); }

absl::Status ExportPipeline::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return absl::FailedPreconditionError("exporter already started");
  if (!options_.breaker.spill_dir.empty()) {
    spill_ = std::make_unique<SpillBuffer>(
        options_.breaker.spill_dir, options_.breaker.spill_max_bytes, options_.breaker.spill_fsync);
    absl::Status st = spill_->Open();
    if (!st.ok()) return st;
  }
  started_ = true;
  for (int i = 0; i < options_.max_in_flight; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  return absl::OkStatus();
}

bool ExportPipeline::HasRoom(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  return queued_bytes_ + bytes <= options_.max_queue_bytes &&
         queued_items_ < options_.max_queue_items;
}

absl::Status ExportPipeline::Enqueue(PipelineRequest&& req) {
  const int64_t size = static_cast<int64_t>(req.bytes.size());
  absl::MutexLock lock(&mu_);
  if (!started_ || stopping_) {
    return absl::FailedPreconditionError("exporter is not running");
  }
  auto fits = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // An empty queue takes any one request, so a big one is never refused forever.
    return queue_.empty() || (queued_items_ + req.items <= options_.max_queue_items &&
                              queued_bytes_ + size <= options_.max_queue_bytes);
  };
  if (!fits() && options_.block_on_full > absl::ZeroDuration()) {
    mu_.AwaitWithTimeout(absl::Condition(&fits), options_.block_on_full);
  }
  if (!fits() || stopping_) {
    mu_.Unlock();
    Drop(req.items, DropReason::kQueueFull);
    mu_.Lock();
    return absl::ResourceExhaustedError("exporter queue is full; request dropped");
  }
  queued_items_ += req.items;
  queued_bytes_ += size;
  queue_.push_back(std::move(req));
  return absl::OkStatus();
}

absl::Status ExportPipeline::TryEnqueue(PipelineRequest& req) {
  const int64_t size = static_cast<int64_t>(req.bytes.size());
  absl::MutexLock lock(&mu_);
  if (!started_ || stopping_) return absl::FailedPreconditionError("exporter is not running");
  if (!queue_.empty() && (queued_items_ + req.items > options_.max_queue_items ||
                          queued_bytes_ + size > options_.max_queue_bytes)) {
    return absl::UnavailableError("forward queue is full");
  }
  queued_items_ += req.items;
  queued_bytes_ += size;
  queue_.push_back(std::move(req));
  return absl::OkStatus();
}

void ExportPipeline::WorkerLoop() {
  for (;;) {
    PipelineRequest req;
    bool have = false;
    // Replay spilled requests, oldest first, once the breaker has closed.
    if (spill_ && !cancel_.HasBeenNotified() &&
        breaker_.state() == CircuitBreaker::State::kClosed) {
      if (std::optional<SpilledRequest> s = spill_->Take()) {
        req = {s->signal, std::move(s->bytes), s->items, s->units};
        replayed_items_.fetch_add(req.items, std::memory_order_relaxed);
        have = true;
        absl::MutexLock lock(&mu_);
        ++busy_;
      }
    }
    if (!have) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](ExportPipeline* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                 return !p->queue_.empty() || p->stopping_;
                               },
                               this),
                           absl::Milliseconds(spill_ ? 100 : 1000));
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      if (cancel_.HasBeenNotified()) {  // Past the shutdown deadline: drop what is left.
        int64_t lost = 0;
        for (const auto& r : queue_) lost += r.items;
        queue_.clear();
        queued_items_ = queued_bytes_ = 0;
        mu_.Unlock();
        Drop(lost, DropReason::kShutdown);
        mu_.Lock();
        return;
      }
      req = std::move(queue_.front());
      queue_.pop_front();
      queued_items_ -= req.items;
      queued_bytes_ -= static_cast<int64_t>(req.bytes.size());
      ++busy_;
    }
    Process(std::move(req));
    absl::MutexLock lock(&mu_);
    --busy_;
  }
}

void ExportPipeline::Process(PipelineRequest&& req) {
  if (!breaker_.Allow()) {
    if (spill_) {
      SpilledRequest s{req.signal, req.bytes, req.items, req.units};
      if (spill_->Put(s).ok()) {
        spilled_items_.fetch_add(req.items, std::memory_order_relaxed);
        return;
      }
    }
    Drop(req.items, DropReason::kBreakerOpen);
    return;
  }
  Outcome o = SendWithRetry(std::move(req));
  breaker_.Record(!o.endpoint_failed);
}

ExportPipeline::Outcome ExportPipeline::SendWithRetry(PipelineRequest&& req, bool once) {
  Outcome outcome;
  std::deque<PipelineRequest> work;
  if (static_cast<int64_t>(req.bytes.size()) > options_.max_request_bytes) {
    auto parts = wire::SplitRequest(req.signal, req.bytes, options_.max_request_bytes);
    if (!parts.ok()) {
      Drop(req.items, DropReason::kNonRetryable);
      LogRateLimited(std::string(parts.status().message()));
      return outcome;
    }
    for (auto& p : *parts) work.push_back({req.signal, std::move(p.bytes), p.items, p.units});
  } else {
    work.push_back(std::move(req));
  }
  uint64_t seed;
  {
    absl::MutexLock lock(&mu_);
    seed = seed_++;
  }
  while (!work.empty()) {
    PipelineRequest part = std::move(work.front());
    work.pop_front();
    Backoff backoff(options_.retry, seed++);
    int retries_of_part = 0;
    bool retried_at_drain = false;  // one prompt retry when the shutdown begins
    const absl::Time first = clock_->Now();
    const absl::Time op_start = absl::Now();
    int final_code = 0;
    // One observation per operation: from the first attempt through the
    // last, backoff included, under the last attempt's code.
    auto end_operation = [&] { operation_durations_.Record(final_code, absl::Now() - op_start); };
    for (;;) {
      in_flight_.fetch_add(1, std::memory_order_relaxed);
      const absl::Time t0 = absl::Now();
      SendResult r = transport_->Send(part.signal, part.bytes, absl::Now() + options_.timeout);
      duration_sum_ns_.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - t0),
                                 std::memory_order_relaxed);
      duration_count_.fetch_add(1, std::memory_order_relaxed);
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      bytes_sent_.fetch_add(static_cast<int64_t>(part.bytes.size()), std::memory_order_relaxed);
      bytes_compressed_.fetch_add(r.compressed_bytes, std::memory_order_relaxed);
      const int code = static_cast<int>(r.status.code());
      final_code = code;
      if (!r.status.ok() && code > 0 && code < 17) {
        failed_attempts_[code].fetch_add(1, std::memory_order_relaxed);
      }
      const std::string cause = r.status.ok() ? "" : Cause(r.status);
      // An attempt our own shutdown cancelled says nothing about the
      // endpoint: the cause before it stays the last error.
      const bool cancelled_by_us =
          r.status.code() == absl::StatusCode::kCancelled && cancel_.HasBeenNotified();
      bool new_problem = false;
      if (!cancelled_by_us) {
        absl::MutexLock lock(&mu_);
        if (!r.status.ok()) last_error_ = cause;
        new_problem = problem_ != cause;
        problem_ = cause;  // a success ends the problem: its return is new again
      }
      const RetryAction action =
          DecideRetry(r.status.code(), r.retry_delay.has_value(), part.units);
      if (action == RetryAction::kRetry && new_problem && !cancel_.HasBeenNotified()) {
        // One line when a problem begins, not one per attempt.
        Log(absl::StrCat(Failed(cause), "; retrying"));
      }
      if (action == RetryAction::kDone) {
        const int64_t rejected = std::min(std::max<int64_t>(r.rejected, 0), part.items);
        exported_items_.fetch_add(part.items - rejected, std::memory_order_relaxed);
        exported_requests_.fetch_add(1, std::memory_order_relaxed);
        if (rejected > 0 || !r.rejected_message.empty()) {
          Drop(rejected, DropReason::kRejected);
          enum { kFirst, kSeen, kTooMany } seen;
          {
            absl::MutexLock lock(&mu_);
            last_rejected_message_ = r.rejected_message;
            if (rejections_logged_.count(r.rejected_message)) {
              seen = kSeen;
            } else if (rejections_logged_.size() < kMaxRejectionsLogged) {
              rejections_logged_.insert(r.rejected_message);
              seen = kFirst;
            } else {
              seen = kTooMany;
            }
          }
          // Each message once: the same reason in every batch is one line.
          const std::string line = absl::StrCat("receiver at ", options_.endpoint, " rejected ",
                                                rejected, " items: ", r.rejected_message);
          if (seen == kFirst) Log(line);
          if (seen == kTooMany) LogRateLimited(line);
        }
        break;
      }
      if (action == RetryAction::kSplit) {
        auto halves = wire::SplitInHalves(part.signal, part.bytes);
        if (!halves.ok() || halves->size() < 2) {
          Drop(part.items, DropReason::kTooLarge);
          break;
        }
        // Send the halves next, in order, before the rest.
        for (auto it = halves->rbegin(); it != halves->rend(); ++it) {
          work.push_front({part.signal, std::move(it->bytes), it->items, it->units});
        }
        break;
      }
      if (action == RetryAction::kDrop) {
        Drop(part.items, r.status.code() == absl::StatusCode::kResourceExhausted
                             ? DropReason::kTooLarge
                             : DropReason::kNonRetryable);
        LogRateLimited(absl::StrCat(Failed(cause), " (not retryable)"));
        break;
      }
      // kRetry
      if (once) {
        end_operation();
        outcome.retry_later = true;
        outcome.retry_delay = r.retry_delay;
        outcome.cause = cause;
        return outcome;
      }
      const absl::Duration delay = r.retry_delay.has_value() ? *r.retry_delay : backoff.Next();
      if (cancel_.HasBeenNotified()) {
        Drop(part.items, DropReason::kShutdown);
        break;
      }
      if (!options_.retry.enabled || clock_->Now() + delay - first > options_.retry.max_elapsed) {
        Drop(part.items, DropReason::kRetriesExhausted);
        outcome.endpoint_failed = true;
        LogRateLimited(
            absl::StrCat(Failed(cause), "; giving up after ", retries_of_part, " retries"));
        break;
      }
      if (!draining_.HasBeenNotified()) {
        // A shutdown that begins during this wait ends it: retry at once.
        clock_->SleepFor(delay, draining_);
        retried_at_drain = draining_.HasBeenNotified();
      } else if (!retried_at_drain) {
        // The shutdown began before this wait: the same single prompt retry
        // as when it interrupts one, whichever came first.
        retried_at_drain = true;
      } else if (!clock_->SleepFor(delay, cancel_)) {
        // Draining, the wait runs until the shutdown deadline at most.
        Drop(part.items, DropReason::kShutdown);
        break;
      }
      retries_.fetch_add(1, std::memory_order_relaxed);
      ++retries_of_part;
    }
    end_operation();
  }
  return outcome;
}

absl::Status ExportPipeline::SendNow(PipelineRequest&& req,
                                     std::optional<absl::Duration>* retry_delay) {
  if (cancel_.HasBeenNotified()) return absl::UnavailableError("exporter is shut down");
  Outcome o = SendWithRetry(std::move(req), /*once=*/true);
  if (!o.retry_later) return absl::OkStatus();
  *retry_delay = o.retry_delay;
  return absl::UnavailableError(Failed(o.cause));
}

std::string ExportPipeline::Cause(const absl::Status& status) {
  const int code = static_cast<int>(status.code());
  return absl::StrCat(std::string(common::GrpcCodeName(code)), ": ", status.message());
}

std::string ExportPipeline::Failed(const std::string& cause) const {
  return absl::StrCat("export to ", options_.endpoint, " failed: ", cause);
}

void ExportPipeline::Drop(int64_t items, DropReason reason) {
  dropped_[static_cast<int>(reason)].fetch_add(items, std::memory_order_relaxed);
}

void ExportPipeline::LogRateLimited(const std::string& line) {
  const int64_t now_s = absl::ToUnixSeconds(absl::Now());
  {
    absl::MutexLock lock(&mu_);
    if (now_s == last_log_s_) return;  // At most one line a second.
    last_log_s_ = now_s;
  }
  Log(line);
}

void ExportPipeline::Log(const std::string& line) {
  std::fprintf(stderr, "tracewire exporter: %s\n", line.c_str());
}

std::string ExportPipeline::LastProblem() {
  return problem_.empty() ? "" : absl::StrCat("; the last ", Failed(problem_));
}

absl::Status ExportPipeline::ForceFlush(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.empty() && busy_ == 0; };
  if (!mu_.AwaitWithDeadline(absl::Condition(&idle), deadline)) {
    return absl::DeadlineExceededError(absl::StrCat("flush deadline passed with ", queued_items_,
                                                    " items queued and ", busy_,
                                                    " requests in flight", LastProblem()));
  }
  return absl::OkStatus();
}

absl::Status ExportPipeline::Shutdown(absl::Time deadline) {
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && workers_.empty()) return absl::OkStatus();
    stopping_ = true;
    if (!draining_.HasBeenNotified()) draining_.Notify();
    auto idle = [this]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.empty() && busy_ == 0; };
    if (!mu_.AwaitWithDeadline(absl::Condition(&idle), deadline)) {
      result = absl::DeadlineExceededError(
          absl::StrCat("shutdown deadline passed: ", queued_items_, " items queued and ", busy_,
                       " requests in flight were dropped",
                       LastProblem()));  // why they were not sent, if exports failed
    }
  }
  if (!cancel_.HasBeenNotified()) cancel_.Notify();
  transport_->CancelAll();
  for (auto& w : workers_) w.join();
  workers_.clear();
  // Requests still queued if the workers ended first.
  absl::MutexLock lock(&mu_);
  int64_t lost = 0;
  for (const auto& r : queue_) lost += r.items;
  queue_.clear();
  queued_items_ = queued_bytes_ = 0;
  if (lost > 0) dropped_[static_cast<int>(DropReason::kShutdown)] += lost;
  return result;
}

ExporterStats ExportPipeline::Stats() {
  ExporterStats s;
  auto load = [](const std::atomic<int64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.exported_items = load(exported_items_);
  s.exported_requests = load(exported_requests_);
  s.retries = load(retries_);
  s.in_flight = load(in_flight_);
  s.bytes_sent = load(bytes_sent_);
  s.bytes_sent_compressed = load(bytes_compressed_);
  s.spilled_items = load(spilled_items_);
  s.replayed_items = load(replayed_items_);
  s.request_duration_count = load(duration_count_);
  s.request_duration_sum_ns = load(duration_sum_ns_);
  s.operation_durations = operation_durations_.Snapshot();
  for (int c = 1; c < 17; ++c) {
    if (int64_t v = load(failed_attempts_[c]))
      s.failed_attempts[std::string(common::GrpcCodeName(c))] = v;
  }
  for (int r = 0; r < kDropReasonCount; ++r) {
    s.dropped_items[DropReasonName(static_cast<DropReason>(r))] = load(dropped_[r]);
  }
  s.breaker_state = CircuitBreaker::StateName(breaker_.state());
  s.breaker_transitions = breaker_.transitions();
  s.tls_reloads = transport_->tls_reloads();
  s.tls_reload_failures = transport_->tls_reload_failures();
  if (spill_) s.spill_bytes = spill_->size_bytes();
  absl::MutexLock lock(&mu_);
  s.queued_items = queued_items_;
  s.queued_bytes = queued_bytes_;
  s.last_rejected_message = last_rejected_message_;
  s.last_error = last_error_;
  return s;
}

}  // namespace tracewire::exporter
