// Install(): the metrics part (OTEL_METRICS_EXPORTER, the default rule, the
// shared resource, the handle's shutdown), through real exporters.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "otelweb/metrics/exporters.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/scoped_env.h"
#if __has_include("receiver.h")
#include "receiver.h"
#define OTELWEB_HAVE_RECEIVER 1
#endif

namespace otelweb {
namespace {

using namespace std::chrono_literals;
using otelweb::testing::DiagnosticsCapture;
using otelweb::testing::ScopedEnv;

// Every variable that decides the metrics exporter, cleared.
struct CleanEnv : ScopedEnv {
  CleanEnv() {
    for (const char* v :
         {"OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
          "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"}) {
      Unset(v);
    }
    Set("OTEL_TRACES_EXPORTER", "none");
  }
};

TEST(InstallMetrics, NothingConfiguredInstallsNoMeterProvider) {
  CleanEnv env;
  auto t = Install({.service_name = "svc"});
  EXPECT_EQ(t.meter_provider(), nullptr);
  EXPECT_FALSE(metrics::GetMeterProvider()->GetMeter("x").CreateInt64Counter("c").Enabled());
}

TEST(InstallMetrics, ConsoleByNameSharesTheTracesResourceAndIsGlobalUntilShutdown) {
  CleanEnv env;
  env.Set("OTEL_METRICS_EXPORTER", "console");
  {
    auto t = Install({.service_name = "svc-metrics"});
    ASSERT_NE(t.meter_provider(), nullptr);
    EXPECT_EQ(metrics::GetMeterProvider(), t.meter_provider());
    EXPECT_EQ(t.meter_provider()->resource().service_name(), "svc-metrics");
    const auto& a = t.tracer_provider().resource().attributes();
    const auto& b = t.meter_provider()->resource().attributes();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].key, b[i].key);
      EXPECT_EQ(a[i].value, b[i].value);
    }
  }
  EXPECT_EQ(metrics::GetMeterProvider(), metrics::MeterProvider::NoOp());
}

TEST(InstallMetrics, ReadersFromCodeAndExemplarFilter) {
  CleanEnv env;
  auto reader = std::make_shared<metrics::ManualReader>();
  InstallOptions o;
  o.metrics.readers.push_back(reader);
  o.metrics.exemplar_filter = metrics::ExemplarFilter::kAlwaysOff;
  auto t = Install(std::move(o));
  ASSERT_NE(t.meter_provider(), nullptr);
  EXPECT_EQ(t.meter_provider()->exemplar_filter(), metrics::ExemplarFilter::kAlwaysOff);
  metrics::GetMeterProvider()->GetMeter("m").CreateInt64Counter("hits").Add(2);
  metrics::ResourceMetrics rm;
  ASSERT_TRUE(reader->Collect(&rm));
  EXPECT_EQ(rm.Find("hits")->number_points.at(0).as_int, 2);
}

TEST(InstallMetrics, UnknownExportersWarn) {
  CleanEnv env;
  DiagnosticsCapture diag(LogLevel::kWarning);
  env.Set("OTEL_METRICS_EXPORTER", "bogus");
  auto t = Install({});
  EXPECT_EQ(t.meter_provider(), nullptr);
  EXPECT_EQ(diag.Count("OTEL_METRICS_EXPORTER"), 1u);
}

#ifdef OTELWEB_HAVE_RECEIVER
TEST(InstallMetrics, AnOtlpEndpointSelectsOtlpAndShutdownExports) {
  CleanEnv env;
  otlp::testing::Receiver rx;
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_base());
  env.Set("OTEL_METRIC_EXPORT_INTERVAL", "3600000");
  {
    auto t = Install({.service_name = "otlp-svc"});
    ASSERT_NE(t.meter_provider(), nullptr);
    metrics::GetMeterProvider()->GetMeter("m").CreateInt64Counter("orders").Add(1);
  }  // the handle's shutdown exports what was recorded
  auto seen = rx.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/v1/metrics");
  EXPECT_NE(seen[0].body.find("orders"), std::string::npos);
  EXPECT_NE(seen[0].body.find("otlp-svc"), std::string::npos);
}
#endif

}  // namespace
}  // namespace otelweb
