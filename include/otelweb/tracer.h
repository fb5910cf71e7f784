// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/trace/tracer_provider.h> and <otelweb/trace/span_limits.h> and <otelweb/trace/id_generator.h> and <otelweb/diagnostics.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/tracer.h> is deprecated: include <otelweb/trace/tracer_provider.h> and <otelweb/trace/span_limits.h> and <otelweb/trace/id_generator.h> and <otelweb/diagnostics.h>"
#endif

#include "otelweb/trace/tracer_provider.h"
#include "otelweb/trace/span_limits.h"
#include "otelweb/trace/id_generator.h"
#include "otelweb/diagnostics.h"
