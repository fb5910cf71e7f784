// cpp-httplib server instrumentation (library otelweb_httplib): what
// FlaskInstrumentor gives a Flask app, for an httplib::Server.
//
// Build with cpp-httplib's pkg-config flags (CMake:
// pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)); Debian's
// library is compiled with OpenSSL, zlib and brotli support and its structs
// differ without the matching macros.
//
// Two ways in:
//   otelweb::httplib::TracedServer app;            // instead of httplib::Server
//   app.Get("/users/:id", handler);                // http.route = "/users/:id"
// or, for a server that already exists:
//   otelweb::httplib::Instrument(existing_server, options);
//   existing_server.Get(R"(/users/(\d+))", otelweb::httplib::Route(R"(/users/(\d+))", handler));
//
// Header values: httplib percent-decodes every request header value it
// parses. TracedServer runs its own connection loop and gives the propagators
// and header capture the values as sent; an Instrument()ed server has only
// the decoded values and applies http::PercentDecodedHeaderReader's fallback
// rules (docs/httplib.md, "Header values as they were sent").
//
// What happens per request: the pre-routing hook starts a SERVER span named
// "{method}" (context extracted from traceparent/tracestate/baggage, semconv
// attributes, request hook) and makes it current on the worker thread; the
// route wrapper sets http.route and renames the span "{method} {route}" (and
// records an exception, which it rethrows so httplib answers as usual); the
// logger, which httplib calls after the response body has been written (for
// content providers: after the provider finished or the client went away),
// sets the status, runs the response hook and ends the span.
//
// Ownership: TracedServer owns its instrumentation state. For Instrument()ed
// plain servers the state (options, chained callbacks) is owned by the hooks
// installed on the server and lives as long as the server keeps them: it is
// destroyed with the server, and a server later constructed at the same
// address starts uninstrumented, with none of the old callbacks.
// Thread-safety: Instrument/Uninstrument, TracedServer::set_pre_routing_handler
// / set_logger and the SetPreRoutingHandler / SetLogger helpers may be called at
// any time from any thread, also while the server is serving: options and user
// callbacks are immutable snapshots published through atomic pointers, and the
// hooks read them with one acquire load per call (no lock). A replaced
// snapshot is kept, unused, until the server is destroyed, because a worker may
// still be running it. Exception: for a plain httplib::Server, the first of
// these calls sets our hooks with httplib's own setters, which (like route
// registration) belong before listen(); later calls never touch the
// httplib::Server while it is running.
#pragma once

#include <httplib.h>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include "otelweb/http/server.h"
#include "otelweb/trace/span.h"

namespace otelweb::httplib {

// Instrumentation scope name of the server spans.
inline constexpr std::string_view kServerScopeName = "otelweb.httplib.server";

// Options for cpp-httplib servers: the common settings plus hooks that receive
// httplib's own request and response objects.
struct ServerOptions : http::ServerSettings {
  // After the span started, with its standard attributes set; even when the
  // span is not recording. Throwing is caught and reported once.
  std::function<void(SpanRef, const ::httplib::Request&)> request_hook;
  // Before the span ends (the response has been written already).
  std::function<void(SpanRef, const ::httplib::Request&, const ::httplib::Response&)>
      response_hook{};
};

namespace detail {
struct ServerState;
// Called by route wrappers on the worker thread: sets http.route (and the span
// name) of the request the calling thread is serving, if it is traced.
void EnterRoute(std::string_view route) noexcept;
// Records the exception being handled on that request's span.
void RecordHandlerException() noexcept;
// "/users/:id" -> "/users/([^/]+)" when the cpp-httplib in use has no native
// path parameters (0.11.4); other patterns are returned unchanged.
std::string TranslatePattern(const std::string& pattern);
// Plain servers with instrumentation state (tests: the registry must not grow
// with servers that are gone).
size_t RegisteredServerCount();
}  // namespace detail

// Wraps a handler so that it reports `route` as http.route. Works with every
// httplib handler type (Handler and HandlerWithContentReader).
template <typename H>
auto Route(std::string route, H handler) {
  if constexpr (std::is_invocable_v<H&, const ::httplib::Request&, ::httplib::Response&,
                                    const ::httplib::ContentReader&>) {
    return ::httplib::Server::HandlerWithContentReader(
        [route = std::move(route), h = std::move(handler)](
            const ::httplib::Request& req, ::httplib::Response& res,
            const ::httplib::ContentReader& reader) {
          detail::EnterRoute(route);
          try {
            h(req, res, reader);
          } catch (...) {
            detail::RecordHandlerException();
            throw;
          }
        });
  } else {
    return ::httplib::Server::Handler(
        [route = std::move(route), h = std::move(handler)](const ::httplib::Request& req,
                                                           ::httplib::Response& res) {
          detail::EnterRoute(route);
          try {
            h(req, res);
          } catch (...) {
            detail::RecordHandlerException();
            throw;
          }
        });
  }
}

// Instruments an existing server: installs its pre-routing handler,
// post-routing handler and logger.
//
// cpp-httplib 0.11.4 keeps one of each (setters, no getters). Hooks the app
// set earlier with server.set_pre_routing_handler / set_post_routing_handler /
// set_logger are read back (see server.cc) and chained, so they keep running.
// Set them from now on through SetPreRoutingHandler / SetPostRoutingHandler /
// SetLogger below (before or after Instrument), which chain them. A later
// server.set_* call replaces ours: a replaced logger is noticed at the first
// request after it happened (one warning per server) and that request's span
// then ends in our post-routing handler, still with its status; a replaced
// pre-routing handler makes no spans (one warning per server). The error and
// exception handlers are not touched.
//
// Calling it again keeps one set of hooks and the most recent options (while
// the server is not running it also sets our hooks again). Routes registered
// directly with server.Get() are traced with the method-only span name and no
// http.route; wrap handlers with Route() or register them with the
// Get/Post/... helpers below. A TracedServer passed here is re-instrumented
// through its own member.
void Instrument(::httplib::Server& server, ServerOptions options = {});
// Turns tracing off: the hooks pass through to the user's own callbacks.
void Uninstrument(::httplib::Server& server);
bool IsInstrumented(::httplib::Server& server);
// Chained user callbacks for an Instrument()ed server (run after ours in
// pre-routing, before the span ends in the logger, so both see the span).
void SetPreRoutingHandler(::httplib::Server& server,
                          ::httplib::Server::HandlerWithResponse handler);
void SetLogger(::httplib::Server& server, ::httplib::Logger logger);
// The post-routing handler (httplib calls it with the final status, before it
// writes the response): the instrumentation occupies that slot too; yours runs
// first.
void SetPostRoutingHandler(::httplib::Server& server, ::httplib::Server::Handler handler);

// Route registration for plain servers: translates ":param" segments (on
// 0.11.4), wraps the handler with Route(). `route` overrides the template
// reported as http.route (default: the pattern as written).
template <typename H>
::httplib::Server& Get(::httplib::Server& s, const std::string& pattern, H h,
                       std::string route = {}) {
  return s.Get(detail::TranslatePattern(pattern), Route(route.empty() ? pattern : route, std::move(h)));
}
template <typename H>
::httplib::Server& Post(::httplib::Server& s, const std::string& pattern, H h,
                        std::string route = {}) {
  return s.Post(detail::TranslatePattern(pattern), Route(route.empty() ? pattern : route, std::move(h)));
}
template <typename H>
::httplib::Server& Put(::httplib::Server& s, const std::string& pattern, H h,
                       std::string route = {}) {
  return s.Put(detail::TranslatePattern(pattern), Route(route.empty() ? pattern : route, std::move(h)));
}
template <typename H>
::httplib::Server& Patch(::httplib::Server& s, const std::string& pattern, H h,
                         std::string route = {}) {
  return s.Patch(detail::TranslatePattern(pattern), Route(route.empty() ? pattern : route, std::move(h)));
}
template <typename H>
::httplib::Server& Delete(::httplib::Server& s, const std::string& pattern, H h,
                          std::string route = {}) {
  return s.Delete(detail::TranslatePattern(pattern), Route(route.empty() ? pattern : route, std::move(h)));
}
template <typename H>
::httplib::Server& Options(::httplib::Server& s, const std::string& pattern, H h,
                           std::string route = {}) {
  return s.Options(detail::TranslatePattern(pattern), Route(route.empty() ? pattern : route, std::move(h)));
}

// An httplib::Server that traces every request. Route registration
// (Get/Post/Put/Patch/Delete/Options) records the pattern as http.route
// (":param" segments are accepted on every cpp-httplib version; a third
// argument gives an explicit route template). set_pre_routing_handler,
// set_post_routing_handler and set_logger chain the user's callbacks with ours
// instead of replacing them; the error and exception handlers are not used by
// the instrumentation and stay entirely the user's.
class TracedServer : public ::httplib::Server {
 public:
  explicit TracedServer(ServerOptions options = {});
  ~TracedServer() override;

  // Re-instruments with new options (the most recent win) / turns tracing off
  // (pass-through). Safe while serving.
  void Instrument(ServerOptions options = {});
  void Uninstrument();
  bool IsInstrumented() const;

  template <typename H>
  TracedServer& Get(const std::string& pattern, H h, std::string route = {}) {
    Server::Get(detail::TranslatePattern(pattern),
                otelweb::httplib::Route(route.empty() ? pattern : std::move(route), std::move(h)));
    return *this;
  }
  template <typename H>
  TracedServer& Post(const std::string& pattern, H h, std::string route = {}) {
    Server::Post(detail::TranslatePattern(pattern),
                 otelweb::httplib::Route(route.empty() ? pattern : std::move(route), std::move(h)));
    return *this;
  }
  template <typename H>
  TracedServer& Put(const std::string& pattern, H h, std::string route = {}) {
    Server::Put(detail::TranslatePattern(pattern),
                otelweb::httplib::Route(route.empty() ? pattern : std::move(route), std::move(h)));
    return *this;
  }
  template <typename H>
  TracedServer& Patch(const std::string& pattern, H h, std::string route = {}) {
    Server::Patch(detail::TranslatePattern(pattern),
                  otelweb::httplib::Route(route.empty() ? pattern : std::move(route), std::move(h)));
    return *this;
  }
  template <typename H>
  TracedServer& Delete(const std::string& pattern, H h, std::string route = {}) {
    Server::Delete(detail::TranslatePattern(pattern),
                   otelweb::httplib::Route(route.empty() ? pattern : std::move(route), std::move(h)));
    return *this;
  }
  template <typename H>
  TracedServer& Options(const std::string& pattern, H h, std::string route = {}) {
    Server::Options(detail::TranslatePattern(pattern),
                    otelweb::httplib::Route(route.empty() ? pattern : std::move(route), std::move(h)));
    return *this;
  }

  // Chained: ours runs first (the span is current in the user's handler).
  TracedServer& set_pre_routing_handler(HandlerWithResponse handler);
  // Chained: the user's logger runs before the span ends (it can annotate it).
  TracedServer& set_logger(::httplib::Logger logger);
  // Chained: the user's post-routing handler runs first.
  TracedServer& set_post_routing_handler(Handler handler);

 private:
  friend void otelweb::httplib::Instrument(::httplib::Server&, ServerOptions);
  // Serves a connection as httplib does, through a stream that records each
  // request's header block, so that propagation and header capture see the
  // header values as sent (httplib percent-decodes the ones it gives
  // handlers). Overrides httplib::Server's private virtual; the signature is
  // cpp-httplib 0.11's.
  bool process_and_close_socket(::socket_t sock) override;
  std::shared_ptr<detail::ServerState> state_;
};

}  // namespace otelweb::httplib
