// Public endpoints (issue 12, untrusted inbound context) end to end: a
// TracedServer (cpp-httplib) whose handler calls a plain backend through
// TracedClient; the backend reads what reaches it on the wire (a raw socket).
// On a public endpoint the client's traceparent becomes a link of a new root
// span, its sampled flag does not force sampling, and neither its baggage nor
// its tracestate goes downstream. The default (trust) is checked alongside, so
// each assertion can fail.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "otelweb/httplib/client.h"
#include "otelweb/httplib/server.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "support/running_server.h"
#include "support/wire_backend.h"

namespace otelweb {
namespace {

using Backend = otelweb::testing::WireBackend;

constexpr const char* kInboundTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kInboundSpan = "00f067aa0ba902b7";
const ::httplib::Headers kHostile = {
    {"traceparent", std::string("00-") + kInboundTrace + "-" + kInboundSpan + "-01"},
    {"tracestate", "attacker=chosen"},
    {"baggage", "user.role=admin,tenant=victim"}};

// One front service per test: GET /hop calls the backend once and answers
// with the baggage the handler saw (as a header value).
struct Front {
  Backend backend;
  httplib::TracedServer server;
  std::optional<otelweb::testing::RunningServer> running;
  explicit Front(httplib::ServerOptions o) : server(std::move(o)) {
    server.Get("/hop", [this](const ::httplib::Request&, ::httplib::Response& res) {
      httplib::TracedClient cli("127.0.0.1", backend.port());
      cli.set_read_timeout(std::chrono::seconds(5));
      auto r = cli.Get("/down");
      res.set_content(r && r->status == 200 ? "ok" : "failed", "text/plain");
      res.set_header("X-Seen-Baggage", Context::Current().baggage().ToHeader());
    });
    server.Get("/internal/hop", [this](const ::httplib::Request&, ::httplib::Response& res) {
      httplib::TracedClient cli("127.0.0.1", backend.port());
      cli.set_read_timeout(std::chrono::seconds(5));
      auto r = cli.Get("/down");
      res.set_content(r && r->status == 200 ? "ok" : "failed", "text/plain");
    });
    running.emplace(server);
  }
  // Sends a request and returns the response (null on a transport failure).
  ::httplib::Result Get(const std::string& path, const ::httplib::Headers& headers = kHostile) {
    return running->Client().Get(path, headers);
  }
  // The one value of `name` the backend saw on its last request ("" if none).
  std::vector<std::string> Last(std::string_view name) {
    const size_t n = backend.requests().size();
    return n == 0 ? std::vector<std::string>{} : backend.Values(n - 1, name);
  }
};

httplib::ServerOptions Options(std::shared_ptr<TracerProvider> p) {
  httplib::ServerOptions o;
  o.tracer_provider = std::move(p);
  o.excluded_urls = "";
  return o;
}

class PublicEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = GetTextMapPropagator();
    SetTextMapPropagator(MakePropagators("tracecontext,baggage"));
  }
  void TearDown() override { SetTextMapPropagator(previous_); }
  std::shared_ptr<TextMapPropagator> previous_;
};

const SpanData* ServerSpanOf(const std::vector<const SpanData*>& spans) {
  for (const SpanData* s : spans) {
    if (s->kind() == SpanKind::kServer) return s;
  }
  return nullptr;
}

TEST_F(PublicEndpoint, TrustedByDefault) {
  otelweb::testing::MemoryTracing t;  // global: the client spans use it too
  Front f(Options(t.provider));
  auto r = f.Get("/hop");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->get_header_value("X-Seen-Baggage"), "user.role=admin,tenant=victim");
  auto spans = t.Exactly(2);
  const SpanData* server = ServerSpanOf(spans);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->trace_id().ToHex(), kInboundTrace);
  EXPECT_EQ(server->parent_span_id().ToHex(), kInboundSpan);
  EXPECT_EQ(server->link_count(), 0u);
  ASSERT_EQ(f.Last("traceparent").size(), 1u);
  EXPECT_EQ(f.Last("traceparent")[0].substr(3, 32), kInboundTrace);
  EXPECT_EQ(f.Last("tracestate"), std::vector<std::string>{"attacker=chosen"});
  EXPECT_EQ(f.Last("baggage"), std::vector<std::string>{"user.role=admin,tenant=victim"});
}

TEST_F(PublicEndpoint, InboundContextBecomesALinkOfANewRoot) {
  otelweb::testing::MemoryTracing t;
  httplib::ServerOptions o = Options(t.provider);
  o.public_endpoint = true;
  Front f(o);
  auto r = f.Get("/hop");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->get_header_value("X-Seen-Baggage"), "");  // no inbound baggage in the request
  auto spans = t.Exactly(2);
  const SpanData* server = ServerSpanOf(spans);
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->trace_id().ToHex(), kInboundTrace);
  EXPECT_FALSE(server->parent_span_id().IsValid());
  ASSERT_EQ(server->link_count(), 1u);
  EXPECT_EQ(server->link_context(0).trace_id().ToHex(), kInboundTrace);
  EXPECT_EQ(server->link_context(0).span_id().ToHex(), kInboundSpan);
  // Downstream: our own new trace, nothing of what the client sent.
  ASSERT_EQ(f.Last("traceparent").size(), 1u);
  EXPECT_EQ(f.Last("traceparent")[0].substr(3, 32), server->trace_id().ToHex());
  EXPECT_TRUE(f.Last("tracestate").empty());
  EXPECT_TRUE(f.Last("baggage").empty());
}

TEST_F(PublicEndpoint, ClientCannotForceSamplingWithRatioZero) {
  otelweb::testing::MemoryTracingOptions mo;
  mo.sampler = ParentBasedSampler(TraceIdRatioSampler(0.0));
  {
    // Trusted: the client's sampled flag decides (parent-based).
    otelweb::testing::MemoryTracing t(mo);
    Front f(Options(t.provider));
    ASSERT_TRUE(f.Get("/hop"));
    EXPECT_EQ(t.Exactly(2).size(), 2u);
  }
  otelweb::testing::MemoryTracing t(mo);
  httplib::ServerOptions o = Options(t.provider);
  o.public_endpoint = true;
  Front f(o);
  ASSERT_TRUE(f.Get("/hop"));
  (void)t.provider->ForceFlush();
  EXPECT_EQ(t.store->size(), 0u);  // a root under ratio 0: not sampled
  ASSERT_EQ(f.Last("traceparent").size(), 1u);
  const std::string tp = f.Last("traceparent")[0];
  EXPECT_NE(tp.substr(3, 32), kInboundTrace);
  EXPECT_EQ(tp.substr(53, 2), "02");  // random trace id, not sampled
}

TEST_F(PublicEndpoint, EnvironmentVariableAndCodeOverride) {
  otelweb::testing::MemoryTracing t;
  otelweb::testing::ScopedEnv env(http::kEnvPublicEndpoint, "true");
  {
    Front f(Options(t.provider));
    ASSERT_TRUE(f.Get("/hop"));
    const SpanData* server = ServerSpanOf(t.Exactly(2));
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(server->link_count(), 1u);
    EXPECT_NE(server->trace_id().ToHex(), kInboundTrace);
  }
  t.store->Reset();
  httplib::ServerOptions o = Options(t.provider);
  o.public_endpoint = false;  // code wins over the environment
  Front f(o);
  ASSERT_TRUE(f.Get("/hop"));
  const SpanData* server = ServerSpanOf(t.Exactly(2));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->trace_id().ToHex(), kInboundTrace);
}

TEST_F(PublicEndpoint, PerRequestFunctionAndAThrowingOneMeansPublic) {
  otelweb::testing::MemoryTracing t;
  httplib::ServerOptions o = Options(t.provider);
  o.public_endpoint_fn = [](const http::ServerRequestView& req) {
    if (req.path == "/hop") throw std::runtime_error("cannot decide");
    return req.path.substr(0, 10) != "/internal/";
  };
  Front f(o);
  ASSERT_TRUE(f.Get("/internal/hop"));
  const SpanData* trusted = ServerSpanOf(t.Exactly(2));
  ASSERT_NE(trusted, nullptr);
  EXPECT_EQ(trusted->trace_id().ToHex(), kInboundTrace);
  EXPECT_EQ(f.Last("baggage"), std::vector<std::string>{"user.role=admin,tenant=victim"});
  t.store->Reset();
  ASSERT_TRUE(f.Get("/hop"));
  const SpanData* untrusted = ServerSpanOf(t.Exactly(2));
  ASSERT_NE(untrusted, nullptr);
  EXPECT_NE(untrusted->trace_id().ToHex(), kInboundTrace);
  EXPECT_EQ(untrusted->link_count(), 1u);
  EXPECT_TRUE(f.Last("baggage").empty());
}

}  // namespace
}  // namespace otelweb
