// libmicrohttpd instrumentation: the URI-log callback notes the arrival, the
// wrapped access handler starts the span and makes it current around each
// call, the request-completed callback ends it.
#include "otelweb/microhttpd/server.h"

#include <netdb.h>
#include <netinet/in.h>

#include <atomic>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "http/helper_headers.h"
#include "otelweb/diagnostics.h"

namespace otelweb::microhttpd {
namespace {

// What one StartDaemon call gives MHD as the closure of every callback.
struct Daemon {
  const http::ServerInstrumenter* inst;
  MHD_AccessHandlerCallback handler;
  void* handler_cls;
  MHD_OptionItem user_uri_log{}, user_completed{};  // the app's own, chained
};

// One request, from the URI-log callback to the completion notice: MHD's
// per-request context pointer. Recycled through a per-thread free list that
// grows to the thread's peak of requests in flight, so requests in steady
// state allocate nothing for tracing.
struct Request {
  const Daemon* daemon = nullptr;
  MHD_Connection* connection = nullptr;  // set when the span was started (or excluded)
  Timestamp arrival;
  std::string target;            // raw request-target (MHD then decodes the URL in place)
  void* user_context = nullptr;  // the con_cls the app's handler sees
  // Bytes of the request body the handler consumed (MHD hands it over with
  // any chunked framing removed): http.server.request.body.size.
  int64_t body_bytes = 0;
  // Bytes of the body QueueBody queued (-1: the response was queued another
  // way, its size cannot be read back from MHD) and whether the request is a
  // HEAD one: http.server.response.body.size.
  int64_t response_body = -1;
  bool head = false;
  http::ServerSpan span;
};
constexpr const char* kTermination[] = {
    "", "connection_error", "timeout", "daemon_shutdown", "read_error", "client_abort"};

thread_local std::vector<std::unique_ptr<Request>> t_free;
thread_local Request* t_current = nullptr;  // the request whose handler runs on this thread

// MHD's request headers (the propagation carrier) or a response's headers.
struct Headers final : http::HeaderReader {
  MHD_Connection* c;
  MHD_Response* r;
  Headers(MHD_Connection* conn, MHD_Response* res) noexcept : c(conn), r(res) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    std::pair<Visitor, void*> v{visit, ctx};
    MHD_KeyValueIterator each = [](void* cls, MHD_ValueKind, const char* k, const char* val) {
      auto* p = static_cast<std::pair<Visitor, void*>*>(cls);
      return p->first(p->second, k, val != nullptr ? val : "") ? MHD_YES : MHD_NO;
    };
    c != nullptr ? MHD_get_connection_values(c, MHD_HEADER_KIND, each, &v)
                 : MHD_get_response_headers(r, each, &v);
  }
};

void* UriLog(void* cls, const char* uri, MHD_Connection* c) noexcept try {
  auto* d = static_cast<const Daemon*>(cls);
  auto r = t_free.empty() ? std::make_unique<Request>() : std::move(t_free.back());
  if (!t_free.empty()) t_free.pop_back();
  r->daemon = d;
  r->connection = nullptr;
  r->arrival = Now();
  r->body_bytes = 0;
  r->response_body = -1;
  r->head = false;
  r->target.assign(uri);
  auto f = reinterpret_cast<void* (*)(void*, const char*, MHD_Connection*)>(d->user_uri_log.value);
  r->user_context = f != nullptr ? f(d->user_uri_log.ptr_value, uri, c) : nullptr;
  return r.release();
} catch (...) {
  return nullptr;  // out of memory: this request is served untraced
}

MHD_Result Access(void* cls, MHD_Connection* c, const char* url, const char* method,
                  const char* version, const char* data, size_t* size, void** con_cls) {
  auto* d = static_cast<const Daemon*>(cls);
  auto* r = static_cast<Request*>(*con_cls);
  if (r != nullptr && r->connection == nullptr) {  // first call: headers read, start the span
    r->connection = c;
    r->head = std::string_view(method) == "HEAD";
    Headers headers(c, nullptr);
    char peer[INET6_ADDRSTRLEN];
    http::ServerRequestView v{
        .method = method,
        .target = r->target,
        .scheme = MHD_get_connection_info(c, MHD_CONNECTION_INFO_PROTOCOL) ? "https" : "http",
        .protocol_version = version,
        .headers = &headers,
        .native = &r->connection};  // for the hooks
    if (auto* ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
      const sockaddr* sa = ci->client_addr;  // sin_port and sin6_port share their offset
      socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
      v.peer_address =
          getnameinfo(sa, len, peer, sizeof(peer), nullptr, 0, NI_NUMERICHOST) == 0 ? peer : "";
      v.peer_port = ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
    }
    r->span.Start(*d->inst, v, r->arrival, /*make_current=*/false);
  }
  if (r != nullptr) r->span.Activate();  // current during this call only, on this thread
  Request* outer = std::exchange(t_current, r);
  MHD_Result result;
  const size_t offered = size != nullptr ? *size : 0;
  try {
    void** ctx = r != nullptr ? &r->user_context : con_cls;  // r is null when served untraced
    result = d->handler(d->handler_cls, c, url, method, version, data, size, ctx);
    // What the handler consumed of this call's upload data (what it leaves
    // is offered again with the next call).
    if (r != nullptr && size != nullptr && *size <= offered) r->body_bytes += int64_t(offered - *size);
  } catch (...) {  // must not cross MHD's C frames: recorded, answered with a 500
    if (r != nullptr) r->span.RecordCurrentException();
    static auto* const empty = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    result = MHD_queue_response(c, MHD_HTTP_INTERNAL_SERVER_ERROR, empty);
  }
  t_current = outer;
  if (r != nullptr) r->span.Deactivate();
  return result;
}

void Completed(void* cls, MHD_Connection* c, void** con_cls,
               MHD_RequestTerminationCode toe) noexcept try {
  auto* d = static_cast<const Daemon*>(cls);
  std::unique_ptr<Request> r(static_cast<Request*>(*con_cls));
  if (auto f = reinterpret_cast<MHD_RequestCompletedCallback>(d->user_completed.value))
    f(d->user_completed.ptr_value, c, r != nullptr ? &r->user_context : con_cls, toe);
  if (r == nullptr) return;
  if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && size_t(toe) < std::size(kTermination)) {
    // No-op when not active; an instrumentation attribute: never displaced.
    instrumentation::SetInstrumentationAttribute(r->span.span(), semconv::kErrorType,
                                                 kTermination[toe]);
    r->span.span().SetStatus(StatusCode::kError, "request not completed");
  }
  auto* ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
  unsigned int status = ci != nullptr ? ci->http_status : 0;
  // The body MHD sent: a QueueBody response completed in full; none for HEAD,
  // 1xx, 204 and 304 (MHD sends headers only); unknown otherwise.
  int64_t sent = -1;
  if (r->response_body >= 0 && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
    const bool bodiless = r->head || status < 200 || status == 204 || status == 304;
    sent = bodiless ? 0 : r->response_body;
  }
  http::ServerResponseView res{
      .status_code = static_cast<int>(status), .body_size = sent, .native = &status};
  http::ServerRequestView req{.native = &r->connection, .body_size = r->body_bytes};
  r->span.End(res, &req);  // no-op when not active (excluded, or never started)
  // Back to this thread's free list (which allocates only while its peak grows; past
  // 4096 kept records, or if that allocation fails, the record is freed instead).
  if (t_free.size() < 4096) t_free.push_back(std::move(r));
} catch (...) {
  // Nothing may cross MHD's C frames: an app callback that threw, or no memory
  // to grow the free list (the record was then freed).
}

}  // namespace

struct Instrumentation::State {
  // The hooks get what the views' `native` point at: the MHD_Connection* and the status.
  explicit State(ServerOptions o)
      : inst(http::WithNativeHooks<MHD_Connection*, unsigned int>(
                 std::move(static_cast<http::ServerSettings&>(o)), std::move(o.request_hook),
                 std::move(o.response_hook)),
             "MICROHTTPD", kScopeName) {}
  http::ServerInstrumenter inst;
  std::list<Daemon> daemons;  // stable addresses: MHD holds them as closures
};

Instrumentation::Instrumentation(ServerOptions o) : s_(std::make_unique<State>(std::move(o))) {}

Instrumentation::~Instrumentation() = default;

MHD_Daemon* Instrumentation::StartDaemon(unsigned int flags, uint16_t port,
                                         MHD_AcceptPolicyCallback apc, void* apc_cls,
                                         MHD_AccessHandlerCallback handler, void* handler_cls,
                                         const MHD_OptionItem* options) {
  Daemon* d = &s_->daemons.emplace_back(Daemon{&s_->inst, handler, handler_cls});
  for (const MHD_OptionItem* o = options; o != nullptr && o->option != MHD_OPTION_END; ++o) {
    if (o->option == MHD_OPTION_URI_LOG_CALLBACK) d->user_uri_log = *o;
    if (o->option == MHD_OPTION_NOTIFY_COMPLETED) d->user_completed = *o;
  }
  static const MHD_OptionItem kNone[] = {{MHD_OPTION_END, 0, nullptr}};
  // Ours come after the app's options, so they are the ones MHD keeps.
  return MHD_start_daemon(flags, port, apc, apc_cls, &Access, d, MHD_OPTION_ARRAY,
                          options != nullptr ? options : kNone, MHD_OPTION_URI_LOG_CALLBACK,
                          &UriLog, d, MHD_OPTION_NOTIFY_COMPLETED, &Completed, d, MHD_OPTION_END);
}

void SetRoute(MHD_Connection* connection, std::string_view route) noexcept {
  if (t_current != nullptr && t_current->connection == connection) t_current->span.SetRoute(route);
}

MHD_Result QueueResponse(MHD_Connection* connection, unsigned int status_code,
                         MHD_Response* response) noexcept {
  const MHD_Result queued = MHD_queue_response(connection, status_code, response);
  // Only the response MHD took is described on the span: one it refused (a
  // response was already queued, the connection is in the wrong state) is
  // never sent. The caller still holds `response`, and MHD sends nothing
  // before the handler returns, so its headers are read after queueing.
  if (Request* r = t_current;
      queued == MHD_YES && r != nullptr && r->connection == connection && response != nullptr)
    r->daemon->inst->response_capture().Capture(Headers(nullptr, response), r->span.span());
  return queued;
}

http::internal::HelperRefusalWarnings g_queue_body_warned;
std::atomic<bool> g_mhd_refused_warned{false};

MHD_Result QueueBody(MHD_Connection* connection, unsigned int status_code, std::string_view body,
                     std::initializer_list<std::pair<const char*, const char*>> headers) noexcept {
  // Checked here, not left to MHD: MHD 0.9.75 sends a 1xx as the final
  // response and accepts Transfer-Encoding and names with ':'.
  if (!http::internal::HelperResponseAllowed("otelweb::microhttpd::QueueBody", "queued", "MHD", status_code,
                                             headers, g_queue_body_warned))
    return MHD_NO;
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;  // out of memory: MHD closes the connection
  for (const auto& [name, value] : headers) {
    if (MHD_add_response_header(response, name, value) != MHD_YES) {
      MHD_destroy_response(response);
      LogOnce(g_mhd_refused_warned, LogLevel::kWarning,
              "otelweb::microhttpd::QueueBody: MHD refused a response header, nothing was "
              "queued; check the header against MHD's rules (MHD's log says which) "
              "(reported once)");
      return MHD_NO;
    }
  }
  const MHD_Result queued = QueueResponse(connection, status_code, response);
  MHD_destroy_response(response);  // MHD holds its own reference until the response is sent
  if (Request* r = t_current; queued == MHD_YES && r != nullptr && r->connection == connection)
    r->response_body = static_cast<int64_t>(body.size());
  return queued;
}

}  // namespace otelweb::microhttpd
