// The framework-neutral layer on its own: helpers and the ServerSpan driver.
#include "otelweb/http/server.h"
#include "otelweb/http/client.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "otelweb/testing/scoped_env.h"
#include "support/http_test_support.h"
#include "support/vector_headers.h"

namespace otelweb::http {
namespace {

// MemoryTracing, span readers (StrAttr, IntAttr, ...), DiagnosticsCapture and
// the support helpers: otelweb::testing (include/otelweb/testing/, tests/support/).
using namespace otelweb::testing;  // NOLINT(build/namespaces)

using VectorHeaders = otelweb::testing::VectorHeaders;

TEST(HttpMethods, KnownMethodsAndOther) {
  EXPECT_EQ(NormalizeMethod("GET"), "GET");
  EXPECT_EQ(NormalizeMethod("PATCH"), "PATCH");
  EXPECT_EQ(NormalizeMethod("get"), "_OTHER");  // methods are case-sensitive
  EXPECT_EQ(NormalizeMethod("FOO"), "_OTHER");
  EXPECT_EQ(NormalizeMethod(""), "_OTHER");
  EXPECT_TRUE(IsKnownMethod("DELETE"));
  EXPECT_FALSE(IsKnownMethod("PROPFIND"));
}

TEST(HttpStatus, ServerAndClientMapping) {
  EXPECT_EQ(ServerStatusFor(200), StatusCode::kUnset);
  EXPECT_EQ(ServerStatusFor(404), StatusCode::kUnset);
  EXPECT_EQ(ServerStatusFor(500), StatusCode::kError);
  EXPECT_EQ(ServerStatusFor(99), StatusCode::kError);
  EXPECT_EQ(ClientStatusFor(404), StatusCode::kError);
  EXPECT_EQ(ClientStatusFor(302), StatusCode::kUnset);
}

TEST(HttpHost, ParseHostPort) {
  std::string_view h;
  int p = -1;
  ASSERT_TRUE(ParseHostPort("example.com:8080", &h, &p));
  EXPECT_EQ(h, "example.com");
  EXPECT_EQ(p, 8080);
  ASSERT_TRUE(ParseHostPort("example.com", &h, &p));
  EXPECT_EQ(p, 0);
  ASSERT_TRUE(ParseHostPort("[::1]:9", &h, &p));
  EXPECT_EQ(h, "::1");
  EXPECT_EQ(p, 9);
  EXPECT_FALSE(ParseHostPort("", &h, &p));
  EXPECT_FALSE(ParseHostPort("a:b", &h, &p));
  EXPECT_FALSE(ParseHostPort("a:99999", &h, &p));
  EXPECT_FALSE(ParseHostPort("::1", &h, &p));
}

TEST(HttpRedaction, CredentialsAndSecretParameters) {
  UrlRedactor r({"my_param"});
  EXPECT_EQ(r.Redact("https://user:pw@api.example.com/data?AWSAccessKeyId=X&color=blue"),
            "https://REDACTED:REDACTED@api.example.com/data?AWSAccessKeyId=REDACTED&color=blue");
  EXPECT_EQ(r.Redact("http://[::1]:8080/p?sig=1&X-Goog-Signature=2&Signature=3#frag"),
            "http://[::1]:8080/p?sig=REDACTED&X-Goog-Signature=REDACTED&Signature=REDACTED#frag");
  EXPECT_EQ(r.Redact("/p?my_param=k&a=b%20c&empty="), "/p?my_param=REDACTED&a=b%20c&empty=");
  // Names are compared ignoring ASCII case, '-' and '_' (issue 12: the
  // semconv list compared exactly let "SIG" and "MyParam" through).
  EXPECT_EQ(r.Redact("http://host/p?SIG=1&MyParam=2&my-param=3"),
            "http://host/p?SIG=REDACTED&MyParam=REDACTED&my-param=REDACTED");
  EXPECT_EQ(r.Redact("http://host/p?sigma=1&my_param_2=2"), "http://host/p?sigma=1&my_param_2=2");
  std::string out = "untouched";
  EXPECT_FALSE(r.RedactUrl("http://host/p?a=1", &out));
  EXPECT_EQ(out, "untouched");
  EXPECT_FALSE(RemoveUrlCredentials("/relative@x", &out));
  EXPECT_TRUE(RemoveUrlCredentials("ftp://only-user@h/", &out));
  EXPECT_EQ(out, "ftp://REDACTED:REDACTED@h/");
  // libcurl takes URLs without a scheme: their credentials go too.
  EXPECT_TRUE(RemoveUrlCredentials("user:pw@host:8080/p?q@x", &out));
  EXPECT_EQ(out, "REDACTED:REDACTED@host:8080/p?q@x");
  EXPECT_FALSE(RemoveUrlCredentials("host/p@x", &out));  // '@' only after the authority
  EXPECT_FALSE(r.RedactQuery("sig=REDACTED", &out));
}

// Issue 12 §4: credentials that services commonly take in a query string are
// redacted by default, not only the semantic conventions' four names, and the
// list can be extended from the environment.
TEST(HttpRedaction, CredentialNamesAreRedactedByDefault) {
  UrlRedactor r;
  for (const char* name : {"token", "access_token", "refresh_token", "id_token", "api_key", "apikey",
                           "API-KEY", "x-api-key", "key", "password", "passwd", "pwd", "client_secret",
                           "secret", "X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-Credential",
                           "X-Goog-Credential", "jwt", "session_token", "sessionid", "JSESSIONID",
                           "auth", "authorization", "credentials", "private_key"}) {
    const std::string url = std::string("https://h/p?a=1&") + name + "=s3cret";
    EXPECT_EQ(r.Redact(url), std::string("https://h/p?a=1&") + name + "=REDACTED") << name;
  }
  for (const char* name : {"q", "page", "color", "keyword", "tokens2", "user", "code", "state"}) {
    const std::string url = std::string("https://h/p?") + name + "=v";
    EXPECT_EQ(r.Redact(url), url) << name;
  }
}

TEST(HttpRedaction, EnvironmentExtendsTheListForEveryInstrumenter) {
  otelweb::testing::ScopedEnv env(kEnvSecretQueryParams, "otp, Tenant-Secret");
  ServerOptions o;
  o.secret_query_params = {"pin"};
  ServerInstrumenter inst(o);
  EXPECT_EQ(inst.redactor().Redact("/p?otp=1&tenant_secret=2&pin=3&token=4&x=5"),
            "/p?otp=REDACTED&tenant_secret=REDACTED&pin=REDACTED&token=REDACTED&x=5");
}

// Secret parameter names were compared as written: "Sig%6Eature" (which every
// server decodes to "Signature") kept its value.
TEST(HttpRedaction, SecretParameterNamesAreFormDecodedFirst) {
  UrlRedactor r({"api key"});
  EXPECT_EQ(r.Redact("/p?Sig%6Eature=s3cret&x=1"), "/p?Sig%6Eature=REDACTED&x=1");
  EXPECT_EQ(r.Redact("/p?si%67=1&X%2dGoog-Signature=2&%41WSAccessKeyId=3"),
            "/p?si%67=REDACTED&X%2dGoog-Signature=REDACTED&%41WSAccessKeyId=REDACTED");
  EXPECT_EQ(r.Redact("/p?api+key=k&api%20key=k2"), "/p?api+key=REDACTED&api%20key=REDACTED");
  // Malformed escapes stay literal (and then match nothing).
  EXPECT_EQ(r.Redact("/p?sig%=1&sig%6=2&signature=3"), "/p?sig%=1&sig%6=2&signature=REDACTED");
  EXPECT_TRUE(r.IsSecretParam("%73%69%67"));
  EXPECT_FALSE(r.IsSecretParam(std::string(300, '%')));
}

TEST(HttpExcluder, EntriesInvalidRegexesAndTrailingCommas) {
  UrlExcluder none("");
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.Matches("http://h/anything"));
  UrlExcluder trailing("health,");
  EXPECT_TRUE(trailing.Matches("http://h/health"));
  EXPECT_FALSE(trailing.Matches("http://h/users"));
  UrlExcluder invalid("([,/ok");
  EXPECT_TRUE(invalid.Matches("http://h/ok"));
  EXPECT_FALSE(invalid.Matches("http://h/x"));
  UrlExcluder only_invalid("([");
  EXPECT_TRUE(only_invalid.empty());
  UrlExcluder code = UrlExcluder::FromConfig(std::string("/a"), "NOPE");
  EXPECT_TRUE(code.Matches("/a"));
}

// libstdc++'s regex_search recursed once per byte: "/static/.*" on a 1 MB URL
// overflowed the stack, so only a 1024-byte prefix used to be searched. RE2
// uses constant stack and linear time: the whole URL is searched.
TEST(HttpExcluder, MegabyteUrlsAreMatchedWhole) {
  const std::string pad(1 << 20, 'a');
  UrlExcluder ex("/static/.*,health$");
  EXPECT_TRUE(ex.Matches("http://h/static/" + pad));
  EXPECT_FALSE(ex.Matches("http://h/api/" + pad));
  // "$" is the real end of the URL, however long...
  EXPECT_TRUE(ex.Matches("http://h/" + pad + "/health"));
  EXPECT_FALSE(ex.Matches("http://h/" + pad + "/health/more"));
  // ...and what lies far into it is seen.
  EXPECT_TRUE(ex.Matches("http://h/" + pad + "/static/x"));

  // Through the layer: a SERVER request with a 1 MB target.
  MemoryTracing t;
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "/static/.*";
  o.capture_request_headers = std::vector<std::string>{"x-.*"};
  o.sanitize_fields = std::vector<std::string>{"secret.*"};
  ServerInstrumenter inst(o);
  const std::string long_name = "x-" + std::string(1 << 20, 'n');
  class Headers final : public HeaderReader {
   public:
    explicit Headers(const std::string& n) : n_(n) {}
    void ForEach(Visitor visit, void* ctx) const noexcept override {
      if (visit(ctx, "Host", "h")) visit(ctx, n_, "v");
    }

   private:
    const std::string& n_;
  } headers(long_name);
  ServerRequestView v;
  v.method = "GET";
  v.headers = &headers;
  const std::string excluded = "/static/" + pad;
  v.target = excluded;
  ServerSpan s1;
  EXPECT_FALSE(s1.Start(inst, v));
  const std::string traced = "/api/" + pad;
  v.target = traced;
  ServerSpan s2;
  EXPECT_TRUE(s2.Start(inst, v));
  s2.End({.status_code = 200});
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(StrAttr(spans[0], "url.path").size(), traced.size());
  // The megabyte header name matches "x-.*" but is over the captured-bytes
  // cap (OTEL_CPP_HTTP_CAPTURE_MAX_BYTES): not captured.
  EXPECT_FALSE(HasAttr(spans[0], "http.request.header." + long_name));
  HeaderCapture sanitize({"x-.*"}, {"secret.*"}, "p.");
  EXPECT_TRUE(sanitize.Matches(long_name));
  EXPECT_FALSE(sanitize.IsSensitive(long_name));  // checked whole: no "secret"
  EXPECT_TRUE(sanitize.IsSensitive(long_name + "-secret"));
}

// A pattern anchored at a path ("^/health") never matches the full URL the
// server matches by default: one warning names both ways out, and path-only
// matching can be turned on by environment as well as in code.
TEST(HttpExcluder, AnchoredPathPatternGetsAHintAndPathMatchingByEnvironment) {
  ServerRequestView v;
  v.method = "GET";
  v.target = "/health";
  v.host = "h:8080";
  {
    otelweb::testing::ScopedEnv env;
    env.Unset(kEnvExcludeByPath);
    DiagnosticsCapture diag;
    ServerOptions o;
    o.excluded_urls = "^/health, /static/";
    ServerInstrumenter inst(o);
    EXPECT_FALSE(inst.IsExcluded(v));  // the full URL: "http://h:8080/health"
    EXPECT_EQ(diag.Count("OTEL_CPP_HTTP_SERVER_EXCLUDE_BY_PATH=true"), 1u) << diag.text();
    EXPECT_EQ(diag.Count("exclude_by_path = true"), 1u);
  }
  {
    otelweb::testing::ScopedEnv env(kEnvExcludeByPath, "true");
    DiagnosticsCapture diag;
    ServerOptions o;
    o.excluded_urls = "^/health";
    ServerInstrumenter inst(o);
    EXPECT_TRUE(inst.IsExcluded(v));
    EXPECT_EQ(diag.Count("'^/'"), 0u) << diag.text();
  }
  {
    otelweb::testing::ScopedEnv env;
    env.Unset(kEnvExcludeByPath);
    DiagnosticsCapture diag;
    ServerOptions o;
    o.excluded_urls = "/health$";  // unanchored: right for full URLs
    ServerInstrumenter inst(o);
    EXPECT_TRUE(inst.IsExcluded(v));
    EXPECT_EQ(diag.size(), 0u) << diag.text();
  }
}

TEST(HttpHeaders, GetJoinsRepeatedHeadersCaseInsensitively) {
  VectorHeaders h({{"Host", "x"}, {"TraceState", "a=1"}, {"tracestate", "b=2"}});
  std::string scratch;
  EXPECT_EQ(h.Get("host", scratch), "x");
  EXPECT_EQ(h.Get("tracestate", scratch), "a=1,b=2");
  EXPECT_EQ(h.Get("missing", scratch), "");
}

TEST(HttpHeaders, CaptureMatchesSanitizesAndKeepsEveryValue) {
  MemoryTracing t;
  HeaderCapture cap({"X-Multi", "x-re-.*", "Cookie", "(invalid"}, {"pass"}, "http.request.header.");
  EXPECT_FALSE(cap.empty());
  EXPECT_TRUE(cap.Matches("x-multi"));
  EXPECT_TRUE(cap.Matches("X-RE-anything"));
  EXPECT_FALSE(cap.Matches("x-multiple"));  // full match
  EXPECT_TRUE(cap.IsSensitive("X-Password-Hash"));
  EXPECT_TRUE(cap.IsSensitive("Set-Cookie"));
  VectorHeaders h({{"X-Multi", "1"}, {"Other", "o"}, {"x-multi", "2"}, {"X-Re-Pass", "p"},
                   {"Cookie", "c"}});
  {
    auto span = t.provider->GetTracer("t").StartSpan("s");
    cap.Capture(h, span.Ref());
  }
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-multi"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-re-pass"),
            (std::vector<std::string>{"[REDACTED]"}));
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.cookie"), (std::vector<std::string>{"[REDACTED]"}));
  EXPECT_FALSE(HasAttr(spans[0], "http.request.header.other"));
  HeaderCapture empty({}, {"x"}, "p.");
  EXPECT_TRUE(empty.empty());
}

// Issue 12 §4: with a ".*" capture and no sanitize setting, credential-looking
// header names are still redacted; ordinary ones are kept.
TEST(HttpHeaders, CredentialLookingNamesAreRedactedWithoutASanitizeSetting) {
  MemoryTracing t;
  HeaderCapture cap({".*"}, {}, "http.request.header.");
  for (const char* name : {"X-Api-Key", "X-Auth-Token", "X-Session-Id", "X-Client-Secret", "X-Password",
                           "X-Amz-Security-Token", "Ocp-Apim-Subscription-Key", "X-Goog-Iap-Jwt-Assertion",
                           "X-Signature", "X-Credentials", "Cookie2", "WWW-Authenticate"}) {
    EXPECT_TRUE(cap.IsSensitive(name)) << name;
  }
  for (const char* name : {"Accept", "X-Tenant", "User-Agent", "X-Request-Id", "Content-Type"}) {
    EXPECT_FALSE(cap.IsSensitive(name)) << name;
  }
  VectorHeaders h({{"X-Api-Key", "k3y"}, {"X-Tenant", "acme"}});
  {
    auto span = t.provider->GetTracer("t").StartSpan("s");
    cap.Capture(h, span.Ref());
  }
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-api-key"), (std::vector<std::string>{"[REDACTED]"}));
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-tenant"), (std::vector<std::string>{"acme"}));
}

TEST(HttpServerSpan, DriverWithoutAFramework) {
  MemoryTracing t;
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "/skip";
  o.capture_request_headers = std::vector<std::string>{};
  o.capture_response_headers = std::vector<std::string>{};
  o.sanitize_fields = std::vector<std::string>{};
  ServerInstrumenter inst(o);
  VectorHeaders h({{"Host", "api.example.com"},
                   {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                   {"User-Agent", "ua"}});
  ServerRequestView v;
  v.method = "PROPFIND";
  v.target = "/dav/x?sig=1";
  v.protocol_version = "HTTP/1.0";
  v.peer_address = "10.0.0.1";
  v.peer_port = 5555;
  v.headers = &h;
  {
    ServerSpan s;
    ASSERT_TRUE(s.Start(inst, v));
    EXPECT_EQ(GetCurrentSpan().GetContext().span_id(), s.span().GetContext().span_id());
    s.SetRoute("/dav/:name");
    s.End({.status_code = 207});
    EXPECT_FALSE(GetCurrentSpan().GetContext().IsValid());
  }
  ServerRequestView skipped = v;
  skipped.target = "/skip";
  ServerSpan s2;
  EXPECT_FALSE(s2.Start(inst, skipped));
  EXPECT_FALSE(s2.active());
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(s->name(), "HTTP /dav/:name");
  EXPECT_EQ(StrAttr(s, "http.request.method"), "_OTHER");
  EXPECT_EQ(StrAttr(s, "http.request.method_original"), "PROPFIND");
  EXPECT_EQ(StrAttr(s, "url.path"), "/dav/x");
  EXPECT_EQ(StrAttr(s, "url.query"), "sig=REDACTED");
  EXPECT_EQ(StrAttr(s, "server.address"), "api.example.com");
  EXPECT_EQ(IntAttr(s, "server.port"), 80);
  EXPECT_EQ(StrAttr(s, "network.protocol.version"), "1.0");
  EXPECT_EQ(IntAttr(s, "network.peer.port"), 5555);
  EXPECT_EQ(s->trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(s->parent_span_id().ToHex(), "00f067aa0ba902b7");
}

TEST(HttpServerSpan, NestedUnderACurrentSpanItIsAnInternalChild) {
  MemoryTracing t;
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  ServerInstrumenter inst(o);
  auto outer = t.provider->GetTracer("outer").StartSpan("outer", SpanKind::kServer);
  {
    Scope sc = MakeCurrent(outer);
    ServerSpan s;
    ServerRequestView v;
    v.method = "GET";
    v.target = "/";
    ASSERT_TRUE(s.Start(inst, v));
    s.End({.status_code = 200});
  }
  outer.End();
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  // Sorted by start: the outer span first.
  EXPECT_EQ(spans[1]->kind(), SpanKind::kInternal);
  EXPECT_EQ(spans[1]->name(), "GET");
  EXPECT_EQ(spans[1]->parent_span_id(), spans[0]->span_id());
}

}  // namespace
}  // namespace otelweb::http
