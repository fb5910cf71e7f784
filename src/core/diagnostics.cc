// The SDK's own messages.
#include "otelweb/diagnostics.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <new>
#include <string>

#include "core/config.h"

namespace otelweb {

namespace {

struct Diag {
  std::mutex mu;
  DiagnosticsSink sink;  // empty: stderr
};

Diag& D();

// After fork() the child's only thread must be able to log even if another
// thread of the parent held the lock at that moment: construct it anew.
void DiagAfterForkInChild() { new (&D().mu) std::mutex(); }

Diag& D() {
  static Diag* d = [] {
    auto* p = new Diag;  // immortal: usable from destructors at exit
    pthread_atfork(nullptr, nullptr, &DiagAfterForkInChild);
    return p;
  }();
  return *d;
}

std::atomic<int> g_level{-1};  // -1: not read from OTEL_LOG_LEVEL yet

LogLevel Level() noexcept {
  int l = g_level.load(std::memory_order_relaxed);
  if (l >= 0) return static_cast<LogLevel>(l);
  LogLevel parsed = LogLevel::kInfo;
  const char* env = std::getenv("OTEL_LOG_LEVEL");
  bool bad = env != nullptr && *env != '\0' && !ParseLogLevel(env, &parsed);
  int expected = -1;
  g_level.compare_exchange_strong(expected, static_cast<int>(parsed));
  if (bad) {
    Log(LogLevel::kWarning, std::string("invalid value for OTEL_LOG_LEVEL: '") + env +
                                "' (expected debug, info, warn, error or none); using info");
  }
  return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
    case LogLevel::kNone: return "none";
  }
  return "?";
}

}  // namespace

void SetDiagnosticsSink(DiagnosticsSink sink) {
  std::lock_guard<std::mutex> lock(D().mu);
  D().sink = std::move(sink);
}

DiagnosticsSink ExchangeDiagnosticsSink(DiagnosticsSink sink) {
  std::lock_guard<std::mutex> lock(D().mu);
  std::swap(D().sink, sink);
  return sink;
}

void SetLogLevel(LogLevel level) noexcept { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() noexcept { return Level(); }

bool ParseLogLevel(std::string_view text, LogLevel* out) noexcept {
  std::string t;
  for (char c : config::Trim(text)) t += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (t == "debug" || t == "trace") *out = LogLevel::kDebug;
  else if (t == "info") *out = LogLevel::kInfo;
  else if (t == "warn" || t == "warning") *out = LogLevel::kWarning;
  else if (t == "error" || t == "fatal") *out = LogLevel::kError;
  else if (t == "none" || t == "off") *out = LogLevel::kNone;
  else return false;
  return true;
}

void Log(LogLevel level, std::string_view message) noexcept {
  if (level == LogLevel::kNone || level < Level()) return;
  try {
    DiagnosticsSink sink;
    {
      std::lock_guard<std::mutex> lock(D().mu);
      sink = D().sink;
    }
    if (sink) {
      sink(level, message);
      return;
    }
    std::string line = "otelweb: ";
    line += LevelName(level);
    line += ": ";
    line += message;
    line += '\n';
    ssize_t r = ::write(2, line.data(), line.size());
    (void)r;
  } catch (...) {
  }
}

}  // namespace otelweb
