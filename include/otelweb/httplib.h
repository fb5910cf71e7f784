// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/httplib/server.h> and <otelweb/httplib/client.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/httplib.h> is deprecated: include <otelweb/httplib/server.h> and <otelweb/httplib/client.h>"
#endif

#include "otelweb/httplib/server.h"
#include "otelweb/httplib/client.h"
