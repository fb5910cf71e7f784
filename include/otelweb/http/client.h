// HTTP client instrumentation kit (library otelweb_http).
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
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/http/attributes.h"
#include "otelweb/http/headers.h"
#include "otelweb/http/instrumenter_base.h"
#include "otelweb/http/settings.h"
#include "otelweb/http/url.h"
#include "otelweb/instrumentation.h"
#include "otelweb/propagation.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::http {

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
  // Bytes of the request body as sent, headers excluded
  // (http.client.request.body.size); -1 when unknown before sending (see
  // ClientResponseView::request_body_size).
  int64_t body_size = -1;
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
  // Bytes of the response body as received, headers excluded
  // (http.client.response.body.size); -1 when unknown (not recorded).
  int64_t body_size = -1;
  // Bytes of the request body sent, when the library only knows it after the
  // request (libcurl); overrides ClientRequestView::body_size when >= 0.
  int64_t request_body_size = -1;
};

// Settings of every client instrumentation (otelweb/http/settings.h; the
// capture variables are the ..._CLIENT_REQUEST / _CLIENT_RESPONSE ones).
// Settings::meter_provider receives http.client.request.duration and the body
// sizes (docs/metrics.md, "HTTP client metrics").
// Library options derive from this and add hooks typed for their own objects.
struct ClientSettings : Settings {};

// The compiled form of ClientSettings (regexes compiled, environment read).
// Build it once and share it between requests and threads.
// The compiled members and their accessors (tracer(), redactor(), excluder(),
// request_capture(), response_capture(), instrumentation_tracer()) are
// InstrumenterBase's (otelweb/http/instrumenter_base.h).
namespace internal {
struct ClientMetrics;
class ClientMetricsSource;
}  // namespace internal

class ClientInstrumenter : public InstrumenterBase {
 public:
  // `library` names the OTEL_CPP_<LIBRARY>_EXCLUDED_URLS variable
  // ("HTTPLIB_CLIENT", "CURL"); `scope_name` is the instrumentation scope.
  explicit ClientInstrumenter(ClientSettings settings = {}, std::string_view library = {},
                              std::string_view scope_name = kClientScopeName);
  ClientInstrumenter(const ClientInstrumenter&) = delete;
  ClientInstrumenter& operator=(const ClientInstrumenter&) = delete;

  bool IsExcluded(std::string_view url) const noexcept { return excluder_.Matches(url); }
  // The global propagator, resolved with the tracer (see
  // instrumentation::InstrumentationTracer).
  const TextMapPropagator* propagator() const noexcept { return tracer_.propagator(); }
  const ClientSettings& settings() const noexcept { return settings_; }
  // The HTTP client instruments of the meter provider (null: none that
  // records). Used by ClientSpan.
  const internal::ClientMetrics* metrics() const noexcept;

  // Runs a user hook, catching and reporting (once) what it throws.
  template <typename F>
  void RunHook(F&& f) const noexcept {
    instrumentation::RunGuarded(hook_warned_, "an HTTP client hook", std::forward<F>(f),
                                settings_.hook_exceptions);
  }

 private:
  ClientSettings settings_;
  std::shared_ptr<internal::ClientMetricsSource> metrics_;
};

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
  void Inject(TextMapSetter& carrier, SkipField skip = nullptr,
              void* skip_ctx = nullptr) const noexcept;
  // The method the span was named after, e.g. when the library only knows the
  // real method after the request (libcurl): renames the span and fixes
  // http.request.method.
  void SetMethod(std::string_view method) noexcept;
  // Sets the response attributes and status, records the metrics
  // (http.client.request.duration from the span's own start and end time, so
  // both durations are equal, and the body sizes) and ends the span. A span
  // destroyed without End records no metrics.
  void End(const ClientResponseView& res, Timestamp end_time = {}) noexcept;

  bool active() const noexcept { return active_; }
  SpanRef span() const noexcept { return span_.Ref(); }
  // The context the request runs in (parent + this span).
  const Context& context() const noexcept { return context_; }
  Timestamp start_time() const noexcept { return start_; }

 private:
  const ClientInstrumenter* inst_ = nullptr;
  const instrumentation::ResolvedTracer* resolved_ = nullptr;  // the instrumenter's
  Span span_;
  Context context_;
  Timestamp start_{};
  std::optional<Scope> scope_;
  bool active_ = false;
  // Metrics: the instruments (null: none), and the request's metric
  // attributes kept from Start (method and scheme in static storage; the
  // address inline up to its size, else in address_long_).
  void RecordMetrics(const ClientResponseView& res, const ResponseAttributeList& response,
                     Timestamp end) noexcept;
  const internal::ClientMetrics* metrics_ = nullptr;
  std::string_view method_;
  int server_port_ = 0;
  int64_t request_size_ = -1;
  uint8_t address_len_ = 0;
  char address_[63];
  std::string address_long_;
};

}  // namespace otelweb::http
