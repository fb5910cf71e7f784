// OtlpFileExporter: one OTLP/JSON TracesData per line.
#include "otelweb/otlp/file_exporter.h"

#include <cerrno>
#include <cstring>
#include <mutex>

#include "otelweb/diagnostics.h"
#include "otelweb/otlp/exporter.h"

namespace otelweb::otlp {

struct OtlpFileExporter::State {
  std::mutex mu;
  FILE* out = nullptr;
  bool owned = false;
  bool shut_down = false;
  bool warned = false;
  std::string where;  // for messages
  std::string line;   // reused between batches

  void WarnOnce(const std::string& what) {
    if (warned) return;
    warned = true;
    Log(LogLevel::kError, "OTLP file exporter: " + what);
  }
};

OtlpFileExporter::OtlpFileExporter(OtlpFileExporterOptions options) : s_(new State) {
  if (!options.path.empty()) {
    s_->where = "'" + options.path + "'";
    s_->out = std::fopen(options.path.c_str(), "a");
    if (s_->out == nullptr) {
      s_->WarnOnce("cannot open " + s_->where + " for appending (" + std::strerror(errno) +
                   "); spans will be dropped: check that the folder exists and is writable");
    } else {
      s_->owned = true;
    }
  } else {
    s_->out = options.out != nullptr ? options.out : stdout;
    s_->where = options.out != nullptr ? "the given stream" : "standard output";
  }
}

OtlpFileExporter::~OtlpFileExporter() { Shutdown(std::chrono::milliseconds(0)); }

ExportResult OtlpFileExporter::Export(std::span<EndedSpan> batch) noexcept {
  try {
    if (batch.empty()) return ExportResult::kSuccess;
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down || s_->out == nullptr) return ExportResult::kFailure;
    s_->line = EncodeJson(std::span<const EndedSpan>(batch.data(), batch.size()));
    s_->line += '\n';
    if (std::fwrite(s_->line.data(), 1, s_->line.size(), s_->out) != s_->line.size() ||
        std::fflush(s_->out) != 0) {
      s_->WarnOnce("writing to " + s_->where + " failed (" + std::strerror(errno) +
                   "); spans are being dropped: check free disk space and the file's permissions");
      return ExportResult::kFailure;
    }
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;
  }
}

OperationResult OtlpFileExporter::ForceFlush(std::chrono::milliseconds) noexcept {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (s_->out != nullptr && !s_->shut_down && std::fflush(s_->out) != 0) return OperationResult::Failure();
  return OperationResult::Ok();
}

OperationResult OtlpFileExporter::Shutdown(std::chrono::milliseconds) noexcept {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (s_->shut_down) return OperationResult::AlreadyShutDown();
  s_->shut_down = true;
  if (s_->out == nullptr) return OperationResult::Ok();
  bool ok = s_->owned ? std::fclose(s_->out) == 0 : std::fflush(s_->out) == 0;
  s_->out = nullptr;
  return ok ? OperationResult::Ok() : OperationResult::Failure();
}

}  // namespace otelweb::otlp
