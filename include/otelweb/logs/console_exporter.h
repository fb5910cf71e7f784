// ConsoleLogRecordExporter: log records as one line each for people
// (OTEL_LOGS_EXPORTER=console):
//   2026-11-30T22:41:07.123456Z INFO  GET /items served in 3 ms  {http.route="/items"}  trace_id=… span_id=…
// The record lines under their spans in the console trace tree are the
// console join (otelweb/logs/console_join.h).
//
// Ownership: writes to a stream it does not own (default std::cout).
// Thread-safety: Export is serialised by the processor; lines are written
// whole.
#pragma once

#include <iosfwd>
#include <string>

#include "otelweb/logs/log_record_exporter.h"

namespace otelweb::logs {

struct ConsoleLogRecordExporterOptions {
  std::ostream* out = nullptr;  // default std::cout
};

// Formats one record as the exporter prints it (without the newline).
std::string FormatLogRecordLine(const LogRecord& record);

class ConsoleLogRecordExporter final : public LogRecordExporter {
 public:
  explicit ConsoleLogRecordExporter(ConsoleLogRecordExporterOptions options = {});
  ExportResult Export(std::span<const LogRecord* const> batch) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override { return "console"; }

 private:
  std::ostream* out_;
  bool shut_down_ = false;
};

}  // namespace otelweb::logs
