// LogRecordProcessor: what happens to a log record when a Logger emits it
// (OpenTelemetry specification, logs SDK "LogRecordProcessor"), and the
// counters the built-in processors keep.
//
// Ownership: the LoggerProvider owns its processors; a processor owns its
// exporter.
// Thread-safety: OnEmit is called concurrently from every thread that logs;
// ForceFlush and Shutdown may be called from any thread, concurrently with
// OnEmit. The built-in processors are fully thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

#include "otelweb/common.h"
#include "otelweb/logs/log_record.h"

namespace otelweb::logs {

class LogRecordProcessor {
 public:
  virtual ~LogRecordProcessor() = default;
  // Called on the emitting thread with the caller's record (fully stamped).
  // A processor that keeps the record copies it; it must not block.
  virtual void OnEmit(LogRecord& record) noexcept = 0;
  virtual OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept = 0;
  // Exports what is queued, shuts the exporter down; later OnEmit calls are
  // counted and dropped. A second call returns AlreadyShutDown.
  virtual OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept = 0;
};

// Counters of the export processors (relaxed reads: a snapshot taken while
// records flow is approximate by a few records).
struct LogProcessorCounters {
  uint64_t exported = 0;                // records handed to a successful Export
  uint64_t export_failed = 0;           // records in batches whose Export failed
  uint64_t dropped_queue_full = 0;      // batch only: the queue was at capacity
  uint64_t dropped_after_shutdown = 0;  // emitted after Shutdown began
  uint64_t export_calls = 0;
};

}  // namespace otelweb::logs
