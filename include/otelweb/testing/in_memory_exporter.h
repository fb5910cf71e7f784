// In-memory exporter, for users' tests: keeps every exported span until Reset.
//
// Ownership: the store is shared between the exporter (owned by a processor)
// and the test that reads it. Spans are kept zero-copy: the store holds the
// ended spans themselves, so the test reads exactly what an exporter sees.
// Pointers returned by spans() stay valid until Reset() or the store dies.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "otelweb/trace/span_exporter.h"

namespace otelweb {

class InMemorySpanStore {
 public:
  // Spans in export order.
  std::vector<const SpanData*> spans() const;
  // The spans with this name, in export order.
  std::vector<const SpanData*> FindByName(std::string_view name) const;
  size_t size() const;
  void Reset();

 private:
  friend class InMemorySpanExporter;
  void Add(std::span<EndedSpan> batch);
  mutable std::mutex mu_;
  std::vector<EndedSpan> spans_;
};

class InMemorySpanExporter final : public SpanExporter {
 public:
  explicit InMemorySpanExporter(std::shared_ptr<InMemorySpanStore> store);
  ExportResult Export(std::span<EndedSpan> batch) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override { return "memory"; }

 private:
  std::shared_ptr<InMemorySpanStore> store_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace otelweb
