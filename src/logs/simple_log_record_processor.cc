// SimpleLogRecordProcessor: exports each record on the emitting thread.
#include "otelweb/logs/simple_log_record_processor.h"

#include <atomic>
#include <mutex>
#include <string>

#include "core/drop_summary.h"
#include "logs/internal.h"
#include "otelweb/diagnostics.h"

namespace otelweb::logs {

using internal::Add;

struct SimpleLogRecordProcessor::State {
  std::unique_ptr<LogRecordExporter> exporter;
  std::mutex mu;
  std::atomic<bool> shut_down{false};
  std::atomic<bool> warned_fail{false};
  std::atomic<uint64_t> exported{0}, failed{0}, after_shutdown{0}, calls{0}, calls_failed{0};
  otelweb::internal::DropSummary summary{"simple log record processor", "log records"};
};

SimpleLogRecordProcessor::SimpleLogRecordProcessor(std::unique_ptr<LogRecordExporter> exporter) : s_(new State) {
  s_->exporter = std::move(exporter);
}

SimpleLogRecordProcessor::~SimpleLogRecordProcessor() {
  if (!s_->shut_down.load()) Shutdown();
}

void SimpleLogRecordProcessor::OnEmit(LogRecord& record) noexcept {
  if (s_->shut_down.load(std::memory_order_relaxed) || !s_->exporter) {
    Add(s_->after_shutdown, 1);
    return;
  }
  std::lock_guard<std::mutex> lock(s_->mu);
  Add(s_->calls, 1);
  const LogRecord* one = &record;
  ExportResult r;
  try {
    r = s_->exporter->Export(std::span<const LogRecord* const>(&one, 1));
  } catch (...) {
    r = ExportResult::kFailure;
  }
  if (r == ExportResult::kSuccess) {
    Add(s_->exported, 1);
  } else {
    Add(s_->failed, 1);
    Add(s_->calls_failed, 1);
    if (s_->summary.Due()) s_->summary.Tick(counters());
    if (!s_->warned_fail.load(std::memory_order_relaxed) &&
        otelweb::internal::LastExportFailure("log records").empty()) {
      LogOnce(s_->warned_fail, LogLevel::kWarning,
              "log exporter '" + std::string(s_->exporter->Name()) +
                  "' failed to export a record (later failures are counted, not logged); check its "
                  "endpoint");
    }
  }
}

OperationResult SimpleLogRecordProcessor::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  if (s_->shut_down.load()) return OperationResult::AlreadyShutDown();
  if (!s_->exporter) return OperationResult::Ok();
  try {
    return s_->exporter->ForceFlush(timeout);
  } catch (...) {
    return OperationResult::Failure();
  }
}

OperationResult SimpleLogRecordProcessor::Shutdown(std::chrono::milliseconds timeout) noexcept {
  if (s_->shut_down.exchange(true)) return OperationResult::AlreadyShutDown();
  if (!s_->exporter) return OperationResult::Ok();
  OperationResult r;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    try {
      r = s_->exporter->Shutdown(timeout);
    } catch (...) {
      r = OperationResult::Failure();
    }
  }
  s_->summary.AtShutdown(counters());
  return r;
}

LogProcessorCounters SimpleLogRecordProcessor::counters() const noexcept {
  LogProcessorCounters c;
  c.exported = s_->exported.load();
  c.export_failed = s_->failed.load();
  c.dropped_after_shutdown = s_->after_shutdown.load();
  c.export_calls = s_->calls.load();
  c.export_calls_failed = s_->calls_failed.load();
  return c;
}

}  // namespace otelweb::logs
