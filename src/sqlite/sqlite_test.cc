// SQLite instrumentation on real databases (temporary files and :memory:).
// This binary is linked with -Wl,--wrap=sqlite3_trace_v2, so plain
// sqlite3_trace_v2 calls below take the chaining route; the tests that need
// SQLite's own function call __real_sqlite3_trace_v2.
#include "otelweb/sqlite/sqlite.h"

#include <gtest/gtest.h>

#include "otelweb/testing/diagnostics_capture.h"
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/context.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/testing/installed_tracing.h"
#include "support/http_test_support.h"
#include "support/manual_metrics.h"

extern "C" int __real_sqlite3_trace_v2(sqlite3*, unsigned, int (*)(unsigned, void*, void*, void*),
                                       void*);

namespace otelweb::sqlite {
namespace {

// MemoryTracing, span readers (StrAttr, IntAttr, ...), DiagnosticsCapture and
// the support helpers: otelweb::testing (include/otelweb/testing/, tests/support/).
using namespace otelweb::testing;  // NOLINT(build/namespaces)

// SQLite's error log can only be taken before SQLite initializes: install
// before any test opens a database.
class InstallFirst : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(Install()); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new InstallFirst);

std::string TempDbPath(const std::string& tag) {
  return (std::filesystem::temp_directory_path() /
          ("otelweb_sqlite_" + tag + "_" + std::to_string(::getpid()) + ".db"))
      .string();
}

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.tracer_provider = tracing_.provider;
    ASSERT_TRUE(Install(std::move(o)));
    ASSERT_TRUE(ErrorDetailsAvailable());
  }
  void TearDown() override {
    for (const std::string& p : files_) {
      std::remove(p.c_str());
      std::remove((p + "-wal").c_str());
      std::remove((p + "-shm").c_str());
      std::remove((p + "-journal").c_str());
    }
  }
  void Reinstall(Options o) {
    o.tracer_provider = tracing_.provider;
    ASSERT_TRUE(Install(std::move(o)));
  }
  sqlite3* Open(const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    if (path != ":memory:") files_.push_back(path);
    return db;
  }
  static int Exec(sqlite3* db, const char* sql) {
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  }
  std::vector<const SpanData*> Spans() const { return tracing_.store->spans(); }

  MemoryTracing tracing_;
  std::vector<std::string> files_;
};

TEST_F(SqliteTest, OneClientSpanPerStatementOnAFile) {
  std::string path = TempDbPath("file");
  sqlite3* db = Open(path);
  ASSERT_EQ(Exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)"), SQLITE_OK);
  ASSERT_EQ(Exec(db, "INSERT INTO items (name) VALUES ('apple'), ('pear')"), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id, name FROM items WHERE id > ? ORDER BY id", -1, &st,
                               nullptr),
            SQLITE_OK);
  sqlite3_bind_int(st, 1, 0);
  int rows = 0;
  while (sqlite3_step(st) == SQLITE_ROW) ++rows;
  EXPECT_EQ(rows, 2);
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);

  auto spans = Spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0]->name(), "CREATE TABLE items");
  EXPECT_EQ(spans[1]->name(), "INSERT items");
  EXPECT_EQ(spans[2]->name(), "SELECT items");
  const std::string base = std::filesystem::path(path).filename().string();
  for (const SpanData* s : spans) {
    EXPECT_EQ(s->kind(), SpanKind::kClient);
    EXPECT_EQ(s->status(), StatusCode::kUnset);
    EXPECT_EQ(StrAttr(s, "db.system.name"), "sqlite");
    EXPECT_EQ(StrAttr(s, "db.namespace"), base);
    EXPECT_FALSE(HasAttr(s, "db.collection.name"));  // never parsed from SQL text (semconv)
    EXPECT_FALSE(s->parent_span_id().IsValid());
    EXPECT_LE(s->start_ns(), s->end_ns());
    EXPECT_EQ(s->scope().name, "otelweb.sqlite");
  }
  EXPECT_EQ(StrAttr(spans[1], "db.operation.name"), "INSERT");
  EXPECT_EQ(StrAttr(spans[1], "db.query.summary"), "INSERT items");
  EXPECT_EQ(StrAttr(spans[1], "db.query.text"), "INSERT INTO items (name) VALUES (?), (?)");
  EXPECT_EQ(StrAttr(spans[2], "db.query.text"),
            "SELECT id, name FROM items WHERE id > ? ORDER BY id");
  EXPECT_FALSE(HasAttr(spans[2], "db.response.returned_rows"));  // count_rows is off
}

TEST_F(SqliteTest, MemoryDatabaseHasNoNamespaceAndEveryExecutionIsASpan) {
  sqlite3* db = Open(":memory:");
  ASSERT_EQ(Exec(db, "CREATE TABLE t (n)"), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?)", -1, &st, nullptr), SQLITE_OK);
  for (int i = 0; i < 3; ++i) {
    sqlite3_bind_int(st, 1, i);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(spans[i]->name(), "INSERT t");
    EXPECT_FALSE(HasAttr(spans[i], "db.namespace"));
  }
}

TEST_F(SqliteTest, ReusedStatementAddressGetsItsOwnText) {
  sqlite3* db = Open(":memory:");
  ASSERT_EQ(Exec(db, "CREATE TABLE a (x); CREATE TABLE b (y)"), SQLITE_OK);
  tracing_.store->Reset();
  const char* sqls[] = {"SELECT x FROM a", "SELECT y FROM b", "SELECT x FROM a WHERE x = 1"};
  for (int round = 0; round < 2; ++round) {
    for (const char* sql : sqls) {
      sqlite3_stmt* st = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
      ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
      sqlite3_finalize(st);  // the next prepare often gets the same address
    }
  }
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(spans[i]->name(), i % 3 == 1 ? "SELECT b" : "SELECT a") << i;
  }
  EXPECT_EQ(StrAttr(spans[2], "db.query.text"), "SELECT x FROM a WHERE x = ?");
  EXPECT_EQ(StrAttr(spans[5], "db.query.text"), "SELECT x FROM a WHERE x = ?");
}

TEST_F(SqliteTest, SpanEndsOnResetOrFinalizeOfAPartlySteppedStatement) {
  sqlite3* db = Open(":memory:");
  ASSERT_EQ(Exec(db, "CREATE TABLE t (n); INSERT INTO t VALUES (1), (2), (3)"), SQLITE_OK);
  tracing_.store->Reset();
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT n FROM t", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(tracing_.store->size(), 0u);  // still running
  sqlite3_reset(st);
  EXPECT_EQ(tracing_.store->size(), 1u);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(tracing_.store->size(), 1u);
  sqlite3_finalize(st);
  EXPECT_EQ(tracing_.store->size(), 2u);
  sqlite3_close(db);
}

TEST_F(SqliteTest, ChildOfTheCurrentSpan) {
  sqlite3* db = Open(":memory:");
  Tracer tracer = tracing_.provider->GetTracer("test");
  Span parent = tracer.StartSpan("GET /items", SpanKind::kServer);
  {
    Scope scope = MakeCurrent(parent);
    ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  }
  parent.End();
  ASSERT_EQ(Exec(db, "SELECT 2"), SQLITE_OK);  // no current span: a new trace
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0]->name(), "SELECT");
  EXPECT_EQ(spans[0]->parent_span_id(), parent.GetContext().span_id());
  EXPECT_EQ(spans[0]->trace_id(), parent.GetContext().trace_id());
  EXPECT_FALSE(spans[2]->parent_span_id().IsValid());
  EXPECT_NE(spans[2]->trace_id(), parent.GetContext().trace_id());
}

TEST_F(SqliteTest, SuppressedContextHasNoSpans) {
  sqlite3* db = Open(":memory:");
  {
    Scope scope(Context::Current().WithInstrumentationSuppressed());
    ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  }
  sqlite3_close(db);
  EXPECT_EQ(tracing_.store->size(), 0u);
}

TEST_F(SqliteTest, ConstraintViolationIsAnErrorWithSqlitesName) {
  sqlite3* db = Open(":memory:");
  ASSERT_EQ(Exec(db, "CREATE TABLE t (n INTEGER UNIQUE NOT NULL)"), SQLITE_OK);
  ASSERT_EQ(Exec(db, "INSERT INTO t VALUES (1)"), SQLITE_OK);
  EXPECT_EQ(Exec(db, "INSERT INTO t VALUES (1)"), SQLITE_CONSTRAINT);
  EXPECT_EQ(Exec(db, "INSERT INTO t VALUES (NULL)"), SQLITE_CONSTRAINT);
  ASSERT_EQ(Exec(db, "INSERT INTO t VALUES (2)"), SQLITE_OK);  // after an error: fine again
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(spans[1]->status(), StatusCode::kUnset);
  EXPECT_EQ(spans[2]->status(), StatusCode::kError);
  EXPECT_EQ(spans[2]->status_description(), "UNIQUE constraint failed: t.n");
  EXPECT_EQ(StrAttr(spans[2], "error.type"), "SQLITE_CONSTRAINT_UNIQUE");
  EXPECT_EQ(StrAttr(spans[2], "db.response.status_code"), "2067");
  EXPECT_EQ(StrAttr(spans[3], "error.type"), "SQLITE_CONSTRAINT_NOTNULL");
  EXPECT_EQ(spans[4]->status(), StatusCode::kUnset);
  EXPECT_FALSE(HasAttr(spans[4], "error.type"));
}

// db.client.operation.duration: one point per execution, equal to its span's
// duration, with the semconv attributes; a failed execution carries
// error.type; unsampled statements are measured.
TEST_F(SqliteTest, OperationDurationMetricWithSemconvAttributesAndErrors) {
  ManualMetrics m;
  Options o;
  o.meter_provider = m.provider;
  Reinstall(std::move(o));
  const std::string path = TempDbPath("metrics");
  sqlite3* db = Open(path);
  ASSERT_EQ(Exec(db, "CREATE TABLE t (n INTEGER UNIQUE NOT NULL)"), SQLITE_OK);
  ASSERT_EQ(Exec(db, "INSERT INTO t VALUES (1)"), SQLITE_OK);
  EXPECT_EQ(Exec(db, "INSERT INTO t VALUES (1)"), SQLITE_CONSTRAINT);
  ASSERT_EQ(Exec(db, "SELECT n FROM t"), SQLITE_OK);
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 4u);

  auto rm = m.Collect();
  const metrics::MetricData* d = rm.Find("db.client.operation.duration");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->unit, "s");
  ASSERT_EQ(d->histogram_points.size(), 4u);
  const char* name = "db.client.operation.duration";
  const metrics::HistogramPoint* ok = nullptr;  // the INSERT that succeeded
  for (const auto& p : d->histogram_points)
    if (MetricAttr(p.attributes, "db.query.summary") == "INSERT t" &&
        MetricAttr(p.attributes, "error.type") == "<absent>")
      ok = &p;
  const auto* failed = HistogramWith(rm, name, "error.type", "SQLITE_CONSTRAINT_UNIQUE");
  const auto* select = HistogramWith(rm, name, "db.operation.name", "SELECT");
  ASSERT_NE(ok, nullptr);
  ASSERT_NE(failed, nullptr);
  ASSERT_NE(select, nullptr);
  EXPECT_EQ(ok->boundaries,
            std::vector<double>(std::begin(kDbDurationBuckets), std::end(kDbDurationBuckets)));
  EXPECT_EQ(MetricAttr(ok->attributes, "db.system.name"), "sqlite");
  EXPECT_EQ(MetricAttr(ok->attributes, "db.namespace"),
            std::filesystem::path(path).filename().string());
  EXPECT_EQ(MetricAttr(ok->attributes, "db.operation.name"), "INSERT");
  EXPECT_EQ(MetricAttr(ok->attributes, "error.type"), "<absent>");
  EXPECT_EQ(MetricAttr(ok->attributes, "db.query.text"), "<absent>");  // never a metric attribute
  EXPECT_EQ(MetricAttr(failed->attributes, "db.response.status_code"), "2067");
  EXPECT_EQ(MetricAttr(failed->attributes, "db.query.summary"), "INSERT t");
  EXPECT_EQ(ok->count, 1u);
  EXPECT_EQ(failed->count, 1u);
  // Durations are the spans' (same clock reads); exemplars name them.
  EXPECT_DOUBLE_EQ(ok->sum, double(spans[1]->end_ns() - spans[1]->start_ns()) / 1e9);
  EXPECT_DOUBLE_EQ(failed->sum, double(spans[2]->end_ns() - spans[2]->start_ns()) / 1e9);
  ASSERT_EQ(select->exemplars.size(), 1u);
  EXPECT_EQ(select->exemplars[0].span_id, spans[3]->span_id());
}

TEST_F(SqliteTest, UnsampledStatementsAreMeasured) {
  ManualMetrics m;
  MemoryTracing unsampled(NeverSampledTracing());
  Options o;
  o.meter_provider = m.provider;
  o.tracer_provider = unsampled.provider;
  ASSERT_TRUE(Install(std::move(o)));
  sqlite3* db = Open(":memory:");
  ASSERT_EQ(Exec(db, "CREATE TABLE t (x)"), SQLITE_OK);
  ASSERT_EQ(Exec(db, "INSERT INTO t VALUES (1)"), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(unsampled.store->spans().empty());
  auto rm = m.Collect();
  const metrics::MetricData* d = rm.Find("db.client.operation.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 2u);
  for (const auto& p : d->histogram_points) {
    EXPECT_EQ(p.count, 1u);
    EXPECT_TRUE(p.exemplars.empty());
    EXPECT_EQ(MetricAttr(p.attributes, "db.namespace"), "<absent>");  // :memory:
  }
}

TEST_F(SqliteTest, ErrorDescriptionsNeverCarryTheStatementsLiterals) {
  // SQLite's error log line embeds the statement; a long one is cut at 210
  // bytes. Neither a runtime nor a prepare error may put literals in the span.
  sqlite3* db = Open(":memory:");
  const std::string secret(300, 'S');
  const std::string long_sql = "SELECT abs(-9223372036854775807 - 1), '" + secret + "-hunter2'";
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, long_sql.c_str(), -1, &st, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(st), SQLITE_ERROR);
  sqlite3_finalize(st);
  EXPECT_NE(sqlite3_prepare_v2(db, "SELECT 1 WHERE 'x' = 'hunter2", -1, &st, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_prepare_v2(db, "SELECT \"hunter2\" FROM nowhere_table", -1, &st, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 3u);
  for (const SpanData* sp : spans) {
    EXPECT_EQ(sp->status(), StatusCode::kError);
    EXPECT_FALSE(sp->status_description().empty());
    EXPECT_EQ(std::string(sp->status_description()).find("hunter2"), std::string::npos)
        << sp->status_description();
    EXPECT_EQ(std::string(sp->status_description()).find("SSSS"), std::string::npos)
        << sp->status_description();
  }
}

TEST_F(SqliteTest, RuntimeErrorWhileStepping) {
  sqlite3* db = Open(":memory:");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT abs(-9223372036854775807 - 1)", -1, &st, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_step(st), SQLITE_ERROR);
  sqlite3_finalize(st);
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  EXPECT_EQ(spans[0]->status_description(), "integer overflow");
  EXPECT_EQ(StrAttr(spans[0], "error.type"), "SQLITE_ERROR");
  EXPECT_EQ(StrAttr(spans[0], "db.query.text"), "SELECT abs(-? - ?)");
}

TEST_F(SqliteTest, PrepareErrorGetsItsOwnErrorSpan) {
  sqlite3* db = Open(":memory:");
  Tracer tracer = tracing_.provider->GetTracer("test");
  Span parent = tracer.StartSpan("request");
  {
    Scope scope = MakeCurrent(parent);
    EXPECT_EQ(Exec(db, "SELECT * FROM nope WHERE secret = 'hunter2'"), SQLITE_ERROR);
  }
  parent.End();
  // A prepare error while another statement is running is not blamed on it.
  ASSERT_EQ(Exec(db, "CREATE TABLE t (n); INSERT INTO t VALUES (1), (2)"), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT n FROM t", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  sqlite3_stmt* bad = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELEC 1", -1, &bad, nullptr), SQLITE_ERROR);
  while (sqlite3_step(st) == SQLITE_ROW) {
  }
  sqlite3_finalize(st);
  sqlite3_close(db);

  std::map<std::string, const SpanData*> by_name;
  for (const SpanData* s : Spans()) by_name[std::string(s->name())] = s;
  const SpanData* missing = by_name["SELECT nope"];
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->status(), StatusCode::kError);
  EXPECT_EQ(missing->status_description(), "no such table: nope");
  EXPECT_EQ(StrAttr(missing, "error.type"), "SQLITE_ERROR");
  EXPECT_EQ(StrAttr(missing, "db.query.text"), "SELECT * FROM nope WHERE secret = ?");
  EXPECT_EQ(missing->parent_span_id(), parent.GetContext().span_id());
  const SpanData* syntax = by_name["SELEC"];
  ASSERT_NE(syntax, nullptr);
  EXPECT_EQ(syntax->status(), StatusCode::kError);
  const SpanData* select = by_name["SELECT t"];
  ASSERT_NE(select, nullptr);
  EXPECT_EQ(select->status(), StatusCode::kUnset);
}

TEST_F(SqliteTest, TriggerStatementsAreNotSeparateSpans) {
  sqlite3* db = Open(":memory:");
  ASSERT_EQ(Exec(db,
                 "CREATE TABLE t (n); CREATE TABLE log (x);"
                 "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.n); "
                 "UPDATE log SET x = x + 1; END;"),
            SQLITE_OK);
  tracing_.store->Reset();
  ASSERT_EQ(Exec(db, "INSERT INTO t VALUES (5)"), SQLITE_OK);
  ASSERT_EQ(Exec(db, "SELECT x FROM log"), SQLITE_OK);
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name(), "INSERT t");
  EXPECT_EQ(spans[1]->name(), "SELECT log");
}

TEST_F(SqliteTest, ErrorInsideATriggerMarksTheStatement) {
  sqlite3* db = Open(":memory:");
  ASSERT_EQ(Exec(db,
                 "CREATE TABLE t (n); CREATE TABLE log (x UNIQUE);"
                 "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (1); END;"),
            SQLITE_OK);
  tracing_.store->Reset();
  ASSERT_EQ(Exec(db, "INSERT INTO t VALUES (1)"), SQLITE_OK);
  EXPECT_EQ(Exec(db, "INSERT INTO t VALUES (2)"), SQLITE_CONSTRAINT);
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[1]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(spans[1], "error.type"), "SQLITE_CONSTRAINT_UNIQUE");
}

// Named for scripts/test's ThreadSanitizer pass.
using Concurrency = SqliteTest;

TEST_F(Concurrency, SqliteManyThreadsOwnConnectionsAndOneSharedConnection) {
  std::string path = TempDbPath("threads");
  {
    sqlite3* db = Open(path);
    ASSERT_EQ(Exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t (thread INTEGER, i INTEGER)"),
              SQLITE_OK);
    sqlite3_close(db);
  }
  tracing_.store->Reset();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  sqlite3* shared = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &shared), SQLITE_OK);
  ASSERT_EQ(Exec(shared, "CREATE TABLE s (x)"), SQLITE_OK);
  std::vector<SpanId> roots(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  Tracer tracer = tracing_.provider->GetTracer("test");
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Span root = tracer.StartSpan("worker " + std::to_string(t));
      roots[t] = root.GetContext().span_id();
      Scope scope = MakeCurrent(root);
      sqlite3* db = nullptr;
      if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) ++failures;
      sqlite3_busy_timeout(db, 5000);
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?)", -1, &st, nullptr);
      for (int i = 0; i < kPerThread; ++i) {
        sqlite3_bind_int(st, 1, t);
        sqlite3_bind_int(st, 2, i);
        if (sqlite3_step(st) != SQLITE_DONE) ++failures;
        sqlite3_reset(st);
        if (Exec(shared, "INSERT INTO s VALUES (1)") != SQLITE_OK) ++failures;
      }
      sqlite3_finalize(st);
      sqlite3_close(db);
    });
  }
  for (auto& th : threads) th.join();
  sqlite3_close(shared);
  EXPECT_EQ(failures.load(), 0);
  std::map<std::string, int> per_parent;
  for (const SpanData* s : Spans()) {
    if (s->kind() == SpanKind::kClient) per_parent[s->parent_span_id().ToHex()]++;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per_parent[roots[t].ToHex()], 2 * kPerThread) << t;
}

int CountingCallback(unsigned type, void* ctx, void*, void*) {
  auto* counts = static_cast<std::map<unsigned, int>*>(ctx);
  (*counts)[type]++;
  return 0;
}

TEST_F(SqliteTest, UserTraceCallbackIsChained) {
  sqlite3* db = Open(":memory:");
  std::map<unsigned, int> counts;
  ASSERT_EQ(SetTraceCallback(db, SQLITE_TRACE_STMT, CountingCallback, &counts), SQLITE_OK);
  ASSERT_EQ(Exec(db, "SELECT 1; SELECT 2"), SQLITE_OK);
  EXPECT_EQ(counts[SQLITE_TRACE_STMT], 2);
  EXPECT_EQ(counts[SQLITE_TRACE_PROFILE], 0);  // not in the user's mask
  EXPECT_EQ(tracing_.store->size(), 2u);
  // A plain sqlite3_trace_v2 call: this binary is linked with the wrap, so it
  // chains too.
  std::map<unsigned, int> counts2;
  ASSERT_EQ(
      sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE | SQLITE_TRACE_CLOSE, CountingCallback, &counts2),
      SQLITE_OK);
  ASSERT_EQ(Exec(db, "SELECT 3"), SQLITE_OK);
  EXPECT_EQ(counts2[SQLITE_TRACE_PROFILE], 1);
  EXPECT_EQ(counts[SQLITE_TRACE_STMT], 2);  // replaced, as sqlite3_trace_v2 does
  EXPECT_EQ(tracing_.store->size(), 3u);
  // Removing the user's callback keeps the instrumentation.
  ASSERT_EQ(sqlite3_trace_v2(db, 0, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(Exec(db, "SELECT 4"), SQLITE_OK);
  EXPECT_EQ(counts2[SQLITE_TRACE_PROFILE], 1);
  EXPECT_EQ(tracing_.store->size(), 4u);
  ASSERT_TRUE(IsInstrumented(db));
  // Uninstrument gives the slot back to the user's callback.
  ASSERT_EQ(SetTraceCallback(db, SQLITE_TRACE_STMT | SQLITE_TRACE_CLOSE, CountingCallback, &counts),
            SQLITE_OK);
  Uninstrument(db);
  EXPECT_FALSE(IsInstrumented(db));
  ASSERT_EQ(Exec(db, "SELECT 5"), SQLITE_OK);
  EXPECT_EQ(counts[SQLITE_TRACE_STMT], 3);
  EXPECT_EQ(tracing_.store->size(), 4u);
  sqlite3_close(db);
  EXPECT_EQ(counts[SQLITE_TRACE_CLOSE], 1);
}

TEST_F(SqliteTest, UnwrappedTraceCallReplacesTheInstrumentationHarmlessly) {
  sqlite3* db = Open(":memory:");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT 1 UNION ALL SELECT 2", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);  // a span in flight
  std::map<unsigned, int> counts;
  ASSERT_EQ(__real_sqlite3_trace_v2(db, SQLITE_TRACE_STMT, CountingCallback, &counts), SQLITE_OK);
  sqlite3_finalize(st);
  ASSERT_EQ(Exec(db, "SELECT 3"), SQLITE_OK);
  EXPECT_EQ(counts[SQLITE_TRACE_STMT], 1);
  EXPECT_EQ(tracing_.store->size(), 0u);
  EXPECT_EQ(sqlite3_close(db), SQLITE_OK);
  EXPECT_EQ(tracing_.store->size(), 1u);  // the span in flight ended with the connection
}

TEST_F(SqliteTest, ConnectionOpenedBeforeInstallAndUninstall) {
  Uninstall();
  EXPECT_FALSE(IsInstalled());
  sqlite3* db = Open(":memory:");
  EXPECT_FALSE(IsInstrumented(db));
  ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  EXPECT_EQ(tracing_.store->size(), 0u);
  Reinstall({});
  ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  EXPECT_EQ(tracing_.store->size(), 0u);  // opened before: not attached
  ASSERT_TRUE(Instrument(db));
  ASSERT_TRUE(Instrument(db));  // idempotent
  ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  EXPECT_EQ(tracing_.store->size(), 1u);
  Uninstall();  // attached connections pass through
  ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  EXPECT_EQ(tracing_.store->size(), 1u);
  Reinstall({});  // and resume
  ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  EXPECT_EQ(tracing_.store->size(), 2u);
  sqlite3_close(db);
}

TEST_F(SqliteTest, InstrumentWhileAStatementIsRunning) {
  Uninstall();
  sqlite3* db = Open(":memory:");
  Reinstall({});
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT 1 UNION ALL SELECT 2", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_TRUE(Instrument(db));
  EXPECT_TRUE(IsInstrumented(db));
  sqlite3_finalize(st);  // started before: no span, and no stray end
  EXPECT_EQ(tracing_.store->size(), 0u);
  ASSERT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  EXPECT_EQ(tracing_.store->size(), 1u);
  EXPECT_EQ(sqlite3_close(db), SQLITE_OK);
  EXPECT_FALSE(Instrument(nullptr));
}

TEST_F(SqliteTest, Options) {
  std::vector<std::string> logged;
  std::atomic<int> hooks{0};
  Options o;
  o.query_text = Options::QueryText::kRaw;
  o.count_rows = true;
  o.trace_connection_open = true;
  o.statement_hook = [&](SpanRef span, sqlite3_stmt* stmt) {
    ++hooks;
    span.SetAttribute("app.readonly", sqlite3_stmt_readonly(stmt) != 0);
  };
  o.log_callback = [&](int, const char* msg) { logged.emplace_back(msg); };
  Reinstall(std::move(o));
  std::string path = TempDbPath("options");
  sqlite3* db = Open(path);
  ASSERT_EQ(Exec(db, "CREATE TABLE t (n); INSERT INTO t VALUES (1), (2), (3)"), SQLITE_OK);
  ASSERT_EQ(Exec(db, "SELECT n FROM t WHERE n < 3"), SQLITE_OK);
  EXPECT_NE(Exec(db, "SELECT * FROM missing"), SQLITE_OK);
  sqlite3_close(db);
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(spans[0]->name(), "connect " + std::filesystem::path(path).filename().string());
  EXPECT_EQ(spans[0]->kind(), SpanKind::kClient);
  EXPECT_EQ(StrAttr(spans[3], "db.query.text"), "SELECT n FROM t WHERE n < 3");
  EXPECT_EQ(IntAttr(spans[3], "db.response.returned_rows"), 2);
  EXPECT_EQ(hooks.load(), 3);
  AttributeView v;
  ASSERT_TRUE(spans[3]->FindAttribute("app.readonly", &v));
  EXPECT_TRUE(v.as_bool());
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], "no such table: missing in \"SELECT * FROM missing\"");

  Options off;
  off.query_text = Options::QueryText::kOff;
  Reinstall(std::move(off));
  tracing_.store->Reset();
  db = Open(":memory:");
  ASSERT_EQ(Exec(db, "SELECT 'secret'"), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_EQ(tracing_.store->size(), 1u);
  EXPECT_FALSE(HasAttr(Spans()[0], "db.query.text"));
}

TEST_F(SqliteTest, ThrowingHookIsContained) {
  Options o;
  o.statement_hook = [](SpanRef, sqlite3_stmt*) { throw std::runtime_error("boom"); };
  Reinstall(std::move(o));
  sqlite3* db = Open(":memory:");
  EXPECT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(tracing_.store->size(), 1u);
}

TEST_F(SqliteTest, ThrowingHookIsReportedEveryTimeWhenAsked) {
  testing::DiagnosticsCapture diag(LogLevel::kWarning);
  Options o;
  o.hook_exceptions = instrumentation::HookExceptionPolicy::kReportEach;
  o.statement_hook = [](SpanRef, sqlite3_stmt*) { throw std::runtime_error("boom"); };
  Reinstall(std::move(o));
  sqlite3* db = Open(":memory:");
  EXPECT_EQ(Exec(db, "SELECT 1"), SQLITE_OK);
  EXPECT_EQ(Exec(db, "SELECT 2"), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(tracing_.store->size(), 2u);
  EXPECT_EQ(diag.Count("statement_hook threw std::runtime_error: boom"), 2u) << diag.text();
}

}  // namespace
}  // namespace otelweb::sqlite

namespace otelweb::sqlite {
namespace {

// Installed without a provider, the instrumentation follows the global one:
// it used to keep the first real provider forever, so after the TracingHandle
// was destroyed and InstallTracing ran again, statements made no spans.
TEST(SqliteGlobal, ReinstalledGlobalTracingIsPickedUp) {
  Options o;
  o.trace_connection_open = false;
  ASSERT_TRUE(Install(std::move(o)));  // no provider: the global one
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  otelweb::testing::InstalledMemoryTracing first;
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(first.store->size(), 1u);
  first.Drop();
  otelweb::testing::InstalledMemoryTracing second;
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  second.Shutdown();
  EXPECT_EQ(first.store->size(), 1u);
  ASSERT_EQ(second.store->size(), 1u);
  const SpanData* s = second.store->spans()[0];
  EXPECT_EQ(s->name(), "INSERT t");
  EXPECT_EQ(s->scope().name, kScopeName);
}

}  // namespace
}  // namespace otelweb::sqlite
