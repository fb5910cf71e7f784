// otelweb::glog_bridge::Sink: glog messages -> log records.
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "otelweb/glog/sink.h"
#include "otelweb/semconv.h"

namespace otelweb::glog_bridge {

namespace {
thread_local bool t_in_send = false;  // this thread is inside Sink::send

struct InSend {
  InSend() noexcept { t_in_send = true; }
  ~InSend() { t_in_send = false; }
  InSend(const InSend&) = delete;
  InSend& operator=(const InSend&) = delete;
};
}  // namespace

logs::Severity SeverityOf(google::LogSeverity severity) noexcept {
  switch (severity) {
    case google::GLOG_INFO:
      return logs::Severity::kInfo;
    case google::GLOG_WARNING:
      return logs::Severity::kWarn;
    case google::GLOG_ERROR:
      return logs::Severity::kError;
    case google::GLOG_FATAL:
      return logs::Severity::kFatal;
    default:
      return logs::Severity::kUnspecified;
  }
}

// The Logger, resolved on first use and again when the global provider is
// replaced (generation 0 with an explicit provider).
struct Sink::State {
  SinkOptions options;
  std::mutex mu;
  uint64_t generation = UINT64_MAX;
  std::shared_ptr<logs::LoggerProvider> provider;  // the one `logger` came from
  logs::Logger logger = logs::LoggerProvider::NoOp()->GetLogger("glog");

  // Copies out under the lock (the copy shares the logger's state).
  std::pair<logs::Logger, std::shared_ptr<logs::LoggerProvider>> Resolve() {
    const uint64_t gen = options.provider ? 0 : logs::LoggerProviderGeneration();
    std::lock_guard<std::mutex> lock(mu);
    if (gen != generation) {
      provider = options.provider ? options.provider : logs::GetLoggerProvider();
      logger = provider->GetLogger(options.scope_name);
      generation = gen;
    }
    return {logger, provider};
  }
};

Sink::Sink(SinkOptions options) : s_(new State) {
  s_->options = std::move(options);
  google::AddLogSink(this);
}

Sink::~Sink() { google::RemoveLogSink(this); }

void Sink::send(google::LogSeverity severity, const char* full_filename, const char*, int line,
                const google::LogMessageTime& time, const char* message, size_t message_len) {
  const logs::Severity sev = SeverityOf(severity);
  if (sev == logs::Severity::kUnspecified) return;
  InSend in_send;
  try {
    auto [logger, provider] = s_->Resolve();
    if (!logger.Enabled(sev)) return;
    logs::LogRecord r = logger.CreateLogRecord();
    r.SetTimestamp(Timestamp(std::chrono::seconds(time.timestamp()) + std::chrono::microseconds(time.usec())));
    const char* text = severity >= 0 && severity < google::NUM_SEVERITIES ? google::GetLogSeverityName(severity)
                                                                           : "";
    r.SetSeverity(sev, text);
    r.SetBody(std::string_view(message != nullptr ? message : "", message != nullptr ? message_len : 0));
    if (s_->options.code_attributes && full_filename != nullptr && *full_filename != '\0') {
      r.AddAttribute(semconv::kCodeFilePath, full_filename);
      r.AddAttribute(semconv::kCodeLineNumber, static_cast<int64_t>(line));
    }
    if (s_->options.thread_id) r.AddAttribute(semconv::kThreadId, static_cast<int64_t>(::syscall(SYS_gettid)));
    logger.Emit(r);
    if (sev == logs::Severity::kFatal && s_->options.fatal_flush_timeout.count() > 0) {
      (void)provider->ForceFlush(s_->options.fatal_flush_timeout);
    }
  } catch (...) {
    // Telemetry never breaks the app; glog's own output is unaffected.
  }
}

DiagnosticsSink DiagnosticsToGlog() {
  return [](LogLevel level, std::string_view message) {
    if (t_in_send) {  // LOG() here would wait for glog's lock, held by this thread
      std::string line = "otelweb: ";
      line.append(message);
      line += '\n';
      ssize_t n = ::write(2, line.data(), line.size());
      (void)n;
      return;
    }
    const google::LogSeverity sev = level == LogLevel::kError     ? google::GLOG_ERROR
                                    : level == LogLevel::kWarning ? google::GLOG_WARNING
                                                                  : google::GLOG_INFO;
    google::LogMessage("otelweb", 0, sev).stream() << message;
  };
}

}  // namespace otelweb::glog_bridge
