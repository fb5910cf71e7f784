// The framework-neutral HTTP layer (library otelweb_http): what WSGI middleware
// and opentelemetry-util-http are to Flask. Framework adapters (cpp-httplib,
// civetweb, a hand-written socket loop) describe a request with a
// ServerRequestView and drive a ServerSpan; client instrumentations reuse the
// URL redaction, method normalising, header capture and URL exclusion helpers.
//
//   otelweb::http::ServerOptions options;   // or WithNativeHooks<Req, Res>(settings, ...)
//   options.excluded_urls = "/health";
//   otelweb::http::ServerInstrumenter inst(options, "MYSERVER", "otelweb.myserver.server");
//   ...per request, on the thread that runs the handler:
//   otelweb::http::ServerSpan span;
//   span.Start(inst, view, arrival_time);     // extract, SERVER span, made current
//   span.SetRoute("/users/{id}");             // when the router knows it
//   ...handler...
//   span.End({.status_code = 200});           // after the response is written
//
// Tracer resolution, hook guarding and snapshot publishing come from the
// instrumentation kit (otelweb/instrumentation.h); the span attributes from the
// pure builders of otelweb/http/attributes.h.
//
// Ownership: a ServerInstrumenter owns its compiled settings (regexes, hooks,
// tracer). Views borrow everything they point at for the duration of the call
// that receives them. A ServerSpan owns its span and (while active) a scope.
// Thread-safety: ServerInstrumenter, UrlRedactor, UrlExcluder and HeaderCapture
// are immutable after construction (ServerInstrumenter's cache of the resolved
// tracer is internally synchronized) and safe to share between threads. A
// ServerSpan belongs to one request and is used by one thread at a time; its
// scope must be released on the thread that made it current.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/http/attributes.h"
#include "otelweb/http/headers.h"
#include "otelweb/http/instrumenter_base.h"
#include "otelweb/http/labeler.h"
#include "otelweb/http/settings.h"
#include "otelweb/http/url.h"
#include "otelweb/instrumentation.h"
#include "otelweb/propagation.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::http {

// Instrumentation scope name of server spans when the adapter gives none
// (framework adapters give their own: otelweb::httplib::kServerScopeName ...).
inline constexpr std::string_view kServerScopeName = "otelweb.http.server";
// "true": every server instrumentation that is not given
// ServerSettings::public_endpoint in code treats inbound context as untrusted.
inline constexpr const char* kEnvPublicEndpoint = "OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT";
// "true": every server instrumentation matches its excluded URLs against the
// path only, as ServerSettings::exclude_by_path = true does in code.
inline constexpr const char* kEnvExcludeByPath = "OTEL_CPP_HTTP_SERVER_EXCLUDE_BY_PATH";


// What an adapter knows about one request. Every field is optional except
// method and target/path; string views must stay valid for the call.
struct ServerRequestView {
  std::string_view method;
  // The raw request-target, query included ("/users/7?x=1").
  std::string_view target;
  // The path and query; when empty they are taken from `target`.
  std::string_view path;
  std::string_view query;
  std::string_view scheme = "http";
  // The Host header; when empty it is read from `headers`.
  std::string_view host;
  // "1.1", "2" or "HTTP/1.1" (the prefix is removed).
  std::string_view protocol_version;
  std::string_view peer_address;
  int peer_port = 0;
  std::string_view local_address;
  int local_port = 0;
  // Request headers (propagation, user agent, host, capture). May be null.
  const HeaderReader* headers = nullptr;
  // The framework's own request object, for hooks (e.g. const httplib::Request*).
  const void* native = nullptr;
  // Bytes of the request body as the adapter received it, headers excluded
  // (http.server.request.body.size); -1 when unknown (not recorded).
  int64_t body_size = -1;
};

struct ServerResponseView {
  // 0 when no response was sent.
  int status_code = 0;
  // Bytes of the response body, headers excluded
  // (http.server.response.body.size); -1 when unknown (e.g. streamed).
  int64_t body_size = -1;
  const HeaderReader* headers = nullptr;
  // The framework's own response object, for hooks.
  const void* native = nullptr;
};

using ServerRequestHook = std::function<void(SpanRef, const ServerRequestView&)>;
using ServerResponseHook =
    std::function<void(SpanRef, const ServerRequestView&, const ServerResponseView&)>;

// Settings of every server instrumentation: the shared ones
// (otelweb/http/settings.h) plus the server-only ones.
struct ServerSettings : Settings {
  // Match excluded_urls against the path only (default: the full URL
  // "scheme://host/path?query", as Flask does). Also turned on by
  // OTEL_CPP_HTTP_SERVER_EXCLUDE_BY_PATH=true. A pattern anchored at a path
  // ("^/health") can never match a full URL: with full-URL matching such a
  // pattern gets one warning naming both ways out.
  bool exclude_by_path = false;
  // Make a span for requests the framework rejects before routing (malformed
  // request line, unknown method, URI too long) when the adapter can see them.
  bool trace_rejected_requests = true;
  // Public endpoint: the inbound trace context comes from clients we do not
  // trust (an internet-facing server). Its request span starts a new trace
  // (the sampler decides as for a root span) with a link to the inbound span
  // context instead of a parent, and the request runs with no inbound baggage
  // or tracestate, so nothing the client sent is forwarded downstream. Go's
  // otelhttp calls this WithPublicEndpoint. nullopt: the environment variable
  // OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT ("true"/"false"), else false (trust,
  // as every OpenTelemetry SDK does by default; see docs/security.md).
  std::optional<bool> public_endpoint{};
  // Decides per request, overriding public_endpoint when set (for example:
  // public unless the peer address is on the internal network). A throwing
  // function counts as "public" (the safe answer) and is reported once.
  std::function<bool(const ServerRequestView&)> public_endpoint_fn{};
};

struct ServerOptions : ServerSettings {
  // Called after the span starts (even if not recording) and after its
  // standard attributes are set. A throwing hook is caught and reported once.
  ServerRequestHook request_hook{};
  // Called before the span ends, after the response attributes are set.
  ServerResponseHook response_hook{};
};

// The compiled form of ServerOptions. Build it once per instrumented server
// (construction compiles the regexes and reads the environment); then share it.
// The compiled members and their accessors (tracer(), redactor(), excluder(),
// request_capture(), response_capture(), instrumentation_tracer()) are
// InstrumenterBase's (otelweb/http/instrumenter_base.h).
namespace internal {
struct ServerMetrics;
class ServerMetricsSource;
}  // namespace internal

class ServerInstrumenter : public InstrumenterBase {
 public:
  // `framework` names the OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS variable
  // ("HTTPLIB", "CIVETWEB"); empty: only OTEL_CPP_EXCLUDED_URLS. `scope_name`
  // is the instrumentation scope of the spans ("otelweb.httplib.server").
  explicit ServerInstrumenter(ServerOptions options = {}, std::string_view framework = {},
                              std::string_view scope_name = kServerScopeName);
  ServerInstrumenter(const ServerInstrumenter&) = delete;
  ServerInstrumenter& operator=(const ServerInstrumenter&) = delete;

  bool IsExcluded(const ServerRequestView& req) const noexcept;
  // The global propagator spans use (null while the global provider is the
  // no-op one and no provider was given); resolved with the tracer.
  const TextMapPropagator* propagator() const noexcept {
    const instrumentation::ResolvedTracer& r = tracer_.Resolve();
    return r.live ? r.propagator.get() : nullptr;
  }
  const ServerOptions& options() const noexcept { return options_; }
  // Whether the inbound context of `req` is untrusted (public_endpoint_fn, else
  // public_endpoint, else OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT).
  bool IsPublicEndpoint(const ServerRequestView& req) const noexcept;

  // Used by ServerSpan: run a hook, catching and reporting (once) what it throws.
  void RunRequestHook(SpanRef span, const ServerRequestView& req) const noexcept;
  void RunResponseHook(SpanRef span, const ServerRequestView& req,
                       const ServerResponseView& res) const noexcept;
  // The HTTP server instruments of the current meter provider (null: none
  // that records). Used by ServerSpan.
  const internal::ServerMetrics* metrics() const noexcept;

 private:
  ServerOptions options_;
  bool public_endpoint_ = false;
  mutable std::atomic<bool> public_fn_warned_{false};
  std::shared_ptr<internal::ServerMetricsSource> metrics_;
};

// One server request's span: Start extracts the remote context with the
// global propagator (only when no span is current; otherwise the span is an
// INTERNAL child of the current one, as in Flask; on a public endpoint the
// extracted span context becomes a link of a new root span and the extracted
// baggage is dropped), starts the span named
// "{method}", sets the semconv attributes and makes it current. SetRoute
// renames it "{method} {route}". End sets the response attributes and status,
// runs the response hook, releases the scope and ends the span. A ServerSpan
// destroyed while active ends its span (status Unset, no response attributes).
class ServerSpan {
 public:
  ServerSpan() noexcept = default;
  ~ServerSpan();
  ServerSpan(const ServerSpan&) = delete;
  ServerSpan& operator=(const ServerSpan&) = delete;

  // arrival: when the request arrived (zero: now). make_current: push a scope
  // on this thread (pass false for asynchronous servers and use Activate()).
  // Returns false, and does nothing else, when the URL is excluded.
  bool Start(const ServerInstrumenter& inst, const ServerRequestView& req, Timestamp arrival = {},
             bool make_current = true) noexcept;
  // The route template (low cardinality: "/users/:id", "/users/(\d+)").
  void SetRoute(std::string_view route) noexcept;
  // Adds the `exception` event; the span ends with status Error and error.type
  // set to the exception type. Call from the adapter's catch block.
  void RecordException(const std::exception& e) noexcept;
  void RecordException(std::string_view type, std::string_view message) noexcept;
  void RecordCurrentException() noexcept;
  // `req` is given to the response hook (may be null: an empty view is given).
  void End(const ServerResponseView& res, const ServerRequestView* req = nullptr,
           Timestamp end_time = {}) noexcept;

  // Make the span current on the calling thread / release that scope.
  void Activate() noexcept;
  void Deactivate() noexcept;

  bool active() const noexcept { return active_; }
  bool has_route() const noexcept { return has_route_; }
  SpanRef span() const noexcept { return span_.Ref(); }
  // The context the request runs in (extracted baggage + this span), for
  // hand-off to other threads.
  const Context& context() const noexcept { return context_; }
  // This request's metric attributes from handler code (otelweb/http/labeler.h);
  // invalid when the request is not active or its server records no metrics.
  // Labeler::Current() finds it while the span is current on the thread.
  Labeler labeler() noexcept {
    return Labeler(active_ && metrics_ != nullptr ? &labels_ : nullptr);
  }

 private:
  const ServerInstrumenter* inst_ = nullptr;
  Span span_;
  Context context_;
  std::optional<Scope> scope_;
  bool active_ = false;
  bool has_route_ = false;
  bool exception_ = false;
  std::string_view method_;  // normalized, static storage
  std::string error_type_;
  // Metrics: the request's instruments, its start (the span's start, so that
  // the duration equals the span's), the attributes kept until End.
  void FinishMetrics(const ServerResponseView* res, const ServerRequestView* req, Timestamp end) noexcept;
  const internal::ServerMetrics* metrics_ = nullptr;
  Timestamp start_{};
  std::string_view scheme_;    // static storage
  std::string_view protocol_;  // static storage
  bool active_counted_ = false;
  bool labels_bound_ = false;  // labels_ is this thread's current labeler
  uint8_t route_len_ = 0;
  char route_[127];
  internal::RequestLabels* labels_prev_ = nullptr;
  internal::RequestLabels labels_;
};

// Builds the attribute list of a server request into caller storage and runs
// the whole ServerSpan lifecycle for a request the framework rejected before
// routing (zero duration, named by the method). Returns false when excluded.
bool RecordRejectedRequest(const ServerInstrumenter& inst, const ServerRequestView& req,
                           int status_code) noexcept;

// Hooks typed for a framework's own objects, as neutral ServerOptions hooks.
// The adapter sets ServerRequestView::native to a `const Req*` and
// ServerResponseView::native to a `const Res*`; this is the one place that
// turns them back into typed references, so adapters write no casts.
//   request_hook(SpanRef, const Req&)  or  (SpanRef, const Req*)
//   response_hook(SpanRef, const Req&, const Res&)  or  (SpanRef, const Req*, int status_code)
// A hook is not called when the native object it needs is missing (null).
template <typename Req, typename Res, typename RequestHook, typename ResponseHook>
ServerOptions WithNativeHooks(ServerSettings settings, RequestHook request_hook,
                              ResponseHook response_hook) {
  ServerOptions o;
  static_cast<ServerSettings&>(o) = std::move(settings);
  if (request_hook) {
    o.request_hook = [h = std::move(request_hook)](SpanRef s, const ServerRequestView& v) {
      const Req* req = static_cast<const Req*>(v.native);
      if (req == nullptr) return;
      if constexpr (std::is_invocable_v<const RequestHook&, SpanRef, const Req&>) {
        h(s, *req);
      } else {
        h(s, req);
      }
    };
  }
  if (response_hook) {
    o.response_hook = [h = std::move(response_hook)](SpanRef s, const ServerRequestView& v,
                                                      const ServerResponseView& r) {
      const Req* req = static_cast<const Req*>(v.native);
      if (req == nullptr) return;
      if constexpr (std::is_invocable_v<const ResponseHook&, SpanRef, const Req*, int>) {
        h(s, req, r.status_code);
      } else {
        const Res* res = static_cast<const Res*>(r.native);
        if (res != nullptr) h(s, *req, *res);
      }
    };
  }
  return o;
}

}  // namespace otelweb::http
