// BatchSpanProcessor and its options (OpenTelemetry specification, SDK
// "Batching processor"; OTEL_BSP_* variables).
// Ownership: owns its exporter and its worker thread. Thread-safety: OnEnd is
// called concurrently from every thread that ends spans and never blocks;
// ForceFlush and Shutdown may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "otelweb/trace/span_exporter.h"
#include "otelweb/trace/span_processor.h"

namespace otelweb {

// Options of the batch span processor. Unset fields come from the OTEL_BSP_*
// environment variables, else the specification's defaults.
struct BatchSpanProcessorOptions {
  std::optional<uint32_t> max_queue_size{};                    // 2048
  std::optional<std::chrono::milliseconds> schedule_delay{};   // 5000 ms
  std::optional<uint32_t> max_export_batch_size{};             // 512 (capped at the queue size)
  std::optional<std::chrono::milliseconds> export_timeout{};   // 30000 ms
};
// The earlier name (deprecated; kept for one release, without a compiler
// warning so that -Werror builds keep compiling).
using BatchOptions = BatchSpanProcessorOptions;

// The resolved values a BatchSpanProcessor runs with.
struct ResolvedBatchOptions {
  uint32_t max_queue_size = 2048;
  std::chrono::milliseconds schedule_delay{5000};
  uint32_t max_export_batch_size = 512;
  std::chrono::milliseconds export_timeout{30000};
};
// Code > environment > default, with one warning per invalid variable.
ResolvedBatchOptions ResolveBatchOptions(const BatchSpanProcessorOptions& options);

// Queues ended spans and exports them in batches from one worker thread.
// The ending thread never locks or allocates: it claims a slot in a bounded
// lock-free ring with one compare-and-swap; when the ring is full the span is
// dropped and counted (and one warning is printed, the first time). The
// worker wakes when a batch is full (one futex wake per batch, not per span)
// or when the schedule delay passes, and hands spans back to the pools of the
// threads that made them.
//
// The queue, the worker and the flush/shutdown deadlines are the
// signal-neutral internal::BatchWorker<Item> (src/core/batch_worker.h), which
// the log-record processor and the periodic metric reader share; OnEnd's
// instruction count is the contract (BM_SpanNoAttrs_Batch and friends).
//
// Deadlines: Shutdown(timeout) exports what is queued until `timeout` runs
// out; then it shuts the exporter down (interrupting an export stuck on a
// collector that does not answer) and counts every span it could not export
// as dropped_deadline before returning Timeout. Nothing is lost uncounted:
// see counters() (otelweb/processor_counters.h).
class BatchSpanProcessor final : public SpanProcessor {
 public:
  explicit BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options = {});
  ~BatchSpanProcessor() override;  // shuts down (with the export timeout) if not done
  void OnEnd(EndedSpan span) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  ProcessorCounters counters() const noexcept;
  const ResolvedBatchOptions& options() const noexcept;

  struct State;

 private:
  std::shared_ptr<State> s_;  // shared with the worker so a timed-out shutdown can detach it
};

}  // namespace otelweb
