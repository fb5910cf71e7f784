// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/otlp/exporter.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/exporters/otlp.h> is deprecated: include <otelweb/otlp/exporter.h>"
#endif

#include "otelweb/otlp/exporter.h"
