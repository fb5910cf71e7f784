// cpp-httplib keeps one pre-routing handler, post-routing handler and logger
// per server, with setters and no getters. Instrument() must neither drop the
// app's hooks set before it, nor leave spans open and status-less when the
// app replaces our logger after it: both orders, on real sockets.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "otelweb/diagnostics.h"
#include "otelweb/httplib/server.h"
#include "otelweb/testing/installed_tracing.h"
#include "support/http_test_support.h"
#include "support/running_server.h"

namespace otelweb::httplib {
namespace {

using namespace otelweb::testing;  // NOLINT(build/namespaces)
using Running = otelweb::testing::RunningServer;

ServerOptions Opts(const MemoryTracing& t) {
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  o.capture_request_headers = std::vector<std::string>{};
  o.capture_response_headers = std::vector<std::string>{};
  o.sanitize_fields = std::vector<std::string>{};
  return o;
}

void Routes(::httplib::Server& svr) {
  otelweb::httplib::Get(svr, "/ok", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  otelweb::httplib::Get(svr, "/boom", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.status = 503;
  });
}

constexpr const char* kReplaced = "was replaced with httplib::Server::set_logger";

TEST(HttplibHookOrder, HooksSetBeforeInstrumentAreChainedNotDropped) {
  MemoryTracing t;
  DiagnosticsCapture diag(LogLevel::kWarning);
  ::httplib::Server svr;
  Routes(svr);
  std::atomic<int> pre{0}, post{0}, logged{0};
  std::atomic<bool> span_seen_in_logger{true};
  svr.set_pre_routing_handler([&](const ::httplib::Request&, ::httplib::Response&) {
    ++pre;
    return ::httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_post_routing_handler([&](const ::httplib::Request&, ::httplib::Response& res) {
    ++post;
    res.set_header("X-App", "1");
  });
  svr.set_logger([&](const ::httplib::Request&, const ::httplib::Response&) {
    // Chained: runs while the request's span is still open and current.
    if (!GetCurrentSpan().IsRecording()) span_seen_in_logger = false;
    ++logged;
  });
  Instrument(svr, Opts(t));
  Running run(svr);
  auto cli = run.Client();
  auto r1 = cli.Get("/ok");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->get_header_value("X-App"), "1");
  ASSERT_EQ(cli.Get("/boom")->status, 503);
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 200);
  EXPECT_EQ(IntAttr(spans[1], "http.response.status_code"), 503);
  EXPECT_EQ(spans[1]->status(), StatusCode::kError);
  EXPECT_EQ(pre.load(), 2);
  EXPECT_EQ(post.load(), 2);
  EXPECT_EQ(logged.load(), 2);
  EXPECT_TRUE(span_seen_in_logger.load());
  EXPECT_EQ(diag.size(), 0u) << diag.text();
}

TEST(HttplibHookOrder, LoggerReplacedAfterInstrumentIsReportedAtTheFirstRequestAndSpansKeepTheirStatus) {
  MemoryTracing t;
  DiagnosticsCapture diag(LogLevel::kWarning);
  ::httplib::Server svr;
  Routes(svr);
  Instrument(svr, Opts(t));
  std::atomic<int> theirs{0};
  svr.set_logger([&](const ::httplib::Request&, const ::httplib::Response&) { ++theirs; });
  Running run(svr);
  auto cli = run.Client();
  cli.set_keep_alive(true);  // one connection, one worker thread
  ASSERT_EQ(cli.Get("/ok")->status, 200);
  // Said at the first request, and that request's span already ended (not at
  // the next request on the thread).
  auto first = t.Exactly(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(IntAttr(first[0], "http.response.status_code"), 200);
  EXPECT_EQ(diag.Count(kReplaced), 1u) << diag.text();
  ASSERT_EQ(cli.Get("/boom")->status, 503);
  ASSERT_EQ(cli.Get("/ok")->status, 200);
  auto spans = t.Exactly(3);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(IntAttr(spans[1], "http.response.status_code"), 503);
  EXPECT_EQ(spans[1]->status(), StatusCode::kError);
  EXPECT_EQ(spans[1]->name(), "GET /boom");
  EXPECT_EQ(IntAttr(spans[2], "http.response.status_code"), 200);
  EXPECT_EQ(theirs.load(), 3);
  // One warning in all: no scope or late-end complaints.
  EXPECT_EQ(diag.size(), 1u) << diag.text();
}

TEST(HttplibHookOrder, TracedServerLoggerReplacedThroughTheBaseClass) {
  MemoryTracing t;
  DiagnosticsCapture diag(LogLevel::kWarning);
  TracedServer app(Opts(t));
  app.Get("/ok", [](const ::httplib::Request&, ::httplib::Response& res) { res.set_content("ok", "text/plain"); });
  std::atomic<int> theirs{0};
  static_cast<::httplib::Server&>(app).set_logger(
      [&](const ::httplib::Request&, const ::httplib::Response&) { ++theirs; });
  Running run(app);
  auto cli = run.Client();
  ASSERT_EQ(cli.Get("/ok")->status, 200);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(IntAttr(spans[0], "http.response.status_code"), 200);
  EXPECT_EQ(theirs.load(), 1);
  EXPECT_EQ(diag.Count(kReplaced), 1u) << diag.text();
}

TEST(HttplibHookOrder, OurSettersChainInEitherOrderWithoutWarnings) {
  MemoryTracing t;
  DiagnosticsCapture diag(LogLevel::kWarning);
  ::httplib::Server svr;
  Routes(svr);
  std::atomic<int> post{0}, logged{0};
  SetPostRoutingHandler(svr, [&](const ::httplib::Request&, ::httplib::Response&) { ++post; });
  Instrument(svr, Opts(t));
  SetLogger(svr, [&](const ::httplib::Request&, const ::httplib::Response&) { ++logged; });
  Running run(svr);
  auto cli = run.Client();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(cli.Get("/ok")->status, 200);
  EXPECT_EQ(t.Exactly(3).size(), 3u);
  EXPECT_EQ(post.load(), 3);
  EXPECT_EQ(logged.load(), 3);
  EXPECT_EQ(diag.size(), 0u) << diag.text();
}

}  // namespace
}  // namespace otelweb::httplib
