// Install / InstallTracing: the global provider, exporter selection by name
// (OTEL_TRACES_EXPORTER), the OTLP exporters reached through the umbrella
// without any registration call, and the handles' shutdown.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "otelweb/otelweb.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otlp/testing/otlp_env_util.h"
#if __has_include("receiver.h")  // the OTLP test receiver (cpp-httplib, gRPC)
#include "receiver.h"
#define OTELWEB_HAVE_RECEIVER 1
#endif

namespace otelweb {
namespace {

using namespace std::chrono_literals;
using otlp::testing::ScopedEnv;
using otlp::testing::Warnings;

TEST(InstallTracing, GivesAWorkingGlobalAndFlushesOnScopeExit) {
  auto store = std::make_shared<InMemorySpanStore>();
  {
    TracingOptions o;
    o.service_name = "install-test";
    o.exporter = std::make_unique<InMemorySpanExporter>(store);
    o.sampler = AlwaysOnSampler();
    auto tracing = InstallTracing(std::move(o));
    auto span = GetTracer("app").StartSpan("work");
    span.End();
    EXPECT_EQ(store->size(), 0u);  // batched, not yet exported
  }
  ASSERT_EQ(store->size(), 1u);
  EXPECT_EQ(store->spans()[0]->resource().service_name(), "install-test");
  EXPECT_FALSE(GetTracer("app").StartSpan("after").IsRecording());
}

// An older handle shut down after a newer install must not remove the newer
// provider from the global (compare-and-reset under the global's lock), and a
// shut-down handle's provider() is the no-op provider, not a null reference.
TEST(InstallTracing, AnOlderHandleNeverClearsANewerGlobal) {
  ScopedEnv env;
  auto older = std::make_unique<TracingHandle>(InstallTracing({.exporter_name = "none"}));
  auto newer = InstallTracing({.exporter_name = "none"});
  older.reset();  // shuts the older provider down
  EXPECT_EQ(GetTracerProvider().get(), &newer.provider());
  EXPECT_TRUE(GetTracer("app").StartSpan("still traced").IsRecording());
  EXPECT_EQ(newer.Shutdown(), OperationResult::Ok());
  EXPECT_NE(GetTracerProvider().get(), nullptr);
  EXPECT_FALSE(GetTracer("app").StartSpan("after").IsRecording());
  EXPECT_FALSE(newer.provider().GetTracer("t").StartSpan("no-op").IsRecording());
  Telemetry t = Install({});
  (void)t.Shutdown();
  EXPECT_FALSE(t.tracer_provider().GetTracer("t").StartSpan("no-op").IsRecording());
}

TEST(InstallTracing, SdkDisabledGivesNoOpSpans) {
  ScopedEnv env;
  env.Set("OTEL_SDK_DISABLED", "true");
  auto tracing = InstallTracing();
  EXPECT_FALSE(GetTracer("app").StartSpan("x").IsRecording());
}

TEST(InstallTracing, ExporterSelectionAndUnknownNames) {
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_TRACES_EXPORTER", "none,bogus");
  auto tracing = InstallTracing();
  EXPECT_EQ(w.count(), 1u) << w.text();
  EXPECT_NE(w.text().find("'bogus'"), std::string::npos) << w.text();
  EXPECT_NE(w.text().find("otlp/stdout"), std::string::npos) << w.text();  // the known names
  // No exporter: spans are recorded but go nowhere; nothing crashes.
  GetTracer("t").StartSpan("x").End();
}

TEST(Install, OneHandleForEverySignalWithTheTracesPart) {
  auto store = std::make_shared<InMemorySpanStore>();
  {
    InstallOptions o;
    o.service_name = "install-all";
    o.traces.exporter = std::make_unique<InMemorySpanExporter>(store);
    o.traces.sampler = AlwaysOnSampler();
    o.traces.simple_processor = true;
    Telemetry telemetry = Install(std::move(o));
    GetTracer("app").StartSpan("work").End();
    EXPECT_EQ(store->size(), 1u);  // simple processor: at once
    EXPECT_EQ(&telemetry.tracer_provider(), GetTracerProvider().get());
    EXPECT_TRUE(telemetry.Shutdown().ok());
    EXPECT_FALSE(GetTracer("app").StartSpan("after").IsRecording());
    EXPECT_EQ(telemetry.Shutdown(), OperationResult::AlreadyShutDown());
  }
  EXPECT_EQ(store->spans()[0]->resource().service_name(), "install-all");
}

TEST(InstallTracing, RegisteredFactoriesComeBeforeBuiltInNames) {
  ScopedEnv env;
  auto store = std::make_shared<InMemorySpanStore>();
  RegisterExporterFactory("install-test-store", [store] { return std::make_unique<InMemorySpanExporter>(store); });
  env.Set("OTEL_TRACES_EXPORTER", "install-test-store");
  {
    auto tracing = InstallTracing({.sampler = AlwaysOnSampler()});
    GetTracer("t").StartSpan("registered").End();
  }
  ASSERT_EQ(store->size(), 1u);
  EXPECT_EQ(store->spans()[0]->name(), "registered");
}

#ifdef OTELWEB_HAVE_RECEIVER
TEST(InstallTracing, UsesOtlpWhenAskedOrWhenAnEndpointIsSet) {
  otlp::testing::Receiver rx;
  {
    ScopedEnv env;
    env.Set("OTEL_TRACES_EXPORTER", "otlp");
    env.Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", rx.http_url());
    auto h = InstallTracing({.service_name = "install-test"});
    GetTracer("install").StartSpan("via-install").End();
  }  // handle flushes
  ASSERT_TRUE(rx.WaitForSpans(1, 10s));
  {
    ScopedEnv env;  // no OTEL_TRACES_EXPORTER: an endpoint is enough
    env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_base());
    auto h = InstallTracing({.service_name = "install-test"});
    GetTracer("install").StartSpan("via-endpoint").End();
  }
  ASSERT_TRUE(rx.WaitForSpans(2, 10s));
  auto reqs = rx.requests();
  EXPECT_EQ(reqs.back().resource_spans(0).scope_spans(0).spans(0).name(), "via-endpoint");
  EXPECT_GT(reqs.back().resource_spans(0).resource().attributes_size(), 0);
}
#endif

// OTEL_TRACES_EXPORTER=otlp/stdout: one OTLP/JSON TracesData line per batch
// on standard output (redirected to a file here), through a batch processor.
TEST(InstallTracing, OtlpStdoutWritesTracesDataLinesToStandardOutput) {
  std::string path = ::testing::TempDir() + "/install_otlp_stdout.jsonl";
  std::fflush(stdout);
  int saved = dup(fileno(stdout));
  ASSERT_GE(saved, 0);
  ASSERT_NE(std::freopen(path.c_str(), "w", stdout), nullptr);
  {
    ScopedEnv env;
    env.Set("OTEL_TRACES_EXPORTER", "otlp/stdout");
    auto tracing = InstallTracing({.service_name = "stdout-test", .sampler = AlwaysOnSampler()});
    GetTracer("t").StartSpan("one").End();
    GetTracer("t").StartSpan("two").End();
  }  // flushed: both spans in one batch
  std::fflush(stdout);
  dup2(saved, fileno(stdout));
  close(saved);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(text.rfind("{\"resourceSpans\":[", 0), 0u) << text;
  EXPECT_NE(text.find("\"name\":\"one\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"name\":\"two\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"stringValue\":\"stdout-test\""), std::string::npos) << text;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace otelweb
