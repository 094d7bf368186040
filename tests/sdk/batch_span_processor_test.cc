#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "sdk/trace/batch_span_processor_internal.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

// Records batch sizes; can be made to hang until released.
class RecordingExporter : public SpanExporter {
 public:
  absl::Status Export(std::span<const SpanRef> spans) override {
    if (hang_) release_.WaitForNotification();
    absl::MutexLock l(&mu_);
    batches_.push_back(spans.size());
    threads_.push_back(std::this_thread::get_id());
    for (const auto& s : spans) names_.push_back(s.data().name);
    return absl::OkStatus();
  }
  std::vector<size_t> batches() {
    absl::MutexLock l(&mu_);
    return batches_;
  }
  // The thread that exported each batch.
  std::vector<std::thread::id> threads() {
    absl::MutexLock l(&mu_);
    return threads_;
  }
  size_t total() {
    absl::MutexLock l(&mu_);
    size_t n = 0;
    for (size_t b : batches_) n += b;
    return n;
  }
  bool ExportNeverBlocks() const override { return never_blocks_; }
  bool hang_ = false;
  bool never_blocks_ = false;
  absl::Notification release_;

 private:
  absl::Mutex mu_;
  std::vector<size_t> batches_;
  std::vector<std::thread::id> threads_;
  std::vector<std::string> names_;
};

struct Pipeline {
  RecordingExporter* exporter;
  BatchSpanProcessor* bsp;
  std::unique_ptr<TracerProvider> provider;
  Tracer* tracer;
};

Pipeline Make(BatchSpanProcessorOptions o, std::unique_ptr<RecordingExporter> e) {
  Pipeline s;
  s.exporter = e.get();
  auto p = BatchSpanProcessor::Create(std::move(e), o);
  s.bsp = p.get();
  TracerProviderOptions po;
  po.processors.push_back(std::move(p));
  s.provider = std::move(*TracerProvider::Create(std::move(po)));
  s.tracer = s.provider->GetTracer("bsp");
  return s;
}

Pipeline Make(BatchSpanProcessorOptions o, bool hang = false) {
  auto e = std::make_unique<RecordingExporter>();
  e->hang_ = hang;
  return Make(o, std::move(e));
}

TEST(BatchSpanProcessor, ExportsFullBatchesWithoutWaitingForTheDelay) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 2048;
  o.max_export_batch_size = 100;
  o.schedule_delay = absl::Hours(1);  // only full batches can trigger an export
  Pipeline s = Make(o);
  for (int i = 0; i < 350; ++i) s.tracer->StartSpan("x").End();
  for (int i = 0; i < 500 && s.exporter->total() < 300; ++i) absl::SleepFor(absl::Milliseconds(10));
  auto b = s.exporter->batches();
  ASSERT_GE(b.size(), 3u);
  for (size_t n : b) EXPECT_EQ(n, 100u);  // never a partial batch before the delay
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 350u);
  EXPECT_EQ(s.exporter->batches().back(), 50u);
  EXPECT_EQ(s.bsp->Stats().processed, 350);
}

// A batch size that the queue's periodic level checks do not fall on: the
// span that completes the batch still wakes the worker (it is not polling:
// nothing arrived before).
TEST(BatchSpanProcessor, TheSpanThatFillsABatchWakesTheWorker) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 2048;
  o.max_export_batch_size = 37;
  o.schedule_delay = absl::Hours(1);
  Pipeline s = Make(o);
  absl::SleepFor(absl::Milliseconds(50));  // the worker sleeps, waiting for a signal
  for (int i = 0; i < 37; ++i) s.tracer->StartSpan("x").End();
  for (int i = 0; i < 1000 && s.exporter->total() < 37; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(s.exporter->batches(), std::vector<size_t>{37});
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

TEST(BatchSpanProcessor, ScheduleDelayExportsAPartialBatch) {
  BatchSpanProcessorOptions o;
  o.schedule_delay = absl::Milliseconds(50);
  Pipeline s = Make(o);
  for (int i = 0; i < 7; ++i) s.tracer->StartSpan("x").End();
  for (int i = 0; i < 500 && s.exporter->total() < 7; ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(s.exporter->total(), 7u);
}

TEST(BatchSpanProcessor, ForceFlushExportsInBatchesOfTheBatchSize) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 65536;
  o.max_export_batch_size = 512;
  o.schedule_delay = absl::Hours(1);
  Pipeline s = Make(o, /*hang=*/true);
  // The exporter is stuck on the first full batch while 5,000 spans queue up.
  for (int i = 0; i < 5000; ++i) s.tracer->StartSpan("x").End();
  s.exporter->release_.Notify();
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(20)).ok());
  EXPECT_EQ(s.exporter->total(), 5000u);
  for (size_t n : s.exporter->batches()) EXPECT_LE(n, 512u);
  EXPECT_EQ(s.bsp->Stats().dropped_queue_full, 0);
}

TEST(BatchSpanProcessor, FullQueueDropsNewSpansAndCountsExactly) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 64;
  o.max_export_batch_size = 64;
  o.schedule_delay = absl::Hours(1);
  o.export_when_full_patience = absl::Milliseconds(1);  // the export is stuck
  Pipeline s = Make(o, /*hang=*/true);
  // The first full batch goes to the hung exporter, then the queue fills.
  for (int i = 0; i < 64; ++i) s.tracer->StartSpan("x").End();
  for (int i = 0; i < 500 && s.bsp->Stats().queue_size > 0; ++i)
    absl::SleepFor(absl::Milliseconds(5));
  for (int i = 0; i < 100; ++i) s.tracer->StartSpan("y").End();
  BatchSpanProcessorStats st = s.bsp->Stats();
  EXPECT_EQ(st.queue_size, 64);
  EXPECT_EQ(st.dropped_queue_full, 36);
  EXPECT_EQ(st.dropped_export_busy, 36);  // the worker is in the hung Export
  s.exporter->release_.Notify();
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 128u);
  EXPECT_EQ(s.bsp->Stats().processed + s.bsp->Stats().dropped_queue_full, 164);
}

TEST(BatchSpanProcessor, QueueLimitIsExactWhenNotAPowerOfTwo) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 50;
  o.max_export_batch_size = 50;
  o.schedule_delay = absl::Hours(1);
  o.export_when_full_patience = absl::Milliseconds(1);  // the export is stuck
  Pipeline s = Make(o, /*hang=*/true);
  for (int i = 0; i < 50; ++i) s.tracer->StartSpan("x").End();
  for (int i = 0; i < 500 && s.bsp->Stats().queue_size > 0; ++i)
    absl::SleepFor(absl::Milliseconds(5));
  for (int i = 0; i < 80; ++i) s.tracer->StartSpan("y").End();
  BatchSpanProcessorStats st = s.bsp->Stats();
  EXPECT_EQ(st.queue_size, 50);
  EXPECT_EQ(st.queue_capacity, 50);
  EXPECT_EQ(st.dropped_queue_full, 30);
  s.exporter->release_.Notify();
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 100u);
}

// After a flush leaves the queue's level out of step with the count of
// spans ever queued, a full batch must still wake the worker at once (not
// at the 5 s schedule delay).
TEST(BatchSpanProcessor, FullBatchWakesTheWorkerAfterAFlush) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 512;
  o.max_export_batch_size = 512;
  Pipeline s = Make(o);
  for (int i = 0; i < 100; ++i) s.tracer->StartSpan("x").End();
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(5)).ok());
  for (int i = 0; i < 512; ++i) s.tracer->StartSpan("y").End();
  for (int i = 0; i < 200 && s.exporter->total() < 612; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(s.exporter->total(), 612u);  // well before the schedule delay
  EXPECT_EQ(s.bsp->Stats().dropped_queue_full, 0);
}

// Threads ending spans at once push into different stripes of the queue;
// together they hold exactly max_queue_size (a thread whose stripe is full
// pushes into another), and every span is either queued, in the export, or
// dropped and counted.
TEST(BatchSpanProcessor, ThreadsTogetherHoldAtMostTheQueueLimit) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 200;
  o.max_export_batch_size = 10;
  o.schedule_delay = absl::Milliseconds(1);
  o.export_when_full_patience = absl::Milliseconds(1);  // the export is stuck
  Pipeline s = Make(o, /*hang=*/true);
  s.tracer->StartSpan("first").End();  // the worker takes it and hangs in Export
  for (int i = 0; i < 200 && s.bsp->Stats().queue_size > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(s.bsp->Stats().queue_size, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&s] {
      for (int i = 0; i < 100; ++i) s.tracer->StartSpan("x").End();
    });
  }
  for (auto& th : threads) th.join();
  const BatchSpanProcessorStats st = s.bsp->Stats();
  EXPECT_EQ(st.queue_size, 200);
  EXPECT_EQ(st.queue_size + st.dropped_queue_full, 400);
  s.exporter->release_.Notify();
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(static_cast<int64_t>(s.exporter->total()), 1 + st.queue_size);
  EXPECT_EQ(s.bsp->Stats().processed, 1 + st.queue_size);
}

// The ids of this process's threads named `name`.
std::set<pid_t> ThreadsNamed(const std::string& name) {
  std::set<pid_t> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string comm;
    std::getline(f, comm);
    if (comm == name) out.insert(static_cast<pid_t>(std::stoi(e->d_name)));
  }
  closedir(d);
  return out;
}

// Holds the thread that takes SIGUSR1 in the handler until a byte arrives,
// as when the machine takes its core away for a while.
int held_in[2], held_out[2];
void HoldThread(int) {
  char c = 1;
  (void)!write(held_in[1], &c, 1);  // entered
  (void)!read(held_out[0], &c, 1);
}

// Ends 200 spans into a queue of 64 while the export thread cannot run.
// *exported: the spans the exporter had then.
BatchSpanProcessorStats EndSpansWhileTheWorkerIsHeld(bool export_when_full, Pipeline* s,
                                                     size_t* exported) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 64;
  o.max_export_batch_size = 16;
  o.schedule_delay = absl::Hours(1);
  o.export_when_full = export_when_full;
  const std::set<pid_t> before = ThreadsNamed("tw-batch-span");
  *s = Make(o);
  pid_t worker = 0;
  for (int i = 0; i < 200 && worker == 0; ++i) {
    for (pid_t t : ThreadsNamed("tw-batch-span")) {
      if (!before.count(t)) worker = t;
    }
    if (worker == 0) absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_NE(worker, 0) << "the export thread is named tw-batch-span";
  if (worker == 0) return {};
  EXPECT_EQ(pipe(held_in), 0);
  EXPECT_EQ(pipe(held_out), 0);
  struct sigaction sa {};
  sa.sa_handler = HoldThread;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  EXPECT_EQ(sigaction(SIGUSR1, &sa, nullptr), 0);
  EXPECT_EQ(syscall(SYS_tgkill, getpid(), worker, SIGUSR1), 0);
  char c;
  EXPECT_EQ(read(held_in[0], &c, 1), 1);  // the worker is in the handler
  for (int i = 0; i < 200; ++i) s->tracer->StartSpan("x").End();
  BatchSpanProcessorStats st = s->bsp->Stats();
  *exported = s->exporter->total();
  EXPECT_EQ(write(held_out[1], &c, 1), 1);  // let it go
  for (int fd : {held_in[0], held_in[1], held_out[0], held_out[1]}) close(fd);
  return st;
}

// The export thread is held: with export_when_full, the ending thread
// exports a batch itself each time it finds the queue full, and nothing is
// dropped; without, the spans past the queue's size are dropped.
TEST(BatchSpanProcessor, EndingThreadExportsWhenTheQueueIsFullAndTheWorkerCannotRun) {
  Pipeline s;
  size_t exported = 0;
  BatchSpanProcessorStats st = EndSpansWhileTheWorkerIsHeld(true, &s, &exported);
  EXPECT_EQ(st.dropped_queue_full, 0);
  EXPECT_EQ(st.exported_when_full, 9 * 16);  // 136 spans past the first 64: 9 batches of 16
  EXPECT_EQ(st.processed, 9 * 16);
  EXPECT_EQ(st.queue_size, 200 - 9 * 16);
  EXPECT_EQ(exported, 9u * 16);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 200u);
  EXPECT_EQ(s.bsp->Stats().processed, 200);
  for (size_t n : s.exporter->batches()) EXPECT_LE(n, 16u);
}

// A thread that finds the queue full while another thread is in the
// exporter waits for room instead of dropping its span: more threads ending
// spans than cores must not lose any.
TEST(BatchSpanProcessor, AnEndingThreadWaitsForAnExportInProgressInsteadOfDropping) {
  BatchSpanProcessorOptions o;
  o.max_queue_size = 64;
  o.max_export_batch_size = 64;
  o.schedule_delay = absl::Hours(1);
  o.export_when_full_patience = absl::Seconds(60);
  Pipeline s = Make(o, /*hang=*/true);
  for (int i = 0; i < 64; ++i) s.tracer->StartSpan("x").End();  // the worker's batch: it hangs
  for (int i = 0; i < 500 && s.bsp->Stats().queue_size > 0; ++i)
    absl::SleepFor(absl::Milliseconds(5));
  for (int i = 0; i < 64; ++i) s.tracer->StartSpan("y").End();  // the queue is full again
  std::atomic<bool> ended{false};
  std::thread late([&] {
    s.tracer->StartSpan("z").End();  // full, and the exporter busy: waits
    ended = true;
  });
  EXPECT_FALSE(ended.load());
  EXPECT_EQ(s.bsp->Stats().dropped_queue_full, 0);
  s.exporter->release_.Notify();
  late.join();
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 129u);
  EXPECT_EQ(s.bsp->Stats().dropped_queue_full, 0);
}

TEST(BatchSpanProcessor, WithoutExportWhenFullAFullQueueDrops) {
  Pipeline s;
  size_t exported = 0;
  BatchSpanProcessorStats st = EndSpansWhileTheWorkerIsHeld(false, &s, &exported);
  EXPECT_EQ(exported, 0u);
  EXPECT_EQ(st.dropped_queue_full, 200 - 64);
  EXPECT_EQ(st.dropped_export_busy, 0);  // nobody exporting: the option is off
  EXPECT_EQ(st.exported_when_full, 0);
  EXPECT_EQ(st.queue_size, 64);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 64u);
  EXPECT_EQ(s.bsp->Stats().dropped_queue_full, 200 - 64);
}

// Two threads shut down at once: neither returns before the queued spans
// are exported.
TEST(BatchSpanProcessor, ASecondShutdownWaitsForTheFirstOnesDrain) {
  BatchSpanProcessorOptions o;
  o.max_export_batch_size = 10;
  Pipeline s = Make(o, /*hang=*/true);
  for (int i = 0; i < 25; ++i) s.tracer->StartSpan("x").End();
  std::atomic<int> returned{0};
  std::thread first([&] {
    EXPECT_TRUE(s.bsp->Shutdown(absl::Now() + absl::Seconds(20)).ok());
    ++returned;
  });
  absl::SleepFor(absl::Milliseconds(50));  // the first has stopped the worker
  std::thread second([&] {
    EXPECT_TRUE(s.bsp->Shutdown(absl::Now() + absl::Seconds(20)).ok());
    EXPECT_EQ(s.exporter->total(), 25u);  // not before the drain
    ++returned;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(returned.load(), 0);  // both wait for the hung exporter
  s.exporter->release_.Notify();
  first.join();
  second.join();
  EXPECT_EQ(returned.load(), 2);
  EXPECT_EQ(s.exporter->total(), 25u);
}

TEST(BatchSpanProcessor, ShutdownReturnsByTheDeadlineWithAHungExporter) {
  BatchSpanProcessorOptions o;
  o.max_export_batch_size = 10;
  Pipeline s = Make(o, /*hang=*/true);
  for (int i = 0; i < 25; ++i) s.tracer->StartSpan("x").End();
  absl::Status st = s.provider->Shutdown(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  s.exporter->release_.Notify();  // let the worker finish after the test
  absl::SleepFor(absl::Milliseconds(50));
}

TEST(BatchSpanProcessor, TwoThreadsAtFullSpeedAccountForEverySpan) {
  Pipeline s = Make(BatchSpanProcessorOptions{});
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&s] {
      for (int i = 0; i < 50000; ++i) {
        Span span = s.tracer->StartSpan("GET /api/users", {.kind = SpanKind::kServer});
        span.SetAttribute("http.method", "GET");
        span.End();
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  const BatchSpanProcessorStats st = s.bsp->Stats();
  EXPECT_EQ(st.processed + st.dropped_queue_full, 100000);  // every span accounted for
  EXPECT_EQ(s.exporter->total(), static_cast<size_t>(st.processed));
}

using Mode = BatchSpanProcessorOptions::EndingThreadsExport;

// The engine's invariant as the span processor shows it (ended sampled
// spans = processed + dropped + still queued), as a property: threads end
// spans at full speed into a small queue while another flushes, under every
// ending-thread mode, with and without export_when_full, and a shutdown at a
// random point; at the quiescent end every span is accounted for once, and
// the exporter saw exactly the processed ones.
TEST(BatchSpanProcessor, EverySpanIsExportedDroppedOrQueuedUnderConcurrency) {
  std::mt19937 rng(20261206);
  for (int round = 0; round < 12; ++round) {
    BatchSpanProcessorOptions o;
    o.max_queue_size = 8 + static_cast<int64_t>(rng() % 256);
    o.max_export_batch_size = 1 + static_cast<int64_t>(rng() % o.max_queue_size);
    o.schedule_delay = absl::Milliseconds(1 + rng() % 20);
    o.export_when_full = rng() % 4 != 0;
    o.export_when_full_patience = absl::Milliseconds(5);
    const Mode modes[] = {Mode::kAlways, Mode::kNever, Mode::kWhenCoresBusy};
    o.ending_threads_export = modes[rng() % 3];
    auto e = std::make_unique<RecordingExporter>();
    e->never_blocks_ = rng() % 2 == 0;
    Pipeline s = Make(o, std::move(e));
    const int threads_n = 1 + static_cast<int>(rng() % 4);
    const int per_thread = 500 + static_cast<int>(rng() % 3000);
    const bool shutdown_midway = rng() % 2 == 0;
    SCOPED_TRACE(testing::Message()
                 << "round " << round << " queue " << o.max_queue_size << " batch "
                 << o.max_export_batch_size << " threads " << threads_n << " mode "
                 << static_cast<int>(o.ending_threads_export));
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) s.tracer->StartSpan("x").End();
        done.fetch_add(1);
      });
    }
    threads.emplace_back([&] {
      for (int i = 0; i < 10 && done.load() < threads_n; ++i) {
        (void)s.bsp->ForceFlush(absl::Now() + absl::Seconds(20));
      }
      if (shutdown_midway) EXPECT_TRUE(s.bsp->Shutdown(absl::Now() + absl::Seconds(20)).ok());
    });
    for (auto& th : threads) th.join();
    const int64_t ended = int64_t{threads_n} * per_thread;
    if (!shutdown_midway) {
      ASSERT_TRUE(s.bsp->ForceFlush(absl::Now() + absl::Seconds(20)).ok());
      const BatchSpanProcessorStats st = s.bsp->Stats();
      EXPECT_EQ(st.queue_size, 0);
      EXPECT_EQ(st.processed + st.dropped_queue_full, ended);
    }
    ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(20)).ok());
    const BatchSpanProcessorStats st = s.bsp->Stats();
    EXPECT_EQ(st.processed + st.dropped_queue_full, ended);
    EXPECT_EQ(static_cast<int64_t>(s.exporter->total()), st.processed);
  }
}

// Ends a batch of 64 spans a round on this thread, 5 ms apart, until
// `done(exported_on_ending_threads)` says so; at most 2,000 rounds (10 s).
// Returns whether it did.
template <typename Done>
bool EndSpansUntil(Pipeline* s, Done done) {
  for (int round = 0; round < 2000; ++round) {
    for (int i = 0; i < 64; ++i) s->tracer->StartSpan("x").End();
    absl::SleepFor(absl::Milliseconds(5));
    if (done(s->bsp->Stats().exported_on_ending_threads)) return true;
  }
  return false;
}

// Makes the processors' export threads read the spare cores from `spare`
// while it lives.
class SpareCoresForTest {
 public:
  explicit SpareCoresForTest(double cores) {
    spare_.store(cores);
    batch_span_processor_internal::SetSpareCoresForTest([] { return spare_.load(); });
  }
  ~SpareCoresForTest() { batch_span_processor_internal::SetSpareCoresForTest(nullptr); }
  void Set(double cores) { spare_.store(cores); }

 private:
  static inline std::atomic<double> spare_{0.0};
};

// Batches of 100, exported by the ending threads (kAlways).
BatchSpanProcessorOptions EndingThreadsAlways(absl::Duration schedule_delay) {
  BatchSpanProcessorOptions o;
  o.max_export_batch_size = 100;
  o.schedule_delay = schedule_delay;
  o.ending_threads_export = Mode::kAlways;
  return o;
}

TEST(BatchSpanProcessor, EndingThreadExportsTheBatchesItFillsWhenAskedTo) {
  BatchSpanProcessorOptions o = EndingThreadsAlways(absl::Hours(1));
  Pipeline s = Make(o);
  for (int i = 0; i < 350; ++i) s.tracer->StartSpan("x").End();
  // Without waiting: the full batches went out from this thread.
  EXPECT_EQ(s.exporter->batches(), (std::vector<size_t>{100, 100, 100}));
  for (std::thread::id by : s.exporter->threads()) EXPECT_EQ(by, std::this_thread::get_id());
  BatchSpanProcessorStats st = s.bsp->Stats();
  EXPECT_EQ(st.exported_on_ending_threads, 300);
  EXPECT_EQ(st.processed, 300);
  EXPECT_EQ(st.queue_size, 50);
  // The partial batch is the worker's (a flush, here).
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->batches().back(), 50u);
  EXPECT_NE(s.exporter->threads().back(), std::this_thread::get_id());
  EXPECT_EQ(s.bsp->Stats().exported_on_ending_threads, 300);
}

TEST(BatchSpanProcessor, EndingThreadsNeverExportWithoutExportWhenFull) {
  BatchSpanProcessorOptions o = EndingThreadsAlways(absl::Hours(1));
  o.export_when_full = false;  // the exporter may block: only the worker calls it
  Pipeline s = Make(o);
  for (int i = 0; i < 350; ++i) s.tracer->StartSpan("x").End();
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 350u);
  for (std::thread::id by : s.exporter->threads()) EXPECT_NE(by, std::this_thread::get_id());
  EXPECT_EQ(s.bsp->Stats().exported_on_ending_threads, 0);
}

// kWhenCoresBusy: the worker measures the spare cores every 100 ms while
// spans arrive (here: told by the test seam). None spare: the ending thread
// exports the batches it fills; cores spare again: the worker does.
TEST(BatchSpanProcessor, EndingThreadsExportWhileTheCoresAreBusy) {
  SpareCoresForTest spare(0.0);
  BatchSpanProcessorOptions o;
  o.max_export_batch_size = 64;
  o.schedule_delay = absl::Hours(1);
  ASSERT_EQ(o.ending_threads_export, Mode::kWhenCoresBusy);  // the default
  auto e = std::make_unique<RecordingExporter>();
  e->never_blocks_ = true;
  Pipeline s = Make(o, std::move(e));
  RecordingExporter* exporter = s.exporter;
  ASSERT_TRUE(EndSpansUntil(&s, [](int64_t on_ending) { return on_ending > 0; }));
  spare.Set(1.5);
  // Back to the worker: three rounds in a row without an ending thread's
  // export (each round fills a batch, which an ending thread would take).
  int64_t last = -1;
  int quiet = 0;
  ASSERT_TRUE(EndSpansUntil(&s, [&](int64_t on_ending) {
    quiet = on_ending == last ? quiet + 1 : 0;
    last = on_ending;
    return quiet == 3;
  }));
  const size_t before = exporter->batches().size();
  for (int i = 0; i < 640; ++i) s.tracer->StartSpan("x").End();
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.bsp->Stats().exported_on_ending_threads, last);
  const std::vector<std::thread::id> by = exporter->threads();
  ASSERT_GT(by.size(), before);
  for (size_t i = before; i < by.size(); ++i) EXPECT_NE(by[i], std::this_thread::get_id());
  EXPECT_EQ(s.bsp->Stats().dropped_queue_full, 0);
  EXPECT_EQ(static_cast<int64_t>(exporter->total()), s.bsp->Stats().processed);
}

// An exporter that may block (the default of ExportNeverBlocks) is left to
// the worker however busy the cores are, unless kAlways says otherwise.
TEST(BatchSpanProcessor, EndingThreadsLeaveAnExporterThatMayBlockToTheWorker) {
  SpareCoresForTest spare(0.0);
  BatchSpanProcessorOptions o;
  o.max_export_batch_size = 64;
  o.schedule_delay = absl::Hours(1);
  Pipeline s = Make(o);  // RecordingExporter: ExportNeverBlocks() is false
  // 300 ms and more: three of the worker's measurements.
  for (int round = 0; round < 60; ++round) {
    for (int i = 0; i < 64; ++i) s.tracer->StartSpan("x").End();
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.bsp->Stats().exported_on_ending_threads, 0);
  EXPECT_EQ(s.exporter->total(), 60u * 64);
  for (std::thread::id by : s.exporter->threads()) EXPECT_NE(by, std::this_thread::get_id());
}

// While the ending threads export, a full batch that none of them took (the
// thread that filled it stopped before its next look at the level) is the
// worker's at its next look, 100 ms on; not at the schedule delay.
TEST(BatchSpanProcessor, WorkerTakesAFullBatchTheEndingThreadsLeft) {
  BatchSpanProcessorOptions o = EndingThreadsAlways(absl::Hours(1));
  Pipeline s = Make(o);
  s.tracer->StartSpan("x").End();
  absl::SleepFor(absl::Milliseconds(50));  // the worker waits, polling: looks every 32nd push
  // Positions 1-99: looks at 31, 63 and 95 see 32, 64 and 96 queued.
  for (int i = 0; i < 99; ++i) s.tracer->StartSpan("x").End();
  EXPECT_EQ(s.bsp->Stats().queue_size, 100);
  for (int i = 0; i < 400 && s.exporter->total() < 100; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(s.exporter->batches(), std::vector<size_t>{100});
  ASSERT_EQ(s.exporter->threads().size(), 1u);
  EXPECT_NE(s.exporter->threads()[0], std::this_thread::get_id());
  EXPECT_EQ(s.bsp->Stats().exported_on_ending_threads, 0);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

// kAlways, batches of 100: the worker takes a first span and hangs in its
// Export, holding the exporter lock; then 250 spans end on this thread, whose
// batch waits for the lock. *worker_took: whether the worker took the first.
Pipeline EndSpansWhileTheWorkerHangsInExport(bool* worker_took) {
  BatchSpanProcessorOptions o = EndingThreadsAlways(absl::Milliseconds(1));
  Pipeline s = Make(o, /*hang=*/true);
  s.tracer->StartSpan("first").End();
  for (int i = 0; i < 200 && s.bsp->Stats().queue_size > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  *worker_took = s.bsp->Stats().queue_size == 0;
  for (int i = 0; i < 250; ++i) s.tracer->StartSpan("x").End();
  return s;
}

// An ending thread takes its batch out of the queue before it takes the
// exporter lock; when another thread holds the lock, the batch waits in the
// stripe (counted in the queue's size) and is never lost: the worker exports
// it once it is free, at a flush and at shutdown.
TEST(BatchSpanProcessor, ABatchTakenWhileTheExporterIsBusyIsExportedLater) {
  bool worker_took = false;
  Pipeline s = EndSpansWhileTheWorkerHangsInExport(&worker_took);
  ASSERT_TRUE(worker_took);
  BatchSpanProcessorStats st = s.bsp->Stats();
  EXPECT_EQ(st.queue_size, 250);  // queued, or taken out and waiting for the lock
  EXPECT_EQ(st.processed, 0);
  EXPECT_EQ(st.dropped_queue_full, 0);
  s.exporter->release_.Notify();
  ASSERT_TRUE(s.provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(s.exporter->total(), 251u);
  for (size_t n : s.exporter->batches()) EXPECT_LE(n, 100u);
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  st = s.bsp->Stats();
  EXPECT_EQ(st.processed, 251);
  EXPECT_EQ(st.queue_size, 0);
  EXPECT_EQ(st.dropped_queue_full, 0);
}

// The same at shutdown: the batches waiting for the lock are exported in
// the final drain, not dropped.
TEST(BatchSpanProcessor, ShutdownExportsTheBatchesWaitingForTheExporter) {
  bool worker_took = false;
  Pipeline s = EndSpansWhileTheWorkerHangsInExport(&worker_took);
  ASSERT_TRUE(worker_took);
  std::thread release([&s] {
    absl::SleepFor(absl::Milliseconds(50));
    s.exporter->release_.Notify();
  });
  ASSERT_TRUE(s.provider->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  release.join();
  EXPECT_EQ(s.exporter->total(), 251u);
  EXPECT_EQ(s.bsp->Stats().processed, 251);
  EXPECT_EQ(s.bsp->Stats().dropped_queue_full, 0);
}

}  // namespace
}  // namespace tracewire
