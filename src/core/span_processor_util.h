// Private helpers shared by the span processors (simple_span_processor.cc,
// batch_span_processor.cc): exception-safe Export (the counters are in
// core/export_counters.h).
// Inline, as they were when both processors lived in one file: the simple
// processor calls them on the span's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/internal.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/span_exporter.h"

namespace otelweb::internal::processor {

// Calls Export, turning an exception into a failure.
inline ExportResult SafeExport(SpanExporter& e, std::span<EndedSpan> batch) noexcept {
  static std::atomic<bool> warned{false};
  try {
    return e.Export(batch);
  } catch (...) {
    LogOnce(warned, LogLevel::kError, "a span exporter threw from Export; the batch counts as failed");
    return ExportResult::kFailure;
  }
}

}  // namespace otelweb::internal::processor
