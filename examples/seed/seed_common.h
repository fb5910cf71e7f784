// Small helpers shared by the two seed services (not part of otelweb).
#pragma once

#include <httplib.h>
#include <otelweb/graceful_stop.h>
#include <otelweb/otelweb.h>
#include <otelweb/otlp/file_exporter.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

namespace seed {

inline std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

inline int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 0 || n > 65535) {
    std::fprintf(stderr, "%s=%s is not a port number; using %d\n", name, v, fallback);
    return fallback;
  }
  return static_cast<int>(n);
}

// With SEED_SPANS_FILE set, every span is also written there by the OTLP file
// exporter, one OTLP/JSON TracesData per line (besides whatever
// OTEL_TRACES_EXPORTER says): scripts/demo joins the two services' files into
// one trace tree, the end-to-end test checks them.
class SpansFile {
 public:
  explicit SpansFile(otelweb::TracingHandle& tracing) : tracing_(tracing) {
    std::string path = Env("SEED_SPANS_FILE", "");
    if (path.empty() || !tracing.shared_provider()) return;
    active_ = true;
    tracing.provider().AddProcessor(std::make_unique<otelweb::SimpleSpanProcessor>(
        std::make_unique<otelweb::otlp::OtlpFileExporter>(otelweb::otlp::OtlpFileExporterOptions{.path = path})));
  }
  // Shuts tracing down (flushing into the file, which the exporter closes).
  ~SpansFile() {
    if (active_) (void)tracing_.Shutdown();
  }
  SpansFile(const SpansFile&) = delete;
  SpansFile& operator=(const SpansFile&) = delete;

 private:
  otelweb::TracingHandle& tracing_;
  bool active_ = false;
};

// The file the seed app's metrics table goes to (SEED_METRICS_FILE); declared
// before the metrics handle, so it is closed after the handle's last export.
class MetricsFile {
 public:
  MetricsFile() = default;
  ~MetricsFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  MetricsFile(const MetricsFile&) = delete;
  MetricsFile& operator=(const MetricsFile&) = delete;
  FILE* Open(const std::string& path) {
    if (!path.empty()) f_ = std::fopen(path.c_str(), "w");
    return f_;
  }

 private:
  FILE* f_ = nullptr;
};

// Stops `server` on SIGTERM/SIGINT through otelweb's graceful stop, so that
// listen() returns, main() returns normally and telemetry flushes on the way
// out (otelweb/graceful_stop.h; it chains with handlers installed before).
// A signal right after start can come before listen() marks the server
// running, when stop() would do nothing: the callback waits for it (bounded).
inline void StopOnSignals(httplib::Server& server) {
  otelweb::StopGracefullyOnSignals([&server] {
    for (int i = 0; i < 5000 && !server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    server.stop();
  });
}

inline std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace seed
