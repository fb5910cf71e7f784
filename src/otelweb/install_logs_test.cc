// Install() and logs: OTEL_LOGS_EXPORTER, the shared resource, the global
// LoggerProvider, shutdown with the handle; OTLP logs beside traces.
#include <gtest/gtest.h>

#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/trace/tracer.h"

#include <sstream>

using namespace otelweb;

namespace {

TEST(InstallLogs, NoExporterConfiguredInstallsNoLogs) {
  otelweb::testing::ScopedEnv env({{"OTEL_LOGS_EXPORTER", ""}, {"OTEL_EXPORTER_OTLP_ENDPOINT", ""}});
  unsetenv("OTEL_LOGS_EXPORTER");
  unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  unsetenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
  auto t = Install({.service_name = "svc", .traces = {.exporter_name = "none"}});
  EXPECT_EQ(t.shared_logger_provider(), nullptr);
  EXPECT_EQ(logs::GetLoggerProvider(), logs::LoggerProvider::NoOp());
  t.logger_provider().GetLogger("x").Emit(logs::Severity::kInfo, "nowhere");  // no-op, no crash
}

TEST(InstallLogs, ExporterInCodeSharesTheResourceAndBecomesGlobal) {
  auto e = std::make_unique<logs::InMemoryLogRecordExporter>();
  auto storage = e->storage();
  InstallOptions o;
  o.service_name = "shop";
  o.traces.exporter_name = "none";
  o.logs.exporter = std::move(e);
  o.logs.simple_processor = true;
  {
    auto t = Install(std::move(o));
    ASSERT_NE(t.shared_logger_provider(), nullptr);
    EXPECT_EQ(logs::GetLoggerProvider(), t.shared_logger_provider());
    EXPECT_EQ(t.logger_provider().resource().service_name(), "shop");
    EXPECT_EQ(t.tracer_provider().resource().service_name(), "shop");
    auto span = GetTracer("t").StartSpan("work");
    Scope s = MakeCurrent(span);
    logs::GetLogger("app").Emit(logs::Severity::kInfo, "inside work");
    std::lock_guard<std::mutex> lock(storage->mu);
    ASSERT_EQ(storage->records.size(), 1u);
    EXPECT_EQ(storage->records[0].span_id(), span.GetContext().span_id());
  }
  // The handle is gone: the global is the no-op provider again.
  EXPECT_EQ(logs::GetLoggerProvider(), logs::LoggerProvider::NoOp());
}

TEST(InstallLogs, ConsoleByNameFromTheEnvironment) {
  otelweb::testing::ScopedEnv env("OTEL_LOGS_EXPORTER", "console");
  std::ostringstream out;
  InstallOptions o;
  o.traces.exporter_name = "none";
  o.logs.simple_processor = true;
  o.logs.console.out = &out;
  auto t = Install(std::move(o));
  logs::GetLogger("app").Emit(logs::Severity::kWarn, "disk almost full");
  EXPECT_NE(out.str().find("WARN  disk almost full"), std::string::npos) << out.str();
  EXPECT_TRUE(t.Shutdown().ok());
  EXPECT_EQ(t.shared_logger_provider(), nullptr);
}

TEST(InstallLogs, DisabledSdkInstallsNoLogs) {
  otelweb::testing::ScopedEnv env({{"OTEL_SDK_DISABLED", "true"}, {"OTEL_LOGS_EXPORTER", "console"}});
  auto t = Install({});
  EXPECT_EQ(t.shared_logger_provider(), nullptr);
}

}  // namespace
