// The spdlog bridge: an spdlog sink that turns spdlog messages into
// OpenTelemetry log records (spdlog 1.10, Debian libspdlog-dev).
//
//   auto logs = otelweb::Install({.service_name = "shop"});       // traces + logs
//   auto logger = std::make_shared<spdlog::logger>("shop", otelweb::spdlog_bridge::MakeSink());
//   logger->info("GET /items served");   // a record with the current span's ids
//
// Mapping: level trace/debug/info/warn/err/critical -> severity TRACE, DEBUG,
// INFO, WARN, ERROR, FATAL (text: spdlog's level name); the logger's name ->
// the instrumentation scope; the payload -> body; the message time ->
// timestamp; source location -> code.file.path, code.line.number,
// code.function.name (when the SPDLOG_* macros supplied one); the thread id ->
// thread.id. The trace context is the one current on the thread that called
// log() — also under otelweb's async logger (otelweb/spdlog/async.h), which
// carries it to its worker. spdlog's own async_logger cannot: its worker runs
// the sinks without the caller's context (see docs/logs.md).
//
// The Logger of each spdlog logger name is resolved once and cached in the
// sink (re-resolved when the global LoggerProvider is replaced); log() takes no
// lock. flush() does nothing: spdlog calls it often (flush_on), and it must
// never force a network export (the batch processor exports on its own
// schedule; LoggerProvider::ForceFlush is the explicit call).
//
// Ownership: the sink shares the provider it was given (or follows the
// global one). Thread-safety: log() and flush() may be called from any
// thread concurrently (the sink needs no spdlog mutex).
//
// Namespace: otelweb::spdlog_bridge, not otelweb::spdlog, so that code with
// `using namespace otelweb;` can still use spdlog's SPDLOG_* macros (they
// name `spdlog::` unqualified).
#pragma once

#include <spdlog/sinks/sink.h>

#include <memory>
#include <string>

#include "otelweb/logs/logger_provider.h"

namespace otelweb::spdlog_bridge {

struct SinkOptions {
  // Default: the global LoggerProvider (followed when it is replaced).
  std::shared_ptr<logs::LoggerProvider> provider{};
  // Add code.* attributes from the message's source location.
  bool code_attributes = true;
  // Add thread.id.
  bool thread_id = true;
};

// spdlog level -> severity (off -> kUnspecified, which the sink skips).
logs::Severity SeverityOf(int spdlog_level) noexcept;

class Sink final : public ::spdlog::sinks::sink {
 public:
  explicit Sink(SinkOptions options = {});
  ~Sink() override;
  void log(const ::spdlog::details::log_msg& msg) override;
  void flush() override {}
  // Patterns and formatters do not apply: the record carries the fields.
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<::spdlog::formatter>) override {}

  struct State;

 private:
  std::unique_ptr<State> s_;
};

// std::make_shared<Sink>(options).
std::shared_ptr<Sink> MakeSink(SinkOptions options = {});

}  // namespace otelweb::spdlog_bridge
