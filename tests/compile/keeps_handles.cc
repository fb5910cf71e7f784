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

// docs/configuration.md, "Where the OTLP file exporter writes".
#include <otelweb/otlp/file_exporter.h>

void OtlpFileExporterToAPath() {
  auto tracing = otelweb::InstallTracing({
      .service_name = "my-service",
      .exporter = std::make_unique<otelweb::otlp::OtlpFileExporter>(
          otelweb::otlp::OtlpFileExporterOptions{.path = "/var/log/my-service/spans.jsonl"}),
  });
}
