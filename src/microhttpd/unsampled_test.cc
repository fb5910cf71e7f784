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
#include "support/unsampled_request.h"

namespace otelweb::microhttpd {
namespace {

using testing::SeenInHandler;

MHD_Result Answer(void* cls, MHD_Connection* c, const char*, const char*, const char*, const char*, size_t*,
                  void**) {
  static_cast<SeenInHandler*>(cls)->Record();
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
  SeenInHandler seen;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<MHD_OptionItem> opts = {{MHD_OPTION_SOCK_ADDR, 0, &addr}, {MHD_OPTION_END, 0, nullptr}};
  MHD_Daemon* d =
      tracing.StartDaemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, nullptr, nullptr, &Answer, &seen, opts.data());
  ASSERT_NE(d, nullptr);
  const int port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
  const std::string r = testing::RawRequest(port, testing::kUnsampledGet, true);
  MHD_stop_daemon(d);
  testing::ExpectTheUnsampledContextWasSeen(seen, r, t);
}

}  // namespace
}  // namespace otelweb::microhttpd
