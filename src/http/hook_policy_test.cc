// The hooks' exception policy of http::Settings: a throwing hook is always
// caught; it is reported once (default) or every time (kReportEach).
#include <gtest/gtest.h>

#include <stdexcept>

#include "otelweb/http/client.h"
#include "otelweb/http/server.h"
#include "otelweb/testing/diagnostics_capture.h"

namespace otelweb::http {
namespace {

using instrumentation::HookExceptionPolicy;

size_t ServerHookWarnings(HookExceptionPolicy policy, int requests) {
  testing::DiagnosticsCapture diag(LogLevel::kWarning);
  ServerOptions o;
  o.excluded_urls = "";
  o.hook_exceptions = policy;
  o.request_hook = [](SpanRef, const ServerRequestView&) { throw std::runtime_error("hook bug"); };
  o.response_hook = [](SpanRef, const ServerRequestView&, const ServerResponseView&) {
    throw std::logic_error("response hook bug");
  };
  ServerInstrumenter inst(std::move(o), "POLICYTEST", "otelweb.test.server");
  ServerRequestView req{.method = "GET", .target = "/x"};
  for (int i = 0; i < requests; ++i) {
    inst.RunRequestHook(SpanRef(), req);  // never throws
    inst.RunResponseHook(SpanRef(), req, ServerResponseView{.status_code = 200});
  }
  EXPECT_EQ(diag.Count("std::runtime_error: hook bug") + diag.Count("std::logic_error: response hook bug"),
            diag.size())
      << diag.text();
  return diag.size();
}

TEST(HookExceptionPolicy, ServerHooksReportOnceByDefault) {
  EXPECT_EQ(ServerHookWarnings(HookExceptionPolicy::kReportOnce, 3), 1u);
}

TEST(HookExceptionPolicy, ServerHooksReportEachFailureWhenAsked) {
  EXPECT_EQ(ServerHookWarnings(HookExceptionPolicy::kReportEach, 3), 6u);
}

TEST(HookExceptionPolicy, ClientHooksFollowTheSamePolicy) {
  for (auto [policy, expected] : {std::pair{HookExceptionPolicy::kReportOnce, size_t{1}},
                                  std::pair{HookExceptionPolicy::kReportEach, size_t{4}}}) {
    testing::DiagnosticsCapture diag(LogLevel::kWarning);
    ClientSettings s;
    s.excluded_urls = "";
    s.hook_exceptions = policy;
    ClientInstrumenter inst(std::move(s), "POLICYTEST", "otelweb.test.client");
    for (int i = 0; i < 4; ++i) inst.RunHook([] { throw 42; });  // a non-std exception too
    EXPECT_EQ(diag.size(), expected) << diag.text();
    EXPECT_EQ(diag.Count("threw int"), expected) << diag.text();
  }
}

}  // namespace
}  // namespace otelweb::http
