// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/testing/in_memory_exporter.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/exporters/in_memory.h> is deprecated: include <otelweb/testing/in_memory_exporter.h>"
#endif

#include "otelweb/testing/in_memory_exporter.h"
