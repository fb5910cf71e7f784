// Must compile warning-free under -Wall -Wextra -Werror: the documented
// one-line setups, handles kept.
#include <otelweb/otelweb.h>

void KeepsTheTracingHandle() {
  auto tracing = otelweb::InstallTracing({.service_name = "kept"});
  otelweb::GetTracer("t").StartSpan("work").End();
}

void KeepsTheTelemetryHandle() {
  auto telemetry = otelweb::Install({.service_name = "kept", .traces = {.exporter_name = "console"}});
}
