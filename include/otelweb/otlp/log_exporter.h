// OTLP logs: the encoders of ExportLogsServiceRequest (protobuf written
// directly, and OTLP/JSON) and the log record exporters on the OTLP
// transports (gRPC LogsService/Export, HTTP/protobuf and HTTP/JSON to
// /v1/logs, OTEL_EXPORTER_OTLP_LOGS_* then OTEL_EXPORTER_OTLP_*) and to a
// file or standard output (OTEL_LOGS_EXPORTER=otlp/stdout: one LogsData per
// line).
//
// Ownership: each exporter owns its transport and reused encoding buffers;
// LogsProtobufEncoder owns its output, valid until the next Encode.
// Thread-safety: as every LogRecordExporter (Export never concurrent;
// Shutdown, ForceFlush, counters from any thread). The encoder is not
// thread-safe (one per exporter).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "otelweb/logs/log_record_exporter.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/otlp/file_exporter.h"

namespace otelweb::otlp {

// ExportLogsServiceRequest protobuf bytes; records grouped by resource, then
// by scope, in order of first appearance. Strings are made valid UTF-8.
class LogsProtobufEncoder {
 public:
  LogsProtobufEncoder();
  ~LogsProtobufEncoder();
  LogsProtobufEncoder(const LogsProtobufEncoder&) = delete;
  LogsProtobufEncoder& operator=(const LogsProtobufEncoder&) = delete;
  const std::string& Encode(std::span<const logs::LogRecord* const> records);
  // The same bytes as a view valid until the next Encode*() call; the buffer
  // keeps the size of the largest message so far (no zero-filling as it
  // regrows; what OtlpLogRecordExporter uses).
  std::string_view EncodeView(std::span<const logs::LogRecord* const> records);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// OTLP/JSON of an ExportLogsServiceRequest (the same JSON as a LogsData).
std::string EncodeLogsJson(std::span<const logs::LogRecord* const> records);

struct OtlpLogExporterCounters {
  uint64_t records_exported = 0;  // accepted (minus partial rejections)
  uint64_t records_rejected = 0;  // reported rejected by a partial_success answer
  uint64_t records_dropped = 0;   // in requests that failed for good
  uint64_t requests = 0;          // attempts (including retries)
  uint64_t retries = 0;
  uint64_t batches_failed = 0;
};

class OtlpLogRecordExporter final : public logs::LogRecordExporter {
 public:
  // The same options as the span exporter, resolved for Signal::kLogs.
  explicit OtlpLogRecordExporter(OtlpExporterOptions options = {});
  ~OtlpLogRecordExporter() override;
  ExportResult Export(std::span<const logs::LogRecord* const> batch) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override;
  OtlpLogExporterCounters counters() const noexcept;
  const ResolvedOtlpOptions& options() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One OTLP/JSON LogsData per line (OTEL_LOGS_EXPORTER=otlp/stdout).
class OtlpFileLogRecordExporter final : public logs::LogRecordExporter {
 public:
  explicit OtlpFileLogRecordExporter(OtlpFileExporterOptions options = {});
  ~OtlpFileLogRecordExporter() override;
  ExportResult Export(std::span<const logs::LogRecord* const> batch) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override { return "otlp-file"; }

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace otelweb::otlp
