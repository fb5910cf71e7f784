// Private to otelweb: the header rule of the adapters' whole-response helpers
// (civetweb::SendBody, microhttpd::QueueBody), one rule for both.
#pragma once

namespace otelweb::http::internal {

// True when a whole-response helper may send the response header
// `name: value`: both non-null, a non-empty name without CR, LF or ':', a
// value without CR or LF, and the name neither Content-Length nor
// Transfer-Encoding (the helper frames the body itself). The helpers check
// every header before anything is sent and refuse the whole response when one
// fails. Thread-safety: a pure function.
bool HelperResponseHeaderAllowed(const char* name, const char* value) noexcept;

}  // namespace otelweb::http::internal
