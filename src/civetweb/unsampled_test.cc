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
#include "support/unsampled_request.h"

namespace otelweb::civetweb {
namespace {

using testing::SeenInHandler;

int Handler(mg_connection* conn, void* cbdata) {
  static_cast<SeenInHandler*>(cbdata)->Record();
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
  SeenInHandler seen;
  tracing.SetRequestHandler(ctx, "/x", Handler, &seen);
  const std::string r = testing::RawRequest(ports[0].port, testing::kUnsampledGet, true);
  mg_stop(ctx);
  testing::ExpectTheUnsampledContextWasSeen(seen, r, t);
}

}  // namespace
}  // namespace otelweb::civetweb
