// The framework-neutral client layer on its own: URL parsing, ClientSpan
// lifecycle, injection, status mapping, exclusion, capture.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/http/server.h"
#include "otelweb/http/client.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/propagation.h"
#include "otelweb/trace/sampler.h"
#include "support/http_test_support.h"
#include "support/vector_headers.h"

namespace otelweb::http {
namespace {

// MemoryTracing, span readers (StrAttr, IntAttr, ...), DiagnosticsCapture and
// the support helpers: otelweb::testing (include/otelweb/testing/, tests/support/).
using namespace otelweb::testing;  // NOLINT(build/namespaces)

using Headers = otelweb::testing::VectorHeaders;

using Carrier = std::map<std::string, std::string, std::less<>>;

ClientSettings Settings(const MemoryTracing& t) {
  ClientSettings s;
  s.tracer_provider = t.provider;
  s.excluded_urls = "";
  s.capture_request_headers = std::vector<std::string>{};
  s.capture_response_headers = std::vector<std::string>{};
  return s;
}

TEST(HttpClientUrl, ParseUrlAuthority) {
  std::string_view scheme, host;
  int port = 0;
  ASSERT_TRUE(ParseUrlAuthority("http://example.com/p?q", &scheme, &host, &port));
  EXPECT_EQ(scheme, "http");
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(port, 80);
  ASSERT_TRUE(ParseUrlAuthority("https://u:pw@[::1]:8443/x", &scheme, &host, &port));
  EXPECT_EQ(scheme, "https");
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8443);
  ASSERT_TRUE(ParseUrlAuthority("https://h", &scheme, &host, &port));
  EXPECT_EQ(port, 443);
  ASSERT_TRUE(ParseUrlAuthority("ftp://h?x", &scheme, &host, &port));
  EXPECT_EQ(host, "h");
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(ParseUrlAuthority("/relative", &scheme, &host, &port));
  EXPECT_FALSE(ParseUrlAuthority("http://", &scheme, &host, &port));
}

TEST(HttpClientSpan, LifecycleAttributesAndInjection) {
  MemoryTracing t;
  ClientInstrumenter inst(Settings(t), "", "test.client");
  Span parent = t.provider->GetTracer("test").StartSpan("parent");
  Carrier carrier;
  MapCarrier<Carrier> setter(carrier);
  {
    Scope scope = MakeCurrent(parent);
    ClientSpan s;
    ASSERT_TRUE(s.Start(
        inst, {.method = "GET", .url = "http://user:pw@api.example.com:8080/v1?sig=x&a=b"}));
    s.Inject(setter);
    s.End({.status_code = 200,
           .protocol_version = "HTTP/1.1",
           .peer_address = "10.0.0.1",
           .peer_port = 8080});
  }
  parent.End();
  auto spans = t.store->spans();
  ASSERT_EQ(spans.size(), 2u);
  const SpanData* c = spans[0];
  EXPECT_EQ(c->kind(), SpanKind::kClient);
  EXPECT_EQ(c->name(), "GET");
  EXPECT_EQ(c->scope().name, "test.client");
  EXPECT_EQ(c->parent_span_id(), parent.GetContext().span_id());
  EXPECT_EQ(StrAttr(c, "url.full"),
            "http://REDACTED:REDACTED@api.example.com:8080/v1?sig=REDACTED&a=b");
  EXPECT_EQ(StrAttr(c, "server.address"), "api.example.com");
  EXPECT_EQ(IntAttr(c, "server.port"), 8080);
  EXPECT_EQ(StrAttr(c, "network.protocol.version"), "1.1");
  EXPECT_EQ(StrAttr(c, "network.peer.address"), "10.0.0.1");
  EXPECT_EQ(IntAttr(c, "http.response.status_code"), 200);
  EXPECT_EQ(c->status(), StatusCode::kUnset);
  ASSERT_EQ(carrier.count("traceparent"), 1u);
  SpanContext sent;
  ASSERT_TRUE(ParseTraceparent(carrier["traceparent"], &sent));
  EXPECT_EQ(sent.span_id(), c->span_id());
  EXPECT_EQ(sent.trace_id(), c->trace_id());
}

TEST(HttpClientSpan, SkipKeepsTheUsersFields) {
  MemoryTracing t;
  ClientInstrumenter inst(Settings(t));
  Carrier carrier{{"traceparent", "mine"}};
  MapCarrier<Carrier> setter(carrier);
  ClientSpan s;
  ASSERT_TRUE(s.Start(inst, {.method = "GET", .url = "http://h/"}));
  s.Inject(
      setter,
      [](void* ctx, std::string_view key) {
        return static_cast<Carrier*>(ctx)->count(std::string(key)) != 0;
      },
      &carrier);
  s.End({.status_code = 204});
  EXPECT_EQ(carrier["traceparent"], "mine");
}

TEST(HttpClientSpan, ErrorsOtherMethodsAndRename) {
  MemoryTracing t;
  ClientInstrumenter inst(Settings(t));
  {
    ClientSpan s;
    ASSERT_TRUE(s.Start(inst, {.method = "PROPFIND", .url = "http://h/"}));
    s.End({.status_code = 404});
  }
  {
    ClientSpan s;
    ASSERT_TRUE(s.Start(inst, {.method = "GET", .url = "http://h/"}));
    s.End({.error_type = "Connection", .error_message = "Could not establish connection"});
  }
  {
    ClientSpan s;
    ASSERT_TRUE(s.Start(inst, {.method = "GET", .url = "http://h/"}));
    s.SetMethod("POST");
    s.End({.status_code = 302});
  }
  auto spans = t.store->spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0]->name(), "HTTP");
  EXPECT_EQ(StrAttr(spans[0], "http.request.method"), "_OTHER");
  EXPECT_EQ(StrAttr(spans[0], "http.request.method_original"), "PROPFIND");
  EXPECT_EQ(StrAttr(spans[0], "error.type"), "404");
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(spans[1], "error.type"), "Connection");
  EXPECT_EQ(spans[1]->status_description(), "Could not establish connection");
  EXPECT_FALSE(HasAttr(spans[1], "http.response.status_code"));
  EXPECT_EQ(spans[2]->name(), "POST");
  EXPECT_EQ(StrAttr(spans[2], "http.request.method"), "POST");
  EXPECT_EQ(spans[2]->status(), StatusCode::kUnset);
}

TEST(HttpClientSpan, ExcludedAndSuppressed) {
  MemoryTracing t;
  ClientSettings cs = Settings(t);
  cs.excluded_urls = "/health$";
  ClientInstrumenter inst(cs);
  ClientSpan a;
  EXPECT_FALSE(a.Start(inst, {.method = "GET", .url = "http://h/health"}));
  EXPECT_FALSE(a.active());
  Context suppressed = Context::Current().WithInstrumentationSuppressed();
  EXPECT_FALSE(a.Start(inst, {.method = "GET", .url = "http://h/x"}, &suppressed));
  EXPECT_TRUE(a.Start(inst, {.method = "GET", .url = "http://h/health/x"}));
  a.End({.status_code = 200});
  EXPECT_EQ(t.store->size(), 1u);
}

TEST(HttpClientSpan, MakeCurrentAndExplicitParent) {
  MemoryTracing t;
  ClientInstrumenter inst(Settings(t));
  Span other = t.provider->GetTracer("test").StartSpan("other");
  Context parent = other.AsContext();
  ClientSpan s;
  ASSERT_TRUE(s.Start(inst, {.method = "GET", .url = "http://h/"}, &parent, /*make_current=*/true));
  EXPECT_EQ(GetCurrentSpan().GetContext().span_id(), s.span().GetContext().span_id());
  s.End({.status_code = 200});
  EXPECT_FALSE(GetCurrentSpan().GetContext().IsValid());
  other.End();
  auto spans = t.store->spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->parent_span_id(), other.GetContext().span_id());
}

TEST(HttpClientSpan, CapturesRequestAndResponseHeaders) {
  MemoryTracing t;
  ClientSettings cs = Settings(t);
  cs.capture_request_headers = std::vector<std::string>{"x-req", "authorization"};
  cs.capture_response_headers = std::vector<std::string>{"content-type"};
  ClientInstrumenter inst(cs);
  Headers req({{"X-Req", "a"}, {"Authorization", "Bearer s3cret"}, {"X-Other", "b"}});
  Headers res(std::vector<std::pair<std::string, std::string>>{{"Content-Type", "text/plain"}});
  ClientSpan s;
  ASSERT_TRUE(s.Start(inst, {.method = "GET", .url = "http://h/", .headers = &req}));
  s.End({.status_code = 200, .headers = &res});
  const SpanData* c = t.store->spans().at(0);
  EXPECT_EQ(ArrAttr(c, "http.request.header.x-req"), std::vector<std::string>{"a"});
  EXPECT_EQ(ArrAttr(c, "http.request.header.authorization"),
            std::vector<std::string>{"[REDACTED]"});
  EXPECT_FALSE(HasAttr(c, "http.request.header.x-other"));
  EXPECT_EQ(ArrAttr(c, "http.response.header.content-type"),
            std::vector<std::string>{"text/plain"});
}

// Without a real provider the span is a no-op, but the caller's (remote)
// context still travels on.
TEST(HttpClientSpan, NoProviderStillPropagatesTheParent) {
  ClientSettings no_exclusions;
  no_exclusions.excluded_urls = "";
  ClientInstrumenter inst(no_exclusions);
  SpanContext remote;
  ASSERT_TRUE(ParseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", &remote));
  Context parent = Context().WithSpanContext(remote);
  Carrier carrier;
  MapCarrier<Carrier> setter(carrier);
  ClientSpan s;
  ASSERT_TRUE(s.Start(inst, {.method = "GET", .url = "http://h/"}, &parent));
  s.Inject(setter);
  s.End({.status_code = 200});
  EXPECT_EQ(carrier["traceparent"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

// A sampled-out caller: no span is recorded, and the decision travels on
// (flags 00) with a span id of ours, so the callee does not sample either.
TEST(HttpClientSpan, SampledOutParentPropagatesTheDecision) {
  auto store = std::make_shared<InMemorySpanStore>();
  TracerProviderOptions o;
  o.sampler = ParentBasedSampler(AlwaysOnSampler());
  o.processors.push_back(
      std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
  auto provider = std::make_shared<TracerProvider>(std::move(o));
  ClientSettings cs;
  cs.tracer_provider = provider;
  cs.excluded_urls = "";
  ClientInstrumenter inst(cs);
  SpanContext remote;
  ASSERT_TRUE(ParseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", &remote));
  Context parent = Context().WithSpanContext(remote);
  Carrier carrier;
  MapCarrier<Carrier> setter(carrier);
  ClientSpan s;
  ASSERT_TRUE(s.Start(inst, {.method = "GET", .url = "http://h/"}, &parent));
  EXPECT_FALSE(s.span().IsRecording());
  s.Inject(setter);
  s.End({.status_code = 200});
  provider->ForceFlush();
  EXPECT_EQ(store->size(), 0u);
  const std::string& tp = carrier["traceparent"];
  ASSERT_EQ(tp.size(), 55u);
  EXPECT_EQ(tp.substr(3, 32), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(tp.substr(53), "00");
}

}  // namespace
}  // namespace otelweb::http
