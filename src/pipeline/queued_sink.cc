#include "pipeline/queued_sink.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tracewire::pipeline {

QueuedSink::QueuedSink(std::unique_ptr<BatchWriter> writer, QueueOptions options,
                       std::atomic<int64_t>* dropped_items)
    : writer_(std::move(writer)), options_(options), dropped_items_(dropped_items) {}

QueuedSink::~QueuedSink() {
  // Shutdown normally ran; this only makes destruction without it safe.
  (void)Shutdown(absl::Now() + absl::Seconds(5));
}

absl::Status QueuedSink::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return absl::FailedPreconditionError("sink already started");
  absl::Status st = writer_->Open();
  if (!st.ok()) return st;
  started_ = true;
  worker_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

absl::Status QueuedSink::Offer(Batch&& batch) {
  absl::MutexLock lock(&mu_);
  if (!started_ || stopping_) return absl::FailedPreconditionError("sink is not running");
  const int64_t size = static_cast<int64_t>(batch.bytes.size());
  // An empty queue always takes one batch, so a request larger than the byte
  // budget is not refused forever.
  if (!queue_.empty() && (static_cast<int64_t>(queue_.size()) >= options_.max_batches ||
                          queued_bytes_ + size > options_.max_bytes)) {
    return absl::UnavailableError("sink queue is full");
  }
  queued_bytes_ += size;
  queue_.push_back(std::move(batch));
  UpdateFull();
  return absl::OkStatus();
}

void QueuedSink::UpdateFull() {
  full_.store(!queue_.empty() && (static_cast<int64_t>(queue_.size()) >= options_.max_batches ||
                                  queued_bytes_ >= options_.max_bytes),
              std::memory_order_relaxed);
}

void QueuedSink::CountFailure(const absl::Status& st, int64_t items) {
  if (dropped_items_ != nullptr) dropped_items_->fetch_add(items, std::memory_order_relaxed);
  const int64_t now_s = absl::ToUnixSeconds(absl::Now());
  absl::MutexLock lock(&mu_);
  if (now_s != last_failure_log_s_) {  // At most one line a second.
    last_failure_log_s_ = now_s;
    std::fprintf(stderr, "tracewired: sink write failed, %lld items lost: %s\n",
                 static_cast<long long>(items), std::string(st.message()).c_str());
  }
}

void QueuedSink::Run() {
  absl::Time last_flush = absl::Now();
  auto flush = [&] {
    absl::Status st = writer_->Flush();
    if (!st.ok()) CountFailure(st, LostItemsOf(st));
    last_flush = absl::Now();
  };
  for (;;) {
    Batch batch;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) {
        mu_.Unlock();
        flush();
        mu_.Lock();
        mu_.AwaitWithTimeout(
            absl::Condition(
                +[](QueuedSink* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                  return !s->queue_.empty() || s->stopping_;
                },
                this),
            absl::Seconds(1));
        if (queue_.empty()) {
          if (stopping_) break;
          continue;
        }
      }
      if (abandon_) {
        int64_t lost = 0;
        for (const Batch& b : queue_) lost += b.items;
        queue_.clear();
        queued_bytes_ = 0;
        UpdateFull();
        if (dropped_items_ != nullptr) dropped_items_->fetch_add(lost, std::memory_order_relaxed);
        break;
      }
      batch = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= static_cast<int64_t>(batch.bytes.size());
      UpdateFull();
    }
    absl::Status st = writer_->Write(batch);
    if (!st.ok()) CountFailure(st, batch.items);
    if (absl::Now() - last_flush >= options_.flush_every) flush();
  }
  absl::Status st = writer_->Close();
  if (!st.ok()) CountFailure(st, LostItemsOf(st));
  absl::MutexLock lock(&mu_);
  drained_ = true;
}

absl::Status QueuedSink::Shutdown(absl::Time deadline) {
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (!worker_.joinable()) return absl::OkStatus();
    if (!mu_.AwaitWithDeadline(absl::Condition(&drained_), deadline)) {
      // Past the deadline: the worker finishes the batch in hand, counts the
      // rest as lost and stops.
      abandon_ = true;
      result = absl::DeadlineExceededError(absl::StrCat(
          "sink did not drain by the deadline; ", queue_.size(), " batches lost"));
    }
  }
  worker_.join();
  return result;
}

int64_t QueuedSink::QueuedBatches() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(queue_.size());
}

int64_t QueuedSink::QueuedBytes() const {
  absl::MutexLock lock(&mu_);
  return queued_bytes_;
}

}  // namespace tracewire::pipeline
