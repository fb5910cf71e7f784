// civetweb instrumentation: begin_request starts the span, the handler
// wrapper names it, end_request ends it.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "otelweb/civetweb/server.h"
#include "http/helper_headers.h"
#include "otelweb/diagnostics.h"
#include "otelweb/instrumentation.h"

namespace otelweb::civetweb {

namespace {

class ConnHeaders final : public http::HeaderReader {
 public:
  explicit ConnHeaders(const mg_request_info* ri) noexcept : ri_(ri) {}
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override {
    return HeaderReader::Get(key, scratch);
  }
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (int i = 0; i < ri_->num_headers; ++i) {
      const mg_header& h = ri_->http_headers[i];
      if (h.name == nullptr) continue;
      if (!visit(ctx, h.name, h.value != nullptr ? h.value : "")) return;
    }
  }

 private:
  const mg_request_info* ri_;
};

http::ServerRequestView MakeView(const mg_connection* conn, const mg_request_info* ri,
                                 const ConnHeaders& headers) {
  http::ServerRequestView v;
  v.method = ri->request_method != nullptr ? ri->request_method : "";
  const char* path = ri->local_uri_raw != nullptr ? ri->local_uri_raw : ri->request_uri;
  // civetweb keeps no raw request-target: path and query are given apart (the
  // target stays empty), so excluded-URL patterns see "path?query".
  v.path = path != nullptr ? path : "";
  v.query = ri->query_string != nullptr ? ri->query_string : "";
  v.scheme = ri->is_ssl ? "https" : "http";
  v.protocol_version = ri->http_version != nullptr ? ri->http_version : "";
  v.peer_address = ri->remote_addr;
  v.peer_port = ri->remote_port > 0 ? ri->remote_port : 0;
  v.local_port = ri->server_port > 0 ? ri->server_port : 0;
  v.headers = &headers;
  v.native = conn;
  // http.server.request.body.size: the declared Content-Length (the bytes on
  // the wire, whether or not the handler read them); no Content-Length and
  // no Transfer-Encoding: no body; a chunked body's size is not known.
  if (ri->content_length >= 0) {
    v.body_size = ri->content_length;
  } else if (mg_get_header(conn, "Transfer-Encoding") == nullptr) {
    v.body_size = 0;
  }
  return v;
}

struct ActiveRequest {
  const Instrumentation::State* owner = nullptr;
  const mg_connection* conn = nullptr;
  bool traced = false;
  // Body bytes SendBody wrote (-1: none, or not in full):
  // http.server.response.body.size.
  int64_t response_body = -1;
  http::ServerSpan span;
};
thread_local ActiveRequest t_active;

struct HandlerEntry {
  std::string route;
  mg_request_handler handler;
  void* cbdata;
};

// Running mg_context -> State, read lock-free by the callbacks. A context is
// registered from its init_context callback (civetweb calls it inside
// mg_start, before it starts the threads that serve requests) and removed
// from exit_context (inside mg_stop, after they stopped), so only running
// contexts take slots. Writers hold g_registry_mu.
constexpr size_t kMaxContexts = 64;
std::array<std::atomic<const mg_context*>, kMaxContexts> g_keys{};
std::array<std::atomic<Instrumentation::State*>, kMaxContexts> g_vals{};
std::mutex g_registry_mu;
// Every running context started through an Instrumentation, also those past
// the fast table (for exit_context); under g_registry_mu.
std::map<const mg_context*, Instrumentation::State*>& AllContexts() {
  static auto* m = new std::map<const mg_context*, Instrumentation::State*>;
  return *m;
}
std::atomic<bool> g_full_warned{false};
// The State whose Start() is running mg_start on this thread.
thread_local Instrumentation::State* t_starting = nullptr;

Instrumentation::State* Scan(const mg_context* ctx) noexcept {
  for (size_t i = 0; i < kMaxContexts; ++i) {
    if (g_keys[i].load(std::memory_order_acquire) == ctx) {
      return g_vals[i].load(std::memory_order_acquire);
    }
  }
  return nullptr;
}

// A context not found (more than kMaxContexts running) is not traced; no
// lock is taken on the request path.
Instrumentation::State* Lookup(const mg_connection* conn) noexcept {
  const mg_context* ctx = mg_get_context(conn);
  if (ctx == nullptr) return nullptr;
  return Scan(ctx);
}

void Register(const mg_context* ctx, Instrumentation::State* st) noexcept {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  try {
    AllContexts()[ctx] = st;
  } catch (...) {
  }
  size_t free_slot = kMaxContexts;
  for (size_t i = 0; i < kMaxContexts; ++i) {
    const mg_context* k = g_keys[i].load(std::memory_order_relaxed);
    if (k == ctx) return;
    if (k == nullptr && free_slot == kMaxContexts) free_slot = i;
  }
  if (free_slot == kMaxContexts) {
    LogOnce(g_full_warned, LogLevel::kWarning,
            "otelweb: more than 64 civetweb contexts running at once; the others are not "
            "traced (reported once)");
    return;
  }
  g_vals[free_slot].store(st, std::memory_order_release);
  g_keys[free_slot].store(ctx, std::memory_order_release);
}

// Returns the context's State (null if unknown).
Instrumentation::State* Unregister(const mg_context* ctx) noexcept {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  Instrumentation::State* st = nullptr;
  auto it = AllContexts().find(ctx);
  if (it != AllContexts().end()) {
    st = it->second;
    AllContexts().erase(it);
  }
  for (size_t i = 0; i < kMaxContexts; ++i) {
    if (g_keys[i].load(std::memory_order_relaxed) == ctx) {
      g_keys[i].store(nullptr, std::memory_order_release);
      g_vals[i].store(nullptr, std::memory_order_release);
    }
  }
  return st;
}

}  // namespace

struct Instrumentation::State {
  // Every instrumenter ever published stays alive with the State (a worker
  // may still use one after it was replaced); null: uninstrumented.
  instrumentation::Published<http::ServerInstrumenter> active;
  std::mutex mu;  // handlers
  std::list<HandlerEntry> handlers;  // stable addresses: given to civetweb as cbdata
  mg_callbacks user{};
  std::vector<const mg_context*> contexts;

  void Install(ServerOptions options) {
    active.Publish(std::make_unique<http::ServerInstrumenter>(
        http::WithNativeHooks<mg_connection, void>(
            std::move(static_cast<http::ServerSettings&>(options)), std::move(options.request_hook),
            std::move(options.response_hook)),
        "CIVETWEB", kScopeName));
  }

  static int BeginRequest(mg_connection* conn) {
    State* st = Lookup(conn);
    if (st == nullptr) return 0;
    Timestamp arrival = Now();
    ActiveRequest& a = t_active;
    if (a.span.active()) a.span.End({});
    a.owner = st;
    a.conn = conn;
    a.traced = false;
    a.response_body = -1;
    if (const http::ServerInstrumenter* inst = st->active.Get()) {
      const mg_request_info* ri = mg_get_request_info(conn);
      if (ri != nullptr) {
        ConnHeaders headers(ri);
        http::ServerRequestView view = MakeView(conn, ri, headers);
        a.traced = a.span.Start(*inst, view, arrival);
      }
    }
    return st->user.begin_request != nullptr ? st->user.begin_request(conn) : 0;
  }

  static void EndRequest(const mg_connection* conn, int status) {
    State* st = Lookup(conn);
    if (st == nullptr) return;
    if (st->user.end_request != nullptr) st->user.end_request(conn, status);
    ActiveRequest& a = t_active;
    if (a.owner == st && a.traced && a.span.active()) {
      const mg_request_info* ri = mg_get_request_info(conn);
      http::ServerResponseView rv;
      rv.status_code = status;
      rv.body_size = a.response_body;
      rv.native = conn;
      if (ri != nullptr) {
        ConnHeaders headers(ri);
        http::ServerRequestView view = MakeView(conn, ri, headers);
        a.span.End(rv, &view);
      } else {
        http::ServerRequestView view;  // the hooks still get the connection
        view.native = conn;
        a.span.End(rv, &view);
      }
    } else if (a.owner != st) {
      // civetweb rejected the request before begin_request (e.g. an unknown
      // method): a zero-length span with the status, as for cpp-httplib.
      if (const http::ServerInstrumenter* inst = st->active.Get()) {
        const mg_request_info* ri = mg_get_request_info(conn);
        if (ri != nullptr) {
          ConnHeaders headers(ri);
          http::ServerRequestView view = MakeView(conn, ri, headers);
          http::RecordRejectedRequest(*inst, view, status);
        }
      }
    }
    a.owner = nullptr;
    a.conn = nullptr;
    a.traced = false;
    a.response_body = -1;
  }

  static void InitContext(const mg_context* ctx) {
    State* st = t_starting;
    if (st == nullptr) return;
    Register(ctx, st);
    if (st->user.init_context != nullptr) st->user.init_context(ctx);
  }

  static void ExitContext(const mg_context* ctx) {
    State* st = Unregister(ctx);
    if (st != nullptr && st->user.exit_context != nullptr) st->user.exit_context(ctx);
  }

  static int Handler(mg_connection* conn, void* cbdata) {
    auto* e = static_cast<HandlerEntry*>(cbdata);
    ActiveRequest& a = t_active;
    if (a.traced) a.span.SetRoute(e->route);
    try {
      return e->handler(conn, e->cbdata);
    } catch (...) {
      if (a.traced) a.span.RecordCurrentException();
      mg_send_http_error(conn, 500, "%s", "Internal Server Error");
      return 500;
    }
  }
};

Instrumentation::Instrumentation(ServerOptions options) : s_(std::make_unique<State>()) {
  s_->Install(std::move(options));
}

Instrumentation::~Instrumentation() {
  // Normally empty already (mg_stop ran exit_context); a context still running
  // would call into a destroyed State, which the header forbids.
  std::lock_guard<std::mutex> lock(g_registry_mu);
  for (auto it = AllContexts().begin(); it != AllContexts().end();) {
    it = it->second == s_.get() ? AllContexts().erase(it) : std::next(it);
  }
  for (size_t i = 0; i < kMaxContexts; ++i) {
    if (g_vals[i].load(std::memory_order_relaxed) == s_.get()) {
      g_keys[i].store(nullptr, std::memory_order_release);
      g_vals[i].store(nullptr, std::memory_order_release);
    }
  }
}

mg_context* Instrumentation::Start(const mg_callbacks* callbacks, void* user_data,
                                   const char** options) {
  mg_callbacks cb{};
  if (callbacks != nullptr) cb = *callbacks;
  s_->user = cb;
  cb.begin_request = &State::BeginRequest;
  cb.end_request = &State::EndRequest;
  cb.init_context = &State::InitContext;
  cb.exit_context = &State::ExitContext;
  State* previous = std::exchange(t_starting, s_.get());
  mg_context* ctx = mg_start(&cb, user_data, options);
  t_starting = previous;
  return ctx;
}

void Instrumentation::SetRequestHandler(mg_context* ctx, const char* uri,
                                        mg_request_handler handler, void* cbdata,
                                        std::string route) {
  HandlerEntry* e;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->handlers.push_back({route.empty() ? std::string(uri) : std::move(route), handler, cbdata});
    e = &s_->handlers.back();
  }
  mg_set_request_handler(ctx, uri, &State::Handler, e);
}

void Instrumentation::Instrument(ServerOptions options) { s_->Install(std::move(options)); }

void Instrumentation::Uninstrument() { s_->active.Withdraw(); }

namespace {

http::internal::HelperRefusalWarnings g_send_body_warned;

// SendBody's headers, for response-header capture.
class ListedHeaders final : public http::HeaderReader {
 public:
  explicit ListedHeaders(std::initializer_list<std::pair<const char*, const char*>> list) noexcept
      : list_(list) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const auto& [name, value] : list_)
      if (!visit(ctx, name, value)) return;
  }

 private:
  std::initializer_list<std::pair<const char*, const char*>> list_;
};

}  // namespace

int SendBody(mg_connection* conn, int status_code, std::string_view body,
             std::initializer_list<std::pair<const char*, const char*>> headers) noexcept {
  if (conn == nullptr) return -1;
  // civetweb takes 100-999 and would send a 1xx as the final response.
  if (!http::internal::HelperResponseAllowed("otelweb::civetweb::SendBody", "sent", "SendBody", status_code,
                                             headers, g_send_body_warned))
    return -1;
  const mg_request_info* ri = mg_get_request_info(conn);
  const bool head = ri != nullptr && ri->request_method != nullptr &&
                    std::strcmp(ri->request_method, "HEAD") == 0;
  const bool bodiless = status_code == 204 || status_code == 304;
  if (int rc = mg_response_header_start(conn, status_code); rc != 0) return rc;
  for (const auto& [name, value] : headers) {
    if (int rc = mg_response_header_add(conn, name, value, -1); rc != 0) return rc;
  }
  if (!bodiless) {
    char length[24];
    int n = std::snprintf(length, sizeof length, "%zu", body.size());
    if (int rc = mg_response_header_add(conn, "Content-Length", length, n); rc != 0) return rc;
  }
  if (int rc = mg_response_header_send(conn); rc != 0) return rc;
  ActiveRequest& a = t_active;
  const bool traced = a.traced && a.conn == conn && a.span.active();
  if (traced && a.owner != nullptr) {
    if (const http::ServerInstrumenter* inst = a.owner->active.Get())
      inst->response_capture().Capture(ListedHeaders(headers), a.span.span());
  }
  int64_t written = 0;
  if (!head && !bodiless) {
    // mg_write takes at most INT_MAX bytes a call.
    constexpr size_t kPiece = size_t{1} << 30;
    for (size_t off = 0; off < body.size(); off += kPiece) {
      const size_t len = std::min(kPiece, body.size() - off);
      if (mg_write(conn, body.data() + off, len) != static_cast<int>(len)) return -6;
      written += static_cast<int64_t>(len);
    }
  }
  if (traced) a.response_body = written;
  return 0;
}

size_t detail::RegisteredContextCount() {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  size_t n = 0;
  for (const auto& k : g_keys) n += k.load(std::memory_order_relaxed) != nullptr;
  return n;
}

bool Instrumentation::IsInstrumented() const {
  return s_->active.Get() != nullptr;
}

}  // namespace otelweb::civetweb
