// GNU libmicrohttpd server instrumentation (library otelweb_microhttpd): one
// SERVER span per request of an MHD daemon, with the same HTTP layer
// (semantic conventions, W3C context extraction, excluded URLs, header capture
// and sanitizing, hooks) as the other server adapters.
//
//   otelweb::microhttpd::ServerOptions options;           // all optional
//   options.excluded_urls = "/health";
//   otelweb::microhttpd::Instrumentation tracing(options);
//   MHD_Daemon* d = tracing.StartDaemon(MHD_USE_INTERNAL_POLLING_THREAD, 8080,
//                                       nullptr, nullptr, &Answer, app_state);
//   ...in Answer (your MHD_AccessHandlerCallback), the request's span is current:
//   otelweb::microhttpd::SetRoute(connection, "/users/{id}");
//   otelweb::microhttpd::QueueResponse(connection, MHD_HTTP_OK, response);
//   ...
//   MHD_stop_daemon(d);                                   // before `tracing` goes
//
// StartDaemon is MHD_start_daemon with its variable options given as an
// MHD_OptionItem array (MHD_OPTION_ARRAY's form, END-terminated).
// Where the span lives: MHD's URI-log callback (first line of the request
// read) records the arrival time; the first call of the access handler
// (headers read) starts the span; every call of the access handler runs with
// the span current on that thread, and only during the call (MHD calls it
// several times for a request with a body); MHD's request-completed callback
// ends the span after the last byte of the response was sent (a response from
// MHD_create_response_from_callback is covered to its end), with the status
// code, and with error.type naming MHD's termination code when the request
// did not complete normally ("client_abort", "timeout", "read_error",
// "connection_error", "daemon_shutdown").
// Your own MHD_OPTION_URI_LOG_CALLBACK and MHD_OPTION_NOTIFY_COMPLETED
// callbacks, given in `options`, are chained: they keep their own per-request
// context pointer (the `con_cls` your access handler sees), as without tracing.
// A C++ exception thrown by your handler is recorded on the span and answered
// with a 500 (it must not cross MHD's C frames).
// Not traced: requests MHD answers itself before calling the access handler
// (headers larger than its memory pool, for one). Response headers are captured only
// for responses queued with QueueResponse or QueueBody (MHD keeps no queued
// response that can be read back); use them instead of MHD_queue_response.
// http.server.response.body.size is recorded only for QueueBody responses
// (MHD gives no way to read a response's size back; docs/metrics.md).
//
// Spans are made with the instrumentation scope kScopeName, through the global
// tracer provider as it is when the request arrives (a provider installed or
// replaced later is picked up) unless options.tracer_provider is set.
// Per-request records are recycled per thread: in steady state a request
// allocates nothing for tracing (each thread keeps as many records as it had
// requests in flight at its peak, at most 4096). In thread-per-connection
// mode each connection is a new thread, so its first request allocates one
// record.
//
// Ownership: Instrumentation owns its settings and the small per-daemon
// records given to MHD as callback closures; it must outlive every daemon it
// started (call MHD_stop_daemon first). MHD owns the daemon.
// Thread-safety: call StartDaemon from one thread at a time (one Instrumentation
// may start several daemons). The callbacks run on whichever thread MHD uses
// (internal polling thread, thread pool, thread-per-connection or your MHD_run
// loop); hooks run there too and must be thread-safe. SetRoute and
// QueueResponse act on the request whose access handler is running on the
// calling thread.
#pragma once

#include <microhttpd.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>

#include "otelweb/http/server.h"
#include "otelweb/semconv.h"

namespace otelweb::microhttpd {

// Instrumentation scope name of the server spans.
inline constexpr std::string_view kScopeName = "otelweb.microhttpd.server";

// The shared HTTP settings (otelweb/http/settings.h and ServerSettings:
// excluded URLs, header capture, sanitizing, secret query parameters,
// provider; each with its OTEL_* variable; OTEL_CPP_MICROHTTPD_EXCLUDED_URLS
// for this adapter) and hooks that get MHD's own connection. A hook that
// throws is caught and reported once; the request goes on.
struct ServerOptions : http::ServerSettings {
  // After the span started (headers known), before your handler's first call.
  std::function<void(SpanRef, MHD_Connection*)> request_hook;
  // Before the span ends (the connection's headers are still readable);
  // status_code is 0 when no response was queued.
  std::function<void(SpanRef, MHD_Connection*, unsigned int status_code)> response_hook;
};

class Instrumentation {
 public:
  explicit Instrumentation(ServerOptions options = {});
  ~Instrumentation();
  Instrumentation(const Instrumentation&) = delete;
  Instrumentation& operator=(const Instrumentation&) = delete;

  // MHD_start_daemon(flags, port, apc, apc_cls, handler, handler_cls, ...) with
  // tracing; `options` (may be null) is an MHD_OPTION_END-terminated array.
  // Returns what MHD_start_daemon returns (null: it failed; see MHD's log).
  MHD_Daemon* StartDaemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                          void* apc_cls, MHD_AccessHandlerCallback handler, void* handler_cls,
                          const MHD_OptionItem* options = nullptr);

  struct State;

 private:
  std::unique_ptr<State> s_;
};

// Names the request's span "{method} {route}" and sets http.route (a
// low-cardinality template such as "/users/{id}"). Call it from the access
// handler; does nothing for untraced requests.
void SetRoute(MHD_Connection* connection, std::string_view route) noexcept;

// MHD_queue_response, and the response headers captured on the request's span
// (when capture is configured) once MHD took the response: a response MHD
// refuses (MHD_NO: one was already queued) leaves the span as it was. Call
// it from the access handler.
MHD_Result QueueResponse(MHD_Connection* connection, unsigned int status_code,
                         MHD_Response* response) noexcept;

// A response whose body is `body` (copied: the view need not outlive the
// call) with `headers` (name, value; NUL-terminated, copied by MHD), queued
// as QueueResponse does. Call it from the access handler.
// The one way to get http.server.response.body.size with libmicrohttpd (MHD
// keeps the size of a response it was given to itself, see docs/metrics.md):
// the recorded size is body.size() when MHD sent the response in full, 0 for
// HEAD requests and 204 and 304 statuses (MHD sends no body for them), and
// nothing when the request ended early (client gone, timeout, shutdown) or
// nothing was queued. Responses queued with QueueResponse or
// MHD_queue_response record no size.
// `status_code` is the final status, 200 to 999 (a 1xx is refused: MHD
// 0.9.75 would send it as the whole response and the client would go on
// waiting). Every header is checked before anything is made, by otelweb and
// not MHD (MHD 0.9.75 accepts Transfer-Encoding and a name with ':'): a
// header named Content-Length or Transfer-Encoding (MHD sets them from the
// body), a name that is not an HTTP token (empty, or with a space, tab, ':',
// CR, LF or any byte but letters, digits and !#$%&'*+-.^_`|~), or a value
// with CR or LF is refused.
// Returns MHD_YES when queued. MHD_NO, with nothing queued: a status or a
// header refused as above (each case reported once through otelweb's
// diagnostics), a header MHD itself refused, no memory, or a response was
// already queued. The handler may then queue another response, or return
// MHD_NO to MHD, which closes the connection without an answer.
// Thread-safety: as QueueResponse.
MHD_Result QueueBody(
    MHD_Connection* connection, unsigned int status_code, std::string_view body,
    std::initializer_list<std::pair<const char*, const char*>> headers = {}) noexcept;

}  // namespace otelweb::microhttpd
