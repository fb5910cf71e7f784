// The smallest traced program: a request-shaped span with two children,
// printed as a trace tree by the console exporter when `tracing` goes out of
// scope. Any OTEL_* variable applies (e.g. OTEL_TRACES_EXPORTER=otlp).
#include <otelweb/otelweb.h>

#include <chrono>
#include <thread>

int main() {
  auto tracing = otelweb::InstallTracing({.service_name = "hello-trace"});
  auto tracer = otelweb::GetTracer("hello_trace", "0.1.0");

  auto request = tracer.StartSpan("GET /items/{id}", otelweb::SpanKind::kServer);
  request.SetAttribute("http.request.method", "GET");
  request.SetAttribute("http.route", "/items/{id}");
  otelweb::Scope scope = otelweb::MakeCurrent(request);
  {
    auto query = tracer.StartSpan("SELECT items", otelweb::SpanKind::kClient);
    query.SetAttribute("db.system.name", "sqlite");
    query.SetAttribute("db.query.text", "SELECT name FROM items WHERE id = ?");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  {
    auto render = tracer.StartSpan("render");
    otelweb::KeyValue attrs[] = {{"template", "item.html"}};
    render.AddEvent("template loaded", attrs);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  request.SetAttribute("http.response.status_code", 200);
}
