// The include paths of otelweb 0.1 before the headers moved into one folder
// per library: they forward for one release and must still compile (with
// -Wall -Wextra -Werror) and name the same types.
#include <otelweb/civetweb.h>
#include <otelweb/curl.h>
#include <otelweb/exporter.h>
#include <otelweb/exporters/console.h>
#include <otelweb/exporters/in_memory.h>
#include <otelweb/exporters/otlp.h>
#include <otelweb/http.h>
#include <otelweb/httplib.h>
#include <otelweb/processor.h>
#include <otelweb/sampler.h>
#include <otelweb/sampler_env.h>
#include <otelweb/span.h>
#include <otelweb/span_context.h>
#include <otelweb/span_data.h>
#include <otelweb/sqlite.h>
#include <otelweb/tracer.h>

#include <type_traits>

int OldPathsCompile() {
  static_assert(std::is_class_v<otelweb::httplib::TracedServer>);
  static_assert(std::is_class_v<otelweb::httplib::TracedClient>);
  static_assert(std::is_class_v<otelweb::civetweb::ServerOptions>);
  static_assert(std::is_class_v<otelweb::curl::Easy>);
  static_assert(std::is_class_v<otelweb::sqlite::Options>);
  static_assert(std::is_class_v<otelweb::otlp::OtlpSpanExporter>);
  static_assert(std::is_class_v<otelweb::ConsoleSpanExporter>);
  static_assert(std::is_class_v<otelweb::InMemorySpanExporter>);
  static_assert(std::is_class_v<otelweb::BatchSpanProcessor>);
  static_assert(std::is_class_v<otelweb::TracerProvider>);
  otelweb::SpanContext none;
  return none.IsValid() ? 1 : 0;
}
