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
// Metrics and logs (intended shape, not factored yet): what is
// signal-neutral here is the worker's scheduling — sleep until the schedule
// delay passes, a batch is full, ForceFlush asks (with a deadline) or Shutdown
// asks (drain within its deadline, then detach) — and the export-call
// accounting. The plan is an internal `BatchWorker<Item>` owning the thread,
// the wake-up word and the flush/shutdown handshakes, with the ring and its
// OnEnd kept per signal: OnEnd's instruction count is the contract
// (BM_SpanNoAttrs_Simple and friends), and the ring's slot layout is span
// specific (pooled SpanRecord handles). A log record processor will take the
// same worker with its own ring; a periodic metric reader needs only the
// scheduling half (interval + flush + shutdown deadline).
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
