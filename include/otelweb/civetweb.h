// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/civetweb/server.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/civetweb.h> is deprecated: include <otelweb/civetweb/server.h>"
#endif

#include "otelweb/civetweb/server.h"
