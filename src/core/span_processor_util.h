// Private helpers shared by the span processors (simple_span_processor.cc,
// batch_span_processor.cc): exception-safe Export and the export counters.
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

inline void Add(std::atomic<uint64_t>& c, uint64_t n) { c.fetch_add(n, std::memory_order_relaxed); }

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

inline void CountExport(ExportResult r, size_t n, std::atomic<uint64_t>& exported, std::atomic<uint64_t>& failed,
                 std::atomic<bool>& warned, std::string_view exporter_name) {
  auto& g = internal::Globals();
  if (r == ExportResult::kSuccess) {
    Add(exported, n);
    Add(g.exported, n);
  } else {
    Add(failed, n);
    Add(g.export_failed, n);
    Add(g.export_calls_failed, 1);
    if (!warned.load(std::memory_order_relaxed) && !warned.exchange(true)) {
      Log(LogLevel::kWarning, "exporter '" + std::string(exporter_name) +
                                  "' failed to export a batch of " + std::to_string(n) +
                                  " spans (later failures are counted, not logged)");
    }
  }
}

}  // namespace otelweb::internal::processor
