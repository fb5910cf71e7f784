// BatchLogRecordProcessor and its options (OpenTelemetry specification, logs
// SDK "Batching processor"; OTEL_BLRP_* variables).
//
// Built on the signal-neutral batching worker of the span processor
// (src/core/batch_worker.h). The emitting thread never locks, waits or
// allocates: it takes a free record from a preallocated pool (one atomic add
// and one exchange), copies the used part of its record into it and enqueues
// it (one compare-and-swap). When the queue is full the record is dropped and
// counted (one warning, the first time). One worker thread exports batches
// when a batch is full, when the schedule delay passes, on ForceFlush and on
// Shutdown (drained within its deadline; what is left is counted
// dropped_deadline).
//
// Memory: max_queue_size + max_export_batch_size records (rounded up to a
// power of two) of sizeof(LogRecord), about 1.5 KiB: 6 MiB with the defaults.
//
// Ownership: owns its exporter, its ring and its worker thread.
// Thread-safety: OnEmit from any thread; ForceFlush and Shutdown from any
// thread. Export calls never overlap.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "otelweb/logs/log_record_exporter.h"
#include "otelweb/logs/log_record_processor.h"

namespace otelweb::logs {

// Unset fields come from OTEL_BLRP_MAX_QUEUE_SIZE, OTEL_BLRP_SCHEDULE_DELAY,
// OTEL_BLRP_MAX_EXPORT_BATCH_SIZE and OTEL_BLRP_EXPORT_TIMEOUT, else the
// specification's defaults (written beside each field).
struct BatchLogRecordProcessorOptions {
  std::optional<uint32_t> max_queue_size{};                   // 2048
  std::optional<std::chrono::milliseconds> schedule_delay{};  // 1000 ms
  std::optional<uint32_t> max_export_batch_size{};            // 512 (capped at the queue size)
  std::optional<std::chrono::milliseconds> export_timeout{};  // 30000 ms
};

struct ResolvedBatchLogOptions {
  uint32_t max_queue_size = 2048;
  std::chrono::milliseconds schedule_delay{1000};
  uint32_t max_export_batch_size = 512;
  std::chrono::milliseconds export_timeout{30000};
};
// Code > environment > default, one warning per invalid variable.
ResolvedBatchLogOptions ResolveBatchLogOptions(const BatchLogRecordProcessorOptions& options);

class BatchLogRecordProcessor final : public LogRecordProcessor {
 public:
  explicit BatchLogRecordProcessor(std::unique_ptr<LogRecordExporter> exporter,
                                   BatchLogRecordProcessorOptions options = {});
  ~BatchLogRecordProcessor() override;  // shuts down (export timeout) if not done
  void OnEmit(LogRecord& record) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  LogProcessorCounters counters() const noexcept;
  const ResolvedBatchLogOptions& options() const noexcept;

  struct State;

 private:
  std::shared_ptr<State> s_;  // shared with the worker so a timed-out shutdown can detach it
};

}  // namespace otelweb::logs
