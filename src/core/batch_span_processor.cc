// BatchSpanProcessor: a bounded lock-free queue filled by OnEnd and drained
// by one worker thread; and its options (code > environment > default).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ab_switches.h"
#include "core/batch_worker.h"
#include "core/internal.h"
#include "core/span_processor_util.h"
#include "otelweb/diagnostics.h"
#include "core/config.h"
#include "otelweb/trace/batch_span_processor.h"

namespace otelweb {

using internal::SpanRecord;
using internal::Add;
using internal::processor::SafeExport;

ResolvedBatchOptions ResolveBatchOptions(const BatchSpanProcessorOptions& o) {
  const ResolvedBatchOptions d;
  const config::BatchSettings r = config::ResolveBatchSettings(
      "OTEL_BSP_", {o.max_queue_size, o.schedule_delay, o.max_export_batch_size, o.export_timeout},
      {d.max_queue_size, d.schedule_delay, d.max_export_batch_size, d.export_timeout}, 1 << 26);
  return {r.max_queue_size, r.schedule_delay, r.max_export_batch_size, r.export_timeout};
}

namespace {

// The span half of the batch worker: EndedSpan handles around the queued
// records for the exporter, then the records back to their threads' pools.
class SpanSink final : public internal::BatchWorker<SpanRecord>::Sink {
 public:
  SpanSink(std::unique_ptr<SpanExporter> exporter, uint32_t batch) : exporter_(std::move(exporter)) {
    handles_.reserve(batch);
  }
  bool Export(SpanRecord** recs, size_t n) noexcept override {
    if (export_off_) [[unlikely]] return true;  // A/B arm "export off" (core/ab_switches.h)
    handles_.clear();
    for (size_t i = 0; i < n; ++i) handles_.emplace_back(recs[i]);  // reserved: no allocation
    ExportResult r = SafeExport(*exporter_, std::span<EndedSpan>(handles_.data(), n));
    // An exporter may have moved a span out (the in-memory one keeps them).
    for (size_t i = 0; i < n; ++i) recs[i] = handles_[i].release_record();
    return r == ExportResult::kSuccess;
  }
  void Release(SpanRecord** recs, size_t n) noexcept override {
    // One CAS per producing thread; skips the nullptr of a record an
    // exporter kept (moved its EndedSpan out).
    internal::UnrefRecords(recs, n);
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
  std::unique_ptr<SpanExporter> exporter_;
  std::vector<EndedSpan> handles_;
  const bool export_off_ = internal::ab::Get().export_off;
};

internal::BatchWorkerOptions WorkerOptions(const ResolvedBatchOptions& r) {
  internal::BatchWorkerOptions w;
  w.max_queue_size = r.max_queue_size;
  w.schedule_delay = r.schedule_delay;
  w.max_export_batch_size = r.max_export_batch_size;
  w.what = "batch span processor";
  w.items = "spans";
  // Issue 18's wake-up A/B arms (bench programs only; see core/ab_switches.h).
  switch (internal::ab::Get().wake) {
    case internal::ab::Wake::kBatchFull: break;
    case internal::ab::Wake::kTimerOnly: w.wake_on_batch_full = false; break;
    case internal::ab::Wake::kEveryEnqueue: w.schedule_delay = std::chrono::milliseconds(0); break;
  }
  return w;
}

}  // namespace

struct BatchSpanProcessor::State final : internal::BatchWorker<SpanRecord> {
  State(std::unique_ptr<Sink> sink, const ResolvedBatchOptions& r)
      : BatchWorker(std::move(sink), WorkerOptions(r), &internal::Globals()), opt(r) {}
  ResolvedBatchOptions opt;
};

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options) {
  ResolvedBatchOptions r = ResolveBatchOptions(options);
  std::unique_ptr<State::Sink> sink;
  if (exporter) {
    sink = std::make_unique<SpanSink>(std::move(exporter), r.max_export_batch_size);
  } else {
    Log(LogLevel::kWarning, "BatchSpanProcessor created without an exporter; spans are dropped");
  }
  s_ = std::make_shared<State>(std::move(sink), r);
  s_->Start();
}

BatchSpanProcessor::~BatchSpanProcessor() {
  if (!s_->is_shut_down()) Shutdown(EffectiveShutdownTimeout(s_->opt.export_timeout));
}

void BatchSpanProcessor::OnEnd(EndedSpan span) noexcept {
  SpanRecord* r = span.release_record();
  if (!r->context_.sampled()) {
    Add(s_->raw_counters().dropped_not_sampled, 1);
    internal::UnrefRecord(r);
    return;
  }
  if (s_->TryEnqueue(r) != State::Enqueued::kQueued) internal::UnrefRecord(r);  // counted by the worker
}

OperationResult BatchSpanProcessor::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  return s_->ForceFlush(timeout);
}

OperationResult BatchSpanProcessor::Shutdown(std::chrono::milliseconds timeout) noexcept {
  return s_->Shutdown(std::min(timeout, kShutdownCeiling));  // the worker says the shutdown summary
}

ProcessorCounters BatchSpanProcessor::counters() const noexcept { return s_->counters(); }

const ResolvedBatchOptions& BatchSpanProcessor::options() const noexcept { return s_->opt; }

}  // namespace otelweb
