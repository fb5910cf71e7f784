// cpp-httplib client instrumentation (library otelweb_httplib).
// What RequestsInstrumentor gives `requests`, for httplib::Client.
//
//   otelweb::httplib::TracedClient cli("http://127.0.0.1:5001");   // instead of httplib::Client
//   cli.set_read_timeout(std::chrono::seconds(2));
//   auto res = cli.Get("/delay/1");                                  // every verb and overload
//   if (!res) ... res.error() ...                                    // same Result as httplib's
//
// Per call (Get/Head/Post/Put/Patch/Delete/Options/send, every overload, one
// traced path): a CLIENT span named "{method}", child of the calling thread's
// current span and current itself during the call; traceparent / tracestate /
// baggage from the global propagator are added through the client's default
// headers, so headers the caller set win (per request or with
// set_default_headers: a user traceparent is sent as is and ours, tracestate
// included, is left out). Attributes: http.request.method, server.address,
// server.port, url.full (credentials and secret query values redacted),
// network.protocol.version, http.response.status_code, error.type. Status
// Error for responses >= 400 (error.type = the code) and for transport errors
// (error.type = the httplib::Error name: "Connection", "ConnectionTimeout",
// "Read", "Write", "SSLConnection", "SSLServerVerification", ...; a read
// timeout is reported by httplib 0.11 as "Read").
//
// Ownership: a TracedClient owns its httplib client state and shares its
// compiled options (one process-wide copy for default options).
// Thread-safety: as httplib::Client: requests on one client are serialised
// (httplib already does; the instrumentation takes its own lock around each
// call). Instrument/Uninstrument on a client may run concurrently with its
// requests. Call set_default_headers on the TracedClient itself (not through a
// httplib::Client& to the base), or the next request restores the old ones.
#pragma once

#include <httplib.h>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include "otelweb/http/client.h"
#include "otelweb/trace/span.h"

namespace otelweb::httplib {

// Instrumentation scope name of the client spans.
inline constexpr std::string_view kClientScopeName = "otelweb.httplib.client";

// What the hooks learn about a request.
struct ClientRequestInfo {
  std::string_view method;
  // The absolute URL, unredacted ("http://127.0.0.1:5001/delay/1").
  std::string_view url;
  // The headers given to this call, when it had any (else null).
  const ::httplib::Headers* headers = nullptr;
};

struct ClientOptions : http::ClientSettings {
  // After the span started (even when not recording), before the request is
  // sent. Throwing is caught and reported once.
  std::function<void(SpanRef, const ClientRequestInfo&)> request_hook;
  // Before the span ends. `response` is null when no response arrived
  // (`error` then says why).
  std::function<void(SpanRef, const ClientRequestInfo&, const ::httplib::Response* response,
                     ::httplib::Error error)>
      response_hook{};
};

// The name used for error.type of a transport error ("Connection", ...).
std::string_view ErrorName(::httplib::Error error) noexcept;

// Process-wide switch for every TracedClient (default on). Off: calls go
// straight to httplib, no span, nothing injected.
void InstrumentClients() noexcept;
void UninstrumentClients() noexcept;
bool ClientsInstrumented() noexcept;

class TracedClient;
namespace detail {
struct ClientState;
// What a call's arguments say about the bodies, for the body-size metrics:
// the request body's size (-1: unknown, e.g. form Params or multipart items),
// and whether the response goes to a content receiver (httplib then keeps
// no body: its size is only known from Content-Length).
struct CallBodies {
  int64_t request = -1;
  bool response_streamed = false;
};
// One traced call: locks the client, starts the span, swaps the default
// headers in; Finish / the destructor restore them and end the span.
class ClientCall {
 public:
  // `query`: the Params of a Get(path, params, ...) call (appended to the
  // path for url.full, as httplib does); ignored for other methods.
  ClientCall(TracedClient& client, std::string_view method, const std::string& path,
             const ::httplib::Headers* headers, const ::httplib::Params* query = nullptr,
             CallBodies bodies = {}) noexcept;
  ~ClientCall();
  ClientCall(const ClientCall&) = delete;
  ClientCall& operator=(const ClientCall&) = delete;
  void Finish(const ::httplib::Response* response, ::httplib::Error error) noexcept;
  // Call inside a catch block: records the exception thrown through the call
  // (by a user content receiver or progress callback) and ends the span.
  void Abort() noexcept;
  struct Impl;

 private:
  alignas(std::max_align_t) unsigned char buf_[512];
  Impl* impl_ = nullptr;
};

template <typename T>
inline constexpr bool kIsHeaders = std::is_same_v<std::decay_t<T>, ::httplib::Headers>;
template <typename T>
inline constexpr bool kIsParams = std::is_same_v<std::decay_t<T>, ::httplib::Params>;
inline const ::httplib::Params* FindParams() noexcept { return nullptr; }
template <typename T, typename... R>
const ::httplib::Params* FindParams(const T& first, const R&... rest) noexcept {
  if constexpr (kIsParams<T>) {
    return &first;
  } else {
    return FindParams(rest...);
  }
}
inline const ::httplib::Headers* FindHeaders() noexcept { return nullptr; }
template <typename T, typename... R>
const ::httplib::Headers* FindHeaders(const T& first, const R&... rest) noexcept {
  if constexpr (kIsHeaders<T>) {
    return &first;
  } else {
    return FindHeaders(rest...);
  }
}
// httplib's verbs take the body first after the path (and headers): a
// string, a pointer and a length, or a length and a content provider. No
// body argument: an empty body. Form Params (not a GET's query Params),
// multipart items and a content provider without length: unknown (-1).
template <typename T>
inline constexpr bool kIsReceiver =
    std::is_invocable_r_v<bool, const T&, const char*, size_t> ||
    std::is_invocable_r_v<bool, const T&, const char*, size_t, uint64_t, uint64_t>;
template <typename T>
inline constexpr bool kIsUnsizedBody =
    std::is_same_v<std::decay_t<T>, ::httplib::MultipartFormDataItems> ||
    std::is_invocable_v<const T&, size_t, ::httplib::DataSink&>;
template <typename... R>
bool AnyReceiver(const R&...) noexcept {
  return (kIsReceiver<R> || ...);
}
template <bool kParamsAreQuery>
int64_t RequestBodySize() noexcept {
  return 0;
}
template <bool kParamsAreQuery, typename T, typename... R>
int64_t RequestBodySize(const T& first, const R&... rest) noexcept {
  using D = std::decay_t<T>;
  if constexpr (kIsHeaders<T> || (kIsParams<T> && kParamsAreQuery)) {
    return RequestBodySize<kParamsAreQuery>(rest...);
  } else if constexpr (kIsParams<T> || kIsUnsizedBody<T>) {
    return -1;
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    if constexpr (sizeof...(R) > 0) {
      if constexpr (std::is_integral_v<std::decay_t<std::tuple_element_t<0, std::tuple<R...>>>>) {
        return static_cast<int64_t>(std::get<0>(std::tie(rest...)));  // (body, length, type)
      }
    }
    return static_cast<int64_t>(std::string_view(first).size());
  } else if constexpr (std::is_integral_v<D> && !std::is_same_v<D, bool>) {
    return static_cast<int64_t>(first);  // (length, content provider, type)
  } else {
    return 0;  // receivers, progress and response handlers: no body
  }
}
// kGet: a GET's Params are its query, not a body.
template <bool kGet, typename... A>
CallBodies BodiesOf(const A&... a) noexcept {
  return {RequestBodySize<kGet>(a...), AnyReceiver(a...)};
}
}  // namespace detail

// An httplib::Client whose requests are traced. Constructors mirror
// httplib::Client's, with options last.
class TracedClient : public ::httplib::Client {
 public:
  // Without options: the default options, compiled once and shared by every
  // such client.
  explicit TracedClient(const std::string& scheme_host_port, ClientOptions options);
  explicit TracedClient(const std::string& scheme_host_port);
  TracedClient(const std::string& scheme_host_port, const std::string& client_cert_path,
               const std::string& client_key_path);
  TracedClient(const std::string& scheme_host_port, const std::string& client_cert_path,
               const std::string& client_key_path, ClientOptions options);
  TracedClient(const std::string& host, int port);
  TracedClient(const std::string& host, int port, ClientOptions options);
  TracedClient(const std::string& host, int port, const std::string& client_cert_path,
               const std::string& client_key_path);
  TracedClient(const std::string& host, int port, const std::string& client_cert_path,
               const std::string& client_key_path, ClientOptions options);
  ~TracedClient();
  TracedClient(const TracedClient&) = delete;
  TracedClient& operator=(const TracedClient&) = delete;

  // Re-instruments with new options / turns this client's tracing off.
  void Instrument();  // the default options
  void Instrument(ClientOptions options);
  void Uninstrument();
  bool IsInstrumented() const;

  // The "scheme://host[:port]" requests go to (port only when not the default).
  const std::string& base_url() const noexcept { return base_url_; }

  // Recorded so that the injected headers can be added to them per request.
  void set_default_headers(::httplib::Headers headers);

  // Every verb, every overload: one traced path. The second form of each
  // accepts a braced header list ({{"Accept", "text/plain"}}).
#define OTELWEB_HTTPLIB_TRACED_VERB(VERB, NAME)                                                  \
  template <typename... A>                                                                       \
  requires requires(::httplib::Client & c, const std::string& p, A&&... a) {                     \
    c.VERB(p, std::forward<A>(a)...);                                                            \
  }                                                                                              \
  ::httplib::Result VERB(const std::string& path, A&&... a) {                                    \
    detail::ClientCall call(*this, NAME, path, detail::FindHeaders(a...),                        \
                            detail::FindParams(a...),                                             \
                            detail::BodiesOf<std::string_view(NAME) == "GET">(a...));             \
    ::httplib::Result r = [&] {                                                                  \
      try {                                                                                      \
        return Client::VERB(path, std::forward<A>(a)...);                                        \
      } catch (...) {                                                                            \
        call.Abort();                                                                            \
        throw;                                                                                   \
      }                                                                                          \
    }();                                                                                         \
    call.Finish(r ? &r.value() : nullptr, r.error());                                            \
    return r;                                                                                    \
  }                                                                                              \
  template <typename... A>                                                                       \
  requires requires(::httplib::Client & c, const std::string& p, const ::httplib::Headers& h,    \
                    A&&... a) {                                                                  \
    c.VERB(p, h, std::forward<A>(a)...);                                                         \
  }                                                                                              \
  ::httplib::Result VERB(const std::string& path, const ::httplib::Headers& headers, A&&... a) { \
    detail::ClientCall call(*this, NAME, path, &headers, nullptr,                                 \
                            detail::BodiesOf<std::string_view(NAME) == "GET">(a...));             \
    ::httplib::Result r = [&] {                                                                  \
      try {                                                                                      \
        return Client::VERB(path, headers, std::forward<A>(a)...);                               \
      } catch (...) {                                                                            \
        call.Abort();                                                                            \
        throw;                                                                                   \
      }                                                                                          \
    }();                                                                                         \
    call.Finish(r ? &r.value() : nullptr, r.error());                                            \
    return r;                                                                                    \
  }
  OTELWEB_HTTPLIB_TRACED_VERB(Get, "GET")
  OTELWEB_HTTPLIB_TRACED_VERB(Head, "HEAD")
  OTELWEB_HTTPLIB_TRACED_VERB(Post, "POST")
  OTELWEB_HTTPLIB_TRACED_VERB(Put, "PUT")
  OTELWEB_HTTPLIB_TRACED_VERB(Patch, "PATCH")
  OTELWEB_HTTPLIB_TRACED_VERB(Delete, "DELETE")
  OTELWEB_HTTPLIB_TRACED_VERB(Options, "OPTIONS")
#undef OTELWEB_HTTPLIB_TRACED_VERB

  // A prepared request (any method).
  bool send(::httplib::Request& req, ::httplib::Response& res, ::httplib::Error& error);
  ::httplib::Result send(const ::httplib::Request& req);

 private:
  friend class detail::ClientCall;
  void Init(const std::string& scheme, const std::string& host, int port,
            std::optional<ClientOptions> options);
  std::shared_ptr<const detail::ClientState> state_;  // null: uninstrumented
  ::httplib::Headers base_headers_;
  std::string base_url_;
  std::string host_;
  int port_ = 0;
  mutable std::recursive_mutex mu_;
};

}  // namespace otelweb::httplib
