// A program built against an installed otelweb: one span through the
// in-memory exporter, one through the OTLP file exporter (the umbrella brings
// the OTLP library). Exit code 0 only if exactly those spans came out.
#include <otelweb/exporters/in_memory.h>
#include <otelweb/otelweb.h>
#include <otelweb/otlp/file_exporter.h>

#include <cstdio>
#include <string>

int main() {
  auto store = std::make_shared<otelweb::InMemorySpanStore>();
  {
    otelweb::TracingOptions o;
    o.service_name = "consumer";
    o.sampler = otelweb::AlwaysOnSampler();
    o.exporter = std::make_unique<otelweb::InMemorySpanExporter>(store);
    auto tracing = otelweb::InstallTracing(std::move(o));
    otelweb::GetTracer("consumer").StartSpan("installed").End();
  }
  auto spans = store->spans();
  if (spans.size() != 1 || spans[0]->name() != "installed") {
    std::fprintf(stderr, "expected one span named 'installed', got %zu\n", spans.size());
    return 1;
  }
  // Install (every signal) with the OTLP file exporter writing to a temporary file.
  FILE* f = std::tmpfile();
  {
    otelweb::InstallOptions o;
    o.service_name = "consumer";
    o.traces.sampler = otelweb::AlwaysOnSampler();
    o.traces.exporter = std::make_unique<otelweb::otlp::OtlpFileExporter>(
        otelweb::otlp::OtlpFileExporterOptions{.out = f});
    auto telemetry = otelweb::Install(std::move(o));
    otelweb::GetTracer("consumer").StartSpan("as-otlp-json").End();
  }
  std::rewind(f);
  char buf[8192] = {0};
  std::string line(buf, std::fread(buf, 1, sizeof buf - 1, f));
  std::fclose(f);
  if (line.find("\"name\":\"as-otlp-json\"") == std::string::npos || line.empty() || line.back() != '\n') {
    std::fprintf(stderr, "expected one OTLP/JSON line with the span, got: %s\n", line.c_str());
    return 1;
  }
  std::puts("consumer: ok");
  return 0;
}
