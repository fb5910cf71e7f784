// Registration of the "otlp" exporter with InstallTracing.
#include "otelweb/otlp/exporter.h"
#include "otelweb/otelweb.h"

namespace otelweb::otlp {

void RegisterExporter() {
  RegisterExporterFactory("otlp", [] { return std::make_unique<OtlpSpanExporter>(); });
}

}  // namespace otelweb::otlp

// The weak hook InstallTracing calls (src/core/install.cc) before it builds
// exporters by name; the link option --undefined=otelweb_register_builtin_exporters
// keeps this object when the library is linked statically.
extern "C" void otelweb_register_builtin_exporters() { otelweb::otlp::RegisterExporter(); }
