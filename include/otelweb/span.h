// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/trace/span.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/span.h> is deprecated: include <otelweb/trace/span.h>"
#endif

#include "otelweb/trace/span.h"
