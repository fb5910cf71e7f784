// Processors and provider lifecycle, including the concurrency tests that CI
// also runs under ThreadSanitizer (their names contain "Concurrency").
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/ab_switches.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/otelweb.h"

namespace otelweb {
namespace {

using namespace std::chrono_literals;

// An exporter that can be slowed down, made to fail, or blocked until shutdown.
class TestExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<EndedSpan> batch) noexcept override {
    calls.fetch_add(1);
    if (block_until_shutdown) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return shut_down.load(); });
      return ExportResult::kFailure;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (fail) return ExportResult::kFailure;
    std::lock_guard<std::mutex> l(mu);
    for (auto& s : batch) {
      ids.insert(s->span_id().ToHex());
      batch_sizes.push_back(batch.size());
    }
    spans.fetch_add(batch.size());
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    shut_down = true;
    cv.notify_all();
    return OperationResult::Ok();
  }
  std::string_view Name() const noexcept override { return "test"; }

  std::atomic<uint64_t> calls{0}, spans{0};
  std::atomic<bool> shut_down{false};
  bool fail = false;
  bool block_until_shutdown = false;
  std::chrono::milliseconds delay{0};
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> ids;
  std::vector<size_t> batch_sizes;
};

struct BatchFixture {
  TestExporter* exporter;
  BatchSpanProcessor* batch;
  std::unique_ptr<TracerProvider> provider;
  Tracer tracer;
  explicit BatchFixture(BatchOptions opt, std::function<void(TestExporter&)> setup = nullptr) {
    auto e = std::make_unique<TestExporter>();
    exporter = e.get();
    if (setup) setup(*e);
    auto b = std::make_unique<BatchSpanProcessor>(std::move(e), opt);
    batch = b.get();
    TracerProviderOptions o;
    o.sampler = AlwaysOnSampler();
    o.processors.push_back(std::move(b));
    provider = std::make_unique<TracerProvider>(std::move(o));
    tracer = provider->GetTracer("batch-test");
  }
};

TEST(BatchProcessor, ExportsFullBatchesWithoutWaitingForTheDelay) {
  BatchOptions opt;
  opt.max_export_batch_size = 10;
  opt.schedule_delay = 60s;  // only a full batch can trigger an export
  BatchFixture f(opt);
  for (int i = 0; i < 30; ++i) f.tracer.StartSpan("s").End();
  for (int i = 0; i < 200 && f.exporter->spans.load() < 30; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(f.exporter->spans.load(), 30u);
  std::lock_guard<std::mutex> l(f.exporter->mu);
  for (size_t n : f.exporter->batch_sizes) EXPECT_LE(n, 10u);
}

// The issue-18 A/B switches of the batch worker (core/ab_switches.h): each
// arm does what the benchmark tables of docs/performance.md say it does.
// Sets the switches for one test and restores the defaults after it.
struct AbSwitchesGuard {
  ~AbSwitchesGuard() { internal::ab::Get() = internal::ab::Switches{}; }
};

BatchOptions BatchOf(uint32_t size, std::chrono::milliseconds delay) {
  BatchOptions opt;
  opt.max_export_batch_size = size;
  opt.schedule_delay = delay;
  return opt;
}

bool WaitSpans(TestExporter& e, uint64_t n) {
  for (int i = 0; i < 300 && e.spans.load() < n; ++i) std::this_thread::sleep_for(10ms);
  return e.spans.load() >= n;
}

TEST(AbSwitches, ExportOffNeverCallsTheExporterYetCountsAndRecyclesTheSpans) {
  AbSwitchesGuard g;
  internal::ab::Get().export_off = true;
  BatchFixture f(BatchOf(10, 60s));
  for (int i = 0; i < 35; ++i) f.tracer.StartSpan("s").End();
  ASSERT_TRUE(f.provider->ForceFlush(5s).ok());
  EXPECT_EQ(f.exporter->calls.load(), 0u);
  EXPECT_EQ(f.batch->counters().exported, 35u);
  for (int i = 0; i < 5; ++i) f.tracer.StartSpan("s").End();  // the records came back
  ASSERT_TRUE(f.provider->ForceFlush(5s).ok());
  EXPECT_EQ(f.batch->counters().exported, 40u);
}

TEST(AbSwitches, TimerOnlyWakeLeavesFullBatchesToTheScheduleDelay) {
  AbSwitchesGuard g;
  internal::ab::Get().wake = internal::ab::Wake::kTimerOnly;
  BatchFixture f(BatchOf(10, 60s));
  // Three full batches: by default the producer that fills one wakes the worker.
  for (int i = 0; i < 30; ++i) f.tracer.StartSpan("s").End();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(f.exporter->spans.load(), 0u);
  ASSERT_TRUE(f.provider->ForceFlush(5s).ok());
  EXPECT_EQ(f.exporter->spans.load(), 30u);
}

TEST(AbSwitches, TimerOnlyWakeExportsOnTheDelay) {
  AbSwitchesGuard g;
  internal::ab::Get().wake = internal::ab::Wake::kTimerOnly;
  BatchFixture f(BatchOf(10, 20ms));
  for (int i = 0; i < 25; ++i) f.tracer.StartSpan("s").End();
  EXPECT_TRUE(WaitSpans(*f.exporter, 25));
}

TEST(AbSwitches, WakeOnEveryEnqueueExportsOneSpanWithoutWaitingForTheDelay) {
  AbSwitchesGuard g;
  internal::ab::Get().wake = internal::ab::Wake::kEveryEnqueue;
  BatchFixture f(BatchOf(512, 60s));
  f.tracer.StartSpan("s").End();
  EXPECT_TRUE(WaitSpans(*f.exporter, 1));
}

TEST(AbSwitches, HandbackFreeStillExportsEverySpan) {
  AbSwitchesGuard g;
  internal::ab::Get().handback = internal::ab::Handback::kFree;
  BatchFixture f(BatchOf(16, 60s));
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 40; ++i) {
      Span s = f.tracer.StartSpan("s");
      s.SetAttribute("k", "value");
      s.End();
    }
    ASSERT_TRUE(f.provider->ForceFlush(5s).ok());
  }
  EXPECT_EQ(f.exporter->spans.load(), 160u);
  EXPECT_EQ(f.batch->counters().exported, 160u);
}

TEST(BatchProcessor, ScheduleDelayExportsAPartialBatch) {
  BatchOptions opt;
  opt.schedule_delay = 50ms;
  BatchFixture f(opt);
  f.tracer.StartSpan("lonely").End();
  for (int i = 0; i < 200 && f.exporter->spans.load() < 1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(f.exporter->spans.load(), 1u);
}

TEST(BatchProcessor, ForceFlushExportsEverythingQueued) {
  BatchOptions opt;
  opt.schedule_delay = 60s;
  BatchFixture f(opt);
  for (int i = 0; i < 100; ++i) f.tracer.StartSpan("s").End();
  EXPECT_TRUE(f.provider->ForceFlush(5s).ok());
  EXPECT_EQ(f.exporter->spans.load(), 100u);
  EXPECT_EQ(f.batch->counters().exported, 100u);
}

TEST(BatchProcessor, ShutdownDrainsAndLaterSpansAreNoOps) {
  BatchOptions opt;
  opt.schedule_delay = 60s;
  BatchFixture f(opt);
  for (int i = 0; i < 700; ++i) f.tracer.StartSpan("s").End();
  EXPECT_TRUE(f.provider->Shutdown(5s).ok());
  EXPECT_EQ(f.exporter->spans.load(), 700u);
  EXPECT_TRUE(f.exporter->shut_down.load());
  EXPECT_EQ(f.provider->Shutdown(1s), OperationResult::AlreadyShutDown());
  EXPECT_EQ(f.provider->ForceFlush(1s), OperationResult::AlreadyShutDown());
  Span late = f.tracer.StartSpan("late");
  EXPECT_FALSE(late.IsRecording());
  EXPECT_FALSE(f.tracer.Enabled());
}

TEST(BatchProcessor, QueueFullDropsAreCountedAndWarnedOnce) {
  testing::DiagnosticsCapture diag;
  BatchOptions opt;
  opt.max_queue_size = 16;
  opt.max_export_batch_size = 16;
  opt.schedule_delay = 60s;
  BatchFixture f(opt, [](TestExporter& e) { e.block_until_shutdown = true; });
  for (int i = 0; i < 100; ++i) f.tracer.StartSpan("s").End();
  // The worker holds at most one batch (16) in the blocked export, the queue 16 more.
  ProcessorCounters c = f.batch->counters();
  EXPECT_GE(c.dropped_queue_full, 100u - 32u);
  EXPECT_LE(c.dropped_queue_full, 100u - 16u);
  EXPECT_EQ(diag.Count("queue is full"), 1u);
  EXPECT_GE(GetSdkCounters().spans_dropped_queue_full, c.dropped_queue_full);
  auto t0 = std::chrono::steady_clock::now();
  OperationResult r = f.provider->Shutdown(300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(r, OperationResult::Timeout());
  // Every span is accounted for by reason once Shutdown has returned: the
  // stuck batch and the queue behind it are counted dropped_deadline.
  c = f.batch->counters();
  EXPECT_EQ(c.exported + c.not_exported(), 100u);
  // The blocked batch fails when the exporter's shutdown interrupts it, or is
  // counted dropped_deadline if Shutdown took it over first.
  EXPECT_GE(c.dropped_deadline + c.export_failed, 16u);
  EXPECT_GE(GetSdkCounters().spans_dropped_deadline, c.dropped_deadline);
  EXPECT_EQ(diag.Count("not exported (counted dropped_deadline)"), 1u);
}

TEST(BatchProcessor, ShutdownWithAStuckExporterReturnsWithinItsDeadline) {
  BatchOptions opt;
  opt.schedule_delay = 10ms;
  BatchFixture f(opt, [](TestExporter& e) { e.delay = 2s; });
  f.tracer.StartSpan("s").End();
  std::this_thread::sleep_for(50ms);  // the worker is now inside the slow export
  auto t0 = std::chrono::steady_clock::now();
  OperationResult r = f.provider->Shutdown(200ms);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r, OperationResult::Timeout());
  EXPECT_LT(took, 1s);
}

TEST(BatchProcessor, FailedExportsAreCounted) {
  BatchOptions opt;
  opt.schedule_delay = 60s;
  BatchFixture f(opt, [](TestExporter& e) { e.fail = true; });
  for (int i = 0; i < 5; ++i) f.tracer.StartSpan("s").End();
  f.provider->ForceFlush(5s);
  EXPECT_EQ(f.batch->counters().export_failed, 5u);
  EXPECT_EQ(f.batch->counters().exported, 0u);
}

TEST(BatchProcessor, OptionsComeFromTheEnvironmentWhenNotInCode) {
  testing::ScopedEnv env{{"OTEL_BSP_MAX_QUEUE_SIZE", "100"}, {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10"}};
  BatchOptions code;
  code.schedule_delay = 123ms;
  ResolvedBatchOptions r = ResolveBatchOptions(code);
  env.Restore();
  EXPECT_EQ(r.max_queue_size, 100u);
  EXPECT_EQ(r.max_export_batch_size, 10u);
  EXPECT_EQ(r.schedule_delay, 123ms);
  EXPECT_EQ(r.export_timeout, 30000ms);
}

TEST(SimpleProcessor, ExportsEachSampledSpanOnTheEndingThread) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto sp = std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store));
  SimpleSpanProcessor* simple = sp.get();
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::move(sp));
  TracerProvider p(std::move(o));
  Tracer t = p.GetTracer("s");
  t.StartSpan("a").End();
  EXPECT_EQ(store->size(), 1u);  // synchronously
  EXPECT_EQ(simple->counters().exported, 1u);
}

// The simple processor never runs two exports at once, also when threads end
// spans together and the exporter is slow enough for them to queue (its lock
// then sleeps in the kernel); nothing is lost. Runs under TSan ("Concurrency").
TEST(SimpleProcessorConcurrency, ExportsAreSerialisedAcrossThreadsAndNoneIsLost) {
  struct Exclusive final : SpanExporter {
    ExportResult Export(std::span<EndedSpan> batch) noexcept override {
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      if (count.fetch_add(batch.size()) % 64 == 0) std::this_thread::sleep_for(50us);
      inside.fetch_sub(1);
      return ExportResult::kSuccess;
    }
    OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
    std::string_view Name() const noexcept override { return "exclusive"; }
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<uint64_t> count{0};
  };
  auto ex = std::make_unique<Exclusive>();
  Exclusive* e = ex.get();
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::move(ex)));
  TracerProvider p(std::move(o));
  Tracer t = p.GetTracer("s");
  constexpr int kThreads = 4, kSpans = 2000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kSpans; ++j) t.StartSpan("x").End();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(e->overlaps.load(), 0);
  EXPECT_EQ(e->count.load(), uint64_t(kThreads) * kSpans);
}

TEST(Provider, SeveralProcessorsAllSeeEverySpan) {
  auto s1 = std::make_shared<InMemorySpanStore>();
  auto s2 = std::make_shared<InMemorySpanStore>();
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(s1)));
  TracerProvider p(std::move(o));
  p.AddProcessor(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(s2)));
  Tracer t = p.GetTracer("multi");
  { Span s = t.StartSpan("both"); s.SetAttribute("k", "v"); }
  ASSERT_EQ(s1->size(), 1u);
  ASSERT_EQ(s2->size(), 1u);
  EXPECT_EQ(s1->spans()[0], s2->spans()[0]);  // one record shared by reference
  s1->Reset();
  AttributeView v;
  EXPECT_TRUE(s2->spans()[0]->FindAttribute("k", &v));  // still alive for the other holder
  EXPECT_EQ(v.as_string(), "v");
}

TEST(Provider, TracersAreCachedPerScope) {
  TracerProvider p;
  Tracer a = p.GetTracer("lib", "1.0");
  Tracer b = p.GetTracer("lib", "1.0");
  Tracer c = p.GetTracer("lib", "2.0");
  EXPECT_EQ(&a.scope(), &b.scope());
  EXPECT_NE(&a.scope(), &c.scope());
}

TEST(Provider, GlobalIsNoOpUntilSet) {
  SetTracerProvider(nullptr);
  Span s = GetTracer("x").StartSpan("nothing");
  EXPECT_FALSE(s.IsRecording());
  auto store = std::make_shared<InMemorySpanStore>();
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
  SetTracerProvider(std::make_shared<TracerProvider>(std::move(o)));
  GetTracer("x").StartSpan("something").End();
  EXPECT_EQ(store->size(), 1u);
  SetTracerProvider(nullptr);
}

TEST(Provider, SpanOutlivingItsProviderIsHarmless) {
  auto store = std::make_shared<InMemorySpanStore>();
  Span survivor;
  Tracer t;
  {
    TracerProviderOptions o;
    o.sampler = AlwaysOnSampler();
    o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
    TracerProvider p(std::move(o));
    t = p.GetTracer("gone");
    survivor = t.StartSpan("survivor");
  }
  survivor.SetAttribute("after", 1);
  survivor.End();
  EXPECT_EQ(store->size(), 0u);  // dropped after shutdown, never a crash
  EXPECT_FALSE(t.StartSpan("later").IsRecording());
}

// --- Concurrency (also run under ThreadSanitizer) ---------------------------

TEST(Concurrency, ManyThreadsNestSpansWhileFlushing) {
  BatchOptions opt;
  opt.max_queue_size = 1 << 16;
  opt.schedule_delay = 5ms;
  BatchFixture f(opt);
  constexpr int kThreads = 8, kIters = 2000;
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kIters; ++i) {
        Span a = f.tracer.StartSpan("outer");
        Scope sa(a.AsContext());
        Span b = f.tracer.StartSpan("inner");
        b.SetAttribute("i", i);
        Scope sb(b.AsContext());
        GetCurrentSpan().AddEvent("e");
      }
    });
  }
  go = true;
  std::thread flusher([&] {
    for (int i = 0; i < 20; ++i) {
      f.provider->ForceFlush(5s);
      std::this_thread::sleep_for(1ms);
    }
  });
  for (auto& t : ts) t.join();
  flusher.join();
  EXPECT_TRUE(f.provider->ForceFlush(10s).ok());
  const uint64_t total = uint64_t(kThreads) * kIters * 2;
  ProcessorCounters c = f.batch->counters();
  EXPECT_EQ(c.exported + c.dropped_queue_full, total);
  EXPECT_EQ(c.dropped_queue_full, 0u);
  std::lock_guard<std::mutex> l(f.exporter->mu);
  EXPECT_EQ(f.exporter->ids.size(), total);  // every span exactly once, ids unique
}

TEST(Concurrency, ShutdownWhileThreadsAreEndingSpans) {
  BatchOptions opt;
  opt.schedule_delay = 1ms;
  BatchFixture f(opt);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> recorded{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      uint64_t mine = 0;
      for (int i = 0; i < 100000 && !stop.load(std::memory_order_relaxed); ++i) {
        Span s = f.tracer.StartSpan("racing");
        s.SetAttribute("k", i);
        if (s.IsRecording()) ++mine;  // it reaches the processor when it ends
      }
      recorded += mine;
    });
  }
  std::this_thread::sleep_for(20ms);
  OperationResult r = f.provider->Shutdown(5s);
  EXPECT_TRUE(r.ok());
  stop = true;
  for (auto& t : ts) t.join();
  ProcessorCounters c = f.batch->counters();
  EXPECT_EQ(c.exported, f.exporter->spans.load());
  EXPECT_GT(c.exported, 0u);
  // Every span that reached the processor is accounted for: none stranded in
  // the queue by a race with the worker's last drain.
  EXPECT_EQ(recorded.load(), c.exported + c.not_exported());
}

TEST(Concurrency, RecordsFlowBackToExitedThreadsPools) {
  // Threads that exit while their spans are still queued hand their pools on.
  BatchOptions opt;
  opt.max_queue_size = 1 << 15;
  opt.schedule_delay = 1ms;
  BatchFixture f(opt);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&] {
        for (int i = 0; i < 200; ++i) f.tracer.StartSpan("short-lived-thread").End();
      });
    }
    for (auto& t : ts) t.join();
  }
  EXPECT_TRUE(f.provider->ForceFlush(10s).ok());
  EXPECT_EQ(f.exporter->spans.load(), 20u * 4 * 200);
}

}  // namespace
}  // namespace otelweb
