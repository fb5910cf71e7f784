// curl gives response header values as they were sent: header capture records
// them byte for byte, without control characters (issue 10, part 2), from a
// raw-socket backend.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otelweb/curl/curl.h"
#include "support/http_test_support.h"
#include "support/wire_backend.h"

namespace otelweb::curl {
namespace {

using namespace otelweb::testing;  // NOLINT(build/namespaces)

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

TEST(CurlWireValues, ResponseHeadersAreCapturedAsSent) {
  MemoryTracing t;
  Options o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  o.default_timeout = std::chrono::milliseconds(0);
  o.capture_response_headers = std::vector<std::string>{"x-.*"};
  Instrument(o);
  WireBackend backend(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nX-Enc: a%0D%0Ab\r\n"
      "X-Pct: a%20b\r\nX-Ctl: a\x01"
      "b\r\nX-Empty:\r\nX-Empty-Sp: \r\nX-Trail: v \r\n\r\nok");
  {
    Easy e;
    e.setopt(CURLOPT_URL, backend.Url("/"));
    e.setopt(CURLOPT_NOSIGNAL, 1L);
    e.setopt(CURLOPT_TIMEOUT_MS, 5000L);
    e.setopt(CURLOPT_WRITEFUNCTION, &Discard);
    ASSERT_EQ(e.perform(), CURLE_OK);
  }
  Instrument();
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-enc"), (std::vector<std::string>{"a%0D%0Ab"}));
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-pct"), (std::vector<std::string>{"a%20b"}));
  EXPECT_FALSE(HasAttr(s, "http.response.header.x-ctl"));
  // An empty value is "" (curl 7.88's curl_easy_nextheader gives "\r").
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-empty"), (std::vector<std::string>{""}));
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-empty-sp"), (std::vector<std::string>{""}));
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-trail"), (std::vector<std::string>{"v"}));
}

}  // namespace
}  // namespace otelweb::curl
