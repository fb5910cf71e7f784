// The glog bridge: a google::LogSink that turns glog messages into
// OpenTelemetry log records (glog 0.6, Debian libgoogle-glog-dev).
//
//   auto telemetry = otelweb::Install({.service_name = "shop"});  // traces + logs
//   otelweb::glog_bridge::Sink otel_sink;  // registered with glog while alive
//   LOG(INFO) << "GET /items served";      // a record with the current span's ids
//
// glog calls its sinks synchronously on the thread that logs, so the record
// gets that thread's current span context (no async caveat as with spdlog).
// Mapping: INFO, WARNING, ERROR, FATAL -> severity INFO, WARN, ERROR, FATAL
// (text: glog's name); the message -> body (glog's prefix is not included);
// the message time -> timestamp (microseconds, glog's resolution); file and
// line -> code.file.path, code.line.number (glog passes no function name);
// the OS thread id -> thread.id. One instrumentation scope for all messages
// (glog loggers have no names): SinkOptions::scope_name, default "glog".
// A FATAL message flushes the provider (up to fatal_flush_timeout) before
// glog aborts the process, so that the record is not lost.
//
// Trace ids in glog's own text lines: Debian's glog 0.6 is built without
// custom prefixes, so write them in the message:
// `LOG(INFO) << otelweb::logs::CurrentTraceFields() << " served"`
// (otelweb/logs/trace_fields.h).
//
// Recursion: glog holds its own lock while sinks run, so anything that calls
// LOG() from inside the log pipeline would deadlock. Records emitted from
// inside the pipeline are dropped (the logs SDK's recursion guard), and to
// route otelweb's diagnostics into glog use DiagnosticsToGlog(), which
// writes to stderr instead of LOG() while this sink is emitting on the
// thread. Never give otelweb::SetDiagnosticsSink a lambda that calls LOG()
// directly.
//
// Ownership: the sink shares the provider it was given (or follows the
// global one, re-resolved when it is replaced); it adds itself with
// google::AddLogSink and removes itself in its destructor, so it must
// outlive the logging it should see (a variable in main is usual).
// Thread-safety: glog may call send() from any thread; the sink is safe for
// that. Construct and destroy it while no other thread adds or removes sinks.
#pragma once

#include <glog/logging.h>

#include <chrono>
#include <memory>
#include <string>

#include "otelweb/diagnostics.h"
#include "otelweb/logs/logger_provider.h"

namespace otelweb::glog_bridge {

struct SinkOptions {
  // Default: the global LoggerProvider (followed when it is replaced).
  std::shared_ptr<logs::LoggerProvider> provider{};
  // The instrumentation scope of the records.
  std::string scope_name = "glog";
  // Add code.file.path and code.line.number.
  bool code_attributes = true;
  // Add thread.id.
  bool thread_id = true;
  // A FATAL message flushes the provider for at most this long (0: no flush).
  std::chrono::milliseconds fatal_flush_timeout{1000};
};

// glog severity (google::INFO ... google::FATAL) -> log record severity.
logs::Severity SeverityOf(google::LogSeverity severity) noexcept;

class Sink final : public google::LogSink {
 public:
  // Registers the sink with google::AddLogSink.
  explicit Sink(SinkOptions options = {});
  // Removes it (google::RemoveLogSink).
  ~Sink() override;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  void send(google::LogSeverity severity, const char* full_filename, const char* base_filename, int line,
            const google::LogMessageTime& time, const char* message, size_t message_len) override;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

// A diagnostics sink for otelweb::SetDiagnosticsSink that writes otelweb's
// messages through glog (kError -> ERROR, kWarning -> WARNING, else INFO),
// or straight to stderr when called from inside the glog sink on this thread
// (where LOG() would deadlock on glog's lock).
DiagnosticsSink DiagnosticsToGlog();

}  // namespace otelweb::glog_bridge
