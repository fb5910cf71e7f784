// The HTTP attribute builders and the host:port splitter as pure functions:
// no provider, no span.
#include "otelweb/http/attributes.h"

#include <gtest/gtest.h>

#include <string>

#include "otelweb/http/client.h"
#include "otelweb/http/server.h"
#include "otelweb/http/url.h"
#include "otelweb/semconv.h"
#include "support/vector_headers.h"

namespace otelweb::http {
namespace {

using otelweb::testing::VectorHeaders;

template <size_t N>
std::string Str(const instrumentation::AttrList<N>& l, std::string_view key) {
  const AttributeValue* v = l.Find(key);
  if (v == nullptr) return "<absent>";
  return std::string(v->as_string());
}
template <size_t N>
int64_t Int(const instrumentation::AttrList<N>& l, std::string_view key) {
  const AttributeValue* v = l.Find(key);
  return v == nullptr ? -1 : v->as_int();
}

TEST(HttpAttributes, ServerRequest) {
  VectorHeaders headers({{"Host", "shop.example:8443"}, {"User-Agent", "curl/8"}});
  ServerRequestView v;
  v.method = "GET";
  v.target = "/items/7?sig=secret&color=blue";
  v.scheme = "https";
  v.protocol_version = "HTTP/1.1";
  v.peer_address = "10.0.0.9";
  v.peer_port = 51000;
  v.headers = &headers;
  UrlRedactor redactor;
  AttributeScratch scratch;
  ServerRequestAttributeList out;
  EXPECT_EQ(ServerRequestAttributes(v, redactor, scratch, out), "GET");
  EXPECT_EQ(Str(out, semconv::kHttpRequestMethod), "GET");
  EXPECT_EQ(out.Find(semconv::kHttpRequestMethodOriginal), nullptr);
  EXPECT_EQ(Str(out, semconv::kUrlPath), "/items/7");
  EXPECT_EQ(Str(out, semconv::kUrlQuery), "sig=REDACTED&color=blue");
  EXPECT_EQ(Str(out, semconv::kUrlScheme), "https");
  EXPECT_EQ(Str(out, semconv::kServerAddress), "shop.example");
  EXPECT_EQ(Int(out, semconv::kServerPort), 8443);
  EXPECT_EQ(Str(out, semconv::kClientAddress), "10.0.0.9");
  EXPECT_EQ(Str(out, semconv::kNetworkPeerAddress), "10.0.0.9");
  EXPECT_EQ(Int(out, semconv::kNetworkPeerPort), 51000);
  EXPECT_EQ(Str(out, semconv::kNetworkProtocolVersion), "1.1");
  EXPECT_EQ(Str(out, semconv::kUserAgentOriginal), "curl/8");
  EXPECT_EQ(out.dropped(), 0u);
}

TEST(HttpAttributes, ServerRequestUnknownMethodNoHostAllFields) {
  ServerRequestView v;
  v.method = "BREW";
  v.path = "/pot";
  v.query = "";
  v.scheme = "";
  v.local_port = 8080;
  v.peer_address = "::1";
  v.peer_port = 1;
  v.protocol_version = "2";
  UrlRedactor redactor;
  AttributeScratch scratch;
  ServerRequestAttributeList out;
  EXPECT_EQ(ServerRequestAttributes(v, redactor, scratch, out), "_OTHER");
  EXPECT_EQ(Str(out, semconv::kHttpRequestMethodOriginal), "BREW");
  EXPECT_EQ(Str(out, semconv::kUrlScheme), "http");
  EXPECT_EQ(out.Find(semconv::kServerAddress), nullptr);
  EXPECT_EQ(Int(out, semconv::kServerPort), 8080);  // the local port without a Host
  EXPECT_EQ(out.Find(semconv::kUrlQuery), nullptr);
  EXPECT_EQ(out.Find(semconv::kUserAgentOriginal), nullptr);
  EXPECT_EQ(Str(out, semconv::kNetworkProtocolVersion), "2");
  EXPECT_LE(out.size(), ServerRequestAttributeList::kCapacity);
}

TEST(HttpAttributes, ServerResponse) {
  ResponseScratch scratch;
  {
    ResponseAttributeList out;
    EXPECT_EQ(ServerResponseAttributes(200, false, {}, scratch, out), StatusCode::kUnset);
    EXPECT_EQ(Int(out, semconv::kHttpResponseStatusCode), 200);
    EXPECT_EQ(out.Find(semconv::kErrorType), nullptr);
  }
  {
    ResponseAttributeList out;
    EXPECT_EQ(ServerResponseAttributes(404, false, {}, scratch, out), StatusCode::kUnset);
    EXPECT_EQ(out.Find(semconv::kErrorType), nullptr);  // a client error is no server error
  }
  {
    ResponseAttributeList out;
    EXPECT_EQ(ServerResponseAttributes(503, false, {}, scratch, out), StatusCode::kError);
    EXPECT_EQ(Str(out, semconv::kErrorType), "503");
  }
  {
    ResponseAttributeList out;  // the handler threw: its type, status left to RecordException
    EXPECT_EQ(ServerResponseAttributes(500, true, "std::runtime_error", scratch, out),
              StatusCode::kUnset);
    EXPECT_EQ(Str(out, semconv::kErrorType), "std::runtime_error");
  }
  {
    ResponseAttributeList out;  // no response at all
    EXPECT_EQ(ServerResponseAttributes(0, false, {}, scratch, out), StatusCode::kUnset);
    EXPECT_EQ(out.size(), 0u);
  }
}

TEST(HttpAttributes, ClientRequest) {
  ClientRequestView v;
  v.method = "POST";
  v.url = "https://user:pw@api.example/v1?X-Goog-Signature=abc&q=1";
  UrlRedactor redactor;
  AttributeScratch scratch;
  ClientRequestAttributeList out;
  EXPECT_EQ(ClientRequestAttributes(v, redactor, scratch, out), "POST");
  EXPECT_EQ(Str(out, semconv::kServerAddress), "api.example");
  EXPECT_EQ(Int(out, semconv::kServerPort), 443);
  EXPECT_EQ(Str(out, semconv::kUrlFull),
            "https://REDACTED:REDACTED@api.example/v1?X-Goog-Signature=REDACTED&q=1");
  // The view's address and port win over the URL's.
  v.server_address = "10.1.1.1";
  v.server_port = 9;
  v.method = "get";
  ClientRequestAttributeList out2;
  EXPECT_EQ(ClientRequestAttributes(v, redactor, scratch, out2), "_OTHER");
  EXPECT_EQ(Str(out2, semconv::kHttpRequestMethodOriginal), "get");
  EXPECT_EQ(Str(out2, semconv::kServerAddress), "10.1.1.1");
  EXPECT_EQ(Int(out2, semconv::kServerPort), 9);
}

TEST(HttpAttributes, ClientResponse) {
  ResponseScratch scratch;
  std::string_view desc;
  {
    ClientResponseView r;
    r.status_code = 404;
    r.protocol_version = "HTTP/2";
    r.peer_address = "127.0.0.1";
    r.peer_port = 80;
    ResponseAttributeList out;
    EXPECT_EQ(ClientResponseAttributes(r, scratch, out, &desc), StatusCode::kError);
    EXPECT_EQ(Str(out, semconv::kErrorType), "404");
    EXPECT_EQ(Str(out, semconv::kNetworkProtocolVersion), "2");
    EXPECT_EQ(Int(out, semconv::kNetworkPeerPort), 80);
    EXPECT_TRUE(desc.empty());
  }
  {
    ClientResponseView r;
    r.error_type = "Connection";
    r.error_message = "could not connect";
    ResponseAttributeList out;
    EXPECT_EQ(ClientResponseAttributes(r, scratch, out, &desc), StatusCode::kError);
    EXPECT_EQ(Str(out, semconv::kErrorType), "Connection");
    EXPECT_EQ(desc, "could not connect");
    EXPECT_EQ(out.Find(semconv::kHttpResponseStatusCode), nullptr);
  }
  {
    ClientResponseView r;
    r.status_code = 204;
    ResponseAttributeList out;
    EXPECT_EQ(ClientResponseAttributes(r, scratch, out, &desc), StatusCode::kUnset);
    EXPECT_EQ(out.size(), 1u);
  }
}

TEST(HttpAttributes, MethodNamesAndVersions) {
  EXPECT_EQ(SpanNameMethod("_OTHER"), "HTTP");
  EXPECT_EQ(SpanNameMethod("PUT"), "PUT");
  EXPECT_EQ(ProtocolVersion("HTTP/1.0"), "1.0");
  EXPECT_EQ(ProtocolVersion("http/2"), "2");
  EXPECT_EQ(ProtocolVersion("3"), "3");
}

TEST(HttpHost, SplitSchemeHostPort) {
  std::string_view s, h;
  int p = -1;
  ASSERT_TRUE(SplitSchemeHostPort("example.com", "http", &s, &h, &p));
  EXPECT_EQ(s, "http");
  EXPECT_EQ(h, "example.com");
  EXPECT_EQ(p, 80);
  ASSERT_TRUE(SplitSchemeHostPort("https://[::1]:8443/x", "http", &s, &h, &p));
  EXPECT_EQ(s, "https");
  EXPECT_EQ(h, "::1");
  EXPECT_EQ(p, 8443);
  ASSERT_TRUE(SplitSchemeHostPort("https://u@h?q", "http", &s, &h, &p));
  EXPECT_EQ(h, "h");
  EXPECT_EQ(p, 443);
  ASSERT_TRUE(SplitSchemeHostPort("127.0.0.1:5001", "http", &s, &h, &p));
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, 5001);
  ASSERT_TRUE(SplitSchemeHostPort("gopher://h", "http", &s, &h, &p));
  EXPECT_EQ(p, 0);  // no default port for an unknown scheme
  EXPECT_FALSE(SplitSchemeHostPort("://h", "http", &s, &h, &p));
  EXPECT_FALSE(SplitSchemeHostPort("http://", "http", &s, &h, &p));
  EXPECT_FALSE(SplitSchemeHostPort("h:port", "http", &s, &h, &p));
  EXPECT_FALSE(SplitSchemeHostPort("::1", "http", &s, &h, &p));  // a bare IPv6 needs brackets
}

}  // namespace
}  // namespace otelweb::http
