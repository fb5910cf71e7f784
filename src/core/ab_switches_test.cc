// The issue-18 A/B switches of the batch worker (core/ab_switches.h): each
// arm does what the benchmark tables say it does.
#include "core/ab_switches.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "otelweb/otelweb.h"

namespace otelweb {
namespace {

using namespace std::chrono_literals;

// Counts the calls and spans it is given.
class CountingExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<EndedSpan> batch) noexcept override {
    calls.fetch_add(1);
    spans.fetch_add(batch.size());
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "counting"; }
  std::atomic<uint64_t> calls{0}, spans{0};
};

// Sets the switches for one test and restores the defaults after it.
class AbSwitchesTest : public ::testing::Test {
 protected:
  void TearDown() override { internal::ab::Get() = internal::ab::Switches{}; }

  // A provider with a batch processor built after the switches were set.
  void Build(std::chrono::milliseconds delay, uint32_t batch_size) {
    auto e = std::make_unique<CountingExporter>();
    exporter = e.get();
    BatchOptions opt;
    opt.schedule_delay = delay;
    opt.max_export_batch_size = batch_size;
    auto b = std::make_unique<BatchSpanProcessor>(std::move(e), opt);
    batch = b.get();
    TracerProviderOptions o;
    o.sampler = AlwaysOnSampler();
    o.processors.push_back(std::move(b));
    provider = std::make_unique<TracerProvider>(std::move(o));
    tracer = provider->GetTracer("ab-test");
  }
  void Spans(int n) {
    for (int i = 0; i < n; ++i) {
      Span s = tracer.StartSpan("s");
      s.SetAttribute("k", "value");
      s.End();
    }
  }
  // Waits (bounded) until the exporter has seen n spans.
  bool WaitExported(uint64_t n) {
    for (int i = 0; i < 300 && exporter->spans.load() < n; ++i) std::this_thread::sleep_for(10ms);
    return exporter->spans.load() >= n;
  }

  CountingExporter* exporter = nullptr;
  BatchSpanProcessor* batch = nullptr;
  std::unique_ptr<TracerProvider> provider;
  Tracer tracer;
};

TEST_F(AbSwitchesTest, ExportOffNeverCallsTheExporterYetCountsAndRecyclesTheSpans) {
  internal::ab::Get().export_off = true;
  Build(60s, 10);
  Spans(35);
  ASSERT_TRUE(provider->ForceFlush(5s).ok());
  EXPECT_EQ(exporter->calls.load(), 0u);
  EXPECT_EQ(batch->counters().exported, 35u);
  Spans(5);  // records came back: the pipeline keeps working
  ASSERT_TRUE(provider->ForceFlush(5s).ok());
  EXPECT_EQ(batch->counters().exported, 40u);
}

TEST_F(AbSwitchesTest, TimerOnlyWakeLeavesFullBatchesToTheScheduleDelay) {
  internal::ab::Get().wake = internal::ab::Wake::kTimerOnly;
  Build(60s, 10);
  Spans(30);  // three full batches: by default the third span's producer wakes the worker
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(exporter->spans.load(), 0u);
  ASSERT_TRUE(provider->ForceFlush(5s).ok());
  EXPECT_EQ(exporter->spans.load(), 30u);
}

TEST_F(AbSwitchesTest, TimerOnlyWakeExportsOnTheDelay) {
  internal::ab::Get().wake = internal::ab::Wake::kTimerOnly;
  Build(20ms, 10);
  Spans(25);
  EXPECT_TRUE(WaitExported(25));
}

TEST_F(AbSwitchesTest, WakeOnEveryEnqueueExportsOneSpanWithoutWaitingForTheDelay) {
  internal::ab::Get().wake = internal::ab::Wake::kEveryEnqueue;
  Build(60s, 512);
  Spans(1);
  EXPECT_TRUE(WaitExported(1));
}

TEST_F(AbSwitchesTest, HandbackFreeStillExportsEverySpan) {
  internal::ab::Get().handback = internal::ab::Handback::kFree;
  Build(60s, 16);
  for (int round = 0; round < 4; ++round) {
    Spans(40);
    ASSERT_TRUE(provider->ForceFlush(5s).ok());
  }
  EXPECT_EQ(exporter->spans.load(), 160u);
  EXPECT_EQ(batch->counters().exported, 160u);
}

}  // namespace
}  // namespace otelweb
