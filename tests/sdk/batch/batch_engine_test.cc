// sdk::BatchEngine: when it exports, what it counts, that ForceFlush and
// Shutdown return by their deadlines, and the invariant
// ended = exported + dropped + held, as a property under concurrent
// producers, flushes and shutdowns. Tests wait on events (the exporter's
// calls, the worker's passes), never on sleeps; the schedule delay runs on a
// FakeClock.

#include "sdk/batch/batch_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "sdk/batch/ending_thread_export.h"

namespace tracewire::sdk {
namespace {

// A record that counts how many of its kind are alive.
std::atomic<int64_t> g_live{0};
struct Tracked {
  explicit Tracked(int64_t i) : id(i) { g_live.fetch_add(1); }
  ~Tracked() { g_live.fetch_sub(1); }
  int64_t id;
};
using Rec = std::unique_ptr<Tracked>;
using Engine = BatchEngine<Rec>;

// The test's exporter: records ids and batch sizes; can be made to block
// (until Release) or to fail.
class Sink {
 public:
  Engine::ExportFn Fn() {
    return [this](std::span<Rec> batch) -> absl::Status {
      absl::MutexLock l(&mu_);
      ++calls_in_;
      mu_.Await(absl::Condition(
          +[](bool* open) { return *open; }, &open_));
      batches_.push_back(batch.size());
      for (const Rec& r : batch) ids_.push_back(r->id);
      const bool fail = fail_every_ > 0 && batches_.size() % fail_every_ == 0;
      if (!fail) ok_records_ += static_cast<int64_t>(batch.size());
      return fail ? absl::UnavailableError("test failure") : absl::OkStatus();
    };
  }
  void Block() {
    absl::MutexLock l(&mu_);
    open_ = false;
  }
  void Release() {
    absl::MutexLock l(&mu_);
    open_ = true;
  }
  void FailEvery(size_t n) {
    absl::MutexLock l(&mu_);
    fail_every_ = n;
  }
  // Waits (bounded) until `n` records were exported; false on timeout.
  bool WaitForRecords(size_t n) {
    absl::MutexLock l(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return ids_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  // Waits until an Export call has begun (it may be blocked).
  bool WaitForCallsIn(int n) {
    absl::MutexLock l(&mu_);
    auto entered = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return calls_in_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&entered), absl::Seconds(30));
  }
  std::vector<size_t> batches() {
    absl::MutexLock l(&mu_);
    return batches_;
  }
  std::vector<int64_t> ids() {
    absl::MutexLock l(&mu_);
    return ids_;
  }
  int64_t ok_records() {
    absl::MutexLock l(&mu_);
    return ok_records_;
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int calls_in_ ABSL_GUARDED_BY(mu_) = 0;
  size_t fail_every_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<size_t> batches_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> ids_ ABSL_GUARDED_BY(mu_);
  int64_t ok_records_ ABSL_GUARDED_BY(mu_) = 0;
};

BatchEngineOptions Options(common::Clock* clock, size_t queue, size_t batch) {
  BatchEngineOptions o;
  o.max_queue_size = queue;
  o.max_export_batch_size = batch;
  o.schedule_delay = absl::Seconds(5);
  o.clock = clock;
  return o;
}

template <typename E>
bool Offer(E& e, int64_t id) {
  Rec r = std::make_unique<Tracked>(id);
  return e.Offer(r);
}

// Waits until the worker has made a pass after `before` passes.
bool WaitForPass(Engine& e, int64_t before) {
  for (int i = 0; i < 300000; ++i) {  // bounded; each turn yields
    if (e.Stats().worker_passes > before) return true;
    std::this_thread::yield();
  }
  return false;
}

TEST(BatchEngine, ExportsWhenABatchIsFull) {
  common::FakeClock clock;
  Sink sink;
  auto e = Engine::Create(Options(&clock, 16, 4), sink.Fn());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Offer(*e, i));
  ASSERT_TRUE(sink.WaitForRecords(4));
  EXPECT_EQ(sink.batches(), std::vector<size_t>{4});
  EXPECT_EQ(sink.ids(), (std::vector<int64_t>{0, 1, 2, 3}));
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(e->Stats().exported, 4);
  EXPECT_EQ(g_live.load(), 0);
}

TEST(BatchEngine, ExportsAPartialBatchOnlyOnceTheScheduleDelayHasPassed) {
  common::FakeClock clock;
  Sink sink;
  auto e = Engine::Create(Options(&clock, 16, 4), sink.Fn());
  ASSERT_TRUE(Offer(*e, 7));
  clock.Advance(absl::Seconds(4));
  int64_t passes = e->Stats().worker_passes;
  e->WakeForTest();
  ASSERT_TRUE(WaitForPass(*e, passes));
  EXPECT_EQ(e->Stats().exported, 0) << "exported before the schedule delay";
  EXPECT_EQ(e->Stats().queued, 1);
  clock.Advance(absl::Seconds(1));
  e->WakeForTest();
  ASSERT_TRUE(sink.WaitForRecords(1));
  EXPECT_EQ(sink.ids(), std::vector<int64_t>{7});
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

TEST(BatchEngine, ForceFlushExportsWhatWasQueuedBeforeIt) {
  common::FakeClock clock;
  Sink sink;
  auto e = Engine::Create(Options(&clock, 64, 8), sink.Fn());
  for (int i = 0; i < 19; ++i) ASSERT_TRUE(Offer(*e, i));
  ASSERT_TRUE(e->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(sink.ids().size(), 19u);
  for (size_t b : sink.batches()) EXPECT_LE(b, 8u);
  const BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.exported, 19);
  EXPECT_EQ(s.held(), 0);
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

TEST(BatchEngine, ShutdownExportsWhatIsQueuedAndLaterOffersDrop) {
  common::FakeClock clock;
  Sink sink;
  auto e = Engine::Create(Options(&clock, 64, 8), sink.Fn());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Offer(*e, i));
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(sink.ids().size(), 5u);
  EXPECT_FALSE(Offer(*e, 99));
  const BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.ended, 6);
  EXPECT_EQ(s.exported, 5);
  EXPECT_EQ(s.dropped_shutdown, 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(e->ForceFlush(absl::Now() + absl::Seconds(1))));
  EXPECT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(1)).ok()) << "a second Shutdown";
  EXPECT_EQ(g_live.load(), 0);
}

TEST(BatchEngine, AFullQueueDropsAndCounts) {
  common::FakeClock clock;
  Sink sink;
  sink.Block();
  auto e = Engine::Create(Options(&clock, 4, 2), sink.Fn());
  ASSERT_TRUE(Offer(*e, 0));
  ASSERT_TRUE(Offer(*e, 1));  // a batch: the worker takes it and blocks in the export
  ASSERT_TRUE(sink.WaitForCallsIn(1));
  for (int i = 2; i < 6; ++i) ASSERT_TRUE(Offer(*e, i)) << i;  // 4 cells
  EXPECT_FALSE(Offer(*e, 6));
  EXPECT_FALSE(Offer(*e, 7));
  BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.dropped_queue_full, 2);
  EXPECT_EQ(s.in_export, 2);
  EXPECT_EQ(s.queued, 4);
  EXPECT_EQ(s.ended, s.exported + s.dropped() + s.held());
  sink.Release();
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  s = e->Stats();
  EXPECT_EQ(s.exported, 6);
  EXPECT_EQ(s.dropped_queue_full, 2);
  EXPECT_EQ(s.ended, 8);
}

TEST(BatchEngine, FailedExportsAreCountedAsDrops) {
  common::FakeClock clock;
  Sink sink;
  sink.FailEvery(1);
  auto e = Engine::Create(Options(&clock, 16, 4), sink.Fn());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Offer(*e, i));
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  const BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.exported, 0);
  EXPECT_EQ(s.dropped_export_failed, 6);
  EXPECT_EQ(g_live.load(), 0);
}

TEST(BatchEngine, ShutdownAndFlushReturnByTheirDeadlineWhileTheExporterHangs) {
  common::FakeClock clock;
  Sink sink;
  sink.Block();
  auto e = Engine::Create(Options(&clock, 16, 2), sink.Fn());
  ASSERT_TRUE(Offer(*e, 0));
  ASSERT_TRUE(Offer(*e, 1));
  ASSERT_TRUE(sink.WaitForCallsIn(1));
  ASSERT_TRUE(Offer(*e, 2));
  EXPECT_TRUE(absl::IsDeadlineExceeded(e->ForceFlush(absl::Now() + absl::Milliseconds(50))));
  EXPECT_TRUE(absl::IsDeadlineExceeded(e->Shutdown(absl::Now() + absl::Milliseconds(50))));
  sink.Release();
  // The worker returns from the export, finds the deadline passed, and drops
  // what is still queued; a Shutdown with time left then sees it done.
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(30)).ok());
  const BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.exported, 2);
  EXPECT_EQ(s.dropped_shutdown, 1);
  EXPECT_EQ(s.held(), 0);
}

TEST(BatchEngine, AnOfferThatFindsTheQueueFullExportsABatchItselfWhenAsked) {
  common::FakeClock clock;
  Sink sink;
  BatchEngineOptions o = Options(&clock, 4, 2);
  o.offer_exports_when_full = true;
  o.start_worker = false;  // only offering threads export
  auto e = Engine::Create(o, sink.Fn());
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(Offer(*e, i)) << i;
  BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.dropped_queue_full, 0);
  EXPECT_EQ(s.exported_by_offering_threads, 6);  // at the 5th, 7th and 9th offer
  EXPECT_EQ(sink.ids(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(s.queued, 3);
  EXPECT_EQ(s.ended, s.exported + s.dropped() + s.held());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());  // drains on this thread
  s = e->Stats();
  EXPECT_EQ(s.exported, 9);
  EXPECT_EQ(g_live.load(), 0);
}

// While another thread exports, an Offer that finds the queue full waits
// (yielding) for room instead of dropping.
TEST(BatchEngine, AnOfferThatFindsTheQueueFullWhileAnExportRunsWaitsForRoom) {
  common::FakeClock clock;
  Sink sink;
  BatchEngineOptions o = Options(&clock, 2, 1);
  o.offer_exports_when_full = true;
  o.full_queue_patience = absl::Seconds(60);
  o.start_worker = false;
  auto e = Engine::Create(o, sink.Fn());
  ASSERT_TRUE(Offer(*e, 0));
  ASSERT_TRUE(Offer(*e, 1));
  sink.Block();
  std::thread exporting([&] { EXPECT_TRUE(Offer(*e, 2)); });  // exports record 0, blocks
  ASSERT_TRUE(sink.WaitForCallsIn(1));
  ASSERT_TRUE(Offer(*e, 3));  // the cell record 0 left
  std::atomic<bool> queued{false};
  std::thread waiting([&] {
    EXPECT_TRUE(Offer(*e, 4));  // full, and the export is busy: waits
    queued = true;
  });
  EXPECT_FALSE(queued.load());
  EXPECT_EQ(e->Stats().dropped_queue_full, 0);
  sink.Release();
  exporting.join();
  waiting.join();
  EXPECT_TRUE(queued.load());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  const BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.dropped_queue_full, 0);
  EXPECT_EQ(s.exported, 5);
  EXPECT_EQ(g_live.load(), 0);
}

// An export that is stuck (no record leaves the queue) makes a waiting Offer
// give up after full_queue_patience and drop its record, counted.
TEST(BatchEngine, AnOfferGivesUpWhenTheExportIsStuck) {
  common::FakeClock clock;
  Sink sink;
  BatchEngineOptions o = Options(&clock, 2, 1);
  o.offer_exports_when_full = true;
  o.full_queue_patience = absl::Milliseconds(20);
  o.start_worker = false;
  auto e = Engine::Create(o, sink.Fn());
  ASSERT_TRUE(Offer(*e, 0));
  ASSERT_TRUE(Offer(*e, 1));
  sink.Block();
  std::thread exporting([&] { EXPECT_TRUE(Offer(*e, 2)); });
  ASSERT_TRUE(sink.WaitForCallsIn(1));
  ASSERT_TRUE(Offer(*e, 3));
  EXPECT_FALSE(Offer(*e, 4));  // returns after the patience, the export still stuck
  EXPECT_EQ(e->Stats().dropped_queue_full, 1);
  sink.Release();
  exporting.join();
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  const BatchEngineStats s = e->Stats();
  EXPECT_EQ(s.exported, 4);
  EXPECT_EQ(s.ended, s.exported + s.dropped() + s.held());
}

TEST(BatchEngine, WithoutTheOptionAFullQueueDropsEvenWithNoExportRunning) {
  common::FakeClock clock;
  Sink sink;
  BatchEngineOptions o = Options(&clock, 4, 2);
  o.start_worker = false;
  auto e = Engine::Create(o, sink.Fn());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Offer(*e, i));
  EXPECT_FALSE(Offer(*e, 4));
  EXPECT_EQ(e->Stats().dropped_queue_full, 1);
  EXPECT_TRUE(sink.ids().empty());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(e->Stats().exported, 4);
}

// The property: whatever the interleaving of producers, flushes, failing
// exports and a shutdown, at the quiescent end every record offered is
// exported, dropped (by reason) or still held, exactly once; the exporter
// saw no record twice; and every record was released exactly once.
// `E` is the engine: the plain core, or the core with the ending-thread
// layer as the span processor uses it (producers then also claim a cell
// before they make the record, as Span::End does, and batches wait in the
// stripes when the exporter is busy).
template <typename E>
void CheckEveryRecordIsAccountedFor(
    uint32_t seed, std::function<typename E::ExportFn(Sink*)> wrap_fn,
    std::function<std::unique_ptr<E>(const BatchEngineOptions&, typename E::ExportFn)> create) {
  std::mt19937 rng(seed);
  for (int round = 0; round < 24; ++round) {
    common::FakeClock clock;
    Sink sink;
    sink.FailEvery(1 + rng() % 5);
    const size_t queue = 2 + rng() % 64;
    const size_t batch = 1 + rng() % queue;
    const int producers = 1 + static_cast<int>(rng() % 6);
    const int per_producer = 200 + static_cast<int>(rng() % 2000);
    const bool shutdown_midway = rng() % 2 == 0;
    SCOPED_TRACE(testing::Message() << "round " << round << " queue " << queue << " batch " << batch
                                    << " producers " << producers);
    BatchEngineOptions o = Options(&clock, queue, batch);
    o.offer_exports_when_full = rng() % 2 == 0;
    auto e = create(o, wrap_fn(&sink));
    std::atomic<int64_t> refused{0};
    std::atomic<int> producers_done{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < per_producer; ++i) {
          const int64_t id = int64_t{p} * 1000000 + i;
          typename E::Slot slot;
          if (i % 2 == 0 && e->TryClaim(&slot)) {  // claim first, then make the record
            e->Fill(slot, std::make_unique<Tracked>(id));
            continue;
          }
          Rec r = std::make_unique<Tracked>(id);
          if (!e->Offer(r)) refused.fetch_add(1);
        }
        producers_done.fetch_add(1);
      });
    }
    threads.emplace_back([&] {  // flushes while producers run, then maybe shuts down
      for (int i = 0; i < 20 && producers_done.load() < producers; ++i) {
        absl::Status st = e->ForceFlush(absl::Now() + absl::Seconds(30));
        EXPECT_TRUE(st.ok() || absl::IsFailedPrecondition(st)) << st;
        clock.Advance(absl::Seconds(1));
        e->WakeForTest();
      }
      if (shutdown_midway) EXPECT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(30)).ok());
    });
    for (auto& t : threads) t.join();
    if (!shutdown_midway) {
      // Quiescent, not shut down: a flush empties the queue (and the
      // layer's batches in hand).
      ASSERT_TRUE(e->ForceFlush(absl::Now() + absl::Seconds(30)).ok());
      BatchEngineStats s = e->Stats();
      EXPECT_EQ(s.ended, int64_t{producers} * per_producer);
      EXPECT_EQ(s.ended, s.exported + s.dropped() + s.held());
      EXPECT_EQ(s.held(), 0);
      EXPECT_EQ(g_live.load(), s.held());
    }
    ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(30)).ok());
    const BatchEngineStats s = e->Stats();
    EXPECT_EQ(s.ended, int64_t{producers} * per_producer);
    EXPECT_EQ(s.ended, s.exported + s.dropped() + s.held());
    EXPECT_EQ(s.exported, sink.ok_records());
    // Offer refuses only what it counts as dropped (queue full or shut
    // down); a refused record is never queued.
    EXPECT_GE(s.dropped_queue_full + s.dropped_shutdown, refused.load());
    EXPECT_EQ(g_live.load(), s.held()) << "a record released twice, or never";
    const std::vector<int64_t> ids = sink.ids();
    EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), ids.size()) << "exported twice";
    EXPECT_EQ(static_cast<int64_t>(ids.size()), s.exported + s.dropped_export_failed);
    EXPECT_EQ(s.exported_by_offering_threads + s.exported_on_ending_threads <=
                  s.exported + s.dropped_export_failed,
              true);
    e.reset();
    EXPECT_EQ(g_live.load(), 0);
  }
}

TEST(BatchEngine, EveryRecordIsExportedDroppedOrHeldUnderConcurrency) {
  CheckEveryRecordIsAccountedFor<Engine>(
      20261205, [](Sink* s) { return s->Fn(); },
      [](const BatchEngineOptions& o, Engine::ExportFn fn) {
        return Engine::Create(o, std::move(fn));
      });
}

// The layered engine as the span processor uses it: striped, batches
// exported on the offering threads (kAlways, or kWhenCoresBusy with the
// cores reported busy then idle), batches that wait in the stripes for a
// busy exporter, and the exporter sometimes slow.
using LayeredEngine = BatchEngine<Rec, EndingThreadLayer<Rec>>;

TEST(BatchEngine, WithTheEndingThreadLayerEveryRecordIsExportedDroppedOrHeld) {
  static std::atomic<double> spare{0.0};
  SpareCoresForTest().store(+[] { return spare.load(); });
  for (const EndingThreadsExport mode :
       {EndingThreadsExport::kAlways, EndingThreadsExport::kWhenCoresBusy,
        EndingThreadsExport::kNever}) {
    SCOPED_TRACE(static_cast<int>(mode));
    int calls = 0;
    CheckEveryRecordIsAccountedFor<LayeredEngine>(
        20261206 + static_cast<uint32_t>(mode),
        [&calls](Sink* s) -> LayeredEngine::ExportFn {
          auto fn = s->Fn();
          return [fn, &calls](std::span<Rec> batch) {
            // Now and then slow, so that ending threads find it busy.
            if (++calls % 7 == 0) std::this_thread::yield();
            spare.store(calls % 50 < 25 ? 0.0 : 1.0);
            return fn(batch);
          };
        },
        [mode](const BatchEngineOptions& o, LayeredEngine::ExportFn fn) {
          EndingThreadLayer<Rec>::Options lo;
          lo.mode = mode;
          return LayeredEngine::Create(o, std::move(fn), nullptr, lo);
        });
  }
  SpareCoresForTest().store(nullptr);
}

// The ending-thread layer (kAlways): a level check on the offering thread
// exports the full batch it finds, on that thread. When another thread holds
// the exporter, the batch it took waits in its stripe, counted in hand (not
// queued, not lost), until the exporter is free and a flush exports it.
TEST(BatchEngine, TheEndingThreadLayerExportsOnTheOfferingThreadAndKeepsBusyBatchesInHand) {
  common::FakeClock clock;
  Sink sink;
  BatchEngineOptions o = Options(&clock, 256, 8);
  EndingThreadLayer<Rec>::Options lo;
  lo.mode = EndingThreadsExport::kAlways;
  std::atomic<int> on_this_thread{0};
  const std::thread::id me = std::this_thread::get_id();
  auto fn = sink.Fn();
  auto e = LayeredEngine::Create(
      o,
      [&](std::span<Rec> batch) {
        if (std::this_thread::get_id() == me) on_this_thread.fetch_add(1);
        return fn(batch);
      },
      nullptr, lo);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(Offer(*e, i));
  BatchEngineStats s = e->Stats();
  EXPECT_GT(s.exported_on_ending_threads, 0);
  EXPECT_GT(on_this_thread.load(), 0);
  EXPECT_EQ(s.ended, s.exported + s.dropped() + s.held());
  ASSERT_TRUE(e->ForceFlush(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(e->Stats().exported, 64);

  // The worker holds the exporter (a flush of one record, the exporter
  // blocked) while this thread fills its stripe.
  const int calls_before = static_cast<int>(sink.batches().size());
  const int64_t on_ending_before = e->Stats().exported_on_ending_threads;
  sink.Block();
  ASSERT_TRUE(Offer(*e, 64));
  std::thread flusher([&] { EXPECT_TRUE(e->ForceFlush(absl::Now() + absl::Seconds(30)).ok()); });
  ASSERT_TRUE(sink.WaitForCallsIn(calls_before + 1));
  for (int i = 65; i < 97; ++i) ASSERT_TRUE(Offer(*e, i));
  s = e->Stats();
  EXPECT_GE(s.in_hand, 8) << "a batch taken out while the exporter was busy waits in hand";
  EXPECT_EQ(s.exported_on_ending_threads, on_ending_before);
  EXPECT_EQ(s.ended, 97);
  sink.Release();
  flusher.join();
  ASSERT_TRUE(e->ForceFlush(absl::Now() + absl::Seconds(30)).ok());
  s = e->Stats();
  EXPECT_EQ(s.exported, 97);
  EXPECT_EQ(s.held(), 0);
  EXPECT_EQ(g_live.load(), 0);
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace tracewire::sdk
