// An unsampled request (traceparent ...-00) on a real socket to civetweb:
// the handler's current span records nothing but carries the request's
// valid span context (log correlation reads it), as for cpp-httplib
// (src/httplib/unsampled_test.cc).
#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "otelweb/civetweb/server.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/memory_tracing.h"
#include "support/http_test_support.h"

namespace otelweb::civetweb {
namespace {

struct Seen {
  std::mutex mu;
  SpanContext ctx;
  bool recording = true;
};

int Handler(mg_connection* conn, void* cbdata) {
  auto* seen = static_cast<Seen*>(cbdata);
  {
    std::lock_guard<std::mutex> l(seen->mu);
    seen->ctx = GetCurrentSpan().GetContext();
    seen->recording = GetCurrentSpan().IsRecording();
  }
  mg_send_http_ok(conn, "text/plain", 2);
  mg_write(conn, "ok", 2);
  return 200;
}

TEST(CivetwebUnsampled, HandlerSeesTheNonRecordingSpansContext) {
  mg_init_library(0);
  testing::MemoryTracingOptions mo;
  mo.sampler = ParentBasedSampler(AlwaysOnSampler());
  testing::MemoryTracing t(mo);
  ServerOptions so;
  so.tracer_provider = t.provider;
  so.excluded_urls = "";
  Instrumentation tracing(so);
  const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "2", nullptr};
  mg_context* ctx = tracing.Start(nullptr, nullptr, options);
  ASSERT_NE(ctx, nullptr);
  mg_server_port ports[2];
  ASSERT_GT(mg_get_server_ports(ctx, 2, ports), 0);
  Seen seen;
  tracing.SetRequestHandler(ctx, "/x", Handler, &seen);
  const std::string r = testing::RawRequest(
      ports[0].port,
      "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n",
      true);
  mg_stop(ctx);
  EXPECT_NE(r.find(" 200 "), std::string::npos) << r;
  std::lock_guard<std::mutex> l(seen.mu);
  EXPECT_FALSE(seen.recording);
  ASSERT_TRUE(seen.ctx.IsValid());
  EXPECT_EQ(seen.ctx.trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_NE(seen.ctx.span_id().ToHex(), "b7ad6b7169203331");
  EXPECT_FALSE(seen.ctx.sampled());
  EXPECT_EQ(t.store->size(), 0u);
}

}  // namespace
}  // namespace otelweb::civetweb
