// The hostile-request suite for civetweb (issue 12 §1, §2; the model is
// src/httplib/hostile_requests_test.cc): each kind of request an internet
// client can send goes over a real socket to an instrumented civetweb, and
// its cost (process CPU) and span size are compared with a same-size benign
// request (inert x-pad headers) in the same run. civetweb parses the request
// itself, so this measures its parsing plus otelweb's shared http::ServerSpan
// on what civetweb hands over. Kept to a few seconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "otelweb/civetweb/server.h"
#include "otelweb/testing/installed_tracing.h"
#include "support/hostile_requests.h"
#include "support/http_test_support.h"

namespace otelweb::civetweb {
namespace {

using namespace otelweb::testing;  // NOLINT(build/namespaces)
using namespace otelweb::testing::hostile;  // NOLINT(build/namespaces)

int Ok(mg_connection* conn, void*) {
  mg_send_http_ok(conn, "text/plain", 2);
  mg_write(conn, "ok", 2);
  return 200;
}

class CivetwebHostile : public ::testing::Test {
 protected:
  CivetwebHostile() : tracing_(Options()), probe_(t_, [this](const std::string& r) { return Send(r); }) {
    mg_init_library(0);
    // Room for 128 KiB requests (civetweb's default is 16 KiB), so that
    // what reaches the instrumentation is large.
    const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "2", "max_request_size", "131072",
                             nullptr};
    ctx_ = tracing_.Start(nullptr, nullptr, options);
    if (ctx_ != nullptr) {
      mg_server_port ports[2];
      if (mg_get_server_ports(ctx_, 2, ports) > 0) port_ = ports[0].port;
      tracing_.SetRequestHandler(ctx_, "/r", Ok, nullptr);
    }
  }
  ~CivetwebHostile() override {
    if (ctx_ != nullptr) mg_stop(ctx_);
  }

  ServerOptions Options() {
    ServerOptions o;
    o.tracer_provider = t_.provider;
    o.excluded_urls = "/health$,^/static/.*\\.js$";
    o.capture_request_headers = std::vector<std::string>{"x-tenant", "x-(a+)+y"};
    o.capture_response_headers = std::vector<std::string>{};
    o.sanitize_fields = std::vector<std::string>{};
    return o;
  }
  std::string Send(const std::string& request) { return RawRequest(port_, request, true); }

  MemoryTracing t_;
  Instrumentation tracing_;
  Probe probe_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

TEST_F(CivetwebHostile, LongUrlsQueryFloodsAndEncodings) {
  ASSERT_GT(port_, 0);
  probe_.ExpectBounded("long path", Get("/r/" + std::string(7000, 'p'), ""), "/r", 3 * 7100);
  std::string query = "/r?" + List([](int i) { return "a" + std::to_string(i) + "=1"; }, 7000, '&');
  probe_.ExpectBounded("many query parameters", Get(query, ""), "/r", 3 * 7100);
  std::string secrets = "/r?" + List([](int) { return std::string("token=abcdef"); }, 7000, '&');
  probe_.ExpectBounded("secret parameter flood", Get(secrets, ""), "/r", 3 * 7100);
  std::string enc = "/r?" + List([](int) { return std::string("%74%6f%6b%65%6e=%41%42"); }, 7000, '&');
  probe_.ExpectBounded("encoded secret names", Get(enc, ""), "/r", 3 * 7100);
  probe_.ExpectBounded("broken escapes", Get("/r?" + std::string(3500, '%') + std::string(3500, 'z'), ""), "/r",
                       3 * 7100);
  std::string dots = "/r";
  while (dots.size() < 7000) dots += "/../.";
  probe_.ExpectBounded("dot segments", Get(dots, ""), "/r", 3 * 7100);
  probe_.ExpectBounded("long excluded-looking path", Get("/static/" + std::string(7000, 'a') + ".jsx", ""), "/r",
                       3 * 7100);
}

TEST_F(CivetwebHostile, ContextFloodsAndMalformedTraceparents) {
  ASSERT_GT(port_, 0);
  const std::string baggage = List([](int i) { return "k" + std::to_string(i) + "=v"; }, 4000);
  probe_.ExpectBounded("baggage flood", Get("/r", Lines("baggage", baggage, 64 * 1024)), "/r", 0);
  const std::string ts = List([](int i) { return "v" + std::to_string(i) + "=x"; }, 4000);
  probe_.ExpectBounded("tracestate flood",
                       Get("/r", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n" +
                                     Lines("tracestate", ts, 64 * 1024)),
                       "/r", 0);
  for (const std::string& tp : MalformedTraceparents()) {
    const size_t before = t_.spans().size();
    const std::string r = Send(Get("/r", "traceparent: " + tp + "\r\n"));
    EXPECT_NE(r.find(" 200 "), std::string::npos) << tp;
    ASSERT_TRUE(t_.WaitFor(before + 1)) << tp;
    EXPECT_FALSE(t_.spans()[before]->parent_span_id().IsValid()) << "'" << tp << "' was accepted as a parent";
  }
}

TEST_F(CivetwebHostile, ManyHeadersAndPathologicalHeaderNames) {
  ASSERT_GT(port_, 0);
  // civetweb keeps at most 64 headers (MG_MAX_HEADERS): the rest of a big
  // header block is its parser's cost; names that make "x-(a+)+y" backtrack
  // are matched by RE2 in linear time.
  std::string names;
  for (int i = 0; names.size() < 96 * 1024; ++i) names += "x-" + std::string(40, 'a') + std::to_string(i) + ": v\r\n";
  probe_.ExpectBounded("pathological header names", Get("/r", names), "/r", 0);
  probe_.ExpectBounded("one user agent, 60 times", Get("/r", Lines("User-Agent", std::string(1000, 'u'), 60 * 1024)),
                       "/r", 8 * 1024);
}

}  // namespace
}  // namespace otelweb::civetweb
