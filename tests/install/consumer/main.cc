// A program built against an installed otelweb, with the include paths and
// the one-line setup the docs show, under -Wall -Wextra -Werror. Exit code 0
// only if each way of recording spans gave exactly the expected span: the
// one-line setup, an in-memory exporter, otelweb::testing, and Install with
// the OTLP file exporter (the umbrella brings the OTLP library).
#include <otelweb/otelweb.h>
#include <otelweb/otlp/file_exporter.h>
#include <otelweb/testing/in_memory_exporter.h>
#include <otelweb/testing/memory_tracing.h>
#include <otelweb/testing/span_readers.h>
#include <otelweb/trace/sampler.h>
#include <otelweb/trace/tracer_provider.h>

#include <cstdio>
#include <memory>
#include <string>

#ifdef CONSUMER_OLD_PATHS
int OldPathsCompile();
#endif

static int Fail(const char* what) {
  std::fprintf(stderr, "consumer: %s\n", what);
  return 1;
}

int main() {
  // The documented one-line setup, designated initializers and all.
  {
    auto tracing = otelweb::InstallTracing({.service_name = "consumer", .exporter_name = "none"});
    if (!otelweb::GetTracer("consumer").StartSpan("one-liner").IsRecording())
      return Fail("the one-line setup gave a non-recording span");
  }
  // InstallTracing with an in-memory exporter.
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
  if (spans.size() != 1 || spans[0]->name() != "installed")
    return Fail("expected one span 'installed'");
  if (spans[0]->resource().service_name() != "consumer") return Fail("service.name not set");
  // otelweb::testing, as users' tests use it.
  {
    otelweb::testing::MemoryTracing t;
    auto span = otelweb::GetTracer("consumer").StartSpan("tested");
    span.SetAttribute("answer", 42);
    span.End();
    if (t.spans().size() != 1 || otelweb::testing::IntAttr(t.spans()[0], "answer") != 42)
      return Fail("MemoryTracing did not record the span");
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
#ifdef CONSUMER_OLD_PATHS
  if (OldPathsCompile() != 0) return Fail("old include paths");
#endif
  std::puts("consumer: ok");
  return 0;
}
