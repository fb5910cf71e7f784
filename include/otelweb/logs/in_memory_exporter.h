// InMemoryLogRecordExporter: keeps copies of exported log records for tests.
//
// Ownership: the processor owns the exporter; keep a raw pointer (or use
// storage()) to read it. The copies' scope() and resource() point into the
// provider: read them while the provider lives.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "otelweb/logs/log_record_exporter.h"

namespace otelweb::logs {

class InMemoryLogRecordExporter final : public LogRecordExporter {
 public:
  // Shared storage, so a test may keep reading after the exporter is gone.
  struct Storage {
    std::mutex mu;
    std::vector<LogRecord> records;
  };

  InMemoryLogRecordExporter() : storage_(std::make_shared<Storage>()) {}
  ExportResult Export(std::span<const LogRecord* const> batch) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override { return "in-memory"; }

  // A copy of what was exported so far.
  std::vector<LogRecord> records() const;
  void Clear();
  std::shared_ptr<Storage> storage() const noexcept { return storage_; }

 private:
  std::shared_ptr<Storage> storage_;
  bool shut_down_ = false;
};

}  // namespace otelweb::logs
