// Private to otelweb: the checks of the adapters' whole-response helpers
// (civetweb::SendBody, microhttpd::QueueBody), one rule for both.
#pragma once

#include <atomic>
#include <initializer_list>
#include <utility>

namespace otelweb::http::internal {

// True when a whole-response helper may send the response header
// `name: value`: both non-null, a non-empty name that is an HTTP token
// (RFC 9110 tchar only: no space, tab, ':', CR, LF or other byte, so that
// "Transfer-Encoding " cannot pass for another name), a value without CR or
// LF, and the name neither Content-Length nor Transfer-Encoding (the helper
// frames the body itself). Thread-safety: a pure function.
bool HelperResponseHeaderAllowed(const char* name, const char* value) noexcept;

// One helper's "reported once" flags, one per kind of refusal.
struct HelperRefusalWarnings {
  std::atomic<bool> status{false};
  std::atomic<bool> header{false};
};

// Checks a whole-response helper's call before anything is sent: a final
// status from 200 to 999 (a 1xx sent as the final response leaves the client
// waiting for the real one) and every header by HelperResponseHeaderAllowed.
// On a refusal, warns once per kind through `warned`, naming `helper` (e.g.
// "otelweb::civetweb::SendBody"), what it did not do (`not_done`, e.g. "sent")
// and who frames the body (`framed_by`), and returns false.
// Thread-safety: safe from any thread (the flags are atomic).
bool HelperResponseAllowed(const char* helper, const char* not_done, const char* framed_by, long status_code,
                           std::initializer_list<std::pair<const char*, const char*>> headers,
                           HelperRefusalWarnings& warned) noexcept;

}  // namespace otelweb::http::internal
