// LoggerProvider, Logger::Emit, the global provider, the recursion guard and
// the logs SDK counters.
#include "otelweb/logs/logger_provider.h"

#include <atomic>
#include <mutex>
#include <string>

#include "core/internal.h"
#include "logs/internal.h"
#include "otelweb/diagnostics.h"

namespace otelweb::logs {

namespace internal {

LogsGlobals& Globals() noexcept {
  static LogsGlobals g;
  return g;
}

namespace {
thread_local bool t_emitting = false;
}  // namespace

bool& EmittingFlag() noexcept { return t_emitting; }

otelweb::internal::ExportCounters& QueueMirror() noexcept {
  static otelweb::internal::ExportCounters* c = new otelweb::internal::ExportCounters;  // outlives worker threads
  return *c;
}

struct ProcList {
  std::vector<LogRecordProcessor*> procs;
};

}  // namespace internal

struct LoggerProvider::State {
  Resource resource;
  LogRecordLimits limits;
  std::function<LoggerConfig(const InstrumentationScope&)> configurator;
  std::mutex mu;  // loggers, processors (writers)
  std::vector<std::unique_ptr<LogRecordProcessor>> owned;
  std::vector<std::unique_ptr<internal::ProcList>> lists;  // every published list, kept
  std::atomic<const internal::ProcList*> procs{nullptr};
  std::vector<std::shared_ptr<internal::LoggerCore>> loggers;
  std::atomic<bool> shut_down{false};

  void Publish() {  // under mu
    auto l = std::make_unique<internal::ProcList>();
    for (auto& p : owned) l->procs.push_back(p.get());
    procs.store(l.get(), std::memory_order_release);
    lists.push_back(std::move(l));
  }
};

namespace internal {
struct LoggerCore {
  std::shared_ptr<LoggerProvider::State> provider;
  InstrumentationScope scope;
  LoggerConfig config;
};
}  // namespace internal

namespace {
using internal::Add;
}  // namespace

LogRecord Logger::CreateLogRecord() const noexcept {
  return core_ ? LogRecord(core_->provider->limits) : LogRecord();
}

bool Logger::Enabled(Severity severity) const noexcept {
  if (!core_) return false;
  const auto& c = core_->config;
  if (!c.enabled) return false;
  if (severity != Severity::kUnspecified && severity < c.minimum_severity) return false;
  const internal::ProcList* l = core_->provider->procs.load(std::memory_order_acquire);
  return l != nullptr && !l->procs.empty() && !core_->provider->shut_down.load(std::memory_order_relaxed);
}

void Logger::Emit(LogRecord& record) const noexcept {
  if (!core_) return;
  auto& g = internal::Globals();
  bool& emitting = internal::EmittingFlag();
  if (emitting) {
    Add(g.recursive, 1);
    return;
  }
  const internal::LoggerCore& core = *core_;
  const LoggerConfig& c = core.config;
  if (!c.enabled ||
      (record.severity() != Severity::kUnspecified && record.severity() < c.minimum_severity)) {
    Add(g.filtered, 1);
    return;
  }
  if (!record.has_span_context()) {
    const SpanContext& sc = otelweb::internal::CurrentContextRef().span_context();
    if (sc.IsValid()) record.SetSpanContext(sc);
  }
  if (c.trace_based && record.trace_id().IsValid() && !record.trace_flags().sampled()) {
    Add(g.filtered, 1);
    return;
  }
  const internal::ProcList* l = core.provider->procs.load(std::memory_order_acquire);
  if (l == nullptr) return;
  if (record.observed_timestamp().time_since_epoch().count() == 0) {
    record.SetObservedTimestamp(Now());
  }
  record.SetScope(&core.scope, &core.provider->resource);
  record.ApplyException();
  emitting = true;
  for (LogRecordProcessor* p : l->procs) p->OnEmit(record);
  emitting = false;
}

void Logger::Emit(Severity severity, std::string_view body, Attributes attributes) const noexcept {
  if (!core_) return;
  LogRecord r(core_->provider->limits);
  const Timestamp now = Now();
  r.SetTimestamp(now);
  r.SetObservedTimestamp(now);
  r.SetSeverity(severity);
  r.SetBody(body);
  for (const KeyValue& kv : attributes) r.AddAttribute(kv.key, kv.value);
  Emit(r);
}

std::string_view Logger::scope_name() const noexcept { return core_ ? std::string_view(core_->scope.name) : ""; }

bool EmitInProgressOnThisThread() noexcept { return internal::EmittingFlag(); }

SuppressLogEmitScope::SuppressLogEmitScope() noexcept : prev_(internal::EmittingFlag()) {
  internal::EmittingFlag() = true;
}
SuppressLogEmitScope::~SuppressLogEmitScope() { internal::EmittingFlag() = prev_; }

LogsSdkCounters GetLogsSdkCounters() noexcept {
  auto& g = internal::Globals();
  LogsSdkCounters c;
  c.filtered = g.filtered.load(std::memory_order_relaxed);
  c.emits_recursive = g.recursive.load(std::memory_order_relaxed);
  c.dropped_queue_full = internal::QueueMirror().dropped_queue_full.load(std::memory_order_relaxed);
  return c;
}

LoggerProvider::LoggerProvider(LoggerProviderOptions options) : s_(std::make_shared<State>()) {
  s_->resource = options.resource ? std::move(*options.resource) : Resource::Create();
  s_->limits = ResolveLogRecordLimits(options.limits);
  s_->configurator = std::move(options.configurator);
  std::lock_guard<std::mutex> lock(s_->mu);
  for (auto& p : options.processors) {
    if (p) s_->owned.push_back(std::move(p));
  }
  s_->Publish();
}

LoggerProvider::~LoggerProvider() {
  if (!s_->shut_down.load()) Shutdown();
  // Each logger core holds the state (loggers handed out keep working on it);
  // the state's list of cores must not hold them back, or neither is freed.
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->loggers.clear();
}

Logger LoggerProvider::GetLogger(std::string_view name, std::string_view version, std::string_view schema_url) {
  std::lock_guard<std::mutex> lock(s_->mu);
  for (auto& l : s_->loggers) {
    if (l->scope.name == name && l->scope.version == version && l->scope.schema_url == schema_url) return Logger(l);
  }
  if (name.empty()) {
    static std::atomic<bool> warned{false};
    LogOnce(warned, LogLevel::kWarning,
            "a logger was requested with an empty name; pass the library or module name to GetLogger");
  }
  auto core = std::make_shared<internal::LoggerCore>();
  core->provider = s_;
  core->scope = InstrumentationScope{std::string(name), std::string(version), std::string(schema_url)};
  if (s_->configurator) {
    try {
      core->config = s_->configurator(core->scope);
    } catch (...) {
      Log(LogLevel::kError, "the logger configurator threw for scope '" + core->scope.name +
                                "'; the default configuration is used (fix the configurator)");
    }
  }
  s_->loggers.push_back(core);
  return Logger(std::move(core));
}

void LoggerProvider::AddProcessor(std::unique_ptr<LogRecordProcessor> processor) {
  if (!processor) return;
  std::lock_guard<std::mutex> lock(s_->mu);
  if (s_->shut_down.load()) {
    (void)processor->Shutdown(std::chrono::milliseconds(0));
    return;
  }
  s_->owned.push_back(std::move(processor));
  s_->Publish();
}

OperationResult LoggerProvider::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  if (s_->shut_down.load()) return OperationResult::AlreadyShutDown();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  OperationResult r = OperationResult::Ok();
  const internal::ProcList* l = s_->procs.load(std::memory_order_acquire);
  for (LogRecordProcessor* p : l->procs) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    r = r.Merge(p->ForceFlush(std::max(left, std::chrono::milliseconds(0))));
  }
  return r;
}

OperationResult LoggerProvider::Shutdown(std::chrono::milliseconds timeout) noexcept {
  if (s_->shut_down.exchange(true)) return OperationResult::AlreadyShutDown();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  OperationResult r = OperationResult::Ok();
  const internal::ProcList* l = s_->procs.load(std::memory_order_acquire);
  for (LogRecordProcessor* p : l->procs) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    r = r.Merge(p->Shutdown(std::max(left, std::chrono::milliseconds(0))));
  }
  return r;
}

bool LoggerProvider::IsShutDown() const noexcept { return s_->shut_down.load(); }
const Resource& LoggerProvider::resource() const noexcept { return s_->resource; }

std::shared_ptr<LoggerProvider> LoggerProvider::NoOp() {
  static std::shared_ptr<LoggerProvider> p = [] {
    LoggerProviderOptions o;
    o.resource = Resource();
    return std::make_shared<LoggerProvider>(std::move(o));
  }();
  return p;
}

namespace {
std::mutex g_global_mu;
std::shared_ptr<LoggerProvider> g_global;  // guarded by g_global_mu
std::atomic<uint64_t> g_generation{1};
}  // namespace

std::shared_ptr<LoggerProvider> GetLoggerProvider() noexcept {
  std::lock_guard<std::mutex> lock(g_global_mu);
  return g_global ? g_global : LoggerProvider::NoOp();
}

void SetLoggerProvider(std::shared_ptr<LoggerProvider> provider) noexcept {
  std::shared_ptr<LoggerProvider> old;
  {
    std::lock_guard<std::mutex> lock(g_global_mu);
    old = std::exchange(g_global, std::move(provider));
    g_generation.fetch_add(1, std::memory_order_release);
  }
}

bool ResetLoggerProviderIf(const LoggerProvider* expected) noexcept {
  std::shared_ptr<LoggerProvider> old;  // released after the lock
  {
    std::lock_guard<std::mutex> lock(g_global_mu);
    if (expected == nullptr || g_global.get() != expected) return false;
    old = std::exchange(g_global, nullptr);
    g_generation.fetch_add(1, std::memory_order_release);
  }
  return true;
}

uint64_t LoggerProviderGeneration() noexcept { return g_generation.load(std::memory_order_acquire); }

Logger GetLogger(std::string_view name, std::string_view version) {
  return GetLoggerProvider()->GetLogger(name, version);
}

}  // namespace otelweb::logs
