// cpp-httplib server instrumentation on real sockets (127.0.0.1, ephemeral
// ports) with real httplib clients.
#include "otelweb/httplib/server.h"
#include "otelweb/httplib/client.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "otelweb/diagnostics.h"
#include "otelweb/otelweb.h"
#include "otelweb/propagation.h"
#include "otelweb/testing/installed_tracing.h"
#include "support/http_test_support.h"
#include "support/running_server.h"

namespace otelweb::httplib {
namespace {

// MemoryTracing, span readers (StrAttr, IntAttr, ...), DiagnosticsCapture and
// the support helpers: otelweb::testing (include/otelweb/testing/, tests/support/).
using namespace otelweb::testing;  // NOLINT(build/namespaces)

// Runs a server on 127.0.0.1 with an ephemeral port in a thread.
using Running = otelweb::testing::RunningServer;

// Restores an environment variable on scope exit.
using EnvVar = otelweb::testing::ScopedEnv;

// Collects diagnostics messages.

ServerOptions Opts(const MemoryTracing& t) {
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";  // independent of the environment unless a test says so
  o.capture_request_headers = std::vector<std::string>{};
  o.capture_response_headers = std::vector<std::string>{};
  o.sanitize_fields = std::vector<std::string>{};
  return o;
}

void Hello(const ::httplib::Request&, ::httplib::Response& res) {
  res.set_content("hello", "text/plain");
}

TEST(HttplibServer, RouteTemplateAndSemconvAttributes) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/users/:id", [](const ::httplib::Request& req, ::httplib::Response& res) {
    res.set_content("user " + req.matches[1].str(), "text/plain");
  });
  Running run(app);
  auto cli = run.Client();
  auto r = cli.Get("/users/42?x=1&y=2", {{"User-Agent", "otelweb-test/1.0"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "user 42");
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(s->name(), "GET /users/:id");
  EXPECT_EQ(s->kind(), SpanKind::kServer);
  EXPECT_EQ(s->status(), StatusCode::kUnset);
  EXPECT_EQ(StrAttr(s, "http.request.method"), "GET");
  EXPECT_FALSE(HasAttr(s, "http.request.method_original"));
  EXPECT_EQ(StrAttr(s, "http.route"), "/users/:id");
  EXPECT_EQ(StrAttr(s, "url.path"), "/users/42");
  EXPECT_EQ(StrAttr(s, "url.query"), "x=1&y=2");
  EXPECT_EQ(StrAttr(s, "url.scheme"), "http");
  EXPECT_EQ(StrAttr(s, "server.address"), "127.0.0.1");
  EXPECT_EQ(IntAttr(s, "server.port"), run.port());
  EXPECT_EQ(StrAttr(s, "client.address"), "127.0.0.1");
  EXPECT_EQ(StrAttr(s, "network.peer.address"), "127.0.0.1");
  EXPECT_GT(IntAttr(s, "network.peer.port"), 0);
  EXPECT_EQ(StrAttr(s, "network.protocol.version"), "1.1");
  EXPECT_EQ(StrAttr(s, "user_agent.original"), "otelweb-test/1.0");
  EXPECT_EQ(IntAttr(s, "http.response.status_code"), 200);
  EXPECT_FALSE(HasAttr(s, "error.type"));
  EXPECT_FALSE(s->parent_span_id().IsValid());
  EXPECT_LE(s->start_ns(), s->end_ns());
}

TEST(HttplibServer, RegexPatternsAndExplicitTemplates) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get(R"(/files/(\d+))", Hello);
  app.Get(R"(/orders/(\d+))", Hello, "/orders/{id}");
  Running run(app);
  auto cli = run.Client();
  ASSERT_EQ(cli.Get("/files/7")->status, 200);
  ASSERT_EQ(cli.Get("/orders/9")->status, 200);
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name(), R"(GET /files/(\d+))");
  EXPECT_EQ(StrAttr(spans[0], "http.route"), R"(/files/(\d+))");
  EXPECT_EQ(spans[1]->name(), "GET /orders/{id}");
  EXPECT_EQ(StrAttr(spans[1], "http.route"), "/orders/{id}");
}

TEST(HttplibServer, NotFoundAndWrongMethodAreNamedByMethodOnly) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/only-get", Hello);
  app.Put("/only-put", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.status = 405;  // an application answering 405 itself
  });
  Running run(app);
  auto cli = run.Client();
  EXPECT_EQ(cli.Get("/secret/path/123")->status, 404);
  EXPECT_EQ(cli.Post("/only-get", "x", "text/plain")->status, 404);  // 0.11.4: no 405
  EXPECT_EQ(cli.Put("/only-put", "x", "text/plain")->status, 405);
  auto spans = t.Exactly(3);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0]->name(), "GET");
  EXPECT_FALSE(HasAttr(spans[0], "http.route"));
  EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 404);
  EXPECT_EQ(spans[0]->status(), StatusCode::kUnset);
  EXPECT_FALSE(HasAttr(spans[0], "error.type"));
  EXPECT_EQ(StrAttr(spans[0], "url.path"), "/secret/path/123");
  EXPECT_EQ(spans[1]->name(), "POST");
  EXPECT_EQ(IntAttr(spans[1], "http.response.status_code"), 404);
  EXPECT_FALSE(HasAttr(spans[1], "http.route"));
  EXPECT_EQ(spans[2]->name(), "PUT /only-put");
  EXPECT_EQ(IntAttr(spans[2], "http.response.status_code"), 405);
  EXPECT_EQ(spans[2]->status(), StatusCode::kUnset);
}

TEST(HttplibServer, HeadUsesTheGetRoute) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/items/:id", Hello);
  Running run(app);
  auto cli = run.Client();
  auto r = cli.Head("/items/3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "HEAD /items/:id");
  EXPECT_EQ(StrAttr(spans[0], "http.request.method"), "HEAD");
}

TEST(HttplibServer, UnknownMethodAndMalformedRequestsAreRecordedAsRejected) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/x", Hello);
  Running run(app);
  // Each span is recorded by the logger after the response was written, so
  // the client can be faster than it: wait for one before sending the next
  // (the spans are sorted by time below).
  std::string r1 = RawRequest(run.port(), "FOO /x?sig=s3cret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_NE(r1.find(" 400 "), std::string::npos) << r1;
  ASSERT_TRUE(t.WaitFor(1));
  std::string r2 = RawRequest(run.port(), "GARBAGE\r\n\r\n");
  EXPECT_NE(r2.find(" 400 "), std::string::npos) << r2;
  ASSERT_TRUE(t.WaitFor(2));
  std::string r3 =
      RawRequest(run.port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(r3.find(" 414 "), std::string::npos) << r3.substr(0, 40);
  auto spans = t.Exactly(3);
  ASSERT_EQ(spans.size(), 3u);
  // Rejected requests are recorded in the logger, after the client has its
  // response, on whichever worker served them: find them by content, not order.
  auto by_method = [&](std::string_view m) -> const SpanData* {
    for (const SpanData* s : spans) {
      if (StrAttr(s, "http.request.method_original") == m) return s;
    }
    return nullptr;
  };
  const SpanData* foo = by_method("FOO");
  const SpanData* garbage = by_method("GARBAGE");
  const SpanData* too_long = nullptr;
  for (const SpanData* s : spans) {
    if (IntAttr(s, "http.response.status_code") == 414) too_long = s;
  }
  ASSERT_NE(foo, nullptr);
  ASSERT_NE(garbage, nullptr);
  ASSERT_NE(too_long, nullptr);
  EXPECT_EQ(foo->name(), "HTTP");
  EXPECT_EQ(StrAttr(foo, "http.request.method"), "_OTHER");
  EXPECT_EQ(StrAttr(foo, "http.request.method_original"), "FOO");
  EXPECT_EQ(StrAttr(foo, "url.query"), "sig=REDACTED");
  EXPECT_EQ(IntAttr(foo, "http.response.status_code"), 400);
  EXPECT_EQ(foo->start_ns(), foo->end_ns());
  EXPECT_EQ(garbage->name(), "HTTP");
  EXPECT_EQ(IntAttr(garbage, "http.response.status_code"), 400);
  // Turned off: no span for them.
  ServerOptions o = Opts(t);
  o.trace_rejected_requests = false;
  app.Instrument(o);
  t.store->Reset();
  RawRequest(run.port(), "FOO /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(t.Exactly(0).size(), 0u);
}

TEST(HttplibServer, ExceptionIsRecordedAndTheResponseIsUnchanged) {
  auto thrower = [](const ::httplib::Request&, ::httplib::Response&) {
    throw std::runtime_error("boom");
  };
  // What cpp-httplib answers without instrumentation.
  ::httplib::Server plain;
  plain.Get("/throw", thrower);
  std::string plain_what;
  int plain_status = 0;
  {
    Running run(plain);
    auto r = run.Client().Get("/throw");
    ASSERT_TRUE(r);
    plain_status = r->status;
    plain_what = r->get_header_value("EXCEPTION_WHAT");
  }
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/throw", thrower);
  Running run(app);
  auto r = run.Client().Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, plain_status);
  EXPECT_EQ(r->get_header_value("EXCEPTION_WHAT"), plain_what);
  EXPECT_EQ(plain_what, "boom");
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(s->name(), "GET /throw");
  EXPECT_EQ(s->status(), StatusCode::kError);
  EXPECT_EQ(s->status_description(), "std::runtime_error: boom");
  EXPECT_EQ(StrAttr(s, "error.type"), "std::runtime_error");
  EXPECT_EQ(IntAttr(s, "http.response.status_code"), 500);
  size_t ev = 0;
  ASSERT_NE(otelweb::testing::EventNamed(s, "exception", &ev), nullptr);
}

TEST(HttplibServer, UserExceptionHandlerStillDecidesTheResponse) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/throw", [](const ::httplib::Request&, ::httplib::Response&) {
    throw std::logic_error("bad");
  });
  app.set_exception_handler(
      [](const ::httplib::Request&, ::httplib::Response& res, std::exception_ptr) {
        res.status = 503;
        res.set_content("sorry", "text/plain");
      });
  Running run(app);
  auto r = run.Client().Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "sorry");
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(spans[0], "error.type"), "std::logic_error");
  EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 503);
}

TEST(HttplibServer, ServerErrorStatusWithoutException) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/unavailable", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.status = 503;
  });
  Running run(app);
  EXPECT_EQ(run.Client().Get("/unavailable")->status, 503);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(spans[0], "error.type"), "503");
  EXPECT_EQ(spans[0]->event_count(), 0u);
}

TEST(HttplibServer, ExcludedUrlsFromTheArgument) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.excluded_urls = "/health, /metrics$";
  TracedServer app(o);
  app.Get("/health", Hello);
  app.Get("/metrics", Hello);
  app.Get("/metrics2", Hello);
  app.Get("/users", Hello);
  Running run(app);
  auto cli = run.Client();
  for (const char* p : {"/health", "/metrics", "/metrics2", "/users"}) {
    EXPECT_EQ(cli.Get(p)->status, 200) << p;
  }
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name(), "GET /metrics2");
  EXPECT_EQ(spans[1]->name(), "GET /users");
}

TEST(HttplibServer, ExcludedUrlsMatchTheFullUrlOrThePathOnly) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.excluded_urls = R"(^http://127\.0\.0\.1:\d+/$)";
  TracedServer app(o);
  app.Get("/", Hello);
  app.Get("/a", Hello);
  Running run(app);
  auto cli = run.Client();
  cli.Get("/");
  cli.Get("/a");
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "GET /a");
  // Path only: "^/$" excludes the root and nothing else.
  o.excluded_urls = "^/$";
  o.exclude_by_path = true;
  app.Instrument(o);
  t.store->Reset();
  cli.Get("/");
  cli.Get("/a");
  spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "GET /a");
}

TEST(HttplibServer, ExcludedUrlsFromEnvironmentWithPrecedence) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.excluded_urls.reset();
  {
    EnvVar generic("OTEL_CPP_EXCLUDED_URLS", "/generic");
    TracedServer app(o);
    app.Get("/generic", Hello);
    app.Get("/specific", Hello);
    Running run(app);
    auto cli = run.Client();
    cli.Get("/generic");
    cli.Get("/specific");
    auto spans = t.Exactly(1);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0]->name(), "GET /specific");
    t.store->Reset();
    // The framework's own variable wins over the generic one.
    EnvVar specific("OTEL_CPP_HTTPLIB_EXCLUDED_URLS", "/specific");
    app.Instrument(o);
    cli.Get("/generic");
    cli.Get("/specific");
    spans = t.Exactly(1);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0]->name(), "GET /generic");
  }
}

TEST(HttplibServer, TrailingCommaAndInvalidRegexDoNotExcludeEverything) {
  DiagnosticsCapture diag;
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.excluded_urls = "/health,,([unclosed, ";
  TracedServer app(o);
  app.Get("/health", Hello);
  app.Get("/users", Hello);
  Running run(app);
  auto cli = run.Client();
  cli.Get("/health");
  cli.Get("/users");
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "GET /users");
  EXPECT_GE(diag.Count("([unclosed"), 1u);
}

TEST(HttplibServer, HeaderCaptureAndRedaction) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.capture_request_headers = std::vector<std::string>{"x-.*", "Authorization", "cookie", ".*addr.*"};
  o.capture_response_headers = std::vector<std::string>{"X-Resp", "set-cookie"};
  o.sanitize_fields = std::vector<std::string>{"secret"};
  TracedServer app(o);
  app.Get("/h", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_header("X-Resp", "r1");
    res.set_header("Set-Cookie", "session=abc");
    res.set_content("ok", "text/plain");
  });
  Running run(app);
  auto r = run.Client().Get("/h", {{"X-Custom", "1"},
                                   {"X-Custom", "2"},
                                   {"X-My-Secret", "hunter2"},
                                   {"Authorization", "Bearer t"},
                                   {"Cookie", "a=b"},
                                   {"Accept", "text/plain"}});
  ASSERT_TRUE(r);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(ArrAttr(s, "http.request.header.x-custom"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(ArrAttr(s, "http.request.header.x-my-secret"),
            (std::vector<std::string>{"[REDACTED]"}));
  EXPECT_EQ(ArrAttr(s, "http.request.header.authorization"),
            (std::vector<std::string>{"[REDACTED]"}));
  EXPECT_EQ(ArrAttr(s, "http.request.header.cookie"), (std::vector<std::string>{"[REDACTED]"}));
  EXPECT_FALSE(HasAttr(s, "http.request.header.accept"));
  // cpp-httplib's pseudo-headers (REMOTE_ADDR...) are not real headers.
  EXPECT_FALSE(HasAttr(s, "http.request.header.remote_addr"));
  EXPECT_FALSE(HasAttr(s, "http.request.header.local_addr"));
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-resp"), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(ArrAttr(s, "http.response.header.set-cookie"),
            (std::vector<std::string>{"[REDACTED]"}));
}

TEST(HttplibServer, HeaderCaptureFromEnvironment) {
  EnvVar req("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", "x-tenant, x-token");
  EnvVar res("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE", "content-type");
  EnvVar san("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS", ".*token.*");
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.capture_request_headers.reset();
  o.capture_response_headers.reset();
  o.sanitize_fields.reset();
  TracedServer app(o);
  app.Get("/h", Hello);
  Running run(app);
  ASSERT_TRUE(run.Client().Get("/h", {{"X-Tenant", "acme"}, {"X-Token", "t0k"}}));
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-tenant"), (std::vector<std::string>{"acme"}));
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-token"),
            (std::vector<std::string>{"[REDACTED]"}));
  EXPECT_EQ(ArrAttr(spans[0], "http.response.header.content-type"),
            (std::vector<std::string>{"text/plain"}));
}

TEST(HttplibServer, SecretQueryParametersAreRedacted) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.secret_query_params = {"token"};
  TracedServer app(o);
  app.Get("/q", Hello);
  Running run(app);
  ASSERT_TRUE(run.Client().Get("/q?sig=abc&color=blue&token=zzz&Signature=s&Sig%6Eature=e"));
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(StrAttr(spans[0], "url.query"),
            "sig=REDACTED&color=blue&token=REDACTED&Signature=REDACTED&Sig%6Eature=REDACTED");
}

TEST(HttplibServer, HooksRunAndThrowingHooksAreReportedOnce) {
  DiagnosticsCapture diag;
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.request_hook = [](SpanRef span, const ::httplib::Request& req) {
    span.SetAttribute("hook.path", req.path);
    if (req.path == "/bad") throw std::runtime_error("request hook failure");
  };
  o.response_hook = [](SpanRef span, const ::httplib::Request& req, const ::httplib::Response& res) {
    span.SetAttribute("hook.status", res.status);
    if (req.path == "/bad") throw std::runtime_error("response hook failure");
  };
  TracedServer app(o);
  app.Get("/good", Hello);
  app.Get("/bad", Hello);
  Running run(app);
  auto cli = run.Client();
  EXPECT_EQ(cli.Get("/good")->status, 200);
  EXPECT_EQ(cli.Get("/bad")->status, 200);
  EXPECT_EQ(cli.Get("/bad")->status, 200);
  auto spans = t.Exactly(3);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(StrAttr(spans[0], "hook.path"), "/good");
  EXPECT_EQ(IntAttr(spans[0], "hook.status"), 200);
  EXPECT_EQ(StrAttr(spans[1], "hook.path"), "/bad");
  EXPECT_EQ(IntAttr(spans[2], "hook.status"), 200);
  EXPECT_EQ(diag.Count("hook threw"), 1u);
}

TEST(HttplibServer, TraceparentIsExtractedAndTheSpanIsCurrentInHandlers) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  Tracer inner = t.provider->GetTracer("test.inner");
  std::string seen_in_handler;
  app.set_pre_routing_handler([](const ::httplib::Request&, ::httplib::Response&) {
    GetCurrentSpan().SetAttribute("user.id", "u-7");
    return ::httplib::Server::HandlerResponse::Unhandled;
  });
  std::atomic<int> user_logger_calls{0};
  app.set_logger([&](const ::httplib::Request&, const ::httplib::Response&) {
    GetCurrentSpan().SetAttribute("logged", true);
    ++user_logger_calls;
  });
  app.Get("/work", [&](const ::httplib::Request&, ::httplib::Response& res) {
    seen_in_handler = GetCurrentSpan().GetContext().span_id().ToHex();
    auto child = inner.StartSpan("db query");
    child.End();
    res.set_content(Context::Current().baggage().Get("tenant").empty() ? "no" : "yes", "text/plain");
  });
  Running run(app);
  auto r = run.Client().Get(
      "/work", {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                {"baggage", "tenant=acme"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "yes");
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  const SpanData* server = spans[0];  // started first
  const SpanData* child = spans[1];
  EXPECT_EQ(server->name(), "GET /work");
  EXPECT_EQ(server->trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(server->parent_span_id().ToHex(), "b7ad6b7169203331");
  EXPECT_TRUE(server->parent_is_remote());
  EXPECT_EQ(server->span_id().ToHex(), seen_in_handler);
  EXPECT_EQ(StrAttr(server, "user.id"), "u-7");
  AttributeView logged;
  EXPECT_TRUE(server->FindAttribute("logged", &logged));
  EXPECT_EQ(user_logger_calls.load(), 1);
  EXPECT_EQ(child->parent_span_id(), server->span_id());
  EXPECT_EQ(child->trace_id(), server->trace_id());
}

TEST(HttplibServer, UninstrumentIsPassThroughAndInstrumentComesBack) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/a", Hello);
  Running run(app);
  auto cli = run.Client();
  app.Uninstrument();
  EXPECT_FALSE(app.IsInstrumented());
  auto r = cli.Get("/a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(t.Exactly(0).size(), 0u);
  app.Instrument(Opts(t));
  EXPECT_TRUE(app.IsInstrumented());
  cli.Get("/a");
  EXPECT_EQ(t.Exactly(1).size(), 1u);
}

TEST(HttplibServer, PlainServerInstrumentDoubleInstrumentAndUninstrument) {
  MemoryTracing t;
  ::httplib::Server svr;
  otelweb::httplib::Get(svr, "/users/:id", Hello);
  svr.Get("/raw", Hello);  // registered without our helpers: no route known
  svr.Get("/wrapped", Route("/wrapped", Hello));
  std::atomic<int> user_pre{0};
  SetPreRoutingHandler(svr, [&](const ::httplib::Request&, ::httplib::Response&) {
    ++user_pre;
    return ::httplib::Server::HandlerResponse::Unhandled;
  });
  Instrument(svr, Opts(t));
  ServerOptions second = Opts(t);
  second.excluded_urls = "/raw";
  Instrument(svr, second);  // double instrumentation: one span, the newest options
  EXPECT_TRUE(IsInstrumented(svr));
  Running run(svr);
  auto cli = run.Client();
  EXPECT_EQ(cli.Get("/users/5")->status, 200);
  EXPECT_EQ(cli.Get("/raw")->status, 200);
  EXPECT_EQ(cli.Get("/wrapped")->status, 200);
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name(), "GET /users/:id");
  EXPECT_EQ(spans[1]->name(), "GET /wrapped");
  EXPECT_EQ(user_pre.load(), 3);
  Uninstrument(svr);
  EXPECT_FALSE(IsInstrumented(svr));
  t.store->Reset();
  EXPECT_EQ(cli.Get("/users/5")->status, 200);
  EXPECT_EQ(t.Exactly(0).size(), 0u);
  EXPECT_EQ(user_pre.load(), 4);
}

// The user's callbacks are replaced while workers are calling them (a data
// race before they became published snapshots: under TSan a report, without it
// calls through a std::function being overwritten).
TEST(HttplibServer, ConcurrentCallbackChangesWhileServing) {
  MemoryTracing t;
  ::httplib::Server plain;
  otelweb::httplib::Get(plain, "/p", Hello);
  Instrument(plain, Opts(t));
  TracedServer traced(Opts(t));
  traced.Get("/p", Hello);
  std::atomic<int> broken{0};
  std::atomic<int> calls{0};
  // Each callback checks its own (heap-allocated) capture.
  auto make_pre = [&](int n) {
    std::string tag(64, char('a' + n % 26));
    return [&, tag](const ::httplib::Request&, ::httplib::Response&) {
      if (tag.size() != 64 || tag.find_first_not_of(tag[0]) != std::string::npos) ++broken;
      ++calls;
      return ::httplib::Server::HandlerResponse::Unhandled;
    };
  };
  auto make_logger = [&](int n) {
    std::string tag(64, char('a' + n % 26));
    return [&, tag](const ::httplib::Request&, const ::httplib::Response&) {
      if (tag.size() != 64 || tag.find_first_not_of(tag[0]) != std::string::npos) ++broken;
      ++calls;
    };
  };
  Running run_plain(plain);
  Running run_traced(traced);
  // One request first, from this thread: cpp-httplib's function-local static
  // regexes are then initialized before the client threads start (the library
  // is not built with TSan, which would not see their initialization guard).
  ASSERT_TRUE(run_plain.Client().Get("/p"));
  ASSERT_TRUE(run_traced.Client().Get("/p"));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      auto cli = (i % 2 == 0 ? run_plain : run_traced).Client();
      cli.set_keep_alive(true);
      while (!stop.load()) {
        auto r = cli.Get("/p");
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (int n = 0; n < 400; ++n) {
    SetPreRoutingHandler(plain, make_pre(n));
    SetLogger(plain, make_logger(n));
    traced.set_pre_routing_handler(make_pre(n));
    traced.set_logger(make_logger(n));
    Instrument(plain, Opts(t));  // re-instrumenting while serving is allowed too
    if (n % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ok.load() < 40 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(broken.load(), 0);
  EXPECT_GT(calls.load(), 0);
  EXPECT_TRUE(t.WaitFor(size_t(ok.load())));
}

// Plain servers are found by address: one constructed where a destroyed one
// lived must not inherit its state (callbacks with dangling captures), and
// the registry must not keep entries of dead servers.
TEST(HttplibServer, ServerAtADeadServersAddressStartsClean) {
  MemoryTracing t;
  alignas(::httplib::Server) unsigned char storage[sizeof(::httplib::Server)];
  const size_t before = detail::RegisteredServerCount();
  std::atomic<int> current{-1};
  std::atomic<int> stale_calls{0};
  std::atomic<int> own_calls{0};
  for (int i = 0; i < 6; ++i) {
    auto* svr = new (storage)::httplib::Server;  // always the same address
    current = i;
    EXPECT_FALSE(IsInstrumented(*svr)) << i;
    if (i % 2 == 0) {
      auto alive = std::make_shared<int>(i);  // a capture that dies with the server
      SetLogger(*svr, [&, alive](const ::httplib::Request&, const ::httplib::Response&) {
        (*alive == current.load() ? own_calls : stale_calls)++;
      });
      SetPreRoutingHandler(*svr, [&, alive](const ::httplib::Request&, ::httplib::Response&) {
        (*alive == current.load() ? own_calls : stale_calls)++;
        return ::httplib::Server::HandlerResponse::Unhandled;
      });
    }
    Instrument(*svr, Opts(t));
    otelweb::httplib::Get(*svr, "/r", Hello);
    {
      Running run(*svr);
      auto r = run.Client().Get("/r");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
      ASSERT_TRUE(t.WaitFor(size_t(i + 1)));
    }
    EXPECT_EQ(detail::RegisteredServerCount(), before + 1);
    svr->~Server();
    EXPECT_EQ(detail::RegisteredServerCount(), before) << i;
  }
  EXPECT_EQ(stale_calls.load(), 0);
  EXPECT_EQ(own_calls.load(), 3 * 2);
  EXPECT_EQ(t.Exactly(6).size(), 6u);
}

// cpp-httplib 0.11.4 has no getters: a later set_logger / set_pre_routing_handler
// on the httplib::Server silently replaced ours. Now each case is reported once.
TEST(HttplibServer, ReplacedHooksAreReportedOnce) {
  MemoryTracing t;
  DiagnosticsCapture diag;
  {
    ::httplib::Server svr;
    otelweb::httplib::Get(svr, "/a", Hello);
    Instrument(svr, Opts(t));
    std::atomic<int> theirs{0};
    svr.set_logger([&](const ::httplib::Request&, const ::httplib::Response&) { ++theirs; });
    Running run(svr);
    auto cli = run.Client();
    cli.set_keep_alive(true);  // one connection: one worker thread
    for (int i = 0; i < 4; ++i) ASSERT_EQ(cli.Get("/a")->status, 200);
    EXPECT_EQ(theirs.load(), 4);
    EXPECT_EQ(diag.Count("was replaced with httplib::Server::set_logger"), 1u);
    EXPECT_EQ(diag.Count("not its pre-routing"), 0u);
  }
  {
    ::httplib::Server svr;
    otelweb::httplib::Get(svr, "/a", Hello);
    Instrument(svr, Opts(t));
    std::atomic<int> theirs{0};
    svr.set_pre_routing_handler([&](const ::httplib::Request&, ::httplib::Response&) {
      ++theirs;
      return ::httplib::Server::HandlerResponse::Unhandled;
    });
    Running run(svr);
    t.store->Reset();
    auto cli = run.Client();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(cli.Get("/a")->status, 200);
    // A real rejection is still recorded as one.
    EXPECT_NE(RawRequest(run.port(), "GARBAGE\r\n\r\n").find(" 400 "), std::string::npos);
    EXPECT_EQ(theirs.load(), 3);
    auto spans = t.Exactly(1);
    ASSERT_EQ(spans.size(), 1u);  // no zero-length spans for the three requests
    EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 400);
    EXPECT_EQ(diag.Count("not its pre-routing"), 1u);
  }
  // Chained through our helpers: no warning.
  {
    ::httplib::Server svr;
    otelweb::httplib::Get(svr, "/a", Hello);
    Instrument(svr, Opts(t));
    SetLogger(svr, [](const ::httplib::Request&, const ::httplib::Response&) {});
    SetPreRoutingHandler(svr, [](const ::httplib::Request&, ::httplib::Response&) {
      return ::httplib::Server::HandlerResponse::Unhandled;
    });
    Running run(svr);
    auto cli = run.Client();
    cli.set_keep_alive(true);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(cli.Get("/a")->status, 200);
    EXPECT_EQ(diag.Count("not its pre-routing") + diag.Count("was replaced with httplib::Server::set_logger"),
              2u);  // only the two above
  }
}

TEST(HttplibServer, KeepAliveRequestsEachGetTheirOwnSpan) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/k/:n", Hello);
  app.set_keep_alive_max_count(100);
  Running run(app);
  auto cli = run.Client();
  cli.set_keep_alive(true);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(cli.Get("/k/" + std::to_string(i))->status, 200);
  auto spans = t.Exactly(10);
  ASSERT_EQ(spans.size(), 10u);
  std::set<std::string> ids;
  std::set<int64_t> peer_ports;
  for (const SpanData* s : spans) {
    EXPECT_EQ(s->name(), "GET /k/:n");
    ids.insert(s->span_id().ToHex());
    peer_ports.insert(IntAttr(s, "network.peer.port"));
    EXPECT_FALSE(s->parent_span_id().IsValid());  // no leak from the previous request
  }
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(peer_ports.size(), 1u);  // one connection
}

TEST(HttplibServer, ManyConcurrentClients) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  std::atomic<int> mismatches{0};
  app.Get("/c/:n", [&](const ::httplib::Request& req, ::httplib::Response& res) {
    // The current span must be this request's: its trace id came in the header.
    std::string tp = req.get_header_value("traceparent");
    if (tp.substr(3, 32) != GetCurrentSpan().GetContext().trace_id().ToHex()) ++mismatches;
    res.set_content(req.matches[1].str(), "text/plain");
  });
  Running run(app);
  // Warm-up (see ConcurrentCallbackChangesWhileServing), not counted below.
  ASSERT_TRUE(run.Client().Get("/warm-up"));
  ASSERT_TRUE(t.WaitFor(1));
  t.store->Reset();
  constexpr int kThreads = 12;
  constexpr int kPerThread = 15;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      auto cli = run.Client();
      cli.set_keep_alive(th % 2 == 0);
      for (int i = 0; i < kPerThread; ++i) {
        char tp[64];
        snprintf(tp, sizeof(tp), "00-%016x%016x-00f067aa0ba902b7-01", th + 1, i + 1);
        auto r = cli.Get("/c/" + std::to_string(i), {{"traceparent", tp}});
        if (r && r->status == 200 && r->body == std::to_string(i)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  auto spans = t.Exactly(kThreads * kPerThread);
  ASSERT_EQ(spans.size(), size_t(kThreads * kPerThread));
  std::set<std::string> traces;
  for (const SpanData* s : spans) {
    EXPECT_EQ(s->name(), "GET /c/:n");
    traces.insert(s->trace_id().ToHex());
  }
  EXPECT_EQ(traces.size(), size_t(kThreads * kPerThread));
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(HttplibServer, StreamingSpanCoversTheBody) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/stream", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](size_t offset, ::httplib::DataSink& sink) {
      if (offset >= 50) {
        sink.done();
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      sink.write("0123456789", 10);
      return true;
    });
  });
  Running run(app);
  auto r = run.Client().Get("/stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), 50u);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_GE(spans[0]->end_ns() - spans[0]->start_ns(), 150'000'000);
  EXPECT_EQ(spans[0]->status(), StatusCode::kUnset);
  EXPECT_EQ(spans[0]->name(), "GET /stream");
}

TEST(HttplibServer, AbortedStreamingEndsTheSpanWithAnError) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/endless", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](size_t, ::httplib::DataSink& sink) {
      std::string chunk(16384, 'x');
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return sink.write(chunk.data(), chunk.size());
    });
  });
  Running run(app);
  auto cli = run.Client();
  size_t received = 0;
  auto r = cli.Get("/endless", [&](const char*, size_t n) {
    received += n;
    return received < 100000;  // the client gives up
  });
  EXPECT_FALSE(r);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(spans[0], "error.type"), "response_aborted");
  EXPECT_GT(spans[0]->end_ns(), spans[0]->start_ns());
}

TEST(HttplibServer, GlobalProviderIsPickedUpEvenWhenInstalledAfterTheServer) {
  MemoryTracing t(otelweb::testing::MemoryTracingOptions{.set_global = false});
  ServerOptions o = Opts(t);
  o.tracer_provider = nullptr;  // use the global one
  TracedServer app(o);          // built before any provider is installed
  app.Get("/g", Hello);
  Running run(app);
  auto cli = run.Client();
  ASSERT_TRUE(cli.Get("/g"));  // global is the no-op provider: nothing recorded
  SetTracerProvider(t.provider);
  ASSERT_TRUE(cli.Get("/g"));
  SetTracerProvider(nullptr);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "GET /g");
}

// The instrumenter kept the first real global provider it saw: after the
// TracingHandle was destroyed and InstallTracing ran again, spans went to the
// old, shut-down provider (silently lost).
TEST(HttplibServer, ReinstalledGlobalTracingIsPickedUp) {
  ServerOptions o;
  o.excluded_urls = "";
  TracedServer app(o);  // the global provider and propagator
  app.Get("/g", Hello);
  Running run(app);
  auto cli = run.Client();
  otelweb::testing::InstalledMemoryTracing first;
  ASSERT_TRUE(cli.Get("/g"));
  first.WaitFor(1, std::chrono::seconds(1));
  first.Drop();
  EXPECT_EQ(first.store->size(), 1u);
  otelweb::testing::InstalledMemoryTracing second;
  ASSERT_TRUE(
      cli.Get("/g", {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}));
  second.WaitFor(1, std::chrono::seconds(1));
  second.Shutdown();
  ASSERT_EQ(second.store->size(), 1u);
  EXPECT_EQ(first.store->size(), 1u);
  const SpanData* s = second.store->spans()[0];
  EXPECT_EQ(s->name(), "GET /g");
  EXPECT_EQ(s->scope().name, "otelweb.httplib.server");
  EXPECT_EQ(s->trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(s->parent_span_id().ToHex(), "00f067aa0ba902b7");
}

TEST(HttplibServer, SampledOutRequestsStillRunHooksAndHandlers) {
  auto store = std::make_shared<InMemorySpanStore>();
  TracerProviderOptions po;
  po.sampler = AlwaysOffSampler();
  po.processors.push_back(
      std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
  auto provider = std::make_shared<TracerProvider>(std::move(po));
  ServerOptions o;
  o.tracer_provider = provider;
  o.excluded_urls = "";
  o.capture_request_headers = std::vector<std::string>{".*"};
  std::atomic<int> hooks{0};
  std::atomic<bool> recording{true};
  o.request_hook = [&](SpanRef span, const ::httplib::Request&) {
    ++hooks;
    recording = span.IsRecording();
  };
  o.response_hook = [&](SpanRef, const ::httplib::Request&, const ::httplib::Response&) { ++hooks; };
  TracedServer app(o);
  app.Get("/s/:id", Hello);
  Running run(app);
  auto r = run.Client().Get("/s/1", {{"X-A", "b"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
  // The response hook runs in the logger, after the body is written: the
  // client can read the body first. Wait for it (bounded), then a little more
  // for anything the span's end would export.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hooks.load() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(hooks.load(), 2);
  EXPECT_FALSE(recording.load());
  EXPECT_EQ(store->size(), 0u);
}

TEST(HttplibServer, PatternTranslation) {
  if (detail::TranslatePattern("/a/:b") == "/a/:b") GTEST_SKIP() << "native path params";
  EXPECT_EQ(detail::TranslatePattern("/users/:id"), "/users/([^/]+)");
  EXPECT_EQ(detail::TranslatePattern("/users/:id/orders/:order_id"),
            "/users/([^/]+)/orders/([^/]+)");
  EXPECT_EQ(detail::TranslatePattern(R"(/plain/(\d+))"), R"(/plain/(\d+))");
  EXPECT_EQ(detail::TranslatePattern("/a/:x.json"), "/a/:x.json");  // not a whole segment
}

// Issue 12 §2: about 120 captured headers used to fill the 128-attribute limit
// before http.route, http.response.status_code and error.type were set, so a
// failing request lost its error on dashboards. Captured headers are capped
// and leave room (HeaderLimits); attributes the handler sets can still fill
// the span, and the instrumentation's own attributes then displace them.
TEST(HttplibServer, CapturedHeadersAndHandlerAttributesNeverDisplaceRouteStatusOrErrorType) {
  MemoryTracing t;
  ServerOptions o = Opts(t);
  o.capture_request_headers = std::vector<std::string>{"x-h.*"};
  TracedServer app(o);
  app.Get("/fail/:id", [](const ::httplib::Request&, ::httplib::Response&) {
    SpanRef span = GetCurrentSpan();
    for (int i = 0; i < 200; ++i) span.SetAttribute("app.attr" + std::to_string(i), int64_t{i});
    throw std::runtime_error("handler failed");
  });
  Running run(app);
  auto cli = run.Client();
  ::httplib::Headers many;
  for (int i = 0; i < 200; ++i) many.emplace("X-H" + std::to_string(i), "v");
  auto r = cli.Get("/fail/7", many);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(s->attribute_count(), 128u);
  EXPECT_GT(s->dropped_attributes(), 0u);
  EXPECT_EQ(StrAttr(s, "http.route"), "/fail/:id");
  EXPECT_EQ(IntAttr(s, "http.response.status_code"), 500);
  EXPECT_EQ(StrAttr(s, "error.type"), "std::runtime_error");
  EXPECT_EQ(StrAttr(s, "http.request.method"), "GET");
  EXPECT_EQ(s->status(), StatusCode::kError);
}

}  // namespace
}  // namespace otelweb::httplib
