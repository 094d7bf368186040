#include "pipeline/persistent_queue.h"

#include <cstdio>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tracewire::pipeline {
namespace {

constexpr char kRetryDelayUrl[] = "type.tracewire/retry_delay_ms";

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kResourceExhausted ||
         code == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

absl::Status RetryAfterStatus(absl::Status status, absl::Duration delay) {
  status.SetPayload(kRetryDelayUrl, absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(delay))));
  return status;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto p = status.GetPayload(kRetryDelayUrl);
  int64_t ms;
  if (!p || !absl::SimpleAtoi(std::string(*p), &ms) || ms < 0) return std::nullopt;
  return absl::Milliseconds(ms);
}

PersistentQueue::PersistentQueue(std::unique_ptr<BatchWriter> writer,
                                 PersistentQueueOptions options,
                                 std::atomic<int64_t>* dropped_items)
    : writer_(std::move(writer)),
      options_(std::move(options)),
      dropped_items_(dropped_items),
      wal_(options_.wal) {}

PersistentQueue::~PersistentQueue() { (void)Shutdown(absl::Now() + absl::Seconds(5)); }

absl::Status PersistentQueue::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return absl::FailedPreconditionError("sink already started");
  // The writer first: its own problems (a bad path) are the ones to name.
  absl::Status st = writer_->Open();
  if (!st.ok()) return st;
  st = wal_.Open();
  if (!st.ok()) {
    (void)writer_->Close();
    return st;
  }
  started_ = true;
  const int n = std::max(1, options_.ack_after_flush ? 1 : options_.workers);
  running_ = n;
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { Run(); });
  return absl::OkStatus();
}

absl::Status PersistentQueue::Offer(Batch&& batch) {
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopping_) return absl::FailedPreconditionError("sink is not running");
  }
  // The log orders concurrent appends; the ack waits for the fsync policy.
  absl::StatusOr<uint64_t> id = wal_.Append(batch.signal, batch.items, batch.bytes);
  if (!id.ok()) return id.status();
  absl::MutexLock lock(&mu_);
  ++offered_;
  return absl::OkStatus();
}

void PersistentQueue::OfferAsync(Batch&& batch, OfferDone done) {
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopping_) {
      std::move(done)(absl::FailedPreconditionError("sink is not running"));
      return;
    }
  }
  // Answered when the log's fsync policy is met, by the log's sync thread
  // under fsync batch: the caller's thread does not wait for the disk.
  wal_.AppendAsync(batch.signal, batch.items, batch.bytes,
                   [this, done = std::move(done)](absl::StatusOr<uint64_t> id) mutable {
                     if (id.ok()) {
                       absl::MutexLock lock(&mu_);
                       ++offered_;
                     }
                     std::move(done)(id.status());
                   });
}

void PersistentQueue::LogRateLimited(const std::string& line) {
  const int64_t now_s = absl::ToUnixSeconds(absl::Now());
  {
    absl::MutexLock lock(&mu_);
    if (now_s == last_log_s_) return;  // At most one line a second.
    last_log_s_ = now_s;
  }
  std::fprintf(stderr, "tracewired: queue %s: %s\n", wal_.dir().c_str(), line.c_str());
}

void PersistentQueue::Run() {
  std::vector<uint64_t> unflushed;  // written, to be acked after the next Flush
  absl::Time first_unflushed = absl::InfiniteFuture();
  for (;;) {
    std::optional<WalRecord> record;
    bool idle = false;
    {
      absl::MutexLock lock(&mu_);
      if (abandon_) break;
      const uint64_t seen = offered_;
      absl::StatusOr<std::optional<WalRecord>> r = wal_.ReadAfter(cursor_);
      if (!r.ok()) {
        // The log's own file could not be read: keep the record, try later.
        mu_.Unlock();
        LogRateLimited(std::string(r.status().message()));
        mu_.Lock();
        mu_.AwaitWithTimeout(absl::Condition(&abandon_), absl::Seconds(1));
        continue;
      }
      if (r->has_value()) {
        record = std::move(**r);
        cursor_ = record->id;
      } else if (stopping_) {
        break;
      } else if (unflushed.empty()) {
        mu_.Unlock();
        wal_.SyncPosition();  // the queue ran empty: a restart re-sends nothing
        mu_.Lock();
        auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return offered_ != seen || stopping_;
        };
        mu_.AwaitWithTimeout(absl::Condition(&woken), absl::Seconds(1));
        continue;
      } else {
        idle = true;
      }
    }
    if (idle) {
      // The log ran empty: what was written is flushed and taken now.
      FlushAndAck(&unflushed);
      first_unflushed = absl::InfiniteFuture();
      continue;
    }
    if (!Deliver(*record)) break;  // stopping, the record stays in the log
    if (!options_.ack_after_flush) {
      wal_.Ack(record->id);
      continue;
    }
    if (unflushed.empty()) first_unflushed = absl::Now();
    unflushed.push_back(record->id);
    if (static_cast<int>(unflushed.size()) >= options_.flush_records ||
        absl::Now() - first_unflushed >= options_.flush_every) {
      FlushAndAck(&unflushed);
      first_unflushed = absl::InfiniteFuture();
    }
  }
  FlushAndAck(&unflushed);
  absl::MutexLock lock(&mu_);
  --running_;
}

void PersistentQueue::FlushAndAck(std::vector<uint64_t>* unflushed) {
  // Several workers: the writer's Flush may not be called concurrently.
  if (!options_.ack_after_flush && options_.workers > 1) return;
  absl::Status st = writer_->Flush();
  if (!st.ok()) {
    // Not taken: handed over again after a restart (a duplicate at worst).
    LogRateLimited(absl::StrCat("sink flush failed: ", st.message()));
    unflushed->clear();
    return;
  }
  for (uint64_t id : *unflushed) wal_.Ack(id);
  unflushed->clear();
}

bool PersistentQueue::Deliver(WalRecord& record) {
  Batch batch;
  batch.signal = record.signal;
  batch.items = record.items;
  batch.bytes = std::move(record.bytes);
  absl::Duration backoff = options_.retry_initial;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) retries_.fetch_add(1, std::memory_order_relaxed);
    absl::Status st = writer_->Write(batch);
    if (st.ok()) {
      delivered_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (!Retryable(st.code())) {
      dropped_records_.fetch_add(1, std::memory_order_relaxed);
      if (dropped_items_ != nullptr) {
        dropped_items_->fetch_add(record.items, std::memory_order_relaxed);
      }
      LogRateLimited(absl::StrCat("sink write failed, ", record.items,
                                  " items lost (not retryable): ", st.message()));
      return true;
    }
    const absl::Duration delay = RetryDelayOf(st).value_or(backoff);
    backoff = std::min(backoff * 2, options_.retry_max);
    LogRateLimited(absl::StrCat("sink write failed, retrying in ", absl::FormatDuration(delay),
                                " (kept in the queue): ", st.message()));
    absl::MutexLock lock(&mu_);
    // A shutdown that begins during the wait ends it (one more try at once);
    // past its deadline the record stays in the log for the next start.
    const bool was_stopping = stopping_;
    auto wake = [this, was_stopping]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return abandon_ || (stopping_ && !was_stopping);
    };
    mu_.AwaitWithTimeout(absl::Condition(&wake), delay);
    if (abandon_) return false;
  }
}

absl::Status PersistentQueue::Shutdown(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (!started_) {
      stopping_ = true;
      return absl::OkStatus();
    }
    if (stopping_ && workers_.empty()) return absl::OkStatus();
    stopping_ = true;
    if (!mu_.AwaitWithDeadline(absl::Condition(
                                   +[](int* running) { return *running == 0; }, &running_),
                               deadline)) {
      abandon_ = true;
    }
  }
  bool cancelled = false;
  {
    absl::MutexLock lock(&mu_);
    cancelled = abandon_ && running_ > 0;
  }
  if (cancelled) writer_->Cancel();  // Write calls in progress end now
  for (auto& w : workers_) w.join();
  workers_.clear();
  absl::Status result = writer_->Close();
  const WalStats s = wal_.Stats();
  result.Update(wal_.Close());
  if (s.pending_records > 0) {
    std::fprintf(stderr,
                 "tracewired: queue %s: %lld requests (%lld bytes) stay in the queue for the next "
                 "start\n",
                 wal_.dir().c_str(), static_cast<long long>(s.pending_records),
                 static_cast<long long>(s.pending_bytes));
  }
  return result;
}

PersistentQueueStats PersistentQueue::Stats() const {
  PersistentQueueStats s;
  s.wal = wal_.Stats();
  s.delivered_records = delivered_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.dropped_records = dropped_records_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tracewire::pipeline
