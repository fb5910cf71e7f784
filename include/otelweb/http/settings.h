// Settings every HTTP instrumentation shares, server and client (library
// otelweb_http): the tracer provider, excluded URLs, header capture and
// sanitizing, secret query parameters, the hooks' exception policy. ServerSettings (otelweb/http/server.h)
// and ClientSettings (otelweb/http/client.h) derive from it; framework options
// derive from those and add hooks typed for the framework's own objects.
//
// Ownership: a plain value; instrumenters copy what they keep.
// Thread-safety: a value type (no shared state).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otelweb/instrumentation.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::http {

struct Settings {
  // Null: the global provider, as it is when the request is made (a global
  // installed later, or replaced, is picked up: see
  // otelweb/instrumentation.h, InstrumentationTracer).
  std::shared_ptr<TracerProvider> tracer_provider{};
  // The HTTP metrics' provider (http.server.request.duration, ...). Null: the
  // global meter provider, resolved again when it is replaced
  // (metrics::MeterProviderGeneration()); with the no-op global nothing is
  // recorded. Excluded URLs are excluded from metrics too.
  std::shared_ptr<metrics::MeterProvider> meter_provider{};
  // Comma-separated regexes; nullopt: OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS, else
  // OTEL_CPP_EXCLUDED_URLS. Servers match them against the full URL
  // "scheme://host/path?query" (or the path, see exclude_by_path), clients
  // against the URL requested. An excluded request makes no span, runs no hook
  // and (clients) gets no headers injected.
  std::optional<std::string> excluded_urls{};
  // Header capture; nullopt: the OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_
  // {SERVER,CLIENT}_{REQUEST,RESPONSE} and ..._SANITIZE_FIELDS variables.
  std::optional<std::vector<std::string>> capture_request_headers{};
  std::optional<std::vector<std::string>> capture_response_headers{};
  std::optional<std::vector<std::string>> sanitize_fields{};
  // More query parameters whose values are redacted in url.query / url.full,
  // on top of the default list (docs/security.md) and of
  // OTEL_CPP_HTTP_SECRET_QUERY_PARAMS (names compared after form-decoding,
  // ignoring ASCII case, '-' and '_'; see UrlRedactor).
  std::vector<std::string> secret_query_params{};
  // A throwing request/response hook is always caught (telemetry never breaks
  // the request); this says whether it is reported once (default) or every
  // time (while developing a hook).
  instrumentation::HookExceptionPolicy hook_exceptions = instrumentation::HookExceptionPolicy::kReportOnce;
};

}  // namespace otelweb::http
