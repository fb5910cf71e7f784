// A program built against an installed otelweb: one span through the
// in-memory exporter. Exit code 0 only if exactly that span came out.
#include <otelweb/exporters/in_memory.h>
#include <otelweb/otelweb.h>

#include <cstdio>

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
  std::puts("consumer: ok");
  return 0;
}
