// The glog bridge on real glog 0.6: the mapping, the calling thread's span on
// every record under concurrent requests, the global provider followed, the
// sink removed with its object, and no deadlock when otelweb's diagnostics
// are routed into glog while the sink emits.
#include <glog/logging.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "otelweb/diagnostics.h"
#include "otelweb/glog/sink.h"
#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/semconv.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/span.h"
#include "support/memory_logs.h"

using namespace otelweb;
using logs::Severity;

namespace {

void InitGlogOnce() {
  static bool done = [] {
    FLAGS_logtostderr = true;  // no log files under /tmp
    FLAGS_minloglevel = 0;
    google::InitGoogleLogging("otelweb_glog_test");
    return true;
  }();
  (void)done;
}

using otelweb::testing::MemoryLogs;

TEST(GlogSink, MapsSeverityBodyCodeAndSpan) {
  InitGlogOnce();
  otelweb::testing::MemoryTracing tracing;
  MemoryLogs logs;
  glog_bridge::Sink sink({.provider = logs.provider});
  LOG(WARNING) << "outside " << 1;
  auto span = tracing.tracer().StartSpan("GET /items");
  int line = 0;
  {
    Scope s = MakeCurrent(span);
    line = __LINE__ + 1;
    LOG(INFO) << "served " << 3 << " items";
    LOG(ERROR) << "failed";
  }
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].severity(), Severity::kWarn);
  EXPECT_EQ(recs[0].severity_text(), "WARNING");
  EXPECT_EQ(recs[0].body().as_string(), "outside 1");
  EXPECT_FALSE(recs[0].trace_id().IsValid());
  const logs::LogRecord& r = recs[1];
  EXPECT_EQ(r.severity(), Severity::kInfo);
  EXPECT_EQ(r.severity_text(), "INFO");
  EXPECT_EQ(r.body().as_string(), "served 3 items");  // no glog prefix
  EXPECT_EQ(r.trace_id(), span.GetContext().trace_id());
  EXPECT_EQ(r.span_id(), span.GetContext().span_id());
  EXPECT_EQ(r.scope()->name, "glog");
  EXPECT_EQ(r.FindAttribute(semconv::kCodeFilePath).as_string(), __FILE__);
  EXPECT_EQ(r.FindAttribute(semconv::kCodeLineNumber).as_int(), line);
  EXPECT_GT(r.FindAttribute(semconv::kThreadId).as_int(), 0);
  const auto age = std::chrono::system_clock::now() - r.timestamp();
  EXPECT_GE(age, std::chrono::seconds(0));
  EXPECT_LT(age, std::chrono::seconds(10));
  EXPECT_EQ(recs[2].severity(), Severity::kError);
  EXPECT_EQ(recs[2].span_id(), span.GetContext().span_id());
}

TEST(GlogSink, FollowsTheGlobalProviderAndIsRemovedWithItsObject) {
  InitGlogOnce();
  MemoryLogs a, b;
  {
    glog_bridge::Sink sink;  // follows the global provider
    logs::SetLoggerProvider(a.provider);
    LOG(INFO) << "to a";
    logs::SetLoggerProvider(b.provider);
    LOG(INFO) << "to b";
    logs::SetLoggerProvider(nullptr);
  }
  logs::SetLoggerProvider(a.provider);
  LOG(INFO) << "after the sink is gone";
  logs::SetLoggerProvider(nullptr);
  ASSERT_EQ(a.exporter->records().size(), 1u);
  EXPECT_EQ(a.exporter->records()[0].body().as_string(), "to a");
  ASSERT_EQ(b.exporter->records().size(), 1u);
  EXPECT_EQ(b.exporter->records()[0].body().as_string(), "to b");
}

// glog calls sinks on the logging thread: every record carries the span of
// its own request.
TEST(GlogSink, ConcurrentRequestsEachRecordHasItsOwnSpan) {
  InitGlogOnce();
  otelweb::testing::MemoryTracing tracing;
  MemoryLogs logs;
  glog_bridge::Sink sink({.provider = logs.provider});
  const int saved = FLAGS_minloglevel;
  FLAGS_logtostderr = false;
  FLAGS_stderrthreshold = google::GLOG_FATAL;  // keep the test output short
  constexpr int kThreads = 6, kRequests = 20;
  auto span_of_request = otelweb::testing::LogOnConcurrentRequests(tracing.tracer(), kThreads, kRequests,
                                                                   [](const std::string& id) { LOG(INFO) << id; });
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = saved;
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), size_t(kThreads * kRequests));
  for (const auto& r : recs) {
    EXPECT_EQ(r.span_id().ToHex(), span_of_request[std::string(r.body().as_string())]) << r.body().as_string();
  }
}

// An exporter that reports through otelweb's diagnostics on every export,
// with the diagnostics routed into glog: from inside the sink that would
// re-enter glog's lock. DiagnosticsToGlog writes those to stderr instead.
class ComplainingExporter final : public logs::LogRecordExporter {
 public:
  ExportResult Export(std::span<const logs::LogRecord* const>) noexcept override {
    exports.fetch_add(1);
    Log(LogLevel::kError, "export failed (test)");
    return ExportResult::kFailure;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "complaining"; }
  static inline std::atomic<int> exports{0};
};

TEST(GlogSink, DiagnosticsRoutedIntoGlogDoNotDeadlock) {
  InitGlogOnce();
  MemoryLogs logs({.exporter = std::make_unique<ComplainingExporter>()});
  glog_bridge::Sink sink({.provider = logs.provider});
  DiagnosticsSink previous = ExchangeDiagnosticsSink(glog_bridge::DiagnosticsToGlog());
  std::atomic<bool> finished{false};
  std::thread worker([&] {
    for (int i = 0; i < 20; ++i) LOG(ERROR) << "request " << i << " failed";
    Log(LogLevel::kWarning, "a diagnostic outside the sink goes through glog");
    finished = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!finished) {
    std::fprintf(stderr, "FAIL: glog deadlocked with diagnostics routed into it\n");
    std::_Exit(1);
  }
  worker.join();
  ExchangeDiagnosticsSink(std::move(previous));
  // 20 records, and the diagnostic logged outside the sink: glog's sink makes
  // it a record too, whose failed export reports once more, to stderr (no loop).
  EXPECT_EQ(ComplainingExporter::exports.load(), 21);
}

}  // namespace
