// The SDK's own messages (warnings about bad settings, first dropped span,
// failed exports). They go to a replaceable sink; the default writes one line
// to stderr, filtered by OTEL_LOG_LEVEL (default "info").
//
// Thread-safety: Log and SetDiagnosticsSink may be called from any thread. The
// sink is called from whichever thread reports and must be thread-safe; it
// must not start spans (that would recurse) and should not block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace otelweb {

enum class LogLevel : uint8_t { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kNone = 4 };

using DiagnosticsSink = std::function<void(LogLevel, std::string_view message)>;

// Replaces the sink (nullptr restores the default stderr sink).
void SetDiagnosticsSink(DiagnosticsSink sink);
// Replaces the sink and returns the one it replaced (empty: the default
// stderr sink), so that a temporary sink can put the previous one back
// (otelweb::testing::DiagnosticsCapture does).
DiagnosticsSink ExchangeDiagnosticsSink(DiagnosticsSink sink);
// Messages below this level are discarded before reaching the sink.
void SetLogLevel(LogLevel level) noexcept;
LogLevel GetLogLevel() noexcept;
// Parses "debug", "info", "warn"/"warning", "error", "none" (case-insensitive).
bool ParseLogLevel(std::string_view text, LogLevel* out) noexcept;

// Sends a message to the sink. Never throws; a sink that throws is ignored.
void Log(LogLevel level, std::string_view message) noexcept;

// Reports a message only the first time this flag is passed: the idiom for
// "one warning, not one per span".
inline void LogOnce(std::atomic<bool>& flag, LogLevel level, std::string_view message) noexcept {
  if (!flag.load(std::memory_order_relaxed) && !flag.exchange(true, std::memory_order_relaxed)) {
    Log(level, message);
  }
}

// Process-wide counters of the SDK itself (all providers together).
struct SdkCounters {
  uint64_t spans_started = 0;        // recording spans
  uint64_t spans_non_recording = 0;  // sampled out
  uint64_t spans_ended = 0;
  uint64_t spans_dropped_queue_full = 0;
  uint64_t spans_dropped_after_shutdown = 0;
  uint64_t spans_dropped_deadline = 0;  // queued, not exported by the shutdown deadline
  uint64_t spans_exported = 0;
  uint64_t spans_export_failed = 0;
  uint64_t export_calls_failed = 0;
  // Bytes of string storage (names, attribute and event values) held by span
  // records, in flight or pooled for reuse: otelweb-owned memory that grows
  // with span size. A record keeps at most 64 KiB of it for reuse; see
  // docs/performance.md, "Memory bound".
  uint64_t span_buffer_bytes = 0;
};
SdkCounters GetSdkCounters() noexcept;

}  // namespace otelweb
