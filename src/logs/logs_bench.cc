// BM_LogEmit_3Attrs (issue 14): one log record with a body and three
// attributes emitted into the batch processor (a no-op exporter behind it),
// inside a span, on the calling thread; allocations on the calling thread are
// reported per record.
#include <benchmark/benchmark.h>

#include "alloc_counter.h"
#include "bench_common.h"
#include "fixed_iterations.h"
#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/logger_provider.h"

namespace {

using namespace otelweb;

class NoopLogExporter final : public logs::LogRecordExporter {
 public:
  ExportResult Export(std::span<const logs::LogRecord* const> b) noexcept override {
    count.fetch_add(b.size(), std::memory_order_relaxed);
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "noop"; }
  std::atomic<uint64_t> count{0};
};

void BM_LogEmit_3Attrs(benchmark::State& st) {
  logs::LoggerProviderOptions o;
  o.resource = Resource();
  logs::BatchLogRecordProcessorOptions bo;
  bo.max_queue_size = 16384;  // the worker keeps up; a full queue would measure the drop path
  auto p = std::make_unique<logs::BatchLogRecordProcessor>(std::make_unique<NoopLogExporter>(), bo);
  logs::BatchLogRecordProcessor* proc = p.get();
  o.processors.push_back(std::move(p));
  logs::LoggerProvider provider(std::move(o));
  logs::Logger logger = provider.GetLogger("bench");
  auto tp = bench::NoopBatchProvider();
  auto span = tp->GetTracer("bench").StartSpan("request");
  Scope scope = MakeCurrent(span);
  const KeyValue attrs[] = {{"http.route", "/api/v1/users/:id"}, {"http.response.status_code", 200},
                            {"user.id", "alice"}};
  logger.Emit(logs::Severity::kInfo, "warm-up", attrs);
  const uint64_t a0 = otelweb_bench_allocs();
  for (auto _ : st) {
    logger.Emit(logs::Severity::kInfo, "GET /api/v1/users/12345 served in 3 ms", attrs);
  }
  const uint64_t allocs = otelweb_bench_allocs() - a0;
  st.counters["allocs_per_op"] = double(allocs) / double(st.iterations());
  st.counters["dropped"] = double(proc->counters().dropped_queue_full);
  (void)provider.Shutdown();
}
OTELWEB_BENCHMARK(BM_LogEmit_3Attrs);

}  // namespace
