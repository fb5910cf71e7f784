// LoggerProvider: the entry point of the logs SDK (OpenTelemetry
// specification, logs SDK "LoggerProvider"): it holds the resource, the
// attribute limits, the logger configurator and the processors, and hands out
// one Logger per instrumentation scope.
//
// Ownership: owns its processors (and through them the exporters). Loggers
// share the provider's state, so a Logger outliving its provider is safe (it
// emits nothing after Shutdown). A processor or exporter must not keep a
// Logger of its own provider (that cycle keeps both alive until the Logger
// is released).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/logs/log_record_processor.h"
#include "otelweb/logs/logger.h"
#include "otelweb/resource.h"
#include "otelweb/trace/tracer.h"  // InstrumentationScope

namespace otelweb::logs {

struct LoggerProviderOptions {
  // Default: Resource::Create() (the same resource as the tracer provider
  // when both are built by otelweb::Install).
  std::optional<Resource> resource{};
  LogRecordLimitsOptions limits{};
  // Picks each logger's configuration from its scope; unset: LoggerConfig{}.
  std::function<LoggerConfig(const InstrumentationScope&)> configurator{};
  std::vector<std::unique_ptr<LogRecordProcessor>> processors{};
};

class LoggerProvider {
 public:
  explicit LoggerProvider(LoggerProviderOptions options = {});
  ~LoggerProvider();  // Shutdown() with the default deadline if not done
  LoggerProvider(const LoggerProvider&) = delete;
  LoggerProvider& operator=(const LoggerProvider&) = delete;

  // One Logger per (name, version, schema_url); repeated calls return the
  // same scope. Takes a lock: cache the Logger (bridges do).
  Logger GetLogger(std::string_view name, std::string_view version = {}, std::string_view schema_url = {});
  // Adds a processor; records emitted afterwards reach it too.
  void AddProcessor(std::unique_ptr<LogRecordProcessor> processor);

  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  // Flushes and shuts every processor down within the deadline; afterwards
  // every logger drops what it is given. Second call: AlreadyShutDown.
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  bool IsShutDown() const noexcept;
  const Resource& resource() const noexcept;

  // A provider without processors (what the global is until one is set).
  static std::shared_ptr<LoggerProvider> NoOp();

  struct State;

 private:
  std::shared_ptr<State> s_;
};

// The global provider (a no-op provider until SetLoggerProvider is called).
std::shared_ptr<LoggerProvider> GetLoggerProvider() noexcept;
void SetLoggerProvider(std::shared_ptr<LoggerProvider> provider) noexcept;
// Compare-and-reset: clears the global provider (back to the no-op one) only
// if it is still `expected`, in one step under the global's lock, and says
// whether it did. For owners that stop their provider: a check
// (GetLoggerProvider() == mine) followed by SetLoggerProvider(nullptr) would
// clear a provider that another thread installed between the two calls.
bool ResetLoggerProviderIf(const LoggerProvider* expected) noexcept;
// Changes whenever the global logger provider is replaced: bridges that cache
// a Logger compare it (one atomic load) to know when to resolve again.
uint64_t LoggerProviderGeneration() noexcept;
// Shorthand for GetLoggerProvider()->GetLogger(name).
Logger GetLogger(std::string_view name, std::string_view version = {});

}  // namespace otelweb::logs
