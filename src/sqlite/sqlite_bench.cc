// Cost of a SQLite statement execution with and without its span: a prepared
// point query on an in-memory table (bind, step, step to DONE, reset). Part of
// otelweb_bench when otelweb_sqlite is built.
#include <benchmark/benchmark.h>

#include <memory>

#include "alloc_counter.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/sqlite/sqlite.h"
#include "bench_common.h"

namespace {

using namespace otelweb;


void RunPointQuery(benchmark::State& st, bool traced) {
  auto provider = bench::NoopBatchProvider();
  sqlite::Options so;
  so.tracer_provider = provider;
  sqlite::Install(so);
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  if (!traced) sqlite::Uninstrument(db);
  sqlite3_exec(db,
               "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
               "INSERT INTO items SELECT i, 'item ' || i FROM n;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT id, name FROM items WHERE id = ?", -1, &stmt, nullptr);
  auto once = [&](int i) {
    sqlite3_bind_int(stmt, 1, 1 + i % 100);
    while (sqlite3_step(stmt) == SQLITE_ROW) benchmark::DoNotOptimize(sqlite3_column_text(stmt, 1));
    sqlite3_reset(stmt);
  };
  for (int i = 0; i < 5000; ++i) once(i);  // warm the record pool
  uint64_t allocs_before = otelweb_bench_allocs();
  int i = 0;
  for (auto _ : st) once(i++);
  st.counters["allocs_per_op"] =
      benchmark::Counter(static_cast<double>(otelweb_bench_allocs() - allocs_before),
                         benchmark::Counter::kAvgIterations);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  sqlite::Uninstall();
  provider->Shutdown();
}

void BM_SqlitePointQueryPlain(benchmark::State& st) { RunPointQuery(st, false); }
void BM_SqlitePointQueryTraced(benchmark::State& st) { RunPointQuery(st, true); }
BENCHMARK(BM_SqlitePointQueryPlain);
BENCHMARK(BM_SqlitePointQueryTraced);

}  // namespace
