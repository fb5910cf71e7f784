// Variables of the HTTP instrumentation that take effect from the
// environment alone (nothing in code), on real sockets. Part of the OTEL_*
// audit: tests/otel_env_effects.txt names a test per documented variable.
#include <gtest/gtest.h>

#include <string>

#include "otelweb/httplib/client.h"
#include "otelweb/httplib/server.h"
#include "otelweb/testing/installed_tracing.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/testing/span_readers.h"
#include "support/http_test_support.h"
#include "support/peer_server.h"
#include "support/running_server.h"

namespace otelweb::httplib {
namespace {

using namespace otelweb::testing;  // NOLINT(build/namespaces)

TEST(HttpEnvEffect, SecretQueryParamsFromTheEnvironmentAreRedacted) {
  ScopedEnv env("OTEL_CPP_HTTP_SECRET_QUERY_PARAMS", "session_key");
  MemoryTracing t;
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  TracedServer app(o);
  app.Get("/q", [](const ::httplib::Request&, ::httplib::Response& res) { res.set_content("q", "text/plain"); });
  RunningServer run(app);
  ASSERT_TRUE(run.Client().Get("/q?session_key=s3cr3t&color=blue&token=t"));
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  // The variable's name and the default list both apply.
  EXPECT_EQ(StrAttr(spans[0], "url.query"), "session_key=REDACTED&color=blue&token=REDACTED");
}

TEST(HttpEnvEffect, ClientRequestHeaderCaptureFromTheEnvironment) {
  ScopedEnv env("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST", "X-Tenant");
  MemoryTracing t;
  PeerServer peer;
  ClientOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  TracedClient cli("127.0.0.1", peer.port(), std::move(o));
  cli.set_read_timeout(5);
  ASSERT_TRUE(cli.Get("/ok", ::httplib::Headers{{"X-Tenant", "acme"}, {"X-Other", "no"}}));
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-tenant"), std::vector<std::string>{"acme"});
  EXPECT_TRUE(ArrAttr(spans[0], "http.request.header.x-other").empty());
}

}  // namespace
}  // namespace otelweb::httplib
