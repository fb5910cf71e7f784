// The deadline model end to end (otelweb/common.h; docs/configuration.md,
// "Deadlines"): the InstallTracing handle honours OTEL_BSP_EXPORT_TIMEOUT and
// the code option, against a collector that never answers (a raw socket that
// accepts and stays silent) and one that answers late (the OTLP test
// receiver with a delay). Everything not exported is counted by reason and
// reported in one line.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "otelweb/logs/logger_provider.h"
#include "otelweb/otelweb.h"
#include "otlp/testing/otlp_env_util.h"
#if __has_include("receiver.h")
#include "receiver.h"
#define OTELWEB_HAVE_RECEIVER 1
#endif

namespace otelweb {
namespace {

using namespace std::chrono_literals;
using otlp::testing::ScopedEnv;
using Clock = std::chrono::steady_clock;

// A TCP listener on 127.0.0.1 that never accepts: connections complete (the
// kernel's backlog) and requests are never answered.
class SilentCollector {
 public:
  SilentCollector() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 64) != 0) return;
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentCollector() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(Deadlines, HandleResolvesCodeThenBatchOptionThenEnvironmentThenDefault) {
  ScopedEnv env;
  env.Unset("OTEL_BSP_EXPORT_TIMEOUT");
  {
    TracingOptions o;
    o.exporter_name = "none";
    auto h = InstallTracing(std::move(o));
    EXPECT_EQ(h.shutdown_timeout(), 5000ms);
  }
  env.Set("OTEL_BSP_EXPORT_TIMEOUT", "1234");
  {
    TracingOptions o;
    o.exporter_name = "none";
    auto h = InstallTracing(std::move(o));
    EXPECT_EQ(h.shutdown_timeout(), 1234ms);
  }
  {
    TracingOptions o;
    o.exporter_name = "none";
    o.batch.export_timeout = 777ms;
    auto h = InstallTracing(std::move(o));
    EXPECT_EQ(h.shutdown_timeout(), 777ms);
  }
  {
    TracingOptions o;
    o.exporter_name = "none";
    o.shutdown_timeout = 250ms;
    auto h = InstallTracing(std::move(o));
    EXPECT_EQ(h.shutdown_timeout(), 250ms);
  }
  env.Set("OTEL_BSP_EXPORT_TIMEOUT", "0");  // no limit: the documented ceiling
  {
    TracingOptions o;
    o.exporter_name = "none";
    auto h = InstallTracing(std::move(o));
    EXPECT_EQ(h.shutdown_timeout(), kShutdownCeiling);
  }
}

TEST(Deadlines, ACollectorThatNeverAnswersStopsAtTheConfiguredDeadlineAndCountsEverySpan) {
  SilentCollector collector;
  ASSERT_NE(collector.port(), 0);
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + std::to_string(collector.port()));
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
  env.Set("OTEL_EXPORTER_OTLP_TIMEOUT", "0");  // no limit per export: only shutdown stops it
  env.Set("OTEL_BSP_EXPORT_TIMEOUT", "400");
  env.Set("OTEL_BSP_SCHEDULE_DELAY", "0");  // valid: export at once (and get stuck)
  env.Set("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10");
  testing::DiagnosticsCapture diag(LogLevel::kWarning);
  const SdkCounters before = GetSdkCounters();
  TracingOptions o;
  o.exporter_name = "otlp";
  o.sampler = AlwaysOnSampler();
  auto tracing = InstallTracing(std::move(o));
  EXPECT_EQ(tracing.shutdown_timeout(), 400ms);
  Tracer tracer = GetTracer("deadline-test");
  for (int i = 0; i < 50; ++i) tracer.StartSpan("s").End();
  std::this_thread::sleep_for(50ms);  // the first export is on the wire, unanswered
  auto t0 = Clock::now();
  OperationResult r = tracing.Shutdown();
  auto took = Clock::now() - t0;
  EXPECT_EQ(r, OperationResult::Timeout());
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 2s);
  const SdkCounters after = GetSdkCounters();
  const uint64_t exported = after.spans_exported - before.spans_exported;
  const uint64_t deadline = after.spans_dropped_deadline - before.spans_dropped_deadline;
  const uint64_t failed = after.spans_export_failed - before.spans_export_failed;
  EXPECT_EQ(exported, 0u);
  EXPECT_EQ(deadline + failed, 50u);  // every span, by reason, none uncounted
  EXPECT_GE(deadline, 40u);
  EXPECT_EQ(diag.Count("batch span processor shut down: 0 spans exported, 50 not exported ("), 1u)
      << diag.text();
}

// The console exporter prints a request's tree within a fraction of a second
// (default schedule delay 200 ms with it), not after 5 s.
TEST(ConsoleExporter, PrintsWithinAShortDelayByDefault) {
  ScopedEnv env;
  env.Unset("OTEL_BSP_SCHEDULE_DELAY");
  TracingOptions o;
  o.exporter_name = "console";
  o.sampler = AlwaysOnSampler();
  auto tracing = InstallTracing(std::move(o));
  ::testing::internal::CaptureStdout();
  GetTracer("console-test").StartSpan("printed-soon").End();
  std::this_thread::sleep_for(800ms);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("printed-soon"), std::string::npos) << out;
}

// The same for log records on the console (the batch log processor's
// default delay is 1 s): printed within a fraction of a second.
TEST(ConsoleExporter, LogRecordsPrintWithinAShortDelayByDefault) {
  ScopedEnv env;
  env.Unset("OTEL_BLRP_SCHEDULE_DELAY");
  env.Set("OTEL_LOGS_EXPORTER", "console");
  env.Set("OTEL_TRACES_EXPORTER", "none");
  env.Set("OTEL_METRICS_EXPORTER", "none");
  auto telemetry = Install({.service_name = "console-logs"});
  ::testing::internal::CaptureStdout();
  logs::GetLogger("console-test").Emit(logs::Severity::kInfo, "logged-soon");
  std::this_thread::sleep_for(600ms);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("logged-soon"), std::string::npos) << out;
}

#ifdef OTELWEB_HAVE_RECEIVER
TEST(Deadlines, ACollectorThatAnswersLateWithinTheDeadlineGetsEverything) {
  otlp::testing::Receiver receiver;
  receiver.SetDelay(300ms);
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_base());
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
  env.Set("OTEL_BSP_EXPORT_TIMEOUT", "5000");
  env.Set("OTEL_BSP_SCHEDULE_DELAY", "60000");
  TracingOptions o;
  o.exporter_name = "otlp";
  o.sampler = AlwaysOnSampler();
  auto tracing = InstallTracing(std::move(o));
  Tracer tracer = GetTracer("deadline-test");
  for (int i = 0; i < 20; ++i) tracer.StartSpan("s").End();
  auto t0 = Clock::now();
  EXPECT_TRUE(tracing.Shutdown().ok());
  EXPECT_GE(Clock::now() - t0, 290ms);  // it waited for the late answer
  EXPECT_EQ(receiver.spans(), 20u);
}

TEST(Deadlines, ACollectorThatAnswersAfterTheDeadlineCountsTheBatchDropped) {
  otlp::testing::Receiver receiver;
  receiver.SetDelay(1500ms);
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_base());
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
  env.Set("OTEL_BSP_SCHEDULE_DELAY", "60000");
  const SdkCounters before = GetSdkCounters();
  TracingOptions o;
  o.exporter_name = "otlp";
  o.sampler = AlwaysOnSampler();
  o.shutdown_timeout = 300ms;  // code beats OTEL_BSP_EXPORT_TIMEOUT
  auto tracing = InstallTracing(std::move(o));
  Tracer tracer = GetTracer("deadline-test");
  for (int i = 0; i < 20; ++i) tracer.StartSpan("s").End();
  auto t0 = Clock::now();
  EXPECT_EQ(tracing.Shutdown(), OperationResult::Timeout());
  EXPECT_LT(Clock::now() - t0, 1200ms);
  const SdkCounters after = GetSdkCounters();
  EXPECT_EQ((after.spans_dropped_deadline - before.spans_dropped_deadline) +
                (after.spans_export_failed - before.spans_export_failed) +
                (after.spans_exported - before.spans_exported),
            20u);
}
#endif

}  // namespace
}  // namespace otelweb
