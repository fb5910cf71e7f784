// Context of docs fragments with no `<!-- snippet context: NAME -->` line:
// the public headers a reader of the guides has included.
#pragma once

#include <otelweb/curl/curl.h>
#include <otelweb/httplib/client.h>
#include <otelweb/httplib/server.h>
#include <otelweb/otelweb.h>
#include <otelweb/otlp/exporter.h>
#include <otelweb/otlp/file_exporter.h>
#include <otelweb/sqlite/sqlite.h>
#include <otelweb/trace/console_exporter.h>
#include <otelweb/testing/diagnostics_capture.h>
#include <otelweb/testing/memory_tracing.h>
#include <otelweb/testing/scoped_env.h>
#include <otelweb/testing/span_readers.h>
#include <otelweb/testing/span_stub.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
