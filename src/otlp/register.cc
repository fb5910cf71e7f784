// Registration of the "otlp" exporter with InstallTracing.
#include "otelweb/exporters/otlp.h"

namespace otelweb::otlp {

void RegisterExporter() {}

}  // namespace otelweb::otlp

// The weak hook InstallTracing calls (src/core/install.cc); the link option
// --undefined=otelweb_register_builtin_exporters keeps this object.
extern "C" void otelweb_register_builtin_exporters() { otelweb::otlp::RegisterExporter(); }
