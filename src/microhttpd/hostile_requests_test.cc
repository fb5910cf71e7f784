// The hostile-request suite for libmicrohttpd (issue 12 §1, §2; the model is
// src/httplib/hostile_requests_test.cc): each kind of request an internet
// client can send goes over a real socket to an instrumented MHD daemon, and
// its cost (process CPU) and span size are compared with a same-size benign
// request (inert x-pad headers) in the same run. MHD parses the request
// itself; this measures that plus otelweb's shared http::ServerSpan on what
// MHD hands over. Kept to a few seconds.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "otelweb/microhttpd/server.h"
#include "otelweb/testing/installed_tracing.h"
#include "support/hostile_requests.h"
#include "support/http_test_support.h"

namespace otelweb::microhttpd {
namespace {

using namespace otelweb::testing;           // NOLINT(build/namespaces)
using namespace otelweb::testing::hostile;  // NOLINT(build/namespaces)

MHD_Result Answer(void*, MHD_Connection* c, const char* url, const char*, const char*, const char*,
                  size_t* upload_data_size, void** con_cls) {
  // Bodies: take every part, answer at the end.
  if (*con_cls == nullptr) {
    static int first;
    *con_cls = &first;
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (std::string_view(url) == "/r") SetRoute(c, "/r");
  static const char kOk[] = "ok";
  MHD_Response* res = MHD_create_response_from_buffer(2, const_cast<char*>(kOk), MHD_RESPMEM_PERSISTENT);
  MHD_Result r = QueueResponse(c, std::string_view(url) == "/r" ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, res);
  MHD_destroy_response(res);
  return r;
}

class MicrohttpdHostile : public ::testing::Test {
 protected:
  MicrohttpdHostile() : tracing_(Options()), probe_(t_, [this](const std::string& r) { return Send(r); }) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Room for 128 KiB header blocks (MHD's default is 32 KiB per connection).
    std::vector<MHD_OptionItem> opts = {{MHD_OPTION_SOCK_ADDR, 0, &addr},
                                        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 256 * 1024, nullptr},
                                        {MHD_OPTION_THREAD_POOL_SIZE, 2, nullptr},
                                        {MHD_OPTION_END, 0, nullptr}};
    daemon_ = tracing_.StartDaemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, nullptr, nullptr, &Answer, nullptr,
                                   opts.data());
    if (daemon_ != nullptr) port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~MicrohttpdHostile() override {
    if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
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
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

TEST_F(MicrohttpdHostile, LongUrlsQueryFloodsAndEncodings) {
  ASSERT_GT(port_, 0);
  ExpectUrlKindsBounded(probe_);
}

TEST_F(MicrohttpdHostile, ContextFloodsAndMalformedTraceparents) {
  ASSERT_GT(port_, 0);
  ExpectContextKindsBounded(probe_, t_, [this](const std::string& r) { return Send(r); });
}

TEST_F(MicrohttpdHostile, ManyHeadersPathologicalNamesAndTinyChunks) {
  ASSERT_GT(port_, 0);
  ExpectHeaderKindsBounded(probe_);
  // 16 000 one-byte chunks against the same body with a Content-Length.
  std::string chunked =
      "POST /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 16000; ++i) chunked += "1\r\na\r\n";
  chunked += "0\r\n\r\n";
  const std::string plain = "POST /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
                            std::to_string(chunked.size()) + "\r\n\r\n" + std::string(chunked.size(), 'a');
  const Cost b = probe_.Measure(plain), h = probe_.Measure(chunked);
  EXPECT_NE(h.reply.find(" 200 "), std::string::npos) << h.reply.substr(0, 200);
  EXPECT_LT(h.cpu, 8 * b.cpu + 0.03) << "chunked " << h.cpu << " s, plain " << b.cpu << " s";
  EXPECT_LE(h.span, b.span + 16);
}

}  // namespace
}  // namespace otelweb::microhttpd
