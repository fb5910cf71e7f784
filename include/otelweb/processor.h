// Span processors: what happens to a span when it starts and ends.
//
// Ownership: the TracerProvider owns its processors (std::unique_ptr); a
// processor owns its exporter.
// Thread-safety: OnStart/OnEnd are called concurrently from every thread that
// ends spans; ForceFlush/Shutdown may be called from any thread, concurrently
// with OnEnd. Both built-in processors are fully thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "otelweb/common.h"
#include "otelweb/exporter.h"
#include "otelweb/span_data.h"

namespace otelweb {

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Called on the starting thread right after a recording span starts. Only
  // called when WantsOnStart() is true (so the common case costs nothing).
  virtual void OnStart(const SpanData& span, const Context& parent) noexcept {
    (void)span;
    (void)parent;
  }
  virtual bool WantsOnStart() const noexcept { return false; }
  // Receives one reference to every ended recording span (sampled or not;
  // processors that export should skip `!span->context().sampled()`).
  virtual void OnEnd(EndedSpan span) noexcept = 0;
  virtual OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept = 0;
  // Flushes what is queued, shuts the exporter down, and makes later OnEnd
  // calls cheap no-ops. A second call returns AlreadyShutDown.
  virtual OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept = 0;
};

// Counters kept by the export processors, read at any time (relaxed reads; a
// snapshot taken while spans flow is approximate by a few spans).
struct ProcessorCounters {
  uint64_t exported = 0;               // spans handed to a successful Export
  uint64_t export_failed = 0;          // spans in batches whose Export failed
  uint64_t dropped_queue_full = 0;     // batch only: queue at capacity
  uint64_t dropped_after_shutdown = 0; // ended after Shutdown began
  uint64_t dropped_not_sampled = 0;    // record-only spans (never exported)
  uint64_t export_calls = 0;
};

// Exports every sampled span synchronously on the ending thread, one Export
// call at a time (a mutex serialises them). For tests and debugging: it puts
// the exporter's latency on the application's thread.
class SimpleSpanProcessor final : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter);
  ~SimpleSpanProcessor() override;
  void OnEnd(EndedSpan span) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  ProcessorCounters counters() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Options of the batch processor. Unset fields come from the OTEL_BSP_*
// environment variables, else the specification's defaults.
struct BatchOptions {
  std::optional<uint32_t> max_queue_size;                      // 2048
  std::optional<std::chrono::milliseconds> schedule_delay;     // 5000 ms
  std::optional<uint32_t> max_export_batch_size;               // 512 (capped at the queue size)
  std::optional<std::chrono::milliseconds> export_timeout;     // 30000 ms
};

// The resolved values a BatchSpanProcessor runs with.
struct ResolvedBatchOptions {
  uint32_t max_queue_size = 2048;
  std::chrono::milliseconds schedule_delay{5000};
  uint32_t max_export_batch_size = 512;
  std::chrono::milliseconds export_timeout{30000};
};
// Code > environment > default, with one warning per invalid variable.
ResolvedBatchOptions ResolveBatchOptions(const BatchOptions& options);

// Queues ended spans and exports them in batches from one worker thread.
// The ending thread never locks or allocates: it claims a slot in a bounded
// lock-free ring with one compare-and-swap; when the ring is full the span is
// dropped and counted (and one warning is printed, the first time). The
// worker wakes when a batch is full (one futex wake per batch, not per span)
// or when the schedule delay passes, and hands spans back to the pools of the
// threads that made them.
class BatchSpanProcessor final : public SpanProcessor {
 public:
  explicit BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchOptions options = {});
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
