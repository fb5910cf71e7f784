// OtlpLogRecordExporter (the signal-neutral ExportClient with Signal::kLogs)
// and OtlpFileLogRecordExporter (one LogsData per line).
#include <cerrno>
#include <cstring>
#include <atomic>
#include <mutex>

#include "otelweb/diagnostics.h"
#include "otelweb/logs/logger.h"
#include "otelweb/otlp/log_exporter.h"
#include "otlp/export_client.h"

namespace otelweb::otlp {

struct OtlpLogRecordExporter::Impl {
  explicit Impl(ResolvedOtlpOptions o) : client(std::move(o)) {}
  internal::ExportClient client;
  LogsProtobufEncoder encoder;
  std::string json;

  ExportResult Export(std::span<const logs::LogRecord* const> batch) {
    if (batch.empty()) return ExportResult::kSuccess;
    if (!client.Accepting(batch.size())) return ExportResult::kFailure;
    const bool as_json = client.options().protocol == Protocol::kHttpJson;
    return client.SendInParts(batch, [&](std::span<const logs::LogRecord* const> part) -> std::string_view {
      if (as_json) {
        json = EncodeLogsJson(part);
        return json;
      }
      return encoder.EncodeView(part);
    });
  }
};

OtlpLogRecordExporter::OtlpLogRecordExporter(OtlpExporterOptions options)
    : impl_(new Impl(ResolveOptions(options, Signal::kLogs))) {}

OtlpLogRecordExporter::~OtlpLogRecordExporter() { (void)Shutdown(std::chrono::milliseconds(0)); }

ExportResult OtlpLogRecordExporter::Export(std::span<const logs::LogRecord* const> batch) noexcept {
  // Whatever the transport reports while sending (through diagnostics into a
  // bridged logger) must not come back into the log pipeline on this thread.
  logs::SuppressLogEmitScope no_emit;
  return impl_->client.Guarded(batch.size(), [&] { return impl_->Export(batch); });
}

OperationResult OtlpLogRecordExporter::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  return impl_->client.ForceFlush(timeout);
}

OperationResult OtlpLogRecordExporter::Shutdown(std::chrono::milliseconds timeout) noexcept {
  return impl_->client.Shutdown(timeout);
}

std::string_view OtlpLogRecordExporter::Name() const noexcept {
  return impl_->client.ExporterName();
}

OtlpLogExporterCounters OtlpLogRecordExporter::counters() const noexcept {
  const internal::ExportClientCounters k = impl_->client.counters();
  OtlpLogExporterCounters c;
  c.records_exported = k.items_exported;
  c.records_rejected = k.items_rejected;
  c.records_dropped = k.items_dropped;
  c.requests = k.requests;
  c.retries = k.retries;
  c.batches_failed = k.batches_failed;
  return c;
}

const ResolvedOtlpOptions& OtlpLogRecordExporter::options() const noexcept { return impl_->client.options(); }

struct OtlpFileLogRecordExporter::State {
  std::mutex mu;
  FILE* out = nullptr;
  bool owned = false;
  bool shut_down = false;
  std::atomic<bool> warned{false};
  std::string where;
  std::string line;
};

OtlpFileLogRecordExporter::OtlpFileLogRecordExporter(OtlpFileExporterOptions options) : s_(new State) {
  if (!options.path.empty()) {
    s_->where = "'" + options.path + "'";
    s_->out = std::fopen(options.path.c_str(), "a");
    if (s_->out == nullptr) {
      LogOnce(s_->warned, LogLevel::kError,
              "OTLP file log exporter: cannot open " + s_->where + " for appending (" + std::strerror(errno) +
                  "); log records will be dropped: check that the folder exists and is writable");
    } else {
      s_->owned = true;
    }
  } else {
    s_->out = options.out != nullptr ? options.out : stdout;
    s_->where = options.out != nullptr ? "the given stream" : "standard output";
  }
}

OtlpFileLogRecordExporter::~OtlpFileLogRecordExporter() { Shutdown(std::chrono::milliseconds(0)); }

ExportResult OtlpFileLogRecordExporter::Export(std::span<const logs::LogRecord* const> batch) noexcept {
  try {
    if (batch.empty()) return ExportResult::kSuccess;
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down || s_->out == nullptr) return ExportResult::kFailure;
    s_->line = EncodeLogsJson(batch);
    s_->line += '\n';
    if (std::fwrite(s_->line.data(), 1, s_->line.size(), s_->out) != s_->line.size() ||
        std::fflush(s_->out) != 0) {
      LogOnce(s_->warned, LogLevel::kError,
              "OTLP file log exporter: writing to " + s_->where + " failed (" + std::strerror(errno) +
                  "); log records are being dropped: check free disk space and the file's permissions");
      return ExportResult::kFailure;
    }
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;
  }
}

OperationResult OtlpFileLogRecordExporter::ForceFlush(std::chrono::milliseconds) noexcept {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (s_->out != nullptr && !s_->shut_down && std::fflush(s_->out) != 0) return OperationResult::Failure();
  return OperationResult::Ok();
}

OperationResult OtlpFileLogRecordExporter::Shutdown(std::chrono::milliseconds) noexcept {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (s_->shut_down) return OperationResult::AlreadyShutDown();
  s_->shut_down = true;
  if (s_->out == nullptr) return OperationResult::Ok();
  const bool ok = s_->owned ? std::fclose(s_->out) == 0 : std::fflush(s_->out) == 0;
  s_->out = nullptr;
  return ok ? OperationResult::Ok() : OperationResult::Failure();
}

}  // namespace otelweb::otlp
