// cpp-httplib client instrumentation: every verb goes through ClientCall,
// which starts the CLIENT span and swaps the client's default headers for
// "user defaults + injected context" for the duration of the call (httplib
// adds default headers only for names the request does not set, so the
// caller's own headers win).
#include <atomic>
#include <charconv>
#include <new>
#include <optional>

#include "otelweb/diagnostics.h"
#include "otelweb/httplib/client.h"
#include "otelweb/instrumentation.h"

namespace otelweb::httplib {

namespace detail {
struct ClientState {
  ClientOptions options;
  http::ClientInstrumenter inst;
  explicit ClientState(ClientOptions o)
      : options(std::move(o)), inst(options, "HTTPLIB_CLIENT", kClientScopeName) {}
};
}  // namespace detail

namespace {

std::atomic<bool> g_clients_enabled{true};

class HeadersReader final : public http::HeaderReader {
 public:
  HeadersReader(const ::httplib::Headers* a, const ::httplib::Headers* b) noexcept : a_(a), b_(b) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    if (a_ != nullptr) {
      for (const auto& [name, value] : *a_) {
        if (!visit(ctx, name, value)) return;
      }
    }
    if (b_ != nullptr) {
      for (const auto& [name, value] : *b_) {
        // Defaults only count for names the request does not set.
        if (a_ != nullptr && a_->find(name) != a_->end()) continue;
        if (!visit(ctx, name, value)) return;
      }
    }
  }

 private:
  const ::httplib::Headers* a_;
  const ::httplib::Headers* b_;
};

class ResponseHeadersReader final : public http::HeaderReader {
 public:
  explicit ResponseHeadersReader(const ::httplib::Headers& h) noexcept : h_(h) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const auto& [name, value] : h_) {
      if (!visit(ctx, name, value)) return;
    }
  }

 private:
  const ::httplib::Headers& h_;
};

// Writes injected fields into the outgoing default headers.
class HeadersSetter final : public TextMapSetter {
 public:
  explicit HeadersSetter(::httplib::Headers& h) noexcept : h_(h) {}
  void Set(std::string_view key, std::string_view value) noexcept override {
    try {
      h_.emplace(std::string(key), std::string(value));
    } catch (...) {
    }
  }

 private:
  ::httplib::Headers& h_;
};

struct SkipCtx {
  const ::httplib::Headers* request;
  const ::httplib::Headers* defaults;
};

bool Has(const ::httplib::Headers* h, std::string_view key) {
  if (h == nullptr) return false;
  try {
    return h->find(std::string(key)) != h->end();
  } catch (...) {
    return false;
  }
}

// The user's traceparent wins; tracestate belongs to it, so it goes too.
bool SkipUserField(void* ctx, std::string_view key) {
  auto* c = static_cast<SkipCtx*>(ctx);
  if (Has(c->request, key) || Has(c->defaults, key)) return true;
  if (key == "tracestate") {
    return Has(c->request, "traceparent") || Has(c->defaults, "traceparent");
  }
  return false;
}

// Clients made without options share one state (compiled once: regexes,
// environment). Its tracer follows the global provider (re-install aware), so
// sharing it is harmless.
const std::shared_ptr<const detail::ClientState>& DefaultState() {
  static const std::shared_ptr<const detail::ClientState> state =
      std::make_shared<const detail::ClientState>(ClientOptions{});
  return state;
}

std::shared_ptr<const detail::ClientState> MakeState(std::optional<ClientOptions> options) {
  if (!options) return DefaultState();
  return std::make_shared<const detail::ClientState>(std::move(*options));
}

// http.client.response.body.size: the bytes of the body on the wire. Content-
// Length says it (the compressed size when the body was encoded, which
// httplib may have decoded into Response::body); without it (chunked or
// close-delimited), the body httplib kept, unless it went to a content
// receiver or was decoded (size on the wire unknown: -1, not recorded).
int64_t ResponseBodySize(const ::httplib::Response& r, std::string_view method,
                         bool streamed) noexcept {
  if (method == "HEAD" || r.status == 204 || r.status == 304) return 0;
  auto it = r.headers.find("Content-Length");
  if (it != r.headers.end()) {
    int64_t n = 0;
    const std::string& v = it->second;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && end == v.data() + v.size() && n >= 0) return n;
    return -1;
  }
  if (streamed || r.headers.find("Content-Encoding") != r.headers.end()) return -1;
  return static_cast<int64_t>(r.body.size());
}

}  // namespace

std::string_view ErrorName(::httplib::Error error) noexcept {
  using E = ::httplib::Error;
  switch (error) {
    case E::Success:
      return "Success";
    case E::Unknown:
      return "Unknown";
    case E::Connection:
      return "Connection";
    case E::BindIPAddress:
      return "BindIPAddress";
    case E::Read:
      return "Read";
    case E::Write:
      return "Write";
    case E::ExceedRedirectCount:
      return "ExceedRedirectCount";
    case E::Canceled:
      return "Canceled";
    case E::SSLConnection:
      return "SSLConnection";
    case E::SSLLoadingCerts:
      return "SSLLoadingCerts";
    case E::SSLServerVerification:
      return "SSLServerVerification";
    case E::UnsupportedMultipartBoundaryChars:
      return "UnsupportedMultipartBoundaryChars";
    case E::Compression:
      return "Compression";
    case E::ConnectionTimeout:
      return "ConnectionTimeout";
  }
  return "Unknown";
}

void InstrumentClients() noexcept { g_clients_enabled.store(true, std::memory_order_relaxed); }
void UninstrumentClients() noexcept { g_clients_enabled.store(false, std::memory_order_relaxed); }
bool ClientsInstrumented() noexcept { return g_clients_enabled.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------------------
// ClientCall

namespace detail {

struct ClientCall::Impl {
  TracedClient& client;
  std::unique_lock<std::recursive_mutex> lock;
  std::shared_ptr<const ClientState> state;
  http::ClientSpan span;
  std::string url;
  std::string_view method;
  const ::httplib::Headers* headers;
  bool swapped = false;
  bool finished = false;
  bool response_streamed = false;

  Impl(TracedClient& c, std::string_view m, const ::httplib::Headers* h)
      : client(c), lock(c.mu_), method(m), headers(h) {}

  ClientRequestInfo Info() const noexcept { return {method, url, headers}; }
};

static_assert(sizeof(ClientCall::Impl) <= 512, "grow ClientCall::buf_");

ClientCall::ClientCall(TracedClient& client, std::string_view method, const std::string& path,
                       const ::httplib::Headers* headers, const ::httplib::Params* query,
                       CallBodies bodies) noexcept {
  if (!g_clients_enabled.load(std::memory_order_relaxed)) return;
  try {
    impl_ = new (buf_) Impl(client, method, headers);
    impl_->state = client.state_;
    if (!impl_->state) return;
    impl_->url.reserve(client.base_url_.size() + path.size());
    impl_->url.append(client.base_url_);
    if (query != nullptr && !query->empty() && method == "GET") {
      impl_->url.append(::httplib::append_query_params(path, *query));
    } else {
      impl_->url.append(path);
    }
    http::ClientRequestView view;
    view.method = method;
    view.url = impl_->url;
    view.server_address = client.host_;
    view.server_port = client.port_;
    view.body_size = bodies.request;
    impl_->response_streamed = bodies.response_streamed;
    HeadersReader reader(headers, &client.base_headers_);
    view.headers = &reader;
    const http::ClientInstrumenter& inst = impl_->state->inst;
    if (!impl_->span.Start(inst, view, nullptr, /*make_current=*/true)) return;
    if (impl_->state->options.request_hook) {
      inst.RunHook([&] { impl_->state->options.request_hook(impl_->span.span(), impl_->Info()); });
    }
    ::httplib::Headers merged = client.base_headers_;
    HeadersSetter setter(merged);
    SkipCtx skip{headers, &client.base_headers_};
    impl_->span.Inject(setter, &SkipUserField, &skip);
    if (merged.size() != client.base_headers_.size()) {
      client.Client::set_default_headers(std::move(merged));
      impl_->swapped = true;
    }
  } catch (...) {
    // Tracing failed (allocation): the request still goes out, untraced.
  }
}

void ClientCall::Finish(const ::httplib::Response* response, ::httplib::Error error) noexcept {
  if (impl_ == nullptr || impl_->finished) return;
  impl_->finished = true;
  try {
    if (impl_->swapped) {
      impl_->client.Client::set_default_headers(impl_->client.base_headers_);
      impl_->swapped = false;
    }
  } catch (...) {
  }
  if (!impl_->span.active()) return;
  http::ClientResponseView res;
  std::string message;
  std::optional<ResponseHeadersReader> reader;
  if (response != nullptr) {
    res.status_code = response->status > 0 ? response->status : 0;
    res.protocol_version = response->version;
    reader.emplace(response->headers);
    res.headers = &*reader;
    res.native = response;
    res.body_size = ResponseBodySize(*response, impl_->method, impl_->response_streamed);
  }
  if (error != ::httplib::Error::Success || response == nullptr) {
    res.error_type = ErrorName(error);
    try {
      message = ::httplib::to_string(error);
      res.error_message = message;
    } catch (...) {
    }
  }
  const ClientState& st = *impl_->state;
  if (st.options.response_hook) {
    st.inst.RunHook(
        [&] { st.options.response_hook(impl_->span.span(), impl_->Info(), response, error); });
  }
  impl_->span.End(res);
}

void ClientCall::Abort() noexcept {
  if (impl_ == nullptr || impl_->finished) return;
  impl_->finished = true;
  try {
    if (impl_->swapped) impl_->client.Client::set_default_headers(impl_->client.base_headers_);
    impl_->swapped = false;
  } catch (...) {
  }
  if (!impl_->span.active()) return;
  SpanRef span = impl_->span.span();
  span.RecordCurrentException();
  http::ClientResponseView res;
  std::string type = instrumentation::CurrentExceptionTypeName();
  res.error_type = type.empty() ? std::string_view("exception") : std::string_view(type);
  impl_->span.End(res);
}

ClientCall::~ClientCall() {
  if (impl_ == nullptr) return;
  if (!impl_->finished) Abort();
  impl_->~Impl();
}

}  // namespace detail

// ---------------------------------------------------------------------------
// TracedClient

namespace {

// "[scheme://]host[:port]" as httplib::Client takes it.
void SplitClientTarget(const std::string& shp, std::string* scheme, std::string* host, int* port) {
  std::string_view s, h;
  int p = 0;
  if (http::SplitSchemeHostPort(shp, "http", &s, &h, &p)) {
    *scheme = std::string(s);
    *host = std::string(h);
    *port = p != 0 ? p : 80;
  } else {
    *scheme = "http";
    *host = shp;
    *port = 80;
  }
}

}  // namespace

void TracedClient::Init(const std::string& scheme, const std::string& host, int port,
                        std::optional<ClientOptions> options) {
  host_ = host;
  port_ = port;
  base_url_ = scheme + "://";
  if (host.find(':') != std::string::npos) {
    base_url_ += "[" + host + "]";
  } else {
    base_url_ += host;
  }
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (!default_port) base_url_ += ":" + std::to_string(port);
  state_ = MakeState(std::move(options));
}

TracedClient::TracedClient(const std::string& scheme_host_port, ClientOptions options)
    : Client(scheme_host_port) {
  std::string scheme, host;
  int port = 0;
  SplitClientTarget(scheme_host_port, &scheme, &host, &port);
  Init(scheme, host, port, std::move(options));
}

TracedClient::TracedClient(const std::string& scheme_host_port) : Client(scheme_host_port) {
  std::string scheme, host;
  int port = 0;
  SplitClientTarget(scheme_host_port, &scheme, &host, &port);
  Init(scheme, host, port, std::nullopt);
}

TracedClient::TracedClient(const std::string& scheme_host_port, const std::string& cert,
                           const std::string& key, ClientOptions options)
    : Client(scheme_host_port, cert, key) {
  std::string scheme, host;
  int port = 0;
  SplitClientTarget(scheme_host_port, &scheme, &host, &port);
  Init(scheme, host, port, std::move(options));
}

TracedClient::TracedClient(const std::string& scheme_host_port, const std::string& cert,
                           const std::string& key)
    : Client(scheme_host_port, cert, key) {
  std::string scheme, host;
  int port = 0;
  SplitClientTarget(scheme_host_port, &scheme, &host, &port);
  Init(scheme, host, port, std::nullopt);
}

TracedClient::TracedClient(const std::string& host, int port, ClientOptions options)
    : Client(host, port) {
  Init("http", host, port, std::move(options));
}

TracedClient::TracedClient(const std::string& host, int port) : Client(host, port) {
  Init("http", host, port, std::nullopt);
}

TracedClient::TracedClient(const std::string& host, int port, const std::string& cert,
                           const std::string& key, ClientOptions options)
    : Client(host, port, cert, key) {
  Init("http", host, port, std::move(options));
}

TracedClient::TracedClient(const std::string& host, int port, const std::string& cert,
                           const std::string& key)
    : Client(host, port, cert, key) {
  Init("http", host, port, std::nullopt);
}

TracedClient::~TracedClient() = default;

void TracedClient::Instrument() {
  auto st = MakeState(std::nullopt);
  std::lock_guard<std::recursive_mutex> lock(mu_);
  state_ = std::move(st);
}

void TracedClient::Instrument(ClientOptions options) {
  auto st = MakeState(std::move(options));
  std::lock_guard<std::recursive_mutex> lock(mu_);
  state_ = std::move(st);
}

void TracedClient::Uninstrument() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  state_.reset();
}

bool TracedClient::IsInstrumented() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return state_ != nullptr;
}

void TracedClient::set_default_headers(::httplib::Headers headers) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  base_headers_ = headers;
  Client::set_default_headers(std::move(headers));
}

namespace {
detail::CallBodies BodiesOf(const ::httplib::Request& req) noexcept {
  detail::CallBodies b;
  if (!req.content_provider_) {
    b.request = static_cast<int64_t>(req.body.size());
  } else if (!req.is_chunked_content_provider_) {
    b.request = static_cast<int64_t>(req.content_length_);
  }  // a chunked provider: unknown
  b.response_streamed = static_cast<bool>(req.content_receiver);
  return b;
}
}  // namespace

bool TracedClient::send(::httplib::Request& req, ::httplib::Response& res,
                        ::httplib::Error& error) {
  detail::ClientCall call(*this, req.method, req.path, &req.headers, nullptr, BodiesOf(req));
  bool ok = false;
  try {
    ok = Client::send(req, res, error);
  } catch (...) {
    call.Abort();
    throw;
  }
  call.Finish(ok ? &res : nullptr, error);
  return ok;
}

::httplib::Result TracedClient::send(const ::httplib::Request& req) {
  detail::ClientCall call(*this, req.method, req.path, &req.headers, nullptr, BodiesOf(req));
  ::httplib::Result r = [&] {
    try {
      return Client::send(req);
    } catch (...) {
      call.Abort();
      throw;
    }
  }();
  call.Finish(r ? &r.value() : nullptr, r.error());
  return r;
}

}  // namespace otelweb::httplib
