// civetweb gives header values as they were sent: the propagators and header
// capture see the raw bytes (issue 10, part 2), on a real socket.
#include "support/wire_values.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otelweb/civetweb/server.h"
#include "support/http_test_support.h"

namespace otelweb::civetweb {
namespace {

using namespace otelweb::testing;  // NOLINT(build/namespaces)

int AnswerReached(mg_connection* conn, void*) {
  std::string body = Reached();
  mg_send_http_ok(conn, "text/plain", static_cast<long long>(body.size()));
  mg_write(conn, body.data(), body.size());
  return 200;
}

struct Server {
  Instrumentation tracing;
  mg_context* ctx = nullptr;
  int port = 0;
  explicit Server(ServerOptions o) : tracing(std::move(o)) {
    const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "2", nullptr};
    ctx = tracing.Start(nullptr, nullptr, options);
    if (ctx != nullptr) {
      mg_server_port ports[2];
      if (mg_get_server_ports(ctx, 2, ports) > 0) port = ports[0].port;
    }
  }
  ~Server() {
    if (ctx != nullptr) mg_stop(ctx);
  }
};

TEST(CivetwebWireValues, PropagatorsAndCaptureSeeTheValuesAsSent) {
  mg_init_library(0);
  MemoryTracing t;
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  o.capture_request_headers = std::vector<std::string>{"x-.*"};
  o.capture_response_headers = std::vector<std::string>{};
  o.sanitize_fields = std::vector<std::string>{};
  Server s(o);
  ASSERT_NE(s.ctx, nullptr);
  s.tracing.SetRequestHandler(s.ctx, "/r", AnswerReached, nullptr);
  std::string r =
      RawRequest(s.port, WireValueRequest("/r", /*with_control=*/false), /*read_all=*/true);
  EXPECT_EQ(BodyOf(r), kReachedRaw) << r;
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* sp = spans[0];
  EXPECT_EQ(ArrAttr(sp, "http.request.header.x-enc"), (std::vector<std::string>{"a%0D%0Ab"}));
  EXPECT_EQ(ArrAttr(sp, "http.request.header.x-pct"), (std::vector<std::string>{"a%20b"}));
  // A control character sent raw (0x01, NUL, DEL): civetweb answers 400
  // before any callback, so nothing reaches the instrumentation.
  for (std::string line : {std::string("X-Ctl: a\x01"
                                       "b\r\n"),
                           std::string("X-Nul: a\0b\r\n", 12),
                           std::string("X-Del: a\x7f"
                                       "b\r\n")}) {
    std::string bad = RawRequest(
        s.port, "GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + line + "\r\n",
        true);
    EXPECT_NE(bad.find(" 400 "), std::string::npos) << bad;
  }
  // A percent-encoded traceparent is not valid as sent.
  std::string tp =
      RawRequest(s.port,
                 "GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                 "traceparent: 00-%30af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n",
                 true);
  EXPECT_EQ(BodyOf(tp), "trace=new ts= bg=") << tp;
  EXPECT_EQ(t.Exactly(2).size(), 2u);  // the 400s made no span
}

}  // namespace
}  // namespace otelweb::civetweb
