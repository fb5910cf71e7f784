// Logger: emits log records for one instrumentation scope (OpenTelemetry
// specification, logs "Bridge API" and SDK "Logger"), and the per-scope
// LoggerConfig (enabled, minimum severity, trace-based filtering).
//
// A bridge (the spdlog sink, or your own) fills a LogRecord on the stack and
// calls Emit; Emit stamps the observed timestamp and, unless the record has
// one, the trace context current on the calling thread; adds exception.*
// attributes; applies the logger's configuration; and hands the record to
// every processor of the provider.
//
// Recursion guard: a record emitted while another Emit is running on the same
// thread (an exporter or the SDK's diagnostics writing through a bridged
// logger) is dropped and counted (emits_recursive in GetLogsSdkCounters), and
// the batch processor's worker thread never emits: no deadlock, no loop.
//
// Ownership: a Logger is a cheap handle (one shared pointer) to a scope that
// its LoggerProvider keeps; copies share it.
// Thread-safety: Emit and Enabled may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "otelweb/context.h"
#include "otelweb/logs/log_record.h"

namespace otelweb::logs {

// The configuration of one logger (specification: LoggerConfig,
// Development). Chosen per scope by LoggerProviderOptions::configurator.
struct LoggerConfig {
  bool enabled = true;
  // Records with a severity below this (and not unspecified) are dropped.
  Severity minimum_severity = Severity::kUnspecified;
  // Drop records that belong to an unsampled trace (records outside any
  // trace are kept).
  bool trace_based = false;
};

namespace internal {
struct LoggerCore;
}  // namespace internal

class Logger {
 public:
  Logger() noexcept = default;  // a no-op logger

  // A record with this logger's attribute limits, to fill and Emit.
  LogRecord CreateLogRecord() const noexcept;
  // Emits `record` (see the header comment). Never throws, never blocks on
  // the batch processor.
  void Emit(LogRecord& record) const noexcept;
  // Shorthand: a record with this severity, body and attributes.
  void Emit(Severity severity, std::string_view body, Attributes attributes = {}) const noexcept;
  // Whether a record of this severity would be processed at all (the
  // logger's configuration and provider state; the trace-based filter is
  // applied at Emit). Lets a bridge skip formatting.
  bool Enabled(Severity severity) const noexcept;

  std::string_view scope_name() const noexcept;

 private:
  friend class LoggerProvider;
  explicit Logger(std::shared_ptr<internal::LoggerCore> core) noexcept : core_(std::move(core)) {}
  std::shared_ptr<internal::LoggerCore> core_;
};

// True while an Emit runs on this thread (what the recursion guard checks).
bool EmitInProgressOnThisThread() noexcept;

// While alive, every Emit on this thread is dropped as recursive. Exporters
// and workers that may log through a bridged logger use it.
class SuppressLogEmitScope {
 public:
  SuppressLogEmitScope() noexcept;
  ~SuppressLogEmitScope();
  SuppressLogEmitScope(const SuppressLogEmitScope&) = delete;
  SuppressLogEmitScope& operator=(const SuppressLogEmitScope&) = delete;

 private:
  bool prev_;
};

// Process-wide counters of the logs SDK.
struct LogsSdkCounters {
  uint64_t filtered = 0;            // dropped by a LoggerConfig (severity, trace-based, disabled)
  uint64_t emits_recursive = 0;     // dropped by the recursion guard
  uint64_t dropped_queue_full = 0;  // all batch processors together
};
LogsSdkCounters GetLogsSdkCounters() noexcept;

}  // namespace otelweb::logs
