// BatchWorker<Item> with an item that is not a span (what a batch log-record
// processor does): batching, flush, zero schedule delay, queue full, and
// shutdown against an export that never returns by itself.
#include "core/batch_worker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "otelweb/testing/diagnostics_capture.h"

namespace otelweb::internal {
namespace {

using namespace std::chrono_literals;

struct Record {
  int value = 0;
};
using Worker = BatchWorker<Record>;

// Shared between the test and the sink (which the worker owns and may keep
// past the test's last look at the worker).
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> values;
  std::vector<size_t> batch_sizes;
  std::atomic<int> released{0};
  std::atomic<bool> block{false};
  std::atomic<bool> exporter_shut_down{false};
  std::atomic<bool> fail{false};
  std::atomic<int> wakes{0};
};

class TestSink final : public Worker::Sink {
 public:
  explicit TestSink(std::shared_ptr<Seen> seen) : seen_(std::move(seen)) {}
  bool Export(Record** items, size_t n) noexcept override {
    std::unique_lock<std::mutex> l(seen_->mu);
    if (seen_->block) {
      seen_->cv.wait(l, [&] { return seen_->exporter_shut_down.load(); });
      return false;
    }
    if (seen_->fail) return false;
    for (size_t i = 0; i < n; ++i) seen_->values.push_back(items[i]->value);
    seen_->batch_sizes.push_back(n);
    seen_->cv.notify_all();
    return true;
  }
  void Release(Record** items, size_t n) noexcept override {
    for (size_t i = 0; i < n; ++i) delete items[i];
    seen_->released += static_cast<int>(n);
  }
  void OnWake(Worker::WakeReason) noexcept override { ++seen_->wakes; }
  OperationResult ShutdownExporter(std::chrono::milliseconds) noexcept override {
    std::lock_guard<std::mutex> l(seen_->mu);  // not held by a blocked Export (cv.wait released it)
    seen_->exporter_shut_down = true;
    seen_->cv.notify_all();
    return OperationResult::Ok();
  }
  std::string_view ExporterName() const noexcept override { return "test"; }

 private:
  std::shared_ptr<Seen> seen_;
};

std::shared_ptr<Worker> Make(std::shared_ptr<Seen> seen, BatchWorkerOptions o, ExportCounters* mirror = nullptr) {
  auto w = std::make_shared<Worker>(std::make_unique<TestSink>(seen), o, mirror);
  w->Start();
  return w;
}

// Offers one record; frees it if the worker did not take it (the contract).
Worker::Enqueued Offer(Worker& w, int v) {
  auto* r = new Record{v};
  auto e = w.TryEnqueue(r);
  if (e != Worker::Enqueued::kQueued) delete r;
  return e;
}

TEST(BatchWorker, ExportsFullBatchesAtOnceAndTheRestAtFlush) {
  auto seen = std::make_shared<Seen>();
  BatchWorkerOptions o;
  o.max_queue_size = 64;
  o.max_export_batch_size = 8;
  o.schedule_delay = 60s;
  ExportCounters mirror;
  auto w = Make(seen, o, &mirror);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Offer(*w, i), Worker::Enqueued::kQueued);
  {
    // Two full batches go without waiting for the 60 s delay.
    std::unique_lock<std::mutex> l(seen->mu);
    ASSERT_TRUE(seen->cv.wait_for(l, 5s, [&] { return seen->values.size() >= 16; }));
  }
  EXPECT_TRUE(w->ForceFlush(5s).ok());
  EXPECT_TRUE(w->Shutdown(5s).ok());
  ProcessorCounters c = w->counters();
  EXPECT_EQ(c.exported, 20u);
  EXPECT_EQ(c.not_exported(), 0u);
  EXPECT_EQ(c.export_calls, 3u);
  EXPECT_EQ(seen->released.load(), 20);
  EXPECT_EQ(mirror.exported.load(), 20u);
  std::lock_guard<std::mutex> l(seen->mu);
  EXPECT_EQ(seen->batch_sizes, (std::vector<size_t>{8, 8, 4}));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(seen->values[i], i);
  EXPECT_EQ(Offer(*w, 99), Worker::Enqueued::kShutDown);
  EXPECT_EQ(w->counters().dropped_after_shutdown, 1u);
  EXPECT_EQ(mirror.dropped_after_shutdown.load(), 1u);
}

TEST(BatchWorker, ZeroScheduleDelayExportsWithoutWaiting) {
  auto seen = std::make_shared<Seen>();
  BatchWorkerOptions o;
  o.schedule_delay = 0ms;
  auto w = Make(seen, o);
  auto t0 = std::chrono::steady_clock::now();
  Offer(*w, 1);
  {
    std::unique_lock<std::mutex> l(seen->mu);
    ASSERT_TRUE(seen->cv.wait_for(l, 5s, [&] { return seen->values.size() == 1; }));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  // And it does not spin while idle: a handful of wakes in 100 ms, not thousands.
  int before = seen->wakes.load();
  std::this_thread::sleep_for(100ms);
  EXPECT_LE(seen->wakes.load() - before, 2);
  EXPECT_TRUE(w->Shutdown(5s).ok());
}

TEST(BatchWorker, QueueFullAndFailedExportsAreCountedByReason) {
  testing::DiagnosticsCapture diag;
  auto seen = std::make_shared<Seen>();
  seen->fail = true;
  BatchWorkerOptions o;
  o.max_queue_size = 4;
  o.max_export_batch_size = 4;
  o.schedule_delay = 60s;
  o.what = "batch log record processor";
  o.items = "log records";
  auto w = Make(seen, o);
  seen->block = true;  // nothing leaves the queue until we say so
  int full = 0;
  for (int i = 0; i < 20; ++i) full += Offer(*w, i) == Worker::Enqueued::kQueueFull;
  EXPECT_GE(full, 20 - 8);  // the queue (4) and at most one batch in a blocked export (4)
  EXPECT_EQ(diag.Count("batch log record processor queue is full (4 log records)"), 1u);
  {
    std::lock_guard<std::mutex> l(seen->mu);
    seen->block = false;
    seen->exporter_shut_down = true;  // releases a blocked export (which fails)
    seen->cv.notify_all();
  }
  EXPECT_TRUE(w->ForceFlush(5s).ok());
  ProcessorCounters c = w->counters();
  EXPECT_EQ(c.dropped_queue_full, static_cast<uint64_t>(full));
  EXPECT_EQ(c.export_failed, 20u - full);
  EXPECT_EQ(c.export_calls_failed, c.export_calls);
  EXPECT_EQ(diag.Count("exporter 'test' failed to export a batch of"), 1u);
  w->Shutdown(5s);
}

TEST(BatchWorker, ShutdownWithAnExportThatNeverReturnsCountsEverythingByItsDeadline) {
  testing::DiagnosticsCapture diag;
  auto seen = std::make_shared<Seen>();
  BatchWorkerOptions o;
  o.max_queue_size = 256;
  o.max_export_batch_size = 16;
  o.schedule_delay = 60s;
  auto w = Make(seen, o);
  // The export blocks until the exporter is shut down, then fails: what the
  // OTLP exporter does with a collector that accepts and never answers.
  seen->block = true;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(Offer(*w, i), Worker::Enqueued::kQueued);
  std::this_thread::sleep_for(50ms);  // a full batch woke the worker: it is stuck
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(w->Shutdown(200ms), OperationResult::Timeout());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 1s);
  ProcessorCounters c = w->counters();
  // Counted before Shutdown returned: the stuck batch and the queue.
  EXPECT_EQ(c.dropped_deadline, 100u);
  EXPECT_EQ(c.exported, 0u);
  EXPECT_EQ(c.export_failed, 0u);  // the stuck batch is not counted twice
  EXPECT_EQ(diag.Count("100 items not exported (counted dropped_deadline)"), 1u);
  // The worker frees the stuck batch when its export returns.
  for (int i = 0; i < 100 && seen->released.load() != 100; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(seen->released.load(), 100);
}

TEST(BatchWorker, ALateExportWithinTheDeadlineIsExported) {
  auto seen = std::make_shared<Seen>();
  BatchWorkerOptions o;
  o.schedule_delay = 60s;
  auto w = Make(seen, o);
  for (int i = 0; i < 10; ++i) Offer(*w, i);
  EXPECT_TRUE(w->Shutdown(5s).ok());
  EXPECT_EQ(w->counters().exported, 10u);
  EXPECT_EQ(w->counters().not_exported(), 0u);
}

TEST(BatchWorker, WithoutASinkEverythingIsDroppedAfterShutdown) {
  BatchWorkerOptions o;
  auto w = std::make_shared<Worker>(nullptr, o);
  w->Start();
  EXPECT_TRUE(w->is_shut_down());
  EXPECT_EQ(Offer(*w, 1), Worker::Enqueued::kShutDown);
  EXPECT_EQ(w->counters().dropped_after_shutdown, 1u);
}

TEST(BatchWorkerConcurrency, ManyProducersNothingLostOrDuplicated) {
  auto seen = std::make_shared<Seen>();
  BatchWorkerOptions o;
  o.max_queue_size = 1 << 14;
  o.max_export_batch_size = 128;
  o.schedule_delay = 1ms;
  auto w = Make(seen, o);
  std::vector<std::thread> ts;
  std::atomic<uint64_t> queued{0};
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) queued += Offer(*w, t * 5000 + i) == Worker::Enqueued::kQueued;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_TRUE(w->Shutdown(10s).ok());
  ProcessorCounters c = w->counters();
  EXPECT_EQ(c.exported + c.not_exported(), 20000u);
  EXPECT_EQ(c.exported, queued.load());
  std::lock_guard<std::mutex> l(seen->mu);
  std::vector<int> v = seen->values;
  std::sort(v.begin(), v.end());
  EXPECT_EQ(std::adjacent_find(v.begin(), v.end()), v.end());
}

}  // namespace
}  // namespace otelweb::internal
