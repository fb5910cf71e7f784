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
#include "otelweb/processor_counters.h"

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

// The counters of the export processors: one struct for every signal's
// processors (otelweb/processor_counters.h; dropped_not_sampled stays 0 for
// logs).
using LogProcessorCounters = ProcessorCounters;

}  // namespace otelweb::logs
