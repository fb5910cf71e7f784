// Test helpers: environment variables set for one test and restored, and a
// diagnostics sink that collects warnings.
#pragma once

#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "otelweb/diagnostics.h"

namespace otelweb::otlp::testing {

// Clears every OTEL_EXPORTER_OTLP_* / OTEL_TRACES_EXPORTER variable for the
// test, and restores the previous values afterwards.
class ScopedEnv {
 public:
  ScopedEnv() {
    for (const char* base : {"ENDPOINT", "PROTOCOL", "HEADERS", "TIMEOUT", "COMPRESSION",
                             "INSECURE", "CERTIFICATE", "CLIENT_KEY", "CLIENT_CERTIFICATE"}) {
      Clear(std::string("OTEL_EXPORTER_OTLP_") + base);
      Clear(std::string("OTEL_EXPORTER_OTLP_TRACES_") + base);
    }
    Clear("OTEL_TRACES_EXPORTER");
  }
  ~ScopedEnv() {
    for (auto& [k, v] : saved_) {
      if (v)
        ::setenv(k.c_str(), v->c_str(), 1);
      else
        ::unsetenv(k.c_str());
    }
  }
  void Set(const std::string& name, const std::string& value) {
    Save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void Clear(const std::string& name) {
    Save(name);
    ::unsetenv(name.c_str());
  }

 private:
  void Save(const std::string& name) {
    if (saved_.count(name)) return;
    const char* v = std::getenv(name.c_str());
    saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

// Collects warnings and errors while alive.
class Warnings {
 public:
  Warnings() {
    SetDiagnosticsSink([this](LogLevel l, std::string_view m) {
      if (l < LogLevel::kWarning) return;
      std::lock_guard<std::mutex> lock(mu_);
      ++n_;
      text_.append(m).append("\n");
    });
  }
  ~Warnings() { SetDiagnosticsSink(nullptr); }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return n_;
  }
  std::string text() const {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  mutable std::mutex mu_;
  size_t n_ = 0;
  std::string text_;
};

}  // namespace otelweb::otlp::testing
