// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/http/attributes.h> and <otelweb/http/headers.h> and <otelweb/http/url.h> and <otelweb/http/server.h> and <otelweb/http/client.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/http.h> is deprecated: include <otelweb/http/attributes.h> and <otelweb/http/headers.h> and <otelweb/http/url.h> and <otelweb/http/server.h> and <otelweb/http/client.h>"
#endif

#include "otelweb/http/attributes.h"
#include "otelweb/http/headers.h"
#include "otelweb/http/url.h"
#include "otelweb/http/server.h"
#include "otelweb/http/client.h"
