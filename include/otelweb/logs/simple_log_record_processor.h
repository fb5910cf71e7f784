// SimpleLogRecordProcessor (OpenTelemetry specification, logs SDK "Simple
// processor"): exports each record synchronously on the emitting thread, one
// Export at a time (a mutex serialises them). For tests, the console and
// debugging: the exporter's latency lands on the caller's thread.
//
// Ownership: owns its exporter.
// Thread-safety: OnEmit may be called from any thread.
#pragma once

#include <memory>

#include "otelweb/logs/log_record_exporter.h"
#include "otelweb/logs/log_record_processor.h"

namespace otelweb::logs {

class SimpleLogRecordProcessor final : public LogRecordProcessor {
 public:
  explicit SimpleLogRecordProcessor(std::unique_ptr<LogRecordExporter> exporter);
  ~SimpleLogRecordProcessor() override;
  void OnEmit(LogRecord& record) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  LogProcessorCounters counters() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace otelweb::logs
