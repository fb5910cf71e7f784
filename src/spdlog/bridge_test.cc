// The spdlog bridge on real spdlog loggers: the sink's mapping, the pattern
// flags, the async logger carrying each caller's context, flush, and the
// recursion guard under load.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/spdlog/async.h"
#include "otelweb/spdlog/pattern.h"
#include "otelweb/spdlog/sink.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span.h"
#include "support/memory_logs.h"

using namespace otelweb;
using logs::Severity;

namespace {

using otelweb::testing::MemoryLogs;

TEST(SpdlogSink, MapsLevelsBodyScopeCodeAndSpan) {
  otelweb::testing::MemoryTracing tracing;
  MemoryLogs logs;
  auto logger = std::make_shared<::spdlog::logger>("shop", spdlog_bridge::MakeSink({.provider = logs.provider}));
  logger->set_level(::spdlog::level::trace);
  auto span = tracing.tracer().StartSpan("GET /items");
  {
    Scope s = MakeCurrent(span);
    SPDLOG_LOGGER_INFO(logger, "served {} items", 3);
  }
  logger->trace("t");
  logger->debug("d");
  logger->warn("w");
  logger->error("e");
  logger->critical("c");
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), 6u);
  const auto& r = recs[0];
  EXPECT_EQ(r.body().as_string(), "served 3 items");
  EXPECT_EQ(r.severity(), Severity::kInfo);
  EXPECT_EQ(r.severity_text(), "info");
  EXPECT_EQ(r.scope()->name, "shop");
  EXPECT_EQ(r.span_id(), span.GetContext().span_id());
  EXPECT_EQ(r.trace_id(), span.GetContext().trace_id());
  EXPECT_NE(std::string(r.FindAttribute("code.file.path").as_string()).find("bridge_test.cc"), std::string::npos);
  EXPECT_GT(r.FindAttribute("code.line.number").as_int(), 0);
  EXPECT_NE(r.FindAttribute("code.function.name").as_string(), "");
  EXPECT_NE(r.FindAttribute("thread.id").as_int(), 0);
  EXPECT_NE(r.timestamp().time_since_epoch().count(), 0);
  EXPECT_EQ(recs[1].severity(), Severity::kTrace);
  EXPECT_EQ(recs[2].severity(), Severity::kDebug);
  EXPECT_EQ(recs[3].severity(), Severity::kWarn);
  EXPECT_EQ(recs[4].severity(), Severity::kError);
  EXPECT_EQ(recs[5].severity(), Severity::kFatal);
  EXPECT_FALSE(recs[1].trace_id().IsValid());
}

TEST(SpdlogSink, FollowsTheGlobalProvider) {
  MemoryLogs a, b;
  auto logger = std::make_shared<::spdlog::logger>("g", spdlog_bridge::MakeSink());
  logs::SetLoggerProvider(a.provider);
  logger->info("to a");
  logs::SetLoggerProvider(b.provider);
  logger->info("to b");
  logs::SetLoggerProvider(nullptr);
  logger->info("to nobody");
  EXPECT_EQ(a.exporter->records().size(), 1u);
  ASSERT_EQ(b.exporter->records().size(), 1u);
  EXPECT_EQ(b.exporter->records()[0].body().as_string(), "to b");
}

TEST(SpdlogSink, FlushNeverForcesAnExport) {
  logs::BatchLogRecordProcessorOptions bo;
  bo.schedule_delay = std::chrono::hours(1);
  MemoryLogs logs({.batch = true, .batch_options = bo});
  auto logger = std::make_shared<::spdlog::logger>("f", spdlog_bridge::MakeSink({.provider = logs.provider}));
  logger->flush_on(::spdlog::level::info);
  logger->info("one");
  logger->flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(logs.exporter->records().empty());
  EXPECT_TRUE(logs.provider->ForceFlush().ok());
  EXPECT_EQ(logs.exporter->records().size(), 1u);
}

std::string Hex(const TraceId& t) { return t.ToHex(); }

TEST(SpdlogPattern, PrintsIdsInsideASpanAndZerosOutside) {
  otelweb::testing::MemoryTracing tracing;
  std::ostringstream out;
  auto logger = std::make_shared<::spdlog::logger>("p", std::make_shared<::spdlog::sinks::ostream_sink_st>(out));
  spdlog_bridge::SetPattern(*logger, "trace_id=%Q span_id=%J trace_flags=%K %v");
  logger->info("outside");
  auto span = tracing.tracer().StartSpan("r");
  {
    Scope s = MakeCurrent(span);
    logger->info("inside");
  }
  const std::string expected = "trace_id=" + std::string(32, '0') + " span_id=" + std::string(16, '0') +
                               " trace_flags=00 outside\n" + "trace_id=" + Hex(span.GetContext().trace_id()) +
                               " span_id=" + span.GetContext().span_id().ToHex() + " trace_flags=0" +
                               std::to_string(span.GetContext().flags().value) + " inside\n";
  EXPECT_EQ(out.str(), expected);
}

// The flags are fused with the literal text around them into one formatter
// (for speed): the output must be what the pattern says, with spdlog's own
// flags, "%%", padding, several runs, custom flag letters and a trailing '%'.
TEST(SpdlogPattern, FusedRunsPrintExactlyThePattern) {
  otelweb::testing::MemoryTracing tracing;
  auto span = tracing.tracer().StartSpan("r");
  Scope s = MakeCurrent(span);
  const std::string t = Hex(span.GetContext().trace_id()), i = span.GetContext().span_id().ToHex();
  const std::string fl = "0" + std::to_string(span.GetContext().flags().value);
  auto format = [](const std::string& pattern, spdlog_bridge::PatternFlags flags = {}) {
    auto f = spdlog_bridge::MakePatternFormatter(pattern, flags);
    ::spdlog::details::log_msg msg("lg", ::spdlog::level::warn, "body");
    ::spdlog::memory_buf_t buf;
    f->format(msg, buf);
    std::string out(buf.data(), buf.size());
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  };
  EXPECT_EQ(format("%l trace_id=%Q span_id=%J trace_flags=%K %v"),
            "warning trace_id=" + t + " span_id=" + i + " trace_flags=" + fl + " body");
  EXPECT_EQ(format("%Q%J%K"), t + i + fl);
  EXPECT_EQ(format("100%% [%Q] %n [%J] 50%%%K"), "100% [" + t + "] lg [" + i + "] 50%" + fl);
  EXPECT_EQ(format("%-40Q|%8J|%=3K|%-K"), t + "|" + i + "|" + fl + "|" + fl);  // padding is ignored
  EXPECT_EQ(format("<%T>", {.trace_id = 'T'}), "<" + t + ">");
  EXPECT_EQ(format("%v no flags %l"), "body no flags warning");
  EXPECT_EQ(format("%Q %"), t + " ");
  std::string many, expected;  // more runs than fused characters (31): the rest print unfused
  for (int k = 0; k < 40; ++k) {
    many += "%J %v ";
    expected += i + " body ";
  }
  EXPECT_EQ(format(many), expected);
}

// Unsampled requests have valid ids and print them (needs the non-recording
// span to carry its context: the lifecycle helper's fix).
TEST(SpdlogPattern, UnsampledRequestPrintsValidIds) {
  otelweb::testing::MemoryTracing tracing({.sampler = AlwaysOffSampler()});
  std::ostringstream out;
  auto logger = std::make_shared<::spdlog::logger>("p", std::make_shared<::spdlog::sinks::ostream_sink_st>(out));
  spdlog_bridge::SetPattern(*logger, "%Q %J %K");
  auto span = tracing.tracer().StartSpan("unsampled");
  Scope s = MakeCurrent(span);
  logger->info("x");
  ASSERT_TRUE(span.GetContext().IsValid());
  EXPECT_EQ(out.str().substr(0, 32), span.GetContext().trace_id().ToHex());
  EXPECT_EQ(out.str().substr(33, 16), span.GetContext().span_id().ToHex());
}

// Many "requests" on many threads log through one async logger: every record
// (OTLP side) and every text line (pattern side) carries its own request's
// span, not the worker's (none) nor another request's.
TEST(SpdlogAsync, EveryRecordCarriesItsOwnRequestsSpan) {
  otelweb::testing::MemoryTracing tracing;
  MemoryLogs logs({.batch = true});
  std::ostringstream out;
  auto text = std::make_shared<::spdlog::sinks::ostream_sink_mt>(out);
  auto logger = spdlog_bridge::MakeAsyncLogger("async", {spdlog_bridge::MakeSink({.provider = logs.provider}), text});
  spdlog_bridge::SetPattern(*logger, "%J %v");
  constexpr int kThreads = 8, kRequests = 25, kLines = 4;
  auto span_of_request =
      otelweb::testing::LogOnConcurrentRequests(tracing.tracer(), kThreads, kRequests, [&](const std::string& id) {
        for (int l = 0; l < kLines; ++l) logger->info("req {} line {}", id, l);
      });
  logger->flush();
  logger.reset();  // drains the queue and joins the worker
  ASSERT_TRUE(logs.provider->ForceFlush().ok());
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), size_t{kThreads * kRequests * kLines});
  for (const auto& rec : recs) {
    std::string body(rec.body().as_string());
    const std::string id = body.substr(4, body.find(" line") - 4);
    ASSERT_EQ(rec.span_id().ToHex(), span_of_request.at(id)) << body;
  }
  std::istringstream lines(out.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const std::string id = line.substr(21, line.find(" line") - 21);
    ASSERT_EQ(line.substr(0, 16), span_of_request.at(id)) << line;
    ++n;
  }
  EXPECT_EQ(n, kThreads * kRequests * kLines);
}

// A sink-level failure exporter that logs nothing itself; the SDK's
// diagnostics (export failures, queue full) go to the bridged async logger,
// whose records go back into the failing pipeline.
class FailingExporter final : public logs::LogRecordExporter {
 public:
  std::atomic<int> calls{0};
  ExportResult Export(std::span<const logs::LogRecord* const>) noexcept override {
    ++calls;
    Log(LogLevel::kError, "failing exporter: collector unreachable");
    return ExportResult::kFailure;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "failing"; }
};

TEST(SpdlogRecursionGuard, DiagnosticsIntoTheBridgedLoggerWithAFailingExporter) {
  otelweb::testing::MemoryTracing tracing;
  for (bool async : {false, true}) {
    for (bool batch : {false, true}) {
      auto e = std::make_unique<FailingExporter>();
      FailingExporter* ex = e.get();
      logs::LoggerProviderOptions o;
      o.resource = Resource();
      if (batch) {
        logs::BatchLogRecordProcessorOptions bo;
        bo.max_queue_size = 128;
        bo.max_export_batch_size = 16;
        bo.schedule_delay = std::chrono::milliseconds(5);
        o.processors.push_back(std::make_unique<logs::BatchLogRecordProcessor>(std::move(e), bo));
      } else {
        o.processors.push_back(std::make_unique<logs::SimpleLogRecordProcessor>(std::move(e)));
      }
      auto provider = std::make_shared<logs::LoggerProvider>(std::move(o));
      std::atomic<uint64_t> text_lines{0};
      std::shared_ptr<::spdlog::logger> logger;
      auto otel = spdlog_bridge::MakeSink({.provider = provider});
      if (async) {
        logger = spdlog_bridge::MakeAsyncLogger("app", {otel});
      } else {
        logger = std::make_shared<::spdlog::logger>("app", otel);
      }
      std::weak_ptr<::spdlog::logger> weak = logger;
      DiagnosticsSink previous = ExchangeDiagnosticsSink([weak, &text_lines](LogLevel, std::string_view m) {
        ++text_lines;
        if (auto l = weak.lock()) l->warn("otelweb: {}", m);
      });
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
          for (int i = 0; i < 500; ++i) {
            auto span = tracing.tracer().StartSpan("request");
            Scope s = MakeCurrent(span);
            logger->info("request {}", i);
          }
        });
      }
      for (auto& th : threads) th.join();
      // The async logger's thread may still hold the records: wait (at most
      // 5 s) for the first export before shutting down, or a loaded machine
      // shuts the provider down before any record reached it.
      for (int i = 0; i < 500 && ex->calls.load() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      (void)provider->Shutdown(std::chrono::seconds(5));
      logger.reset();
      ExchangeDiagnosticsSink(std::move(previous));
      EXPECT_GT(ex->calls.load(), 0) << "async=" << async << " batch=" << batch;
      // Bounded: one diagnostic per failed export (plus a few one-time
      // warnings); the lines the diagnostics produce are not turned into
      // records that fail again.
      EXPECT_LE(text_lines.load(), static_cast<uint64_t>(ex->calls.load()) + 10)
          << "async=" << async << " batch=" << batch;
    }
  }
}

}  // namespace
