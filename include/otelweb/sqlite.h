// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/sqlite/sqlite.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/sqlite.h> is deprecated: include <otelweb/sqlite/sqlite.h>"
#endif

#include "otelweb/sqlite/sqlite.h"
