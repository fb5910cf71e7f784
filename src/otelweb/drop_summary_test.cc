// The drop summary (src/core/drop_summary.h; docs/troubleshooting.md, "Telemetry
// is missing"): every processor of every signal (spans, log records, metric
// data points) reports what it did not export, by reason and with the latest
// export failure's reason, in one bounded line every
// OTEL_CPP_DROP_SUMMARY_INTERVAL and once at shutdown. Real pipelines: the
// OTLP exporters against a collector that accepts connections and never
// answers, with queues small enough to overflow.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/metrics/metric_reader.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/otlp/log_exporter.h"
#include "otelweb/otlp/metric_exporter.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb {
namespace {

using namespace std::chrono_literals;
using testing::DiagnosticsCapture;
using testing::ScopedEnv;

// A TCP listener on 127.0.0.1 that never accepts: connections complete in
// the kernel's backlog and requests are never answered.
class SilentCollector {
 public:
  SilentCollector() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 64) != 0) return;
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentCollector() { close(fd_); }
  std::string url(const char* path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

otlp::OtlpExporterOptions Unanswered(const SilentCollector& c, const char* path) {
  otlp::OtlpExporterOptions o;
  o.read_environment = false;
  o.endpoint = c.url(path);
  o.protocol = otlp::Protocol::kHttpProtobuf;
  o.timeout = 120ms;  // each export gives up after 120 ms
  o.max_attempts = 1;
  return o;
}

// Lines of `diag` that contain `needle`.
std::vector<std::string> Lines(const DiagnosticsCapture& diag, std::string_view needle) {
  std::vector<std::string> out;
  for (auto& m : diag.messages()) {
    if (m.find(needle) != std::string::npos) out.push_back(m);
  }
  return out;
}

// The periodic lines containing `needle`, read once at least `at_least` has
// passed since `t0` and a line has appeared (waiting at most 5 s more: a
// loaded machine delays the worker), and how many lines one per `interval`
// allows for the time that passed.
struct Periodic {
  std::vector<std::string> lines;
  size_t allowed = 0;
};
Periodic PeriodicLines(const DiagnosticsCapture& diag, std::string_view needle,
                       std::chrono::steady_clock::time_point t0, std::chrono::milliseconds at_least,
                       std::chrono::milliseconds interval) {
  std::this_thread::sleep_until(t0 + at_least);
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  Periodic p;
  for (;;) {
    p.lines = Lines(diag, needle);
    const auto now = std::chrono::steady_clock::now();  // after the read: every line read was logged by now
    p.allowed = static_cast<size_t>(std::chrono::duration<double>(now - t0) / interval) + 1;
    if (!p.lines.empty() || now >= give_up) return p;
    std::this_thread::sleep_for(10ms);
  }
}

bool AnyHas(const std::vector<std::string>& lines, std::initializer_list<std::string_view> parts) {
  for (auto& l : lines) {
    bool all = true;
    for (auto p : parts) all = all && l.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

TEST(DropSummary, SpansQueueOverflowAndAnUnansweredCollectorPeriodicallyAndAtShutdown) {
  SilentCollector collector;
  ASSERT_NE(collector.port(), 0);
  ScopedEnv env;
  env.Set("OTEL_CPP_DROP_SUMMARY_INTERVAL", "250");
  DiagnosticsCapture diag(LogLevel::kWarning);
  BatchSpanProcessorOptions b;
  b.max_queue_size = 4;
  b.max_export_batch_size = 2;
  b.schedule_delay = 10ms;
  b.export_timeout = 300ms;
  auto proc = std::make_unique<BatchSpanProcessor>(
      std::make_unique<otlp::OtlpSpanExporter>(Unanswered(collector, "/v1/traces")), b);
  BatchSpanProcessor* batch = proc.get();
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::move(proc));
  TracerProvider provider(std::move(o));
  Tracer tracer = provider.GetTracer("drops");
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) tracer.StartSpan("s").End();  // 4 queued (+2 in export), the rest overflow
  const auto [periodic, allowed] = PeriodicLines(diag, "batch span processor, last 250 ms: ", t0, 900ms, 250ms);
  ASSERT_FALSE(periodic.empty()) << diag.text();
  EXPECT_LE(periodic.size(), allowed) << diag.text();  // bounded: one per window
  EXPECT_TRUE(AnyHas(periodic, {"spans not exported (", "queue full"})) << diag.text();
  EXPECT_TRUE(AnyHas(periodic, {"export failed", "export calls failed, latest: OTLP exporter (http/protobuf)"}))
      << diag.text();
  // The exporter said its first failure itself and left the rest to the summary.
  EXPECT_EQ(Lines(diag, "OTLP exporter (http/protobuf): dropped").size(), 1u) << diag.text();

  (void)provider.Shutdown(300ms);
  const ProcessorCounters c = batch->counters();
  EXPECT_EQ(c.exported, 0u);
  EXPECT_EQ(c.not_exported(), 40u);
  EXPECT_GE(c.dropped_queue_full, 30u);
  EXPECT_GE(c.export_failed, 2u);
  const auto at_shutdown = Lines(diag, "batch span processor shut down: 0 spans exported, 40 not exported (");
  ASSERT_EQ(at_shutdown.size(), 1u) << diag.text();
  EXPECT_NE(at_shutdown[0].find(std::to_string(c.dropped_queue_full) + " queue full"), std::string::npos)
      << at_shutdown[0];
  EXPECT_NE(at_shutdown[0].find("export calls failed, latest: OTLP exporter (http/protobuf)"), std::string::npos)
      << at_shutdown[0];
}

TEST(DropSummary, LogRecordsPeriodicallyAndAtShutdown) {
  SilentCollector collector;
  ASSERT_NE(collector.port(), 0);
  ScopedEnv env;
  env.Set("OTEL_CPP_DROP_SUMMARY_INTERVAL", "250");
  DiagnosticsCapture diag(LogLevel::kWarning);
  logs::BatchLogRecordProcessorOptions b;
  b.max_queue_size = 4;
  b.max_export_batch_size = 2;
  b.schedule_delay = 10ms;
  b.export_timeout = 300ms;
  auto proc = std::make_unique<logs::BatchLogRecordProcessor>(
      std::make_unique<otlp::OtlpLogRecordExporter>(Unanswered(collector, "/v1/logs")), b);
  logs::BatchLogRecordProcessor* batch = proc.get();
  logs::LoggerProviderOptions o;
  o.processors.push_back(std::move(proc));
  auto provider = std::make_shared<logs::LoggerProvider>(std::move(o));
  logs::Logger logger = provider->GetLogger("drops");
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) logger.Emit(logs::Severity::kInfo, "line");
  const auto [periodic, allowed] = PeriodicLines(diag, "batch log record processor, last 250 ms: ", t0, 700ms, 250ms);
  ASSERT_FALSE(periodic.empty()) << diag.text();
  EXPECT_LE(periodic.size(), allowed) << diag.text();
  EXPECT_TRUE(AnyHas(periodic, {"log records not exported (", "queue full"})) << diag.text();
  EXPECT_TRUE(AnyHas(periodic, {"export failed", "latest: OTLP exporter (http/protobuf)"})) << diag.text();
  (void)provider->Shutdown(300ms);
  const ProcessorCounters c = batch->counters();
  EXPECT_EQ(c.exported, 0u);
  EXPECT_EQ(c.not_exported(), 40u);
  EXPECT_EQ(Lines(diag, "batch log record processor shut down: 0 log records exported, 40 not exported (").size(), 1u)
      << diag.text();
}

TEST(DropSummary, MetricDataPointsPeriodicallyAndAtShutdown) {
  SilentCollector collector;
  ASSERT_NE(collector.port(), 0);
  ScopedEnv env;
  env.Set("OTEL_CPP_DROP_SUMMARY_INTERVAL", "250");
  DiagnosticsCapture diag(LogLevel::kWarning);
  otlp::OtlpMetricExporterOptions eo;
  eo.otlp = Unanswered(collector, "/v1/metrics");
  metrics::PeriodicReaderOptions ro;
  ro.interval = 100ms;
  ro.timeout = 300ms;
  auto reader =
      std::make_shared<metrics::PeriodicExportingMetricReader>(std::make_unique<otlp::OtlpMetricExporter>(eo), ro);
  metrics::MeterProviderOptions o;
  o.readers.push_back(reader);
  const auto t0 = std::chrono::steady_clock::now();
  auto provider = std::make_unique<metrics::MeterProvider>(std::move(o));
  auto counter = provider->GetMeter("drops").CreateInt64Counter("jobs");
  counter.Add(1, {{"k", "a"}});
  counter.Add(1, {{"k", "b"}});
  const auto [periodic, allowed] = PeriodicLines(diag, "periodic metric reader, last 250 ms: ", t0, 700ms, 250ms);
  ASSERT_FALSE(periodic.empty()) << diag.text();
  EXPECT_LE(periodic.size(), allowed) << diag.text();
  EXPECT_TRUE(AnyHas(periodic, {"data points not exported (", "export failed",
                                "latest: OTLP exporter (http/protobuf)"}))
      << diag.text();
  (void)provider->Shutdown(300ms);
  const ProcessorCounters c = reader->counters();
  EXPECT_EQ(c.exported, 0u);
  EXPECT_GE(c.export_failed, 4u);  // two points per collection, two collections at least
  EXPECT_EQ(c.export_calls, c.export_calls_failed);
  EXPECT_EQ(Lines(diag, "periodic metric reader shut down: 0 data points exported, ").size(), 1u) << diag.text();
}

// An exporter that fails without saying why (not OTLP): the processor warns
// once, and the summary still counts. Interval 0 turns the periodic line off;
// the shutdown line stays.
class FailingExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<EndedSpan>) noexcept override { return ExportResult::kFailure; }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "failing"; }
};

TEST(DropSummary, ZeroIntervalTurnsThePeriodicLineOffButNotTheShutdownLine) {
  ScopedEnv env;
  env.Set("OTEL_CPP_DROP_SUMMARY_INTERVAL", "0");
  DiagnosticsCapture diag(LogLevel::kWarning);
  BatchSpanProcessorOptions b;
  b.schedule_delay = 0ms;
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::make_unique<BatchSpanProcessor>(std::make_unique<FailingExporter>(), b));
  o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<FailingExporter>()));
  TracerProvider provider(std::move(o));
  Tracer tracer = provider.GetTracer("drops");
  for (int i = 0; i < 5; ++i) {
    tracer.StartSpan("s").End();
    std::this_thread::sleep_for(30ms);
  }
  EXPECT_EQ(Lines(diag, ", last ").size(), 0u) << diag.text();
  (void)provider.Shutdown(1s);
  EXPECT_EQ(Lines(diag, "batch span processor shut down: 0 spans exported, 5 not exported (5 export failed)").size(),
            1u)
      << diag.text();
  EXPECT_EQ(Lines(diag, "simple span processor shut down: 0 spans exported, 5 not exported (5 export failed)").size(),
            1u)
      << diag.text();
}

TEST(DropSummary, SimpleProcessorsReportAtTheFirstFailureAfterTheInterval) {
  ScopedEnv env;
  env.Set("OTEL_CPP_DROP_SUMMARY_INTERVAL", "100");
  DiagnosticsCapture diag(LogLevel::kWarning);
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<FailingExporter>()));
  TracerProvider provider(std::move(o));
  Tracer tracer = provider.GetTracer("drops");
  for (int i = 0; i < 4; ++i) tracer.StartSpan("s").End();
  std::this_thread::sleep_for(150ms);
  tracer.StartSpan("s").End();
  const auto periodic = Lines(diag, "simple span processor, last 100 ms: 5 spans not exported (5 export failed)");
  EXPECT_EQ(periodic.size(), 1u) << diag.text();
  (void)provider.Shutdown(1s);
}

}  // namespace
}  // namespace otelweb
