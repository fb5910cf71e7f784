// HTTP semantic conventions as pure functions (library otelweb_http): the
// method as http.request.method wants it, and the span status of a response
// (semantic conventions, "HTTP spans", status). No state, no allocation.
// Thread-safety: every function may be called from any thread.
#pragma once

#include <string_view>

#include "otelweb/trace/span.h"

namespace otelweb::http {

// The method as semconv wants it in http.request.method: one of the known
// methods (GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH QUERY; exact,
// case-sensitive, as HTTP methods are) or "_OTHER". The returned view points to
// static storage.
std::string_view NormalizeMethod(std::string_view method) noexcept;
bool IsKnownMethod(std::string_view method) noexcept;

// Span status for a response status code. Server spans: Error for 5xx and for
// codes outside 100..599, Unset otherwise. Client spans: Error from 400 on.
StatusCode ServerStatusFor(int status_code) noexcept;
StatusCode ClientStatusFor(int status_code) noexcept;

}  // namespace otelweb::http
