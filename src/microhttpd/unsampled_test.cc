// An unsampled request (traceparent ...-00) on a real socket to an MHD
// daemon: the access handler's current span records nothing but carries the
// request's valid span context (log correlation reads it), as for cpp-httplib
// (src/httplib/unsampled_test.cc).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <mutex>
#include <string>
#include <vector>

#include "otelweb/microhttpd/server.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/memory_tracing.h"
#include "support/http_test_support.h"

namespace otelweb::microhttpd {
namespace {

struct Seen {
  std::mutex mu;
  SpanContext ctx;
  bool recording = true;
};

MHD_Result Answer(void* cls, MHD_Connection* c, const char*, const char*, const char*, const char*, size_t*,
                  void**) {
  auto* seen = static_cast<Seen*>(cls);
  {
    std::lock_guard<std::mutex> l(seen->mu);
    seen->ctx = GetCurrentSpan().GetContext();
    seen->recording = GetCurrentSpan().IsRecording();
  }
  static const char kOk[] = "ok";
  MHD_Response* res = MHD_create_response_from_buffer(2, const_cast<char*>(kOk), MHD_RESPMEM_PERSISTENT);
  MHD_Result r = QueueResponse(c, MHD_HTTP_OK, res);
  MHD_destroy_response(res);
  return r;
}

TEST(MicrohttpdUnsampled, HandlerSeesTheNonRecordingSpansContext) {
  testing::MemoryTracingOptions mo;
  mo.sampler = ParentBasedSampler(AlwaysOnSampler());
  testing::MemoryTracing t(mo);
  ServerOptions so;
  so.tracer_provider = t.provider;
  so.excluded_urls = "";
  Instrumentation tracing(so);
  Seen seen;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<MHD_OptionItem> opts = {{MHD_OPTION_SOCK_ADDR, 0, &addr}, {MHD_OPTION_END, 0, nullptr}};
  MHD_Daemon* d =
      tracing.StartDaemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, nullptr, nullptr, &Answer, &seen, opts.data());
  ASSERT_NE(d, nullptr);
  const int port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
  const std::string r = testing::RawRequest(
      port,
      "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n",
      true);
  MHD_stop_daemon(d);
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
}  // namespace otelweb::microhttpd
