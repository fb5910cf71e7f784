// The spdlog bridge's costs (issue 14):
//   BM_SpdlogNullSink          spdlog's own floor: a sync logger with null_sink_st
//   BM_SpdlogSink              a sync logger with the otelweb sink, into the batch
//                              processor (no-op exporter), inside a span
//   BM_SpdlogSink_Async        the caller's cost with otelweb's async logger (the
//                              sink runs on its worker)
//   BM_SpdlogPattern_Plain     formatting "%v" (the floor of the next one)
//   BM_SpdlogPattern_TraceIds  formatting "trace_id=%Q span_id=%J trace_flags=%K %v"
#include <benchmark/benchmark.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "alloc_counter.h"
#include "bench_common.h"
#include "fixed_iterations.h"
#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/spdlog/async.h"
#include "otelweb/spdlog/pattern.h"
#include "otelweb/spdlog/sink.h"

namespace {

using namespace otelweb;

class NoopLogExporter final : public logs::LogRecordExporter {
 public:
  ExportResult Export(std::span<const logs::LogRecord* const>) noexcept override { return ExportResult::kSuccess; }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "noop"; }
};

std::shared_ptr<logs::LoggerProvider> NoopLogs() {
  logs::LoggerProviderOptions o;
  o.resource = Resource();
  logs::BatchLogRecordProcessorOptions bo;
  bo.max_queue_size = 16384;
  o.processors.push_back(std::make_unique<logs::BatchLogRecordProcessor>(std::make_unique<NoopLogExporter>(), bo));
  return std::make_shared<logs::LoggerProvider>(std::move(o));
}

template <typename Make>
void RunLogger(benchmark::State& st, Make make) {
  auto logs_provider = NoopLogs();
  auto logger = make(logs_provider);
  auto tp = bench::NoopBatchProvider();
  auto span = tp->GetTracer("bench").StartSpan("request");
  Scope scope = MakeCurrent(span);
  logger->info("warm-up {}", 0);
  const uint64_t a0 = otelweb_bench_allocs();
  for (auto _ : st) logger->info("GET /api/v1/users/{} served in {} ms", 12345, 3);
  st.counters["allocs_per_op"] = double(otelweb_bench_allocs() - a0) / double(st.iterations());
  logger->flush();
  logger.reset();
  (void)logs_provider->Shutdown();
}

void BM_SpdlogNullSink(benchmark::State& st) {
  RunLogger(st, [](const std::shared_ptr<logs::LoggerProvider>&) {
    return std::make_shared<::spdlog::logger>("bench", std::make_shared<::spdlog::sinks::null_sink_st>());
  });
}
OTELWEB_BENCHMARK(BM_SpdlogNullSink);

void BM_SpdlogSink(benchmark::State& st) {
  RunLogger(st, [](const std::shared_ptr<logs::LoggerProvider>& p) {
    return std::make_shared<::spdlog::logger>("bench", spdlog_bridge::MakeSink({.provider = p}));
  });
}
OTELWEB_BENCHMARK(BM_SpdlogSink);

void BM_SpdlogSink_Async(benchmark::State& st) {
  RunLogger(st, [](const std::shared_ptr<logs::LoggerProvider>& p) {
    return spdlog_bridge::MakeAsyncLogger("bench", {spdlog_bridge::MakeSink({.provider = p})},
                                          {.queue_size = 1 << 16});
  });
}
BENCHMARK(BM_SpdlogSink_Async);

void RunPattern(benchmark::State& st, const char* pattern) {
  auto f = spdlog_bridge::MakePatternFormatter(pattern);
  auto tp = bench::NoopBatchProvider();
  auto span = tp->GetTracer("bench").StartSpan("request");
  Scope scope = MakeCurrent(span);
  ::spdlog::details::log_msg msg("bench", ::spdlog::level::info, "GET /api/v1/users/12345 served in 3 ms");
  ::spdlog::memory_buf_t buf;
  for (auto _ : st) {
    buf.clear();
    f->format(msg, buf);
    benchmark::DoNotOptimize(buf.data());
  }
}

void BM_SpdlogPattern_Plain(benchmark::State& st) { RunPattern(st, "%v"); }
OTELWEB_BENCHMARK(BM_SpdlogPattern_Plain);
void BM_SpdlogPattern_TraceIds(benchmark::State& st) {
  RunPattern(st, "trace_id=%Q span_id=%J trace_flags=%K %v");
}
OTELWEB_BENCHMARK(BM_SpdlogPattern_TraceIds);

}  // namespace
