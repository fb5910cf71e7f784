// cpp-httplib server instrumentation: pre-routing starts the span, route
// wrappers name it, the logger (after the body is written) ends it.
#include <map>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

#include "httplib/wire_stream.h"
#include "otelweb/diagnostics.h"
#include "otelweb/httplib/server.h"
#include "otelweb/instrumentation.h"
#include "otelweb/semconv.h"

namespace otelweb::httplib {

namespace {

// Newer cpp-httplib versions: Request::matched_route (>= 0.21) and native
// ":param" path parameters (>= 0.13).
template <typename R, typename = void>
struct HasMatchedRoute : std::false_type {};
template <typename R>
struct HasMatchedRoute<R, std::void_t<decltype(std::declval<const R&>().matched_route)>>
    : std::true_type {};
template <typename R, typename = void>
struct HasPathParams : std::false_type {};
template <typename R>
struct HasPathParams<R, std::void_t<decltype(std::declval<const R&>().path_params)>>
    : std::true_type {};

using detail::IsPseudoHeader;

// httplib's header map (request values percent-decoded by httplib), without
// the socket-address entries httplib adds to it.
class HeadersReader final : public http::HeaderReader {
 public:
  explicit HeadersReader(const ::httplib::Headers& h) noexcept : h_(h) {}
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override {
    if (IsPseudoHeader(key)) return {};
    try {
      auto range = h_.equal_range(std::string(key));  // short keys: no allocation (SSO)
      if (range.first == range.second) return {};
      auto second = std::next(range.first);
      if (second == range.second) return range.first->second;
      scratch = range.first->second;
      const size_t max_bytes = http::ProcessHeaderLimits().max_joined_bytes;
      for (auto it = second; it != range.second; ++it) {
        if (!http::AppendJoinedHeader(scratch, it->second, max_bytes)) break;
      }
      return scratch;
    } catch (...) {
      return {};
    }
  }
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const auto& [name, value] : h_) {
      if (IsPseudoHeader(name)) continue;
      if (!visit(ctx, name, value)) return;
    }
  }

 private:
  const ::httplib::Headers& h_;
};

// The propagation carrier and capture source of a request: its header lines
// as sent when a TracedServer's connection loop recorded them, else httplib's
// decoded values behind the fallback rules of PercentDecodedHeaderReader.
class RequestHeaders {
 public:
  RequestHeaders(const ::httplib::Request& req, const detail::ServerState* state) noexcept
      : decoded_(req.headers), fallback_(decoded_) {
    const detail::RawHeaders* raw = detail::CurrentRawHeaders();
    if (raw != nullptr && raw->usable && raw->owner == state) raw_.emplace(*raw);
  }
  const http::HeaderReader& reader() const noexcept {
    if (raw_) return *raw_;
    return fallback_;
  }

 private:
  HeadersReader decoded_;
  http::PercentDecodedHeaderReader fallback_;
  std::optional<detail::RawHeadersReader> raw_;
};

http::ServerRequestView MakeView(const ::httplib::Request& req, const http::HeaderReader& headers) {
  http::ServerRequestView v;
  v.method = req.method;
  v.target = req.target;
  v.path = req.path;
  size_t q = req.target.find('?');
  if (q != std::string::npos) v.query = std::string_view(req.target).substr(q + 1);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  v.scheme = req.ssl != nullptr ? "https" : "http";
#endif
  v.protocol_version = req.version;
  v.peer_address = req.remote_addr;
  v.peer_port = req.remote_port > 0 ? req.remote_port : 0;
  v.local_address = req.local_addr;
  v.local_port = req.local_port > 0 ? req.local_port : 0;
  v.headers = &headers;
  v.native = &req;
  return v;
}

// On cpp-httplib >= 0.21 the router tells which route matched.
template <typename R>
void UseMatchedRoute(const R& req, http::ServerSpan& span) {
  if constexpr (HasMatchedRoute<R>::value) {
    if (!span.has_route() && !req.matched_route.empty()) span.SetRoute(req.matched_route);
  } else {
    (void)req;
    (void)span;
  }
}

enum class ReqState : uint8_t { kNone, kTraced, kSkipped };

// The request the calling worker thread is serving (cpp-httplib runs a whole
// request, pre-routing to logger, on one thread).
struct ActiveRequest {
  ReqState state = ReqState::kNone;
  bool logger_replaced = false;  // seen at pre-routing: post-routing ends the span
  const detail::ServerState* owner = nullptr;
  http::ServerSpan span;
};
thread_local ActiveRequest t_active;

// Removes the registry entry of a plain server whose state is being destroyed.
void ForgetServer(const ::httplib::Server* server) noexcept;

}  // namespace

namespace detail {

// The user's chained callbacks: an immutable snapshot, replaced as a whole.
struct UserCallbacks {
  ::httplib::Server::HandlerWithResponse pre_routing;
  ::httplib::Logger logger;
  ::httplib::Server::Handler post_routing;
};

struct ServerState {
  // Read with one acquire load per hook call; every snapshot ever published
  // stays alive with the state (a worker may still be running one after it
  // was replaced). Null instrumenter: uninstrumented.
  instrumentation::Published<http::ServerInstrumenter> active;
  instrumentation::Published<UserCallbacks> callbacks;  // never null
  std::atomic<bool> logger_warned{false};
  std::atomic<bool> pre_routing_warned{false};
  // Plain servers: the server whose hooks own this state (the registry key).
  // The state lives exactly as long as those hooks: it dies with the server
  // (or when the user replaces both hooks), and its entry goes with it.
  const ::httplib::Server* server = nullptr;
  // The server whose hooks call this state (plain or TracedServer), to see
  // whether its logger is still ours (InstallHooks sets it).
  const ::httplib::Server* host = nullptr;

  ServerState() { callbacks.Publish(std::make_unique<UserCallbacks>()); }
  ~ServerState() {
    if (server != nullptr) ForgetServer(server);
  }
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  void SetPreRouting(::httplib::Server::HandlerWithResponse h) {
    callbacks.Update([&](UserCallbacks& c) { c.pre_routing = std::move(h); });
  }
  void SetLogger(::httplib::Logger l) {
    callbacks.Update([&](UserCallbacks& c) { c.logger = std::move(l); });
  }
  void SetPostRouting(::httplib::Server::Handler h) {
    callbacks.Update([&](UserCallbacks& c) { c.post_routing = std::move(h); });
  }

  void Install(ServerOptions options) {
    auto inst = std::make_unique<http::ServerInstrumenter>(
        http::WithNativeHooks<::httplib::Request, ::httplib::Response>(
            std::move(static_cast<http::ServerSettings&>(options)), std::move(options.request_hook),
            std::move(options.response_hook)),
        "HTTPLIB", kServerScopeName);
    if (active.Get() != nullptr) {
      Log(LogLevel::kDebug, "otelweb: cpp-httplib server instrumented again; the new options win");
    }
    active.Publish(std::move(inst));
  }

  ::httplib::Server::HandlerResponse PreRouting(const ::httplib::Request& req,
                                                ::httplib::Response& res) {
    Timestamp arrival = Now();
    ActiveRequest& a = t_active;
    if (a.owner == this && a.state != ReqState::kNone) {
      // The previous request on this thread passed our pre-routing handler but
      // never reached our logger, which httplib calls on every path that
      // writes a response: someone replaced it on the httplib::Server.
      WarnLoggerReplaced();
    }
    if (a.span.active()) a.span.End({});  // a request that never reached the logger
    a.state = ReqState::kSkipped;
    a.owner = this;
    // Our logger ends the span; if someone replaced it on the server since,
    // say so now (once) and let our post-routing handler end this request's
    // span, with its status, instead.
    a.logger_replaced = LoggerReplaced();
    if (a.logger_replaced) WarnLoggerReplaced();
    if (const http::ServerInstrumenter* inst = active.Get()) {
      RequestHeaders headers(req, this);
      http::ServerRequestView view = MakeView(req, headers.reader());
      if (a.span.Start(*inst, view, arrival)) a.state = ReqState::kTraced;
    }
    const UserCallbacks* cb = callbacks.Get();
    if (cb->pre_routing) return cb->pre_routing(req, res);
    return ::httplib::Server::HandlerResponse::Unhandled;
  }

  void Logger(const ::httplib::Request& req, const ::httplib::Response& res) {
    ActiveRequest& a = t_active;
    bool mine = a.owner == this;
    // Whatever happens below (a user logger may throw), the request is over.
    struct Done {
      ActiveRequest& a;
      ~Done() {
        if (a.span.active()) a.span.End({});
        a.state = ReqState::kNone;
        a.owner = nullptr;
        a.logger_replaced = false;
      }
    } done{a};
    if (mine && a.state == ReqState::kTraced && a.span.active()) {
      EndSpan(a, req, res, /*user_logger=*/true);
    } else if ((!mine || a.state == ReqState::kNone) && res.status < 400) {
      // Pre-routing never ran, yet this is no rejection (httplib answers those
      // with 400, 414 or 416 before routing): someone replaced our pre-routing
      // handler on the httplib::Server. No span: it would be a zero-length one.
      WarnPreRoutingReplaced();
      CallUserLogger(req, res);
    } else if (!mine || a.state == ReqState::kNone) {
      // Rejected before routing (bad request line, unknown method, URI too
      // long): pre-routing never ran for it.
      if (const http::ServerInstrumenter* inst = active.Get()) {
        RequestHeaders req_headers(req, this);
        http::ServerRequestView view = MakeView(req, req_headers.reader());
        http::RecordRejectedRequest(*inst, view, res.status);
      }
      CallUserLogger(req, res);
    } else {
      CallUserLogger(req, res);
    }
  }

  // httplib calls its post-routing handler with the final status and
  // headers, just before it writes them. The user's runs first; the span
  // ends here only when our logger was replaced (see PreRouting).
  void PostRouting(const ::httplib::Request& req, ::httplib::Response& res) {
    const UserCallbacks* cb = callbacks.Get();
    if (cb->post_routing) cb->post_routing(req, res);
    ActiveRequest& a = t_active;
    if (a.owner != this || !a.logger_replaced) return;
    if (a.state == ReqState::kTraced && a.span.active()) EndSpan(a, req, res, /*user_logger=*/false);
    if (a.span.active()) a.span.End({});
    a.state = ReqState::kNone;
    a.owner = nullptr;
    a.logger_replaced = false;
  }

  // Sets the route, status and response attributes and ends the span.
  // `user_logger`: run the chained user logger first (while the span is
  // still open and current).
  void EndSpan(ActiveRequest& a, const ::httplib::Request& req, const ::httplib::Response& res,
               bool user_logger) {
    {
      UseMatchedRoute(req, a.span);
      if (res.content_provider_ && !res.content_provider_success_) {
        // The client went away (or the provider failed) while streaming.
        instrumentation::SetInstrumentationAttribute(a.span.span(), semconv::kErrorType, "response_aborted");
        a.span.span().SetStatus(StatusCode::kError, "response body not completely sent");
      }
      RequestHeaders req_headers(req, this);
      HeadersReader res_headers(res.headers);
      http::ServerRequestView view = MakeView(req, req_headers.reader());
      // Body sizes for the metrics: the request body as httplib hands it over
      // (decoded when the client compressed it), the response body before
      // httplib's own compression; a streamed response has no known size.
      view.body_size = static_cast<int64_t>(req.body.size());
      http::ServerResponseView rv;
      rv.body_size = res.content_provider_ ? -1 : static_cast<int64_t>(res.body.size());
      rv.status_code = res.status;
      rv.headers = &res_headers;
      rv.native = &res;
      // The user's logger runs while the span is still current and open.
      if (user_logger) CallUserLogger(req, res);
      a.span.End(rv, &view);
    }
  }

  bool LoggerReplaced() const noexcept;
  void WarnLoggerReplaced() noexcept {
    LogOnce(logger_warned, LogLevel::kWarning,
            "otelweb: the logger of an instrumented cpp-httplib server was replaced with "
            "httplib::Server::set_logger after otelweb::httplib::Instrument, which set its own "
            "(cpp-httplib keeps one logger). Your logger runs; spans now end before the response "
            "is written (in otelweb's post-routing handler), still with their status. To keep "
            "both, give your logger to otelweb::httplib::SetLogger(server, logger) (or "
            "TracedServer::set_logger), which chains it. Reported once per server.");
  }
  void WarnPreRoutingReplaced() noexcept {
    LogOnce(pre_routing_warned, LogLevel::kWarning,
            "otelweb: a cpp-httplib server runs otelweb's logger but not its pre-routing "
            "handler: it was replaced with httplib::Server::set_pre_routing_handler after "
            "instrumentation, and requests get no span. Give your handler to "
            "otelweb::httplib::SetPreRoutingHandler (or TracedServer::set_pre_routing_handler), "
            "which chains it (reported once)");
  }

  void CallUserLogger(const ::httplib::Request& req, const ::httplib::Response& res) {
    const UserCallbacks* cb = callbacks.Get();
    if (cb->logger) cb->logger(req, res);
  }
};

void EnterRoute(std::string_view route) noexcept {
  ActiveRequest& a = t_active;
  if (a.state == ReqState::kTraced) a.span.SetRoute(route);
}

void RecordHandlerException() noexcept {
  ActiveRequest& a = t_active;
  if (a.state == ReqState::kTraced) a.span.RecordCurrentException();
}

std::string TranslatePattern(const std::string& pattern) {
  if constexpr (HasPathParams<::httplib::Request>::value) {
    return pattern;  // native ":param" support
  } else {
    if (pattern.find("/:") == std::string::npos) return pattern;
    std::string out;
    out.reserve(pattern.size() + 16);
    size_t i = 0;
    while (i < pattern.size()) {
      if (pattern[i] == ':' && i > 0 && pattern[i - 1] == '/') {
        size_t j = i + 1;
        while (j < pattern.size() && (std::isalnum(static_cast<unsigned char>(pattern[j])) ||
                                      pattern[j] == '_')) {
          ++j;
        }
        if (j > i + 1 && (j == pattern.size() || pattern[j] == '/')) {
          out += "([^/]+)";
          i = j;
          continue;
        }
      }
      out.push_back(pattern[i++]);
    }
    return out;
  }
}

}  // namespace detail

namespace {

// cpp-httplib 0.11.4 keeps one pre-routing handler, one post-routing handler
// and one logger, with setters and no getters. To chain what the app set
// before Instrument() and to see whether ours is still set, the
// instrumentation reads those three members: an explicit instantiation may
// name private members ([temp.spec.general]: access is not checked there),
// which yields their member pointers. Reads only, from the thread that
// instruments (before listen) or from a worker thread (concurrent reads).
template <class Tag, typename Tag::type Member>
struct HookSlotOf {
  friend typename Tag::type SlotOf(Tag) noexcept { return Member; }
};
using HttplibServer = ::httplib::Server;
using PreRoutingFn = ::httplib::Server::HandlerWithResponse;
using PostRoutingFn = ::httplib::Server::Handler;
using LoggerFn = ::httplib::Logger;
struct PreRoutingSlot {
  using type = PreRoutingFn HttplibServer::*;
  friend type SlotOf(PreRoutingSlot) noexcept;
};
struct PostRoutingSlot {
  using type = PostRoutingFn HttplibServer::*;
  friend type SlotOf(PostRoutingSlot) noexcept;
};
struct LoggerSlot {
  using type = LoggerFn HttplibServer::*;
  friend type SlotOf(LoggerSlot) noexcept;
};
template struct HookSlotOf<PreRoutingSlot, &::httplib::Server::pre_routing_handler_>;
template struct HookSlotOf<PostRoutingSlot, &::httplib::Server::post_routing_handler_>;
template struct HookSlotOf<LoggerSlot, &::httplib::Server::logger_>;

// Our hooks, as named types so that a slot can be asked whether it holds one.
struct PreRoutingHook {
  std::shared_ptr<detail::ServerState> st;
  ::httplib::Server::HandlerResponse operator()(const ::httplib::Request& req, ::httplib::Response& res) const {
    return st->PreRouting(req, res);
  }
};
struct PostRoutingHook {
  std::shared_ptr<detail::ServerState> st;
  void operator()(const ::httplib::Request& req, ::httplib::Response& res) const { st->PostRouting(req, res); }
};
struct LoggerHook {
  std::shared_ptr<detail::ServerState> st;
  void operator()(const ::httplib::Request& req, const ::httplib::Response& res) const { st->Logger(req, res); }
};

void InstallHooks(::httplib::Server& server, const std::shared_ptr<detail::ServerState>& st) {
  // What the app set with httplib's own setters (and is not ours, of this or
  // an earlier state) is chained, unless it gave one to our setters already.
  auto& pre = server.*SlotOf(PreRoutingSlot{});
  auto& post = server.*SlotOf(PostRoutingSlot{});
  auto& logger = server.*SlotOf(LoggerSlot{});
  const bool adopt_pre = pre && pre.target<PreRoutingHook>() == nullptr;
  const bool adopt_post = post && post.target<PostRoutingHook>() == nullptr;
  const bool adopt_logger = logger && logger.target<LoggerHook>() == nullptr;
  if (adopt_pre || adopt_post || adopt_logger) {
    st->callbacks.Update([&](detail::UserCallbacks& c) {
      if (adopt_pre && !c.pre_routing) c.pre_routing = pre;
      if (adopt_post && !c.post_routing) c.post_routing = post;
      if (adopt_logger && !c.logger) c.logger = logger;
    });
    Log(LogLevel::kDebug,
        "otelweb: cpp-httplib hooks set before Instrument() are chained after otelweb's (pre-routing "
        "handler, post-routing handler, logger)");
  }
  st->host = &server;
  server.::httplib::Server::set_pre_routing_handler(PreRoutingHook{st});
  server.::httplib::Server::set_post_routing_handler(PostRoutingHook{st});
  server.::httplib::Server::set_logger(LoggerHook{st});
}

}  // namespace

bool detail::ServerState::LoggerReplaced() const noexcept {
  if (host == nullptr) return false;
  const ::httplib::Logger& l = host->*SlotOf(LoggerSlot{});
  return l.target<LoggerHook>() == nullptr;
}

namespace {

// Plain servers -> their state. Weak: the state is owned by the hooks set on
// the server, so a destroyed server's state (and its user callbacks, with
// whatever they captured) is gone, and a new server at the same address starts
// clean.
struct Registry {
  std::mutex mu;
  std::map<const ::httplib::Server*, std::weak_ptr<detail::ServerState>> states;
};
Registry& GetRegistry() {
  static Registry* r = new Registry;  // never destroyed: hooks may run during exit
  return *r;
}

void ForgetServer(const ::httplib::Server* server) noexcept {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.states.find(server);
  // A newer state may already have taken the key over: only remove ours.
  if (it != r.states.end() && it->second.expired()) r.states.erase(it);
}

std::shared_ptr<detail::ServerState> FindState(::httplib::Server& server) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.states.find(&server);
  return it == r.states.end() ? nullptr : it->second.lock();
}

// The server's state; a new one (with our hooks set on the server) when it
// has none. *created tells which.
std::shared_ptr<detail::ServerState> StateFor(::httplib::Server& server, bool* created = nullptr) {
  std::shared_ptr<detail::ServerState> st;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    std::weak_ptr<detail::ServerState>& slot = r.states[&server];
    st = slot.lock();
    if (created != nullptr) *created = !st;
    if (st) return st;
    st = std::make_shared<detail::ServerState>();
    st->server = &server;
    slot = st;
  }
  // Outside the registry lock: replacing the server's hooks may destroy an
  // older state, whose destructor takes that lock.
  InstallHooks(server, st);
  return st;
}

}  // namespace

// ---------------------------------------------------------------------------
// TracedServer

TracedServer::TracedServer(ServerOptions options) : state_(std::make_shared<detail::ServerState>()) {
  InstallHooks(*this, state_);
  state_->Install(std::move(options));
}

TracedServer::~TracedServer() = default;

// httplib 0.11.4's own loop (detail::process_server_socket), with one stream
// per connection that records each request's header block: the
// instrumentation reads the header values as sent (see wire_stream.h).
bool TracedServer::process_and_close_socket(::socket_t sock) {
  detail::WireStream stream(sock, read_timeout_sec_, read_timeout_usec_, write_timeout_sec_,
                            write_timeout_usec_);
  bool ret = false;
  size_t count = keep_alive_max_count_;
  while (svr_sock_ != INVALID_SOCKET && count > 0 &&
         stream.WaitForRequest(keep_alive_timeout_sec_, svr_sock_)) {
    const bool close_connection = count == 1;
    bool connection_closed = false;
    stream.BeginRequest(state_.get());
    detail::RawHeadersScope scope(&stream.raw());
    ret = process_request(stream, close_connection, connection_closed,
                          [&stream](::httplib::Request& req) { stream.HeadersParsed(req); });
    stream.EndRequest();
    if (!ret || connection_closed) break;
    --count;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::httplib::detail::close_socket(sock);
  return ret;
}

void TracedServer::Instrument(ServerOptions options) { state_->Install(std::move(options)); }

void TracedServer::Uninstrument() { state_->active.Withdraw(); }

bool TracedServer::IsInstrumented() const {
  return state_->active.Get() != nullptr;
}

TracedServer& TracedServer::set_pre_routing_handler(HandlerWithResponse handler) {
  state_->SetPreRouting(std::move(handler));
  return *this;
}

TracedServer& TracedServer::set_logger(::httplib::Logger logger) {
  state_->SetLogger(std::move(logger));
  return *this;
}

TracedServer& TracedServer::set_post_routing_handler(Handler handler) {
  state_->SetPostRouting(std::move(handler));
  return *this;
}

// ---------------------------------------------------------------------------
// Plain servers

void Instrument(::httplib::Server& server, ServerOptions options) {
  if (auto* traced = dynamic_cast<TracedServer*>(&server)) {
    traced->Instrument(std::move(options));
    return;
  }
  bool created = false;
  std::shared_ptr<detail::ServerState> st = StateFor(server, &created);
  // httplib reads its pre-routing handler and logger without a lock while it
  // serves: set them again (in case the user replaced one of them directly)
  // only while nothing is serving.
  if (!created && !server.is_running()) InstallHooks(server, st);
  st->Install(std::move(options));
}

void Uninstrument(::httplib::Server& server) {
  if (auto* traced = dynamic_cast<TracedServer*>(&server)) {
    traced->Uninstrument();
    return;
  }
  if (auto st = FindState(server)) st->active.Withdraw();
}

bool IsInstrumented(::httplib::Server& server) {
  if (auto* traced = dynamic_cast<TracedServer*>(&server)) return traced->IsInstrumented();
  auto st = FindState(server);
  return st && st->active.Get() != nullptr;
}

void SetPreRoutingHandler(::httplib::Server& server,
                          ::httplib::Server::HandlerWithResponse handler) {
  if (auto* traced = dynamic_cast<TracedServer*>(&server)) {
    traced->set_pre_routing_handler(std::move(handler));
    return;
  }
  StateFor(server)->SetPreRouting(std::move(handler));
}

void SetLogger(::httplib::Server& server, ::httplib::Logger logger) {
  if (auto* traced = dynamic_cast<TracedServer*>(&server)) {
    traced->set_logger(std::move(logger));
    return;
  }
  StateFor(server)->SetLogger(std::move(logger));
}

void SetPostRoutingHandler(::httplib::Server& server, ::httplib::Server::Handler handler) {
  if (auto* traced = dynamic_cast<TracedServer*>(&server)) {
    traced->set_post_routing_handler(std::move(handler));
    return;
  }
  StateFor(server)->SetPostRouting(std::move(handler));
}

namespace detail {
size_t RegisteredServerCount() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.states.size();
}

}  // namespace detail

}  // namespace otelweb::httplib
