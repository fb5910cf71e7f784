// civetweb server instrumentation (library otelweb_civetweb): the same HTTP
// layer as the cpp-httplib integration, driven by civetweb's begin_request /
// end_request callbacks, which run on the worker thread that serves the
// request.
//
//   otelweb::civetweb::ServerOptions options;       // all optional
//   options.excluded_urls = "/health";
//   otelweb::civetweb::Instrumentation tracing(options);
//   mg_callbacks callbacks{};                      // your own callbacks, if any
//   mg_context* ctx = tracing.Start(&callbacks, user_data, options);
//   tracing.SetRequestHandler(ctx, "/users/*", handler, cbdata);  // http.route = "/users/*"
//   ...
//   mg_stop(ctx);                                 // before `tracing` is destroyed
//
// Span start: begin_request (after the request headers are read). Span end:
// end_request, after civetweb has sent the response, with its status code
// (404 for unmatched paths, 405 and others from civetweb itself). The route is
// the URI pattern of the handler registered through SetRequestHandler.
// Requests civetweb rejects before calling begin_request (an unknown method,
// a malformed request line) reach none of its callbacks and make no span.
// Response headers and http.server.response.body.size come only from
// responses sent with SendBody (below): civetweb gives handlers a raw stream
// and keeps no structured copy of what they wrote, nor a count of the body
// bytes apart from the headers (docs/metrics.md).
//
// Ownership: Instrumentation owns its state and the handler wrappers; it must
// outlive the mg_context it started (call mg_stop first).
// Thread-safety: Instrument/Uninstrument may be called at any time; Start and
// SetRequestHandler follow civetweb's own rules.
#pragma once

#include <civetweb.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "otelweb/http/server.h"

#include "otelweb/http/client.h"

namespace otelweb::civetweb {

// Instrumentation scope name of the server spans.
inline constexpr std::string_view kScopeName = "otelweb.civetweb.server";

struct ServerOptions : http::ServerSettings {
  std::function<void(SpanRef, const mg_connection*)> request_hook;
  std::function<void(SpanRef, const mg_connection*, int status_code)> response_hook;
};

namespace detail {
// Running contexts started through an Instrumentation (tests).
size_t RegisteredContextCount();
}  // namespace detail

class Instrumentation {
 public:
  explicit Instrumentation(ServerOptions options = {});
  ~Instrumentation();
  Instrumentation(const Instrumentation&) = delete;
  Instrumentation& operator=(const Instrumentation&) = delete;

  // mg_start with our begin_request/end_request/init_context/exit_context
  // installed; the caller's callbacks (may be null) are chained: theirs run
  // after our span started and before it ends. One Instrumentation may start
  // several contexts, one after the other or at once; each is known (for
  // tracing) from mg_start until mg_stop, up to 64 running at once (a warning
  // then, and the others are served untraced).
  mg_context* Start(const mg_callbacks* callbacks, void* user_data, const char** options);
  // mg_set_request_handler with a wrapper that reports `route` (default: the
  // URI pattern) as http.route. A C++ exception thrown by the handler is
  // recorded and answered with a 500 (it must not cross civetweb's C frames).
  void SetRequestHandler(mg_context* ctx, const char* uri, mg_request_handler handler,
                         void* cbdata, std::string route = {});

  void Instrument(ServerOptions options);
  void Uninstrument();
  bool IsInstrumented() const;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

// Sends a whole response from a request handler: the status line, `headers`
// (name, value; NUL-terminated), Content-Length and `body`, through
// civetweb's mg_response_header_* calls (which add Date and Connection) and
// mg_write. A HEAD request gets the headers only, with the Content-Length a
// GET would have; a 204 or 304 status gets neither a body nor a
// Content-Length. `status_code` is the final status, 200 to 999: a 1xx is
// refused (civetweb would send it as the whole response and the client would
// go on waiting for the final one). Write nothing else for the request.
// The one way to get http.server.response.body.size with civetweb (civetweb
// cannot tell the body apart from the headers a handler writes itself, see
// docs/metrics.md): the recorded size is the body bytes written, body.size()
// or 0 for HEAD and 204/304; nothing when the body could not be written in
// full, nothing was sent, or the request is not traced. `headers` are
// captured on the span as configured (capture_response_headers).
// Returns 0 when all was written. Negative, with nothing sent: -1 for a bad
// argument (a null connection; a status outside 200-999; a header named
// Content-Length or Transfer-Encoding, which SendBody sets itself; a name
// that is not an HTTP token (empty, or with a space, tab, colon, CR, LF or
// any byte but letters, digits and !#$%&'*+-.^_`|~: "Transfer-Encoding "
// would pass for that header with lenient clients); a value with CR or LF:
// the status and the header case are each reported once through otelweb's
// diagnostics),
// -2 when `conn` is not a server connection or is a websocket (civetweb
// 1.15's mg_response_header_start), -3 when a response was already started.
// After -1 the handler may still answer (a SendBody with valid arguments).
// Negative after the
// status line may have gone out: civetweb's mg_response_header_* code (-4 too
// many headers, -5 out of memory), or -6 when the client stopped taking the
// body; return a 5xx from the handler then (civetweb closes the connection).
// Thread-safety: call it from the handler, on the thread civetweb gave it.
int SendBody(mg_connection* conn, int status_code, std::string_view body,
             std::initializer_list<std::pair<const char*, const char*>> headers = {}) noexcept;

}  // namespace otelweb::civetweb
