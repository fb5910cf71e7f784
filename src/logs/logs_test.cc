// The logs SDK: records, limits, Emit stamping, filters, processors, the
// recursion guard, text trace fields.
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <string>
#include <vector>
#include <thread>

#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/console_exporter.h"
#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/logs/trace_fields.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span.h"
#include "support/memory_logs.h"

using namespace otelweb;
using namespace otelweb::logs;

namespace {

using otelweb::testing::MemoryLogs;

TEST(LogRecord, StoresFieldsAndCopiesOnlyTheUsedPart) {
  LogRecord r;
  r.SetSeverity(Severity::kWarn);
  r.SetBody("disk almost full");
  r.SetEventName("disk.full");
  EXPECT_TRUE(r.AddAttribute("disk", "sda1"));
  EXPECT_TRUE(r.AddAttribute("free.bytes", 1234));
  EXPECT_TRUE(r.AddAttribute("ratio", 0.5));
  EXPECT_TRUE(r.AddAttribute("ok", false));
  LogRecord c = r;
  EXPECT_EQ(c.severity(), Severity::kWarn);
  EXPECT_EQ(c.severity_text(), "WARN");
  EXPECT_EQ(c.body().as_string(), "disk almost full");
  EXPECT_EQ(c.event_name(), "disk.full");
  ASSERT_EQ(c.attribute_count(), 4u);
  EXPECT_EQ(c.attribute(0).key, "disk");
  EXPECT_EQ(c.attribute(0).value.as_string(), "sda1");
  EXPECT_EQ(c.FindAttribute("free.bytes").as_int(), 1234);
  EXPECT_EQ(c.FindAttribute("ratio").as_double(), 0.5);
  EXPECT_FALSE(c.FindAttribute("ok").as_bool());
  EXPECT_EQ(c.FindAttribute("missing").type(), AttributeType::kNone);
}

// Array and map bodies (the data model's AnyValue), nested, read back
// through BodyView; copies keep them; what does not fit is left out whole.
std::string Dump(const BodyView& v) {
  std::string out;
  if (v.kind() == BodyValue::Kind::kScalar) {
    const AttributeValue a = v.scalar();
    switch (a.type()) {
      case AttributeType::kBool:
        return a.as_bool() ? "true" : "false";
      case AttributeType::kInt:
        return std::to_string(a.as_int());
      case AttributeType::kDouble:
        return std::to_string(a.as_double());
      case AttributeType::kString:
        return "'" + std::string(a.as_string()) + "'";
      default:
        return "?";
    }
  }
  const bool map = v.kind() == BodyValue::Kind::kMap;
  out += map ? "{" : "[";
  size_t n = 0;
  v.ForEach([&](std::string_view key, const BodyView& e) {
    if (n++ != 0) out += ",";
    if (map) out += std::string(key) + ":";
    out += Dump(e);
  });
  EXPECT_EQ(n, v.size());
  out += map ? "}" : "]";
  return out;
}

TEST(LogRecord, ArrayAndMapBodies) {
  LogRecord r;
  r.SetBody(BodyValue::Map({{"user", "ann"},
                            {"ids", BodyValue::Array({1, 2, int64_t{-3}})},
                            {"ok", true},
                            {"ratio", 0.5},
                            {"nested", BodyValue::Map({{"empty", BodyValue::Array({})}, {"x", "y"}})}}));
  ASSERT_TRUE(r.has_structured_body());
  EXPECT_EQ(r.body().type(), AttributeType::kNone);
  EXPECT_EQ(Dump(r.structured_body()), "{user:'ann',ids:[1,2,-3],ok:true,ratio:0.500000,nested:{empty:[],x:'y'}}");
  LogRecord c = r;  // CopyFrom copies the used storage only
  EXPECT_EQ(Dump(c.structured_body()), Dump(r.structured_body()));

  // An attribute array as the body becomes an array body.
  const std::string_view words[] = {"a", "bc"};
  r.SetBody(AttributeValue(std::span<const std::string_view>(words)));
  ASSERT_TRUE(r.has_structured_body());
  EXPECT_EQ(Dump(r.structured_body()), "['a','bc']");
  // A scalar body afterwards replaces it.
  r.SetBody("plain");
  EXPECT_FALSE(r.has_structured_body());
  EXPECT_EQ(r.body().as_string(), "plain");

  // More than fits: the elements that fit are kept, the count agrees.
  std::vector<BodyValue> many;
  for (int i = 0; i < 500; ++i) many.push_back(BodyValue(int64_t{i}));
  LogRecord big;
  big.SetBody(BodyValue::Array(std::span<const BodyValue>(many)));
  ASSERT_TRUE(big.has_structured_body());
  const size_t kept = big.structured_body().size();
  EXPECT_GT(kept, 50u);
  EXPECT_LT(kept, 500u);
  int64_t expect = 0;
  big.structured_body().ForEach([&](std::string_view, const BodyView& e) { EXPECT_EQ(e.scalar().as_int(), expect++); });
  EXPECT_EQ(size_t(expect), kept);

  // Nesting deeper than kMaxBodyDepth is left out.
  LogRecord deep;
  deep.SetBody(BodyValue::Array({BodyValue::Array({BodyValue::Array({BodyValue::Array({BodyValue::Array(
      {BodyValue::Array({BodyValue::Array({BodyValue::Array({BodyValue::Array({BodyValue::Array({1})})})})})})})})})}));
  EXPECT_EQ(Dump(deep.structured_body()), "[[[[[[[[]]]]]]]]");
}

TEST(LogRecord, LimitsDropAndTruncate) {
  LogRecordLimits l;
  l.attribute_count_limit = 2;
  l.attribute_value_length_limit = 3;
  LogRecord r(l);
  EXPECT_TRUE(r.AddAttribute("a", "abcdef"));
  EXPECT_TRUE(r.AddAttribute("b", 1));
  EXPECT_FALSE(r.AddAttribute("c", 2));
  const int64_t arr[] = {1, 2};
  EXPECT_FALSE(r.AddAttribute("d", std::span<const int64_t>(arr)));
  EXPECT_EQ(r.FindAttribute("a").as_string(), "abc");
  EXPECT_EQ(r.dropped_attributes_count(), 2u);
  // A body larger than the storage is cut at a UTF-8 boundary.
  std::string big(LogRecord::kStorageBytes - 1, 'x');
  big += "\xC3\xA9";  // é straddles the end
  LogRecord b;
  b.SetBody(big);
  EXPECT_EQ(b.body().as_string().size(), LogRecord::kStorageBytes - 1);
}

TEST(Logger, StampsTheCurrentSpanAndTimestamps) {
  otelweb::testing::MemoryTracing tracing;
  MemoryLogs logs({.service_name = "svc"});
  Logger logger = logs.provider->GetLogger("app");
  auto span = tracing.tracer().StartSpan("request");
  {
    Scope s = MakeCurrent(span);
    logger.Emit(Severity::kInfo, "inside", std::initializer_list<KeyValue>{{"k", "v"}});
  }
  logger.Emit(Severity::kInfo, "outside");
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].trace_id(), span.GetContext().trace_id());
  EXPECT_EQ(recs[0].span_id(), span.GetContext().span_id());
  EXPECT_TRUE(recs[0].trace_flags().sampled());
  EXPECT_NE(recs[0].observed_timestamp().time_since_epoch().count(), 0);
  EXPECT_NE(recs[0].timestamp().time_since_epoch().count(), 0);
  EXPECT_EQ(recs[0].scope()->name, "app");
  EXPECT_EQ(recs[0].resource()->service_name(), "svc");
  EXPECT_FALSE(recs[1].trace_id().IsValid());
}

TEST(Logger, ExplicitContextWinsOverTheCurrentOne) {
  otelweb::testing::MemoryTracing tracing;
  MemoryLogs logs;
  Logger logger = logs.provider->GetLogger("app");
  auto a = tracing.tracer().StartSpan("a");
  auto b = tracing.tracer().StartSpan("b");
  Scope s = MakeCurrent(a);
  LogRecord r = logger.CreateLogRecord();
  r.SetBody("for b");
  r.SetSpanContext(b.GetContext());
  logger.Emit(r);
  ASSERT_EQ(logs.exporter->records().size(), 1u);
  EXPECT_EQ(logs.exporter->records()[0].span_id(), b.GetContext().span_id());
}

TEST(Logger, ExceptionAttributesUserAttributesWin) {
  MemoryLogs logs;
  Logger logger = logs.provider->GetLogger("app");
  LogRecord r = logger.CreateLogRecord();
  r.SetBody("failed");
  r.AddAttribute("exception.message", "mine");
  r.SetException("std::runtime_error", "theirs");
  logger.Emit(r);
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].FindAttribute("exception.type").as_string(), "std::runtime_error");
  EXPECT_EQ(recs[0].FindAttribute("exception.message").as_string(), "mine");
}

TEST(Logger, MinimumSeverityAndTraceBasedFilters) {
  otelweb::testing::MemoryTracing tracing({.sampler = AlwaysOffSampler()});
  LoggerConfig c;
  c.minimum_severity = Severity::kWarn;
  c.trace_based = true;
  MemoryLogs logs({.config = c, .service_name = "svc"});
  Logger logger = logs.provider->GetLogger("app");
  EXPECT_FALSE(logger.Enabled(Severity::kInfo));
  EXPECT_TRUE(logger.Enabled(Severity::kError));
  logger.Emit(Severity::kInfo, "too low");
  logger.Emit(Severity::kError, "kept: no trace");
  auto unsampled = tracing.tracer().StartSpan("unsampled");
  {
    Scope s = MakeCurrent(unsampled);
    logger.Emit(Severity::kError, "dropped: unsampled trace");
  }
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].body().as_string(), "kept: no trace");
}

TEST(Logger, DisabledLoggerAndShutDownProvider) {
  LoggerConfig c;
  c.enabled = false;
  MemoryLogs logs({.config = c, .service_name = "svc"});
  Logger logger = logs.provider->GetLogger("app");
  logger.Emit(Severity::kFatal, "x");
  EXPECT_TRUE(logs.exporter->records().empty());
  MemoryLogs on;
  Logger l2 = on.provider->GetLogger("app");
  EXPECT_TRUE(on.provider->Shutdown().ok());
  EXPECT_FALSE(l2.Enabled(Severity::kInfo));
  l2.Emit(Severity::kInfo, "after shutdown");  // no crash, nothing exported
  EXPECT_EQ(on.provider->Shutdown(), OperationResult::AlreadyShutDown());
}

TEST(Logger, NoOpAndGlobal) {
  Logger none;
  none.Emit(Severity::kInfo, "nothing");
  EXPECT_FALSE(none.Enabled(Severity::kInfo));
  MemoryLogs logs;
  const uint64_t gen = LoggerProviderGeneration();
  SetLoggerProvider(logs.provider);
  EXPECT_NE(LoggerProviderGeneration(), gen);
  GetLogger("g").Emit(Severity::kInfo, "through the global");
  SetLoggerProvider(nullptr);
  EXPECT_EQ(logs.exporter->records().size(), 1u);
  GetLogger("g").Emit(Severity::kInfo, "no-op again");
  EXPECT_EQ(logs.exporter->records().size(), 1u);
}

// An exporter that logs through the same logger while exporting: the nested
// emit is dropped by the guard (no deadlock on the simple processor's mutex).
class ReenteringExporter final : public LogRecordExporter {
 public:
  Logger logger;
  std::atomic<int> exports{0};
  ExportResult Export(std::span<const LogRecord* const>) noexcept override {
    ++exports;
    logger.Emit(Severity::kError, "exporter complains");
    return ExportResult::kFailure;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "reentering"; }
};

TEST(Logger, RecursionGuardDropsNestedEmits) {
  auto e = std::make_unique<ReenteringExporter>();
  ReenteringExporter* ex = e.get();
  LoggerProviderOptions o;
  o.resource = Resource();
  o.processors.push_back(std::make_unique<SimpleLogRecordProcessor>(std::move(e)));
  LoggerProvider provider(std::move(o));
  ex->logger = provider.GetLogger("app");
  const uint64_t before = GetLogsSdkCounters().emits_recursive;
  otelweb::testing::DiagnosticsCapture diag;
  // The SDK's diagnostics routed back into the logger too.
  SetDiagnosticsSink([&](LogLevel, std::string_view m) { ex->logger.Emit(Severity::kWarn, m); });
  ex->logger.Emit(Severity::kInfo, "one");
  ex->logger.Emit(Severity::kInfo, "two");
  SetDiagnosticsSink(nullptr);
  EXPECT_EQ(ex->exports.load(), 2);
  EXPECT_GE(GetLogsSdkCounters().emits_recursive - before, 2u);
  EXPECT_FALSE(EmitInProgressOnThisThread());
  // The exporter holds a logger of its own provider: a cycle that would keep
  // both alive (LoggerProvider's docs); let it go before the provider.
  ex->logger = Logger();
}

TEST(BatchLogRecordProcessor, ExportsOnFlushAndShutdown) {
  MemoryLogs logs({.batch = true, .service_name = "svc"});
  Logger logger = logs.provider->GetLogger("app");
  for (int i = 0; i < 1000; ++i) logger.Emit(Severity::kInfo, "line " + std::to_string(i));
  EXPECT_TRUE(logs.provider->ForceFlush().ok());
  auto recs = logs.exporter->records();
  ASSERT_EQ(recs.size(), 1000u);
  EXPECT_EQ(recs[999].body().as_string(), "line 999");
  logger.Emit(Severity::kInfo, "last");
  EXPECT_TRUE(logs.provider->Shutdown().ok());
  EXPECT_EQ(logs.exporter->records().size(), 1001u);
}

// An exporter that never returns until released: the queue fills, the
// callers are never blocked and every drop is counted.
class StuckExporter final : public LogRecordExporter {
 public:
  std::atomic<bool> release{false};
  std::atomic<int> entered{0};
  ExportResult Export(std::span<const LogRecord* const>) noexcept override {
    ++entered;
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    release = true;
    return OperationResult::Ok();
  }
  std::string_view Name() const noexcept override { return "stuck"; }
};

TEST(BatchLogRecordProcessor, QueueOverflowIsCountedAndNeverBlocks) {
  auto e = std::make_unique<StuckExporter>();
  StuckExporter* ex = e.get();
  BatchLogRecordProcessorOptions bo;
  bo.max_queue_size = 64;
  bo.max_export_batch_size = 8;
  bo.schedule_delay = std::chrono::milliseconds(1);
  auto p = std::make_unique<BatchLogRecordProcessor>(std::move(e), bo);
  BatchLogRecordProcessor* proc = p.get();
  LoggerProviderOptions o;
  o.resource = Resource();
  o.processors.push_back(std::move(p));
  LoggerProvider provider(std::move(o));
  Logger logger = provider.GetLogger("app");
  otelweb::testing::DiagnosticsCapture diag;
  logger.Emit(Severity::kInfo, "first");
  while (ex->entered.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) logger.Emit(Severity::kInfo, "x");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(1));  // 10000 emits against a stuck exporter
  const auto c = proc->counters();
  EXPECT_GE(c.dropped_queue_full, 10000u - 64u);
  EXPECT_TRUE(diag.Count("queue is full") > 0);
  ex->release = true;
  EXPECT_TRUE(provider.Shutdown(std::chrono::seconds(5)).ok());
  const auto after = proc->counters();
  EXPECT_EQ(after.exported + after.dropped_queue_full, 10001u);
}

TEST(BatchLogRecordProcessor, OptionsFromEnvironment) {
  setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "100", 1);
  setenv("OTEL_BLRP_SCHEDULE_DELAY", "250", 1);
  auto r = ResolveBatchLogOptions({});
  unsetenv("OTEL_BLRP_MAX_QUEUE_SIZE");
  unsetenv("OTEL_BLRP_SCHEDULE_DELAY");
  EXPECT_EQ(r.max_queue_size, 100u);
  EXPECT_EQ(r.schedule_delay, std::chrono::milliseconds(250));
  EXPECT_EQ(r.max_export_batch_size, 100u);  // capped at the queue size
  auto d = ResolveBatchLogOptions({});
  EXPECT_EQ(d.max_queue_size, 2048u);
  EXPECT_EQ(d.schedule_delay, std::chrono::milliseconds(1000));
  EXPECT_EQ(d.export_timeout, std::chrono::milliseconds(30000));
}

TEST(TraceFields, CurrentSpanAndOutsideAnySpan) {
  otelweb::testing::MemoryTracing tracing;
  const TraceFields none = CurrentTraceFields();
  EXPECT_EQ(std::string(none.trace_id), std::string(32, '0'));
  EXPECT_EQ(std::string(none.span_id), std::string(16, '0'));
  EXPECT_EQ(std::string(none.trace_flags), "00");
  auto span = tracing.tracer().StartSpan("r");
  Scope s = MakeCurrent(span);
  const TraceFields f = CurrentTraceFields();
  EXPECT_EQ(std::string(f.trace_id), span.GetContext().trace_id().ToHex());
  EXPECT_EQ(std::string(f.span_id), span.GetContext().span_id().ToHex());
  std::ostringstream os;
  os << f;
  EXPECT_EQ(os.str(), "trace_id=" + span.GetContext().trace_id().ToHex() +
                          " span_id=" + span.GetContext().span_id().ToHex() + " trace_flags=" + f.trace_flags);
  std::string json = "{";
  f.AppendJsonMembers(json);
  EXPECT_NE(json.find("\"span_id\":\"" + span.GetContext().span_id().ToHex() + "\""), std::string::npos);
}

// Unsampled requests have valid ids and must print them (depends on the
// non-recording span carrying its context: the lifecycle helper's fix).
TEST(TraceFields, UnsampledSpanPrintsItsIds) {
  otelweb::testing::MemoryTracing tracing({.sampler = AlwaysOffSampler()});
  auto span = tracing.tracer().StartSpan("unsampled");
  Scope s = MakeCurrent(span);
  const TraceFields f = CurrentTraceFields();
  ASSERT_TRUE(span.GetContext().IsValid());
  EXPECT_EQ(std::string(f.trace_id), span.GetContext().trace_id().ToHex());
  EXPECT_EQ(std::string(f.span_id), span.GetContext().span_id().ToHex());
  EXPECT_FALSE(span.GetContext().sampled());
  EXPECT_EQ(f.trace_flags[1] & 1, 0);  // "00", or "02" with the random flag
}

TEST(ConsoleLogRecordExporter, OneLinePerRecord) {
  std::ostringstream out;
  LoggerProviderOptions o;
  o.resource = Resource();
  o.processors.push_back(std::make_unique<SimpleLogRecordProcessor>(
      std::make_unique<ConsoleLogRecordExporter>(ConsoleLogRecordExporterOptions{.out = &out})));
  LoggerProvider provider(std::move(o));
  provider.GetLogger("app").Emit(Severity::kError, "query failed", std::initializer_list<KeyValue>{{"db", "items"}});
  const std::string s = out.str();
  EXPECT_NE(s.find("ERROR query failed  {db=\"items\"}"), std::string::npos) << s;
  EXPECT_EQ(s.back(), '\n');
  LogRecord r = provider.GetLogger("app").CreateLogRecord();
  r.SetSeverity(Severity::kInfo);
  r.SetBody(BodyValue::Map({{"user", "ann"}, {"ids", BodyValue::Array({1, 2})}}));
  provider.GetLogger("app").Emit(r);
  EXPECT_NE(out.str().find("INFO  {user: \"ann\", ids: [1, 2]}"), std::string::npos) << out.str();
}

}  // namespace

// --- Concurrency (also run under ThreadSanitizer: the name has "Concurrency") --

// The owner of provider `a` stops it (compare-and-reset) while another thread
// installs `b`. Whichever goes first, `b` must stay global: a check-then-set
// reset (GetLoggerProvider() == a, then SetLoggerProvider(nullptr)) clears
// `b` when the install lands between the check and the set.
TEST(LogsConcurrency, ResetIfNeverClearsAProviderInstalledMeanwhile) {
  auto a = std::make_shared<LoggerProvider>(LoggerProviderOptions{});
  auto b = std::make_shared<LoggerProvider>(LoggerProviderOptions{});
  constexpr int kRounds = 10000;
  std::atomic<int> round{-1};
  std::atomic<int> done{0};
  int lost = 0;
  std::thread resetter([&] {
    for (int i = 0; i < kRounds; ++i) {
      while (round.load(std::memory_order_acquire) < i) {
      }
      ResetLoggerProviderIf(a.get());
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    SetLoggerProvider(a);
    const int target = done.load(std::memory_order_acquire) + 1;
    round.store(i, std::memory_order_release);
    SetLoggerProvider(b);
    while (done.load(std::memory_order_acquire) < target) {
    }
    if (GetLoggerProvider() != b) ++lost;
  }
  resetter.join();
  EXPECT_EQ(lost, 0) << "rounds where the reset of `a` cleared `b`";
  EXPECT_FALSE(ResetLoggerProviderIf(a.get()));
  EXPECT_TRUE(ResetLoggerProviderIf(b.get()));
  EXPECT_EQ(GetLoggerProvider(), LoggerProvider::NoOp());
  EXPECT_FALSE(ResetLoggerProviderIf(nullptr));
}
