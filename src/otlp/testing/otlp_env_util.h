// Test fixtures of the OTLP tests, on otelweb::testing: an environment with
// every OTLP exporter variable cleared, and a capture of warnings.
#pragma once

#include <string>

#include "otelweb/diagnostics.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/scoped_env.h"

namespace otelweb::otlp::testing {

// otelweb::testing::ScopedEnv that starts with every OTEL_EXPORTER_OTLP_*
// variable and OTEL_TRACES_EXPORTER unset (restored afterwards).
class ScopedEnv : public otelweb::testing::ScopedEnv {
 public:
  ScopedEnv() {
    UnsetPrefix("OTEL_EXPORTER_OTLP_");
    Unset("OTEL_TRACES_EXPORTER");
  }
};

// Warnings and errors reported while alive.
class Warnings : public otelweb::testing::DiagnosticsCapture {
 public:
  Warnings() : DiagnosticsCapture(LogLevel::kWarning) {}
  size_t count() const { return size(); }
};

}  // namespace otelweb::otlp::testing
