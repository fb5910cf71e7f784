// BatchLogRecordProcessor: the signal-neutral BatchWorker (src/core/batch_worker.h)
// with a pool of preallocated records. OnEmit takes a free record from the
// pool (round-robin, one atomic add and one exchange), copies the used part of
// the caller's record into it and enqueues its pointer; the worker's Sink
// exports batches and gives the records back to the pool.
#include "otelweb/logs/batch_log_record_processor.h"

#include <atomic>
#include <string>

#include "core/batch_worker.h"
#include "core/config.h"
#include "logs/internal.h"
#include "otelweb/diagnostics.h"
#include "otelweb/logs/logger.h"

namespace otelweb::logs {

using Clock = std::chrono::steady_clock;

// The same resolution as the span processor's, over OTEL_BLRP_* (core/config.h).
ResolvedBatchLogOptions ResolveBatchLogOptions(const BatchLogRecordProcessorOptions& o) {
  const ResolvedBatchLogOptions d;
  const config::BatchSettings r = config::ResolveBatchSettings(
      "OTEL_BLRP_", {o.max_queue_size, o.schedule_delay, o.max_export_batch_size, o.export_timeout},
      {d.max_queue_size, d.schedule_delay, d.max_export_batch_size, d.export_timeout}, 1 << 24);
  return {r.max_queue_size, r.schedule_delay, r.max_export_batch_size, r.export_timeout};
}

namespace {

using Worker = otelweb::internal::BatchWorker<LogRecord>;

// Preallocated records: max_queue_size + max_export_batch_size of them (the
// queue full, plus the batch being exported), rounded up to a power of two.
struct RecordPool {
  explicit RecordPool(uint64_t n) : size(n), mask(n - 1), recs(new LogRecord[n]), busy(new std::atomic<bool>[n]) {
    for (uint64_t i = 0; i < n; ++i) busy[i].store(false, std::memory_order_relaxed);
  }
  // Round-robin: records are freed roughly in the order they were taken, so
  // the next one is almost always free; a few tries, then the caller drops.
  LogRecord* Acquire() noexcept {
    for (int tries = 0; tries < 4; ++tries) {
      const uint64_t i = next.fetch_add(1, std::memory_order_relaxed) & mask;
      if (!busy[i].load(std::memory_order_relaxed) && !busy[i].exchange(true, std::memory_order_acquire)) {
        return &recs[i];
      }
    }
    return nullptr;
  }
  void Free(LogRecord* r) noexcept { busy[static_cast<uint64_t>(r - recs.get())].store(false, std::memory_order_release); }

  const uint64_t size, mask;
  std::unique_ptr<LogRecord[]> recs;
  std::unique_ptr<std::atomic<bool>[]> busy;
  alignas(64) std::atomic<uint64_t> next{0};
};

class LogSink final : public Worker::Sink {
 public:
  LogSink(std::unique_ptr<LogRecordExporter> e, uint64_t pool_size) : exporter_(std::move(e)), pool(pool_size) {}
  bool Export(LogRecord** items, size_t n) noexcept override {
    try {
      return exporter_->Export(std::span<const LogRecord* const>(items, n)) == ExportResult::kSuccess;
    } catch (...) {
      return false;
    }
  }
  void Release(LogRecord** items, size_t n) noexcept override {
    for (size_t i = 0; i < n; ++i) pool.Free(items[i]);
  }
  void OnWake(Worker::WakeReason) noexcept override {
    // The worker thread never emits: what the exporter (or anything it
    // calls) logs through a bridged logger on this thread is dropped by the
    // recursion guard. Set once, it stays for the thread's life.
    internal::EmittingFlag() = true;
  }
  OperationResult ForceFlushExporter(std::chrono::milliseconds timeout) noexcept override {
    try {
      return exporter_->ForceFlush(timeout);
    } catch (...) {
      return OperationResult::Failure();
    }
  }
  OperationResult ShutdownExporter(std::chrono::milliseconds timeout) noexcept override {
    try {
      return exporter_->Shutdown(timeout);
    } catch (...) {
      return OperationResult::Failure();
    }
  }
  std::string_view ExporterName() const noexcept override { return exporter_->Name(); }

 private:
  std::unique_ptr<LogRecordExporter> exporter_;

 public:
  RecordPool pool;
};

otelweb::internal::BatchWorkerOptions WorkerOptions(const ResolvedBatchLogOptions& r) {
  otelweb::internal::BatchWorkerOptions w;
  w.max_queue_size = r.max_queue_size;
  w.schedule_delay = r.schedule_delay;
  w.max_export_batch_size = r.max_export_batch_size;
  w.what = "batch log record processor";
  w.items = "log records";
  return w;
}

uint64_t RoundUpPow2(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

struct BatchLogRecordProcessor::State final : Worker {
  State(std::unique_ptr<Sink> sink, const ResolvedBatchLogOptions& r, RecordPool* p)
      : Worker(std::move(sink), WorkerOptions(r), &internal::QueueMirror()), opt(r), pool(p) {}
  ResolvedBatchLogOptions opt;
  RecordPool* pool;  // owned by the sink, which the worker owns
  std::atomic<bool> warned_pool{false};
};

BatchLogRecordProcessor::BatchLogRecordProcessor(std::unique_ptr<LogRecordExporter> exporter,
                                                 BatchLogRecordProcessorOptions options) {
  const ResolvedBatchLogOptions r = ResolveBatchLogOptions(options);
  std::unique_ptr<LogSink> sink;
  RecordPool* pool = nullptr;
  if (exporter) {
    sink = std::make_unique<LogSink>(std::move(exporter),
                                     RoundUpPow2(uint64_t{r.max_queue_size} + r.max_export_batch_size));
    pool = &sink->pool;
  } else {
    Log(LogLevel::kWarning, "BatchLogRecordProcessor created without an exporter; records are dropped");
  }
  s_ = std::make_shared<State>(std::move(sink), r, pool);
  s_->Start();
}

BatchLogRecordProcessor::~BatchLogRecordProcessor() {
  if (!s_->is_shut_down()) Shutdown(EffectiveShutdownTimeout(s_->opt.export_timeout));
}

void BatchLogRecordProcessor::OnEmit(LogRecord& record) noexcept {
  State& s = *s_;
  if (s.pool == nullptr || s.is_shut_down()) {
    otelweb::internal::CountDropped(s.raw_counters(), nullptr, otelweb::internal::DropReason::kAfterShutdown, 1);
    return;
  }
  LogRecord* r = s.pool->Acquire();
  if (r == nullptr) {  // every record is queued or being exported: the queue is full
    otelweb::internal::CountDropped(s.raw_counters(), &internal::QueueMirror(),
                                    otelweb::internal::DropReason::kQueueFull, 1);
    if (!s.warned_pool.load(std::memory_order_relaxed)) {
      LogOnce(s.warned_pool, LogLevel::kWarning,
              "batch log record processor: every record is queued or being exported; dropping log records "
              "(counted in counters(), not logged again). Raise OTEL_BLRP_MAX_QUEUE_SIZE or check the exporter.");
    }
    return;
  }
  r->CopyFrom(record);
  if (s.TryEnqueue(r) != Worker::Enqueued::kQueued) s.pool->Free(r);  // the drop is counted by the worker
}

OperationResult BatchLogRecordProcessor::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  return s_->ForceFlush(timeout);
}

OperationResult BatchLogRecordProcessor::Shutdown(std::chrono::milliseconds timeout) noexcept {
  return s_->Shutdown(timeout);
}

LogProcessorCounters BatchLogRecordProcessor::counters() const noexcept { return s_->counters(); }

const ResolvedBatchLogOptions& BatchLogRecordProcessor::options() const noexcept { return s_->opt; }

}  // namespace otelweb::logs
