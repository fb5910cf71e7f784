// LogRecordExporter: the extension point that sends batches of log records
// somewhere (OTLP, the terminal, memory). OpenTelemetry specification,
// logs SDK "LogRecordExporter".
//
// Ownership: processors own their exporter (std::unique_ptr). Export gets
// pointers to records owned by the processor, valid for the call only (an
// exporter that keeps records copies them).
// Thread-safety: processors never call Export concurrently on one exporter;
// ForceFlush and Shutdown may be called from another thread while Export runs.
#pragma once

#include <chrono>
#include <span>
#include <string_view>

#include "otelweb/common.h"
#include "otelweb/logs/log_record.h"
#include "otelweb/trace/span_exporter.h"  // ExportResult

namespace otelweb::logs {

class LogRecordExporter {
 public:
  virtual ~LogRecordExporter() = default;
  virtual ExportResult Export(std::span<const LogRecord* const> batch) noexcept = 0;
  virtual OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept {
    (void)timeout;
    return OperationResult::Ok();
  }
  // After Shutdown, Export returns kFailure without doing anything.
  virtual OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept = 0;
  // A short name for diagnostics ("console", "otlp-grpc", ...).
  virtual std::string_view Name() const noexcept = 0;
};

}  // namespace otelweb::logs
