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
  ExpectUrlKindsBounded(probe_);
  probe_.ExpectBounded("long excluded-looking path", Get("/static/" + std::string(7000, 'a') + ".jsx", ""), "/r",
                       3 * 7100);
}

TEST_F(CivetwebHostile, ContextFloodsAndMalformedTraceparents) {
  ASSERT_GT(port_, 0);
  ExpectContextKindsBounded(probe_, t_, [this](const std::string& r) { return Send(r); });
}

TEST_F(CivetwebHostile, ManyHeadersAndPathologicalHeaderNames) {
  ASSERT_GT(port_, 0);
  // civetweb keeps at most 64 headers (MG_MAX_HEADERS): the rest of a big
  // header block is its parser's cost; names that make "x-(a+)+y" backtrack
  // are matched by RE2 in linear time.
  ExpectHeaderKindsBounded(probe_);
}

}  // namespace
}  // namespace otelweb::civetweb
