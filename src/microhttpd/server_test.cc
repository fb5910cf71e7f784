// libmicrohttpd instrumentation on real daemons (127.0.0.1, ephemeral ports)
// driven by cpp-httplib's client: the adapter test matrix (semconv attributes
// and route, remote parent, re-install, throwing hooks, exclusion, header
// capture, streaming, uploads) in MHD's threading modes.
#include "otelweb/microhttpd/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/diagnostics.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/installed_tracing.h"
#include "otelweb/trace/tracer.h"
#include "support/http_test_support.h"
#include "support/manual_metrics.h"
#include "support/response_body_cases.h"

namespace otelweb::microhttpd {
namespace {

// MemoryTracing, span readers (StrAttr, IntAttr, ...), DiagnosticsCapture and
// the support helpers: otelweb::testing (include/otelweb/testing/, tests/support/).
using namespace otelweb::testing;  // NOLINT(build/namespaces)

constexpr char kTraceparent[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

// What the test application records from inside MHD's threads.
struct AppLog {
  std::mutex mu;
  std::vector<std::string> span_ids_in_handler;  // the current span in each handler call
  std::atomic<int> upload_calls{0};
  std::atomic<int> user_uri_logs{0};
  std::atomic<int> user_completed{0};
  std::atomic<int> span_current_in_completed{0};
  // /length: what the public API tells about the response's size.
  std::atomic<int> length_probes{0};
  std::atomic<int> content_length_accepted{0};  // MHD_add_response_header said MHD_YES
  std::atomic<int> content_length_readable{0};  // MHD_get_response_header found one
  std::atomic<int> second_queue_refused{0};     // /qb-twice, /qb-after-own
  void SawCurrent() {
    std::lock_guard<std::mutex> l(mu);
    span_ids_in_handler.push_back(GetCurrentSpan().GetContext().span_id().ToHex());
  }
  std::vector<std::string> Seen() {
    std::lock_guard<std::mutex> l(mu);
    return span_ids_in_handler;
  }
};

MHD_Result Reply(MHD_Connection* c, unsigned int status, std::string_view body) {
  MHD_Response* res = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                      MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(res, "X-Served-By", "mhd");
  MHD_add_response_header(res, "Set-Cookie", "session=s3cr3t");
  MHD_add_response_header(res, "X-Secret-Token", "t0k3n");
  MHD_Result r = QueueResponse(c, status, res);
  MHD_destroy_response(res);
  return r;
}

// Five 10-byte chunks, 30 ms apart (or, when `cls` is non-null, forever).
ssize_t Chunks(void* cls, uint64_t pos, char* buf, size_t max) {
  if (cls == nullptr && pos >= 50) return MHD_CONTENT_READER_END_OF_STREAM;
  std::this_thread::sleep_for(std::chrono::milliseconds(cls == nullptr ? 30 : 2));
  size_t n = cls == nullptr ? 10 : std::min<size_t>(max, 16384);
  std::memset(buf, 'x', n);
  return static_cast<ssize_t>(n);
}

// The application's MHD_AccessHandlerCallback: a plain MHD handler that
// names its routes.
MHD_Result Answer(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                  const char* upload_data, size_t* upload_data_size, void** con_cls) {
  auto* log = static_cast<AppLog*>(cls);
  std::string_view path = url;
  if (path.rfind("/users/", 0) == 0) {
    SetRoute(c, "/users/{id}");
    log->SawCurrent();
    return Reply(c, MHD_HTTP_OK, "hello");
  }
  if (path == "/health" || path == "/bad") return Reply(c, MHD_HTTP_OK, "ok");
  if (path == "/empty") return Reply(c, MHD_HTTP_OK, "");
  if (path.rfind("/qb", 0) == 0) {  // QueueBody: http.server.response.body.size
    SetRoute(c, path);
    if (path == "/qb") return QueueBody(c, MHD_HTTP_OK, "hello", {{"Content-Type", "text/plain"}});
    if (path == "/qb-empty") return QueueBody(c, MHD_HTTP_OK, "");
    if (path == "/qb-204") return QueueBody(c, MHD_HTTP_NO_CONTENT, "dropped");
    if (path == "/qb-304") return QueueBody(c, MHD_HTTP_NOT_MODIFIED, "dropped");
    if (path == "/qb-big") return QueueBody(c, MHD_HTTP_OK, std::string(32 << 20, 'z'));
    if (path == "/qb-twice" || path == "/qb-after-own") {
      // A response is queued first (by QueueBody, or by the handler itself
      // through MHD), then QueueBody is called again: MHD refuses the second
      // one, and the first is the answer.
      MHD_Result first;
      if (path == "/qb-twice") {
        first = QueueBody(c, MHD_HTTP_OK, "first", {{"X-Which", "first"}});
      } else {
        MHD_Response* own = MHD_create_response_from_buffer(5, const_cast<char*>("first"),
                                                            MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(own, "X-Which", "first");
        first = QueueResponse(c, MHD_HTTP_OK, own);
        MHD_destroy_response(own);
      }
      if (QueueBody(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the second one",
                    {{"X-Which", "second"}}) == MHD_NO)
        ++log->second_queue_refused;
      return first;
    }
    if (path == "/qb-bad") {  // ?case=...: one argument QueueBody refuses, nothing queued
      const char* got = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "case");
      const std::string_view kind = got != nullptr ? got : "";
      if (kind == "status-100") return QueueBody(c, MHD_HTTP_CONTINUE, "x");
      if (kind == "status-1000") return QueueBody(c, 1000, "x");
      if (kind == "transfer-encoding")
        return QueueBody(c, MHD_HTTP_OK, "x", {{"Transfer-Encoding", "chunked"}});
      if (kind == "colon-name") return QueueBody(c, MHD_HTTP_OK, "x", {{"X:Y", "1"}});
      if (kind == "te-space")
        return QueueBody(c, MHD_HTTP_OK, "x", {{"Transfer-Encoding ", "chunked"}});
      if (kind == "cl-tab") return QueueBody(c, MHD_HTTP_OK, "x", {{"Content-Length\t", "100"}});
      if (kind == "space-name") return QueueBody(c, MHD_HTTP_OK, "x", {{"X Y", "1"}});
      if (kind == "crlf-value")
        return QueueBody(c, MHD_HTTP_OK, "x", {{"X-A", "1\r\nX-Injected: 1"}});
      return QueueBody(c, MHD_HTTP_OK, "x", {{"Content-Length", "1"}});
    }
    return QueueBody(c, MHD_HTTP_NOT_FOUND, "no such thing");
  }
  if (path == "/length") {
    static char kBody[] = "hello";
    MHD_Response* res = MHD_create_response_from_buffer(5, kBody, MHD_RESPMEM_PERSISTENT);
    ++log->length_probes;
    if (MHD_add_response_header(res, "Content-Length", "5") == MHD_YES)
      ++log->content_length_accepted;
    MHD_Result r = QueueResponse(c, MHD_HTTP_OK, res);
    if (MHD_get_response_header(res, "Content-Length") != nullptr) ++log->content_length_readable;
    MHD_destroy_response(res);
    return r;
  }
  if (path == "/whoami")
    return Reply(c, MHD_HTTP_OK, GetCurrentSpan().GetContext().span_id().ToHex());
  if (path == "/throw") {
    SetRoute(c, "/throw");
    throw std::runtime_error("mhd boom");
  }
  if (path == "/stream" || path == "/endless") {
    SetRoute(c, path);
    MHD_Response* res = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16384, &Chunks, path == "/endless" ? log : nullptr, nullptr);
    MHD_Result r = QueueResponse(c, MHD_HTTP_OK, res);
    MHD_destroy_response(res);
    return r;
  }
  if (path == "/upload" && std::string_view(method) == "POST") {
    // The classic MHD upload loop: first call (headers), one call per piece of
    // body, last call (answer). The app's per-request state is in *con_cls.
    SetRoute(c, "/upload");
    ++log->upload_calls;
    log->SawCurrent();
    if (*con_cls == nullptr) {
      *con_cls = new std::string;
      return MHD_YES;
    }
    auto* body = static_cast<std::string*>(*con_cls);
    if (*upload_data_size != 0) {
      body->append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    return Reply(c, MHD_HTTP_OK, std::to_string(body->size()));
  }
  return Reply(c, MHD_HTTP_NOT_FOUND, "not found");
}

// The application's own URI-log and completion callbacks (chained by the
// instrumentation): they keep their own per-request pointer.
void* UserUriLog(void* cls, const char*, MHD_Connection*) {
  ++static_cast<AppLog*>(cls)->user_uri_logs;
  return nullptr;
}
void UserCompleted(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  auto* log = static_cast<AppLog*>(cls);
  ++log->user_completed;
  if (GetCurrentSpan().GetContext().IsValid()) ++log->span_current_in_completed;
  delete static_cast<std::string*>(*con_cls);
  *con_cls = nullptr;
}

enum class Mode { kThreadPool, kThreadPerConnection };

// A daemon on 127.0.0.1 with an ephemeral port.
struct Server {
  AppLog log;
  Instrumentation tracing;
  MHD_Daemon* daemon = nullptr;
  int port = 0;
  explicit Server(ServerOptions o, Mode mode = Mode::kThreadPool,
                  std::vector<MHD_OptionItem> extra = {}, unsigned int extra_flags = 0)
      : tracing(std::move(o)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::vector<MHD_OptionItem> opts = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&UserUriLog), &log},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&UserCompleted), &log}};
    opts.insert(opts.end(), extra.begin(), extra.end());
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | extra_flags;
    if (mode == Mode::kThreadPool) {
      opts.push_back({MHD_OPTION_THREAD_POOL_SIZE, 2, nullptr});
    } else {
      flags |= MHD_USE_THREAD_PER_CONNECTION;
    }
    opts.push_back({MHD_OPTION_END, 0, nullptr});
    daemon = tracing.StartDaemon(flags, 0, nullptr, nullptr, &Answer, &log, opts.data());
    if (daemon != nullptr) port = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~Server() {
    if (daemon != nullptr) MHD_stop_daemon(daemon);
  }
  ::httplib::Client Client() const {
    ::httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(2);
    c.set_read_timeout(5);
    return c;
  }
};

ServerOptions Opts(const MemoryTracing& t) {
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "/health";
  o.capture_request_headers = std::vector<std::string>{};
  o.capture_response_headers = std::vector<std::string>{};
  o.sanitize_fields = std::vector<std::string>{};
  return o;
}

// Opts, with the metrics recorded into `m`.
ServerOptions MeteredOpts(const MemoryTracing& t, const ManualMetrics& m) {
  ServerOptions o = Opts(t);
  o.meter_provider = m.provider;
  return o;
}

class MicrohttpdServer : public ::testing::TestWithParam<Mode> {};

TEST_P(MicrohttpdServer, SemconvAttributesRouteAndRemoteParent) {
  MemoryTracing t;
  Server s(Opts(t), GetParam());
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  auto r =
      cli.Get("/users/42?sig=x&a=b", {{"traceparent", kTraceparent}, {"User-Agent", "mhd-test"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  r = cli.Get("/nothing/here");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  const SpanData* u = spans[0];
  EXPECT_EQ(u->name(), "GET /users/{id}");
  EXPECT_EQ(u->kind(), SpanKind::kServer);
  EXPECT_EQ(u->scope().name, kScopeName);
  EXPECT_EQ(StrAttr(u, "http.request.method"), "GET");
  EXPECT_EQ(StrAttr(u, "http.route"), "/users/{id}");
  EXPECT_EQ(StrAttr(u, "url.scheme"), "http");
  EXPECT_EQ(StrAttr(u, "url.path"), "/users/42");
  EXPECT_EQ(StrAttr(u, "url.query"), "sig=REDACTED&a=b");
  EXPECT_EQ(StrAttr(u, "network.protocol.version"), "1.1");
  EXPECT_EQ(StrAttr(u, "client.address"), "127.0.0.1");
  EXPECT_GT(IntAttr(u, "network.peer.port"), 0);
  EXPECT_EQ(StrAttr(u, "server.address"), "127.0.0.1");
  EXPECT_EQ(IntAttr(u, "server.port"), s.port);
  EXPECT_EQ(StrAttr(u, "user_agent.original"), "mhd-test");
  EXPECT_EQ(IntAttr(u, "http.response.status_code"), 200);
  EXPECT_EQ(u->status(), StatusCode::kUnset);
  // A child of the remote parent, and current while the handler ran.
  EXPECT_EQ(u->trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(u->parent_span_id().ToHex(), "b7ad6b7169203331");
  EXPECT_TRUE(u->parent_is_remote());
  EXPECT_EQ(s.log.Seen(), std::vector<std::string>{u->span_id().ToHex()});
  const SpanData* nf = spans[1];
  EXPECT_EQ(nf->name(), "GET");
  EXPECT_FALSE(HasAttr(nf, "http.route"));
  EXPECT_EQ(IntAttr(nf, "http.response.status_code"), 404);
  EXPECT_NE(nf->trace_id(), u->trace_id());
  // The app's own callbacks ran for both requests; no scope leaked out of the
  // handler into MHD's completion callback.
  EXPECT_EQ(s.log.user_uri_logs.load(), 2);
  EXPECT_EQ(s.log.user_completed.load(), 2);
  EXPECT_EQ(s.log.span_current_in_completed.load(), 0);
}

// MHD calls the access handler several times for a request with a body: one
// span, current in every call (and only during the calls), the app's own
// per-request pointer kept.
TEST_P(MicrohttpdServer, PostWithABodyMakesOneSpan) {
  MemoryTracing t;
  Server s(Opts(t), GetParam());
  ASSERT_NE(s.daemon, nullptr);
  std::string body(300000, 'b');
  auto r = s.Client().Post("/upload", body, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "300000");
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "POST /upload");
  EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 200);
  EXPECT_GE(s.log.upload_calls.load(), 3);
  std::vector<std::string> seen = s.log.Seen();
  EXPECT_EQ(seen.size(), size_t(s.log.upload_calls.load()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()),
            std::set<std::string>{spans[0]->span_id().ToHex()});
  EXPECT_EQ(s.log.span_current_in_completed.load(), 0);
}

// The span ends at MHD's completion notice, after the last chunk was sent.
TEST_P(MicrohttpdServer, StreamingResponseSpanCoversTheBody) {
  MemoryTracing t;
  Server s(Opts(t), GetParam());
  ASSERT_NE(s.daemon, nullptr);
  auto r = s.Client().Get("/stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::string(50, 'x'));
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "GET /stream");
  EXPECT_GE(spans[0]->end_ns() - spans[0]->start_ns(), 150'000'000);
  EXPECT_EQ(spans[0]->status(), StatusCode::kUnset);
  EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 200);
}

// Requests on one kept-alive connection, and many connections at once: each
// request its own span, current in its own handler only.
TEST_P(MicrohttpdServer, KeepAliveAndConcurrentRequestsEachGetTheirOwnSpan) {
  MemoryTracing t;
  Server s(Opts(t), GetParam());
  ASSERT_NE(s.daemon, nullptr);
  std::mutex mu;
  std::set<std::string> answered;
  auto client = [&](int n) {
    ::httplib::Client cli = s.Client();
    cli.set_keep_alive(true);
    for (int i = 0; i < n; ++i) {
      auto r = cli.Get("/whoami");
      if (!r || r->status != 200) continue;
      std::lock_guard<std::mutex> l(mu);
      answered.insert(r->body);
    }
  };
  client(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) threads.emplace_back(client, 10);
  for (auto& th : threads) th.join();
  auto spans = t.Exactly(63);
  ASSERT_EQ(spans.size(), 63u);
  std::set<std::string> exported;
  for (const SpanData* sp : spans) exported.insert(sp->span_id().ToHex());
  EXPECT_EQ(answered.size(), 63u);
  EXPECT_EQ(exported, answered);
  EXPECT_EQ(s.log.span_current_in_completed.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, MicrohttpdServer,
                         ::testing::Values(Mode::kThreadPool, Mode::kThreadPerConnection),
                         [](const ::testing::TestParamInfo<Mode>& i) {
                           return i.param == Mode::kThreadPool ? "ThreadPool"
                                                               : "ThreadPerConnection";
                         });

TEST(MicrohttpdServerMatrix, ClientGoingAwayMidStreamEndsTheSpanWithAnError) {
  MemoryTracing t;
  Server s(Opts(t));
  ASSERT_NE(s.daemon, nullptr);
  size_t received = 0;
  auto r = s.Client().Get("/endless", [&](const char*, size_t n) {
    received += n;
    return received < 100000;  // the client gives up
  });
  EXPECT_FALSE(r);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "GET /endless");
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  const std::string type = StrAttr(spans[0], "error.type");
  EXPECT_TRUE(type == "connection_error" || type == "client_abort") << type;
}

TEST(MicrohttpdServerMatrix, ExcludedUrlsMakeNoSpanAndAreStillServed) {
  MemoryTracing t;
  Server s(Opts(t));
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  auto r = cli.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
  ASSERT_TRUE(cli.Get("/users/1"));
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "GET /users/{id}");
  EXPECT_EQ(s.log.user_completed.load(), 2);
}

TEST(MicrohttpdServerMatrix, RequestAndResponseHeadersAreCapturedAndSanitized) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.capture_request_headers = std::vector<std::string>{"x-tenant", "authorization", "x-multi"};
  o.capture_response_headers = std::vector<std::string>{"x-served-by", "set-cookie", "x-secret-.*"};
  o.sanitize_fields = std::vector<std::string>{"secret"};
  Server s(o);
  ASSERT_NE(s.daemon, nullptr);
  auto r = s.Client().Get(
      "/users/1",
      {{"X-Tenant", "acme"}, {"Authorization", "Bearer abc"}, {"X-Multi", "a"}, {"X-Multi", "b"}});
  ASSERT_TRUE(r);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* sp = spans[0];
  EXPECT_EQ(ArrAttr(sp, "http.request.header.x-tenant"), std::vector<std::string>{"acme"});
  EXPECT_EQ(ArrAttr(sp, "http.request.header.authorization"),
            std::vector<std::string>{"[REDACTED]"});
  EXPECT_EQ(ArrAttr(sp, "http.request.header.x-multi"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ArrAttr(sp, "http.response.header.x-served-by"), std::vector<std::string>{"mhd"});
  EXPECT_EQ(ArrAttr(sp, "http.response.header.set-cookie"), std::vector<std::string>{"[REDACTED]"});
  EXPECT_EQ(ArrAttr(sp, "http.response.header.x-secret-token"),
            std::vector<std::string>{"[REDACTED]"});
  EXPECT_FALSE(HasAttr(sp, "http.request.header.user-agent"));
}

TEST(MicrohttpdServerMatrix, ThrowingHooksAreCaughtReportedOnceAndRequestsAnswered) {
  DiagnosticsCapture diag;
  MemoryTracing t;
  ServerOptions o = Opts(t);
  std::atomic<int> request_hooks{0};
  o.request_hook = [&](SpanRef span, MHD_Connection* c) {
    ++request_hooks;
    const char* tenant = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tenant");
    span.SetAttribute("hook.tenant", tenant != nullptr ? tenant : "none");
    if (tenant != nullptr && std::string_view(tenant) == "bad") {
      throw std::runtime_error("request hook failure");
    }
  };
  o.response_hook = [](SpanRef span, MHD_Connection* c, unsigned int status) {
    span.SetAttribute("hook.status", static_cast<int64_t>(status));
    const char* tenant = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tenant");
    if (tenant != nullptr && std::string_view(tenant) == "bad") {
      throw std::runtime_error("response hook failure");
    }
  };
  Server s(o);
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  for (const char* tenant : {"good", "bad", "bad"}) {
    auto r = cli.Get("/users/1", {{"X-Tenant", tenant}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
  }
  auto spans = t.Exactly(3);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(StrAttr(spans[0], "hook.tenant"), "good");
  EXPECT_EQ(IntAttr(spans[0], "hook.status"), 200);
  EXPECT_EQ(StrAttr(spans[1], "hook.tenant"), "bad");
  EXPECT_EQ(IntAttr(spans[2], "hook.status"), 200);
  EXPECT_EQ(request_hooks.load(), 3);
  EXPECT_EQ(diag.Count("hook threw"), 1u);
}

TEST(MicrohttpdServerMatrix, HandlerExceptionIsRecordedAndAnsweredWith500) {
  MemoryTracing t;
  Server s(Opts(t));
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  auto r = cli.Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  ASSERT_TRUE(cli.Get("/users/2"));  // the daemon goes on serving
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name(), "GET /throw");
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(spans[0], "error.type"), "std::runtime_error");
  EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 500);
  size_t index = 0;
  EXPECT_NE(otelweb::testing::EventNamed(spans[0], "exception", &index), nullptr);
  EXPECT_EQ(spans[1]->status(), StatusCode::kUnset);
}

// With no provider in the options the global one is used, as it is when the
// request arrives: after a TracingHandle is destroyed and InstallTracing runs
// again, spans reach the new provider.
TEST(MicrohttpdServerMatrix, ReinstalledGlobalTracingIsPickedUp) {
  ServerOptions o;
  o.excluded_urls = "";
  Server s(o);
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  otelweb::testing::InstalledMemoryTracing first;
  ASSERT_TRUE(cli.Get("/users/1"));
  EXPECT_EQ(first.WaitFor(1), 1u);
  first.Drop();
  otelweb::testing::InstalledMemoryTracing second;
  ASSERT_TRUE(cli.Get("/users/2", {{"traceparent", kTraceparent}}));
  EXPECT_EQ(second.WaitFor(1), 1u);
  second.Shutdown();
  ASSERT_EQ(second.store->size(), 1u);
  EXPECT_EQ(first.store->size(), 1u);
  const SpanData* sp = second.store->spans()[0];
  EXPECT_EQ(sp->name(), "GET /users/{id}");
  EXPECT_EQ(sp->trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
}

// Issue 12 (untrusted inbound context), set in code: the client's traceparent
// becomes a link of a new root span instead of its parent.
TEST(MicrohttpdServerMatrix, PublicEndpointLinksTheInboundContext) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.public_endpoint = true;
  Server s(o);
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  auto r = cli.Get("/users/42", {{"traceparent", kTraceparent}, {"baggage", "user.role=admin"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_NE(spans[0]->trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_FALSE(spans[0]->parent_span_id().IsValid());
  ASSERT_EQ(spans[0]->link_count(), 1u);
  EXPECT_EQ(spans[0]->link_context(0).trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(spans[0]->link_context(0).span_id().ToHex(), "b7ad6b7169203331");
}

std::string ReadFile(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

// An HTTPS daemon (MHD_USE_TLS, a self-signed certificate made for the test):
// url.scheme is "https".
TEST(MicrohttpdServerMatrix, TlsDaemonReportsTheHttpsScheme) {
  const std::string dir = ::testing::TempDir();
  const std::string key = dir + "mhd_test_key.pem";
  const std::string cert = dir + "mhd_test_cert.pem";
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl could not make a test certificate";
  const std::string key_pem = ReadFile(key);
  const std::string cert_pem = ReadFile(cert);
  MemoryTracing t;
  Server s(Opts(t), Mode::kThreadPool,
           {{MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(key_pem.c_str())},
            {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(cert_pem.c_str())}},
           MHD_USE_TLS);
  ASSERT_NE(s.daemon, nullptr);
  ::httplib::SSLClient cli("127.0.0.1", s.port);
  cli.enable_server_certificate_verification(false);
  auto r = cli.Get("/users/5");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(StrAttr(spans[0], "url.scheme"), "https");
  EXPECT_EQ(spans[0]->name(), "GET /users/{id}");
  std::remove(key.c_str());
  std::remove(cert.c_str());
}

// MHD answers some requests itself, before any access-handler call (here:
// headers larger than its connection memory pool): no span (documented), the
// request's context is released, and the daemon and its tracing go on.
TEST(MicrohttpdServerMatrix, RequestsMhdRejectsBeforeTheHandlerMakeNoSpan) {
  MemoryTracing t;
  Server s(Opts(t));
  ASSERT_NE(s.daemon, nullptr);
  std::string r =
      RawRequest(s.port,
                 "GET /users/1 HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(100000, 'a') +
                     "\r\nConnection: close\r\n\r\n",
                 /*read_all=*/true);
  EXPECT_TRUE(r.find(" 431 ") != std::string::npos || r.find(" 413 ") != std::string::npos) << r;
  EXPECT_EQ(t.Exactly(0).size(), 0u);
  EXPECT_EQ(s.log.user_uri_logs.load(), 1);
  EXPECT_EQ(s.log.user_completed.load(), 1);  // the request's context was released
  ASSERT_TRUE(s.Client().Get("/users/1"));
  EXPECT_EQ(t.Exactly(1).size(), 1u);
}

// http.server.request.body.size: the upload bytes the handler consumed,
// fixed-length and chunked; the duration is measured with it.
TEST(MicrohttpdServerMetrics, RequestBodySizeIsTheUploadTheHandlerConsumed) {
  MemoryTracing t;
  ManualMetrics m;
  Server s(MeteredOpts(t, m));
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  const std::string body(100000, 'b');  // several upload calls
  auto r = cli.Post("/upload", body, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::to_string(body.size()));
  r = cli.Post(
      "/upload",
      [](size_t offset, ::httplib::DataSink& sink) {
        if (offset == 0) sink.write("abcdefg", 7);
        if (offset != 0) sink.done();
        return true;
      },
      "text/plain");  // chunked
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "7");
  ASSERT_TRUE(t.WaitFor(2));
  auto rm = m.Collect();
  const auto* size = rm.Find("http.server.request.body.size");
  ASSERT_NE(size, nullptr);
  ASSERT_EQ(size->histogram_points.size(), 1u);
  EXPECT_EQ(size->histogram_points[0].count, 2u);
  EXPECT_EQ(size->histogram_points[0].sum, int64_t(body.size()) + 7);
  EXPECT_EQ(size->histogram_points[0].max, double(body.size()));
  EXPECT_EQ(MetricAttr(size->histogram_points[0].attributes, "http.route"), "/upload");
  const auto* d = rm.Find("http.server.request.duration");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->histogram_points[0].count, 2u);
}

// http.server.response.body.size is not recorded for responses queued with
// QueueResponse (or MHD_queue_response), and these are the MHD 0.9.75 facts
// that make it impossible there (docs/metrics.md): a response's size is set
// when it is created and no public call reads it back (MHD_get_response_header
// does not see the Content-Length MHD writes, and MHD_add_response_header
// refuses one from the application), MHD_get_connection_info has no byte
// counts, and the request-completed callback gets only the termination code.
// If one of these checks fails after an MHD upgrade, the recording may have
// become possible. (QueueBody, which makes the response, records it.)
TEST(MicrohttpdServerMetrics, ResponseBodySizeIsNotRecordedAndWhy) {
  MemoryTracing t;
  ManualMetrics m;
  Server s(MeteredOpts(t, m));
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  auto r = cli.Get("/length");  // fixed length
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->get_header_value("Content-Length"), "5");  // sent by MHD, but unreadable:
  EXPECT_EQ(s.log.length_probes.load(), 1);
  EXPECT_EQ(s.log.content_length_accepted.load(), 0);
  EXPECT_EQ(s.log.content_length_readable.load(), 0);
  r = cli.Get("/empty");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Length"), "0");
  r = cli.Head("/users/1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = cli.Get("/stream");  // chunked, size unknown
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::string(50, 'x'));
  r = cli.Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  r = cli.Get("/nowhere");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  constexpr size_t kRequests = 6;
  ASSERT_TRUE(t.WaitFor(kRequests));
  auto rm = m.Collect();
  // Every request is measured, and no response size is.
  EXPECT_EQ(HistogramTotalCount(rm, "http.server.request.duration"), kRequests);
  EXPECT_EQ(HistogramTotalCount(rm, "http.server.response.body.size"), 0u);
}

// QueueBody: the body size MHD sent, checked against what the client got:
// fixed length, empty, HEAD, 204 and 304 (no body on the wire), an error
// status with a body; nothing for a request that ended early, for a refused
// header or status (nothing queued) or for a streamed response.
TEST(MicrohttpdServerMetrics, QueueBodyRecordsTheResponseBodySize) {
  MemoryTracing t;
  ManualMetrics m;
  ServerOptions o = MeteredOpts(t, m);
  o.capture_response_headers = std::vector<std::string>{"content-type"};
  DiagnosticsCapture diag(LogLevel::kWarning);
  Server s(std::move(o));
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  auto r = cli.Get("/qb");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->get_header_value("Content-Length"), "5");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain");
  r = cli.Head("/qb");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Length"), "5");
  r = cli.Get("/qb-empty");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "");
  // 204 and 304 answers carry no body: the raw bytes end with the headers.
  for (const char* target : {"/qb-204", "/qb-304"}) {
    const std::string raw = RawRequest(
        s.port, std::string("GET ") + target + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        /*read_all=*/true);
    ASSERT_NE(raw.find("\r\n\r\n"), std::string::npos) << raw;
    EXPECT_EQ(raw.find("\r\n\r\n") + 4, raw.size()) << raw;
  }
  r = cli.Get("/qb-missing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "no such thing");
  // The client reads the headers of a 32 MiB answer and goes away.
  const std::string head =
      RawRequest(s.port, "GET /qb-big HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 33554432"), std::string::npos) << head.substr(0, 200);
  // Refused before MHD sees them (MHD 0.9.75 itself would take the first
  // three headers and send a 100 as the whole answer): MHD_NO, and MHD closes
  // the connection without a byte of answer.
  const char* kRefused[] = {"",
                            "?case=transfer-encoding",
                            "?case=colon-name",
                            "?case=crlf-value",
                            "?case=status-100",
                            "?case=status-1000",
                            "?case=te-space",
                            "?case=cl-tab",
                            "?case=space-name"};
  for (const char* query : kRefused) {
    const std::string reply = RawRequest(
        s.port,
        std::string("GET /qb-bad") + query + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        /*read_all=*/true);
    EXPECT_EQ(reply, "") << query;
  }
  r = cli.Get("/stream");
  ASSERT_TRUE(r);
  constexpr size_t kRequests = 8 + std::size(kRefused);
  ASSERT_TRUE(t.WaitFor(kRequests));
  auto rm = m.Collect();
  // Sizes by the rules; the early end, the refused calls and the stream have
  // their durations all the same.
  ExpectHelperBodySizes(rm, "/qb", kRequests);
  // One warning per kind, however many calls were refused.
  EXPECT_EQ(CountContaining(diag.messages(), "QueueBody: a response header was refused"), 1);
  EXPECT_EQ(CountContaining(diag.messages(), "QueueBody: a status outside 200-999"), 1);
  // Names that are not HTTP tokens are refused by otelweb's rule, as for
  // SendBody, not left to MHD.
  EXPECT_EQ(CountContaining(diag.messages(), "MHD refused a response header"), 0);
  // The response headers are captured as for QueueResponse.
  bool captured = false;
  for (const SpanData* sd : t.spans())
    captured |=
        ArrAttr(sd, "http.response.header.content-type") == std::vector<std::string>{"text/plain"};
  EXPECT_TRUE(captured);
}

// QueueBody after a response was already queued (by QueueBody or by the
// handler): MHD refuses it, and what the span and the metric report is the
// response that went out (its headers and size), not the refused one.
TEST(MicrohttpdServerMetrics, QueueBodyRefusedAfterAQueuedResponseReportsTheSentOne) {
  MemoryTracing t;
  ManualMetrics m;
  ServerOptions o = MeteredOpts(t, m);
  o.capture_response_headers = std::vector<std::string>{"x-which"};
  Server s(std::move(o));
  ASSERT_NE(s.daemon, nullptr);
  auto cli = s.Client();
  for (const char* target : {"/qb-twice", "/qb-after-own"}) {
    auto r = cli.Get(target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 200) << target;
    EXPECT_EQ(r->body, "first") << target;
    EXPECT_EQ(r->get_header_value("X-Which"), "first") << target;
  }
  ASSERT_TRUE(t.WaitFor(2));
  EXPECT_EQ(s.log.second_queue_refused.load(), 2);
  ASSERT_EQ(t.spans().size(), 2u);
  for (const SpanData* sd : t.spans()) {
    EXPECT_EQ(IntAttr(sd, "http.response.status_code"), 200);
    EXPECT_EQ(ArrAttr(sd, "http.response.header.x-which"), std::vector<std::string>{"first"})
        << StrAttr(sd, "http.route");
  }
  auto rm = m.Collect();
  // The first QueueBody's 5 bytes; the response queued by the handler itself
  // has no size (MHD cannot tell it), whatever the refused call passed.
  const auto got = HistogramCountSumBy(rm, "http.server.response.body.size",
                                       {"http.route", "http.response.status_code"});
  const std::map<std::string, std::pair<uint64_t, double>> want = {{"/qb-twice 200", {1, 5}}};
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace otelweb::microhttpd
