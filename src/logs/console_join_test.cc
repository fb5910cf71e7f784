// The console join: log records under their spans in the console trace tree,
// late records, records outside traces, the per-trace bound.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "otelweb/logs/console_join.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/trace/console_exporter.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer_provider.h"

using namespace otelweb;

namespace {

std::string ReadAll(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

struct Joined {
  FILE* f = std::tmpfile();
  std::shared_ptr<logs::ConsoleLogJoin> join;
  std::shared_ptr<TracerProvider> traces;
  std::shared_ptr<logs::LoggerProvider> logs;
  explicit Joined(size_t per_trace = 100) {
    join = logs::ConsoleLogJoin::Create({.out = f, .max_records_per_trace = per_trace});
    ConsoleSpanExporterOptions c;
    c.out = f;
    c.color = false;
    c.annotator = join;
    TracerProviderOptions to;
    to.resource = Resource();
    to.sampler = AlwaysOnSampler();
    to.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<ConsoleSpanExporter>(c)));
    traces = std::make_shared<TracerProvider>(std::move(to));
    logs::LoggerProviderOptions lo;
    lo.resource = Resource();
    lo.processors.push_back(std::make_unique<logs::SimpleLogRecordProcessor>(join->MakeExporter()));
    logs = std::make_shared<logs::LoggerProvider>(std::move(lo));
  }
  ~Joined() { std::fclose(f); }
};

TEST(ConsoleLogJoin, RecordsPrintUnderTheirSpansInTimeOrder) {
  Joined j;
  Tracer tracer = j.traces->GetTracer("t");
  logs::Logger logger = j.logs->GetLogger("app");
  {
    auto root = tracer.StartSpan("GET /items");
    Scope rs = MakeCurrent(root);
    logger.Emit(logs::Severity::kInfo, "request received");
    {
      auto sql = tracer.StartSpan("SELECT items");
      Scope ss = MakeCurrent(sql);
      logger.Emit(logs::Severity::kError, "no such table: items",
                  std::initializer_list<KeyValue>{{"db.table", "items"}});
    }
    logger.Emit(logs::Severity::kInfo, "GET /items -> 500");
  }
  const std::string out = ReadAll(j.f);
  const size_t root = out.find("GET /items  SERVER");
  const size_t received = out.find("> log INFO  request received");
  const size_t sql = out.find("SELECT items");
  const size_t err = out.find("> log ERROR no such table: items  db.table=items");
  const size_t done = out.find("> log INFO  GET /items -> 500");
  ASSERT_NE(received, std::string::npos) << out;
  ASSERT_NE(sql, std::string::npos) << out;
  ASSERT_NE(err, std::string::npos) << out;
  ASSERT_NE(done, std::string::npos) << out;
  (void)root;
  // Under the root (before its child), then under the child.
  EXPECT_LT(received, sql) << out;
  EXPECT_LT(done, sql) << out;
  EXPECT_LT(received, done) << out;
  EXPECT_GT(err, sql) << out;
}

TEST(ConsoleLogJoin, LateRecordsAndRecordsOutsideTracesPrintOnTheirOwn) {
  Joined j;
  Tracer tracer = j.traces->GetTracer("t");
  logs::Logger logger = j.logs->GetLogger("app");
  logger.Emit(logs::Severity::kWarn, "starting up");
  SpanContext ended;
  {
    auto root = tracer.StartSpan("work");
    ended = root.GetContext();
  }
  logs::LogRecord late = logger.CreateLogRecord();
  late.SetSeverity(logs::Severity::kInfo);
  late.SetBody("after the trace");
  late.SetSpanContext(ended);
  logger.Emit(late);
  const std::string out = ReadAll(j.f);
  EXPECT_NE(out.find("WARN  starting up"), std::string::npos) << out;
  EXPECT_NE(out.find("INFO  after the trace"), std::string::npos) << out;
  EXPECT_NE(out.find("(late, trace " + ended.trace_id().ToHex() + " already printed)"), std::string::npos) << out;
  EXPECT_EQ(j.join->late_records(), 1u);
}

TEST(ConsoleLogJoin, PerTraceBoundCountsTheRest) {
  Joined j(3);
  Tracer tracer = j.traces->GetTracer("t");
  logs::Logger logger = j.logs->GetLogger("app");
  {
    auto root = tracer.StartSpan("noisy");
    Scope s = MakeCurrent(root);
    for (int i = 0; i < 10; ++i) logger.Emit(logs::Severity::kDebug, "line " + std::to_string(i));
  }
  const std::string out = ReadAll(j.f);
  EXPECT_NE(out.find("line 2"), std::string::npos);
  EXPECT_EQ(out.find("line 3"), std::string::npos) << out;
  EXPECT_NE(out.find("+7 more log records"), std::string::npos) << out;
  EXPECT_EQ(j.join->records_over_limit(), 7u);
}

}  // namespace
