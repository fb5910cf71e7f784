// otelweb::spdlog_bridge::Sink: spdlog messages -> log records.
#include <spdlog/details/log_msg.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "core/internal.h"
#include "otelweb/semconv.h"
#include "otelweb/spdlog/sink.h"
#include "spdlog/carried_context.h"

namespace otelweb::spdlog_bridge {

namespace internal {
namespace {
thread_local const SpanContext* t_carried = nullptr;
}  // namespace
const SpanContext* CarriedSpanContext() noexcept { return t_carried; }
void SetCarriedSpanContext(const SpanContext* sc) noexcept { t_carried = sc; }
const SpanContext& EffectiveSpanContext() noexcept {
  return t_carried != nullptr ? *t_carried : otelweb::internal::CurrentContextRef().span_context();
}
}  // namespace internal

logs::Severity SeverityOf(int level) noexcept {
  switch (level) {
    case ::spdlog::level::trace:
      return logs::Severity::kTrace;
    case ::spdlog::level::debug:
      return logs::Severity::kDebug;
    case ::spdlog::level::info:
      return logs::Severity::kInfo;
    case ::spdlog::level::warn:
      return logs::Severity::kWarn;
    case ::spdlog::level::err:
      return logs::Severity::kError;
    case ::spdlog::level::critical:
      return logs::Severity::kFatal;
    default:
      return logs::Severity::kUnspecified;
  }
}

// The Loggers by spdlog logger name: an immutable snapshot read without a
// lock; a new name copies it under the mutex (old snapshots are kept until the
// sink goes, so a reader never sees freed memory).
struct Sink::State {
  struct Entry {
    std::string name;
    logs::Logger logger;
  };
  struct Snapshot {
    uint64_t generation = 0;  // of the global provider; 0 with an explicit provider
    std::vector<Entry> entries;
  };
  SinkOptions options;
  std::atomic<const Snapshot*> current{nullptr};
  std::mutex mu;
  std::vector<std::unique_ptr<Snapshot>> all;

  const logs::Logger& Resolve(std::string_view name) {
    const uint64_t gen = options.provider ? 0 : logs::LoggerProviderGeneration();
    const Snapshot* s = current.load(std::memory_order_acquire);
    if (s != nullptr && s->generation == gen) {
      for (const Entry& e : s->entries) {
        if (e.name == name) return e.logger;
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    s = current.load(std::memory_order_relaxed);
    auto next = std::make_unique<Snapshot>();
    next->generation = gen;
    if (s != nullptr && s->generation == gen) {
      for (const Entry& e : s->entries) {
        if (e.name == name) return e.logger;
      }
      next->entries = s->entries;
    }
    auto provider = options.provider ? options.provider : logs::GetLoggerProvider();
    next->entries.push_back({std::string(name), provider->GetLogger(name)});
    const Snapshot* published = next.get();
    all.push_back(std::move(next));
    current.store(published, std::memory_order_release);
    return published->entries.back().logger;
  }
};

Sink::Sink(SinkOptions options) : s_(new State) { s_->options = std::move(options); }
Sink::~Sink() = default;

void Sink::log(const ::spdlog::details::log_msg& msg) {
  const logs::Severity sev = SeverityOf(msg.level);
  if (sev == logs::Severity::kUnspecified) return;
  const std::string_view name(msg.logger_name.data(), msg.logger_name.size());
  const logs::Logger& logger = s_->Resolve(name);
  if (!logger.Enabled(sev)) return;
  logs::LogRecord r = logger.CreateLogRecord();
  r.SetTimestamp(std::chrono::time_point_cast<std::chrono::nanoseconds>(msg.time));
  const auto& lv = ::spdlog::level::to_string_view(msg.level);
  r.SetSeverity(sev, std::string_view(lv.data(), lv.size()));
  r.SetBody(std::string_view(msg.payload.data(), msg.payload.size()));
  if (const SpanContext* carried = internal::CarriedSpanContext()) r.SetSpanContext(*carried);
  if (s_->options.code_attributes && !msg.source.empty()) {
    r.AddAttribute(semconv::kCodeFilePath, msg.source.filename);
    r.AddAttribute(semconv::kCodeLineNumber, static_cast<int64_t>(msg.source.line));
    if (msg.source.funcname != nullptr && *msg.source.funcname != '\0') {
      r.AddAttribute(semconv::kCodeFunctionName, msg.source.funcname);
    }
  }
  if (s_->options.thread_id) r.AddAttribute(semconv::kThreadId, static_cast<int64_t>(msg.thread_id));
  logger.Emit(r);
}

std::shared_ptr<Sink> MakeSink(SinkOptions options) { return std::make_shared<Sink>(std::move(options)); }

}  // namespace otelweb::spdlog_bridge
