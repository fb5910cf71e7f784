// The start-up line (issue 11, "What a new user trips over"): one line per
// Install, through the diagnostics sink, saying where each signal goes
// (exporter, endpoint with user info and query redacted, protocol), the
// sampler, the service name, and that service.name set in code overrides
// OTEL_SERVICE_NAME.
#include <gtest/gtest.h>

#include <string>

#include "otelweb/otelweb.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otlp/testing/otlp_env_util.h"

namespace otelweb {
namespace {

using otlp::testing::ScopedEnv;

std::string StartupLine(const std::string& text) {
  const size_t at = text.find("telemetry of service '");
  if (at == std::string::npos) return {};
  return text.substr(at, text.find('\n', at) - at);
}

TEST(StartupLine, SaysWhereEachSignalGoesWithCredentialsRedacted) {
  ScopedEnv env;
  env.Set("OTEL_SERVICE_NAME", "from-env");
  env.Set("OTEL_TRACES_EXPORTER", "otlp");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://alice:s3cret@127.0.0.1:9/v1/traces?token=t0ken");
  env.Set("OTEL_LOGS_EXPORTER", "console");
  env.Set("OTEL_METRICS_EXPORTER", "none");
  env.Unset("OTEL_LOG_LEVEL");
  testing::DiagnosticsCapture diag;
  {
    InstallOptions o;
    o.service_name = "from-code";
    o.traces.sampler = AlwaysOnSampler();
    o.shutdown_timeout = std::chrono::milliseconds(100);
    auto telemetry = Install(std::move(o));
  }
  EXPECT_EQ(diag.Count("telemetry of service '"), 1u) << diag.text();
  const std::string line = StartupLine(diag.text());
  EXPECT_NE(line.find("service 'from-code' (service.name set in code overrides OTEL_SERVICE_NAME='from-env')"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("traces -> otlp-http-protobuf http://REDACTED@127.0.0.1:9/v1/traces?REDACTED"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("(sampler " + AlwaysOnSampler()->Description() + ")"), std::string::npos) << line;
  EXPECT_NE(line.find("logs -> console"), std::string::npos) << line;
  EXPECT_NE(line.find("metrics -> none"), std::string::npos) << line;
  EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
  EXPECT_EQ(line.find("t0ken"), std::string::npos) << line;
  EXPECT_EQ(line.find("alice"), std::string::npos) << line;
}

TEST(StartupLine, NoOverrideNoteWhenOnlyTheEnvironmentNamesTheService) {
  ScopedEnv env;
  env.Set("OTEL_SERVICE_NAME", "from-env");
  env.Set("OTEL_TRACES_EXPORTER", "none");
  env.Set("OTEL_LOGS_EXPORTER", "none");
  env.Set("OTEL_METRICS_EXPORTER", "none");
  env.Unset("OTEL_LOG_LEVEL");
  testing::DiagnosticsCapture diag;
  { auto telemetry = Install({}); }
  const std::string line = StartupLine(diag.text());
  EXPECT_NE(line.find("service 'from-env';"), std::string::npos) << diag.text();
  EXPECT_NE(line.find("traces -> none"), std::string::npos) << line;
  EXPECT_EQ(line.find("overrides"), std::string::npos) << line;
}

}  // namespace
}  // namespace otelweb
