// The span exporter extension point: turns batches of ended spans into
// telemetry somewhere (a collector, the terminal, memory).
//
// Ownership: processors own their exporter (std::unique_ptr). Export receives
// the batch by mutable span of EndedSpan: an exporter that wants to keep a
// span past the call moves it out (the in-memory exporter does); whatever is
// left is released by the processor after Export returns.
// Thread-safety: processors never call Export concurrently on one exporter;
// ForceFlush and Shutdown may be called from another thread while Export runs.
#pragma once

#include <chrono>
#include <span>
#include <string_view>

#include "otelweb/common.h"
#include "otelweb/trace/span_data.h"

namespace otelweb {

enum class ExportResult : uint8_t {
  kSuccess,
  // The batch was not delivered and will not be retried by the caller
  // (exporters do their own retrying within their timeout).
  kFailure,
};

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual ExportResult Export(std::span<EndedSpan> batch) noexcept = 0;
  virtual OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept {
    (void)timeout;
    return OperationResult::Ok();
  }
  // After Shutdown, Export returns kFailure without doing anything.
  virtual OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept = 0;
  // A short name for diagnostics ("console", "otlp-grpc", ...).
  virtual std::string_view Name() const noexcept = 0;
};

}  // namespace otelweb
