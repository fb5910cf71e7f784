// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/curl/curl.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/curl.h> is deprecated: include <otelweb/curl/curl.h>"
#endif

#include "otelweb/curl/curl.h"
