// Deprecated include path, kept for one release (otelweb 0.2 removes it).
// Include <otelweb/trace/span_processor.h> and <otelweb/trace/simple_span_processor.h> and <otelweb/trace/batch_span_processor.h> instead.
// Define OTELWEB_WARN_DEPRECATED_HEADERS to get a compiler warning here.
#pragma once

#ifdef OTELWEB_WARN_DEPRECATED_HEADERS
#warning "<otelweb/processor.h> is deprecated: include <otelweb/trace/span_processor.h> and <otelweb/trace/simple_span_processor.h> and <otelweb/trace/batch_span_processor.h>"
#endif

#include "otelweb/trace/span_processor.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
