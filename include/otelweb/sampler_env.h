// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/trace/sampler.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/sampler_env.h> is deprecated: include <otelweb/trace/sampler.h>"
#endif

#include "otelweb/trace/sampler.h"
