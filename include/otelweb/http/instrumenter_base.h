// What ServerInstrumenter (otelweb/http/server.h) and ClientInstrumenter
// (otelweb/http/client.h) compile from http::Settings the same way (library
// otelweb_http): the URL redactor, the excluded-URL matcher, the request and
// response header captures, the instrumentation tracer and the flag that makes
// a throwing hook be reported once. Both instrumenters derive from it, so the
// accessors below are theirs; adapters do not use this class directly.
//
// Ownership: owns its compiled values (copies of what it needs from the
// Settings given; the tracer provider is shared).
// Thread-safety: immutable after construction except hook_warned_ (atomic);
// every const member may be called from any thread.
#pragma once

#include <atomic>
#include <string_view>

#include "otelweb/http/headers.h"
#include "otelweb/http/settings.h"
#include "otelweb/http/url.h"
#include "otelweb/instrumentation.h"
#include "otelweb/trace/tracer.h"

namespace otelweb::http {

class InstrumenterBase {
 public:
  InstrumenterBase(const InstrumenterBase&) = delete;
  InstrumenterBase& operator=(const InstrumenterBase&) = delete;

  // The tracer spans use: settings.tracer_provider's tracer, else the global
  // provider's, resolved again whenever the globals are replaced (for example
  // a TracingHandle destroyed and InstallTracing called again): one atomic
  // generation compare per request (see instrumentation::InstrumentationTracer).
  Tracer tracer() const noexcept { return tracer_.tracer(); }
  const instrumentation::InstrumentationTracer& instrumentation_tracer() const noexcept {
    return tracer_;
  }
  const UrlRedactor& redactor() const noexcept { return redactor_; }
  const UrlExcluder& excluder() const noexcept { return excluder_; }
  const HeaderCapture& request_capture() const noexcept { return request_capture_; }
  const HeaderCapture& response_capture() const noexcept { return response_capture_; }

 protected:
  // `excluded_urls_name` names the OTEL_CPP_<NAME>_EXCLUDED_URLS variable
  // (empty: only OTEL_CPP_EXCLUDED_URLS); `request_env` / `response_env` are
  // the OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_* variables of this side;
  // `scope_name` is the instrumentation scope of the spans. Compiles the
  // regexes and reads the environment once.
  InstrumenterBase(const Settings& settings, std::string_view excluded_urls_name,
                   const char* request_env, const char* response_env,
                   std::string_view scope_name);
  ~InstrumenterBase() = default;

  UrlRedactor redactor_;
  UrlExcluder excluder_;
  HeaderCapture request_capture_;
  HeaderCapture response_capture_;
  instrumentation::InstrumentationTracer tracer_;
  mutable std::atomic<bool> hook_warned_{false};
};

}  // namespace otelweb::http
