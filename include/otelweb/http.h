// The framework-neutral HTTP layer (library otelweb_http): what WSGI middleware
// and opentelemetry-util-http are to Flask. Framework adapters (cpp-httplib,
// civetweb, a hand-written socket loop) describe a request with a
// ServerRequestView and drive a ServerSpan; client instrumentations reuse the
// URL redaction, method normalising, header capture and URL exclusion helpers.
//
//   otelweb::http::ServerOptions options;
//   options.excluded_urls = "/health";
//   otelweb::http::ServerInstrumenter inst(options, "MYSERVER");
//   ...per request, on the thread that runs the handler:
//   otelweb::http::ServerSpan span;
//   span.Start(inst, view, arrival_time);     // extract, SERVER span, made current
//   span.SetRoute("/users/{id}");             // when the router knows it
//   ...handler...
//   span.End({.status_code = 200});           // after the response is written
//
// Ownership: a ServerInstrumenter owns its compiled settings (regexes, hooks,
// tracer). Views borrow everything they point at for the duration of the call
// that receives them. A ServerSpan owns its span and (while active) a scope.
// Thread-safety: ServerInstrumenter, UrlRedactor, UrlExcluder and HeaderCapture
// are immutable after construction and safe to share between threads. A
// ServerSpan belongs to one request and is used by one thread at a time; its
// scope must be released on the thread that made it current.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/propagation.h"
#include "otelweb/span.h"
#include "otelweb/tracer.h"

namespace otelweb::http {

// Instrumentation scope name of the server spans.
inline constexpr std::string_view kServerScopeName = "otelweb.http.server";

// ---------------------------------------------------------------------------
// Methods and status codes

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

// Splits "host", "host:port", "[v6]" or "[v6]:port". *port is 0 when absent.
// Returns false (outputs untouched) for an empty or malformed value.
bool ParseHostPort(std::string_view hostport, std::string_view* host, int* port) noexcept;

// ---------------------------------------------------------------------------
// Headers

// Read access to a request's or response's headers. Derived from
// TextMapGetter so that the same object is the propagation carrier.
// Get (inherited): `key` is lowercase; implementations match names
// case-insensitively and join repeated headers with ',' (in `scratch`).
class HeaderReader : public TextMapGetter {
 public:
  // Return false to stop the iteration.
  using Visitor = bool (*)(void* ctx, std::string_view name, std::string_view value);
  // Calls visit(ctx, name, value) once per header line, in any order. Names are
  // as received (any case). Adapters leave out framework pseudo-headers.
  virtual void ForEach(Visitor visit, void* ctx) const noexcept = 0;
  // Default Get: a ForEach scan that joins every value of `key` with ','.
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override;
};

// Case-insensitive ASCII comparison of header names.
bool HeaderNameEquals(std::string_view a, std::string_view b) noexcept;

// Captures headers into span attributes `<prefix><lowercase name>` as string
// arrays holding every value (one element per header line). Names are matched
// with case-insensitive full-match regexes; plain names (letters, digits, '-',
// '_') are compared without a regex. Values of Authorization,
// Proxy-Authorization, Cookie, Set-Cookie and of names matching a sanitize
// pattern (case-insensitive search) become "[REDACTED]". An invalid pattern is
// one warning and is skipped.
class HeaderCapture {
 public:
  HeaderCapture() = default;
  HeaderCapture(const std::vector<std::string>& patterns, const std::vector<std::string>& sanitize,
                std::string_view attribute_prefix);
  // True when nothing is to be captured (the common case: zero cost).
  bool empty() const noexcept { return literals_.empty() && !regex_; }
  bool Matches(std::string_view name) const noexcept;
  bool IsSensitive(std::string_view name) const noexcept;
  // Writes the attributes of every matching header to span (if recording).
  void Capture(const HeaderReader& headers, SpanRef span) const noexcept;

 private:
  std::string prefix_;
  std::vector<std::string> literals_;           // lowercase names
  std::optional<std::regex> regex_;             // non-literal capture patterns
  std::vector<std::string> sanitize_literals_;  // lowercase substrings
  std::optional<std::regex> sanitize_regex_;
};

// The pattern list for a capture or sanitize setting: the code value when
// given, else the comma-separated environment variable, else empty.
std::vector<std::string> PatternsFromConfig(const std::optional<std::vector<std::string>>& code,
                                            const char* env_var);

// Environment variables of the header capture settings.
inline constexpr const char* kEnvCaptureServerRequest =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST";
inline constexpr const char* kEnvCaptureServerResponse =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE";
inline constexpr const char* kEnvCaptureClientRequest =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST";
inline constexpr const char* kEnvCaptureClientResponse =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE";
inline constexpr const char* kEnvCaptureSanitize =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS";

// ---------------------------------------------------------------------------
// URL redaction

// Replaces the user-info of an absolute URL ("scheme://user:pw@host/...") with
// "REDACTED:REDACTED". Returns false (out untouched) when there is none.
bool RemoveUrlCredentials(std::string_view url, std::string* out);

// Redacts credentials and the values of secret query parameters
// (AWSAccessKeyId, Signature, sig, X-Goog-Signature, plus extra names; exact,
// case-sensitive names). Other parameters are kept byte for byte.
class UrlRedactor {
 public:
  UrlRedactor() = default;
  explicit UrlRedactor(std::vector<std::string> extra_params) : extra_(std::move(extra_params)) {}
  bool IsSecretParam(std::string_view name) const noexcept;
  // A query string without the '?'. Returns false (out untouched) when nothing
  // needed redacting, so callers keep using the original without a copy.
  bool RedactQuery(std::string_view query, std::string* out) const;
  // A full URL or a request target ("/p?q"): credentials and query.
  bool RedactUrl(std::string_view url, std::string* out) const;
  // Convenience: the redacted copy (or the input).
  std::string Redact(std::string_view url) const;

 private:
  std::vector<std::string> extra_;
};

// ---------------------------------------------------------------------------
// Excluded URLs

// Comma-separated regexes, each searched (unanchored, case-sensitive, ECMAScript
// syntax) in the string given to Matches. Empty entries are ignored (a
// trailing comma excludes nothing); an invalid regex is one warning and is
// skipped. Compiled once.
class UrlExcluder {
 public:
  UrlExcluder() = default;
  explicit UrlExcluder(std::string_view comma_separated_regexes);
  // The list from code when given, else OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS,
  // else OTEL_CPP_EXCLUDED_URLS (each used when set and not blank).
  static UrlExcluder FromConfig(const std::optional<std::string>& code, std::string_view framework);
  bool empty() const noexcept { return !regex_; }
  bool Matches(std::string_view url) const noexcept;
  const std::string& source() const noexcept { return source_; }

 private:
  std::optional<std::regex> regex_;
  std::string source_;  // the valid entries joined with '|'
};

// ---------------------------------------------------------------------------
// Server side

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
};

struct ServerResponseView {
  // 0 when no response was sent.
  int status_code = 0;
  const HeaderReader* headers = nullptr;
  // The framework's own response object, for hooks.
  const void* native = nullptr;
};

using ServerRequestHook = std::function<void(SpanRef, const ServerRequestView&)>;
using ServerResponseHook =
    std::function<void(SpanRef, const ServerRequestView&, const ServerResponseView&)>;

// Settings shared by every server instrumentation (framework options derive
// from this and add hooks typed for their request objects).
struct ServerSettings {
  // Null: the global provider (resolved at the first request made after a
  // real provider has been installed).
  std::shared_ptr<TracerProvider> tracer_provider;
  // Comma-separated regexes; nullopt: OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS, else
  // OTEL_CPP_EXCLUDED_URLS. An excluded request makes no span and runs no hook.
  std::optional<std::string> excluded_urls;
  // Match excluded_urls against the path only (default: the full URL
  // "scheme://host/path?query", as Flask does).
  bool exclude_by_path = false;
  // Header capture; nullopt: the OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*
  // variables.
  std::optional<std::vector<std::string>> capture_request_headers;
  std::optional<std::vector<std::string>> capture_response_headers;
  std::optional<std::vector<std::string>> sanitize_fields;
  // More query parameters whose values are redacted (exact names).
  std::vector<std::string> secret_query_params;
  // Make a span for requests the framework rejects before routing (malformed
  // request line, unknown method, URI too long) when the adapter can see them.
  bool trace_rejected_requests = true;
};

struct ServerOptions : ServerSettings {
  // Called after the span starts (even if not recording) and after its
  // standard attributes are set. A throwing hook is caught and reported once.
  ServerRequestHook request_hook;
  // Called before the span ends, after the response attributes are set.
  ServerResponseHook response_hook;
};

// The compiled form of ServerOptions. Build it once per instrumented server
// (construction compiles the regexes and reads the environment); then share it.
class ServerInstrumenter {
 public:
  // `framework` names the OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS variable
  // ("HTTPLIB", "CIVETWEB"); empty: only OTEL_CPP_EXCLUDED_URLS.
  explicit ServerInstrumenter(ServerOptions options = {}, std::string_view framework = {});
  ServerInstrumenter(const ServerInstrumenter&) = delete;
  ServerInstrumenter& operator=(const ServerInstrumenter&) = delete;

  bool IsExcluded(const ServerRequestView& req) const noexcept;
  // The tracer and propagator spans use. Resolved at the first request (the
  // global ones are re-read until a real provider is installed).
  Tracer tracer() const noexcept;
  const TextMapPropagator* propagator() const noexcept;
  const ServerOptions& options() const noexcept { return options_; }
  const UrlRedactor& redactor() const noexcept { return redactor_; }
  const UrlExcluder& excluder() const noexcept { return excluder_; }
  const HeaderCapture& request_capture() const noexcept { return request_capture_; }
  const HeaderCapture& response_capture() const noexcept { return response_capture_; }

  // Used by ServerSpan: run a hook, catching and reporting (once) what it throws.
  void RunRequestHook(SpanRef span, const ServerRequestView& req) const noexcept;
  void RunResponseHook(SpanRef span, const ServerRequestView& req,
                       const ServerResponseView& res) const noexcept;

 private:
  ServerOptions options_;
  UrlRedactor redactor_;
  UrlExcluder excluder_;
  HeaderCapture request_capture_;
  HeaderCapture response_capture_;
  mutable std::mutex tracer_mu_;
  mutable Tracer tracer_;
  mutable std::shared_ptr<TextMapPropagator> propagator_;
  mutable std::atomic<bool> tracer_fixed_{false};
  mutable std::atomic<bool> hook_warned_{false};
};

// One server request's span: Start extracts the remote context with the
// global propagator (only when no span is current; otherwise the span is an
// INTERNAL child of the current one, as in Flask), starts the span named
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

 private:
  const ServerInstrumenter* inst_ = nullptr;
  Span span_;
  Context context_;
  alignas(Scope) unsigned char scope_buf_[sizeof(Scope)];
  bool scope_live_ = false;
  bool active_ = false;
  bool has_route_ = false;
  bool exception_ = false;
  std::string_view method_;  // normalized, static storage
  std::string error_type_;
};

// Builds the attribute list of a server request into caller storage and runs
// the whole ServerSpan lifecycle for a request the framework rejected before
// routing (zero duration, named by the method). Returns false when excluded.
bool RecordRejectedRequest(const ServerInstrumenter& inst, const ServerRequestView& req,
                           int status_code) noexcept;

// ---------------------------------------------------------------------------
// Client side
//
// What client instrumentations (cpp-httplib Client, libcurl) share: the CLIENT
// span named "{method}" (child of the current span), stable HTTP client
// semconv attributes, injection through the global propagator, status mapping
// (Error from 400 on and for transport errors), excluded URLs, header capture.
//
//   otelweb::http::ClientInstrumenter inst(settings, "CURL", "otelweb.curl");
//   otelweb::http::ClientSpan span;
//   if (span.Start(inst, {.method = "GET", .url = url})) {
//     span.Inject(carrier);                     // traceparent, tracestate, baggage
//   }
//   ...send, receive...
//   span.End({.status_code = 200, .protocol_version = "1.1"});
//
// Ownership and thread-safety: as for the server side (the instrumenter is
// immutable and shared; a ClientSpan is one request's, used by one thread at a
// time; its optional scope must be released on the thread that made it).

// Default instrumentation scope name of client spans.
inline constexpr std::string_view kClientScopeName = "otelweb.http.client";

// What an adapter knows about an outgoing request before sending it.
struct ClientRequestView {
  std::string_view method;
  // The absolute URL as the application gave it ("http://h:8080/p?q"),
  // unredacted: exclusion matches against it; url.full gets the redacted form.
  std::string_view url;
  // When empty, taken from `url` (the port then defaults from the scheme).
  std::string_view server_address;
  int server_port = 0;
  // Request headers for capture (may be null).
  const HeaderReader* headers = nullptr;
  // The library's own request object, for hooks.
  const void* native = nullptr;
};

struct ClientResponseView {
  // 0 when no response arrived.
  int status_code = 0;
  // "1.1", "2" or "HTTP/1.1" (the prefix is removed).
  std::string_view protocol_version;
  // A transport failure: a short, low-cardinality identifier of the error
  // ("Connection", "CURLE_OPERATION_TIMEDOUT"); it becomes error.type and the
  // span status Error with error_message as description. Empty: no failure.
  std::string_view error_type;
  std::string_view error_message;
  std::string_view peer_address;
  int peer_port = 0;
  const HeaderReader* headers = nullptr;
  const void* native = nullptr;
};

// Settings shared by every client instrumentation (library options derive
// from this and add hooks typed for their own objects).
struct ClientSettings {
  // Null: the global provider (resolved at the first request made after a
  // real provider has been installed).
  std::shared_ptr<TracerProvider> tracer_provider;
  // Comma-separated regexes searched in the full URL; nullopt:
  // OTEL_CPP_<LIBRARY>_EXCLUDED_URLS, else OTEL_CPP_EXCLUDED_URLS. An excluded
  // request makes no span, runs no hook and gets no headers injected.
  std::optional<std::string> excluded_urls;
  // Header capture; nullopt: the OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_*
  // and ..._SANITIZE_FIELDS variables.
  std::optional<std::vector<std::string>> capture_request_headers;
  std::optional<std::vector<std::string>> capture_response_headers;
  std::optional<std::vector<std::string>> sanitize_fields;
  // More query parameters whose values are redacted in url.full (exact names).
  std::vector<std::string> secret_query_params;
};

// The compiled form of ClientSettings (regexes compiled, environment read).
// Build it once and share it between requests and threads.
class ClientInstrumenter {
 public:
  // `library` names the OTEL_CPP_<LIBRARY>_EXCLUDED_URLS variable
  // ("HTTPLIB_CLIENT", "CURL"); `scope_name` is the instrumentation scope.
  explicit ClientInstrumenter(ClientSettings settings = {}, std::string_view library = {},
                              std::string_view scope_name = kClientScopeName);
  ClientInstrumenter(const ClientInstrumenter&) = delete;
  ClientInstrumenter& operator=(const ClientInstrumenter&) = delete;

  bool IsExcluded(std::string_view url) const noexcept { return excluder_.Matches(url); }
  Tracer tracer() const noexcept;
  // The global propagator as it was when the instrumenter was first used with
  // a real provider; null until then (ClientSpan::Inject then reads the
  // global one per call).
  const TextMapPropagator* propagator() const noexcept;
  const ClientSettings& settings() const noexcept { return settings_; }
  const UrlRedactor& redactor() const noexcept { return redactor_; }
  const UrlExcluder& excluder() const noexcept { return excluder_; }
  const HeaderCapture& request_capture() const noexcept { return request_capture_; }
  const HeaderCapture& response_capture() const noexcept { return response_capture_; }

  // Runs a user hook, catching and reporting (once) what it throws.
  template <typename F>
  void RunHook(F&& f) const noexcept {
    try {
      f();
    } catch (const std::exception& e) {
      ReportHookFailure(e.what());
    } catch (...) {
      ReportHookFailure("a non-std exception");
    }
  }

 private:
  void ReportHookFailure(const char* what) const noexcept;
  ClientSettings settings_;
  std::string scope_name_;
  UrlRedactor redactor_;
  UrlExcluder excluder_;
  HeaderCapture request_capture_;
  HeaderCapture response_capture_;
  mutable std::mutex tracer_mu_;
  mutable Tracer tracer_;
  mutable std::shared_ptr<TextMapPropagator> propagator_;
  mutable std::atomic<bool> tracer_fixed_{false};
  mutable std::atomic<bool> hook_warned_{false};
};

// Splits an absolute URL into scheme, host and port (port from the scheme when
// absent: 80 for http/ws, 443 for https/wss, else 0). Returns false for a URL
// without "scheme://host".
bool ParseUrlAuthority(std::string_view url, std::string_view* scheme, std::string_view* host,
                       int* port) noexcept;

// One outgoing request's CLIENT span.
class ClientSpan {
 public:
  ClientSpan() noexcept = default;
  ~ClientSpan();
  ClientSpan(const ClientSpan&) = delete;
  ClientSpan& operator=(const ClientSpan&) = delete;

  // Starts the span as a child of `parent` (null: the calling thread's current
  // context). Returns false, doing nothing, when the URL is excluded or the
  // parent context has instrumentation suppressed. make_current: push a scope
  // on this thread until End (synchronous clients).
  bool Start(const ClientInstrumenter& inst, const ClientRequestView& req,
             const Context* parent = nullptr, bool make_current = false) noexcept;
  // Writes this span's context (traceparent, tracestate, baggage) through the
  // propagator. `skip(ctx, lowercase key)` returning true keeps a header the
  // user set; null: write every field.
  using SkipField = bool (*)(void* ctx, std::string_view key);
  void Inject(TextMapSetter& carrier, SkipField skip = nullptr, void* skip_ctx = nullptr) const noexcept;
  // The method the span was named after, e.g. when the library only knows the
  // real method after the request (libcurl): renames the span and fixes
  // http.request.method.
  void SetMethod(std::string_view method) noexcept;
  // Sets the response attributes and status and ends the span.
  void End(const ClientResponseView& res, Timestamp end_time = {}) noexcept;

  bool active() const noexcept { return active_; }
  SpanRef span() const noexcept { return span_.Ref(); }
  // The context the request runs in (parent + this span).
  const Context& context() const noexcept { return context_; }
  Timestamp start_time() const noexcept { return start_; }

 private:
  const ClientInstrumenter* inst_ = nullptr;
  Span span_;
  Context context_;
  Timestamp start_{};
  alignas(Scope) unsigned char scope_buf_[sizeof(Scope)];
  bool scope_live_ = false;
  bool active_ = false;
};

}  // namespace otelweb::http
