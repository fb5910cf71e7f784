// The metrics cases of the benchmark contract (shared/BENCHMARKS.md): one
// recording with three attributes given per call, with a pre-bound attribute
// set, into a histogram, into a histogram inside a sampled span (exemplar),
// and two threads on one series. A ManualReader is registered (as in a real
// setup) but does not collect during the loop.
#include <benchmark/benchmark.h>

#include <memory>

#include "alloc_counter.h"
#include "bench_common.h"
#include "fixed_iterations.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/trace/span.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;

struct MetricsSetup {
  explicit MetricsSetup(ExemplarFilter filter = ExemplarFilter::kTraceBased,
                        HistogramAggregation histograms = HistogramAggregation::kExplicitBucket) {
    reader = std::make_shared<ManualReader>();
    MeterProviderOptions o;
    o.resource = Resource();
    o.readers.push_back(reader);
    o.exemplar_filter = filter;
    o.default_histogram_aggregation = histograms;
    provider = std::make_unique<MeterProvider>(std::move(o));
    meter = provider->GetMeter("bench");
  }
  std::shared_ptr<ManualReader> reader;
  std::unique_ptr<MeterProvider> provider;
  Meter meter;
};

const KeyValue kThree[] = {{"http.request.method", "GET"},
                           {"http.route", "/api/v1/users/:id"},
                           {"http.response.status_code", 200}};

void ReportAllocs(benchmark::State& st, uint64_t before) {
  st.counters["allocs_per_op"] = benchmark::Counter(
      static_cast<double>(otelweb_bench_allocs() - before), benchmark::Counter::kAvgIterations);
}

void BM_CounterAdd_3Attrs(benchmark::State& st) {
  MetricsSetup m;
  auto c = m.meter.CreateInt64Counter("requests");
  c.Add(1, kThree);  // the series exists, as in steady state
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) c.Add(1, kThree);
  ReportAllocs(st, before);
}
OTELWEB_BENCHMARK(BM_CounterAdd_3Attrs);

void BM_CounterAdd_Bound(benchmark::State& st) {
  MetricsSetup m;
  auto c = m.meter.CreateInt64Counter("requests");
  auto b = c.Bind(kThree);
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) b.Add(1);
  ReportAllocs(st, before);
}
OTELWEB_BENCHMARK(BM_CounterAdd_Bound);

// The same with OTEL_METRICS_EXEMPLAR_FILTER=always_off: the inline add only.
void BM_CounterAdd_Bound_ExemplarsOff(benchmark::State& st) {
  MetricsSetup m(ExemplarFilter::kAlwaysOff);
  auto c = m.meter.CreateInt64Counter("requests");
  auto b = c.Bind(kThree);
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) b.Add(1);
  ReportAllocs(st, before);
}
OTELWEB_BENCHMARK(BM_CounterAdd_Bound_ExemplarsOff);

void BM_CounterAdd_3Attrs_ExemplarsOff(benchmark::State& st) {
  MetricsSetup m(ExemplarFilter::kAlwaysOff);
  auto c = m.meter.CreateInt64Counter("requests");
  c.Add(1, kThree);
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) c.Add(1, kThree);
  ReportAllocs(st, before);
}
OTELWEB_BENCHMARK(BM_CounterAdd_3Attrs_ExemplarsOff);

void BM_HistogramRecord_3Attrs(benchmark::State& st) {
  MetricsSetup m;
  InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(kHttpDurationBuckets),
                                        std::end(kHttpDurationBuckets));
  auto h = m.meter.CreateDoubleHistogram("http.server.request.duration", "s", "", adv);
  h.Record(0.01, kThree);
  double v = 0.0123;
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) {
    h.Record(v, kThree);
    benchmark::DoNotOptimize(v);
  }
  ReportAllocs(st, before);
}
OTELWEB_BENCHMARK(BM_HistogramRecord_3Attrs);

// The same with the base-2 exponential aggregation (max size 160): the
// stripe's spin lock, the index (log2 of the significand) and one add;
// values vary over two decades so that the index math is not one branch.
void BM_HistogramRecord_Exponential_3Attrs(benchmark::State& st) {
  MetricsSetup m(ExemplarFilter::kTraceBased, HistogramAggregation::kBase2Exponential);
  auto h = m.meter.CreateDoubleHistogram("http.server.request.duration", "s");
  const double values[4] = {0.0123, 0.27, 0.0049, 1.3};
  for (double v : values) h.Record(v, kThree);  // the range is settled, as in steady state
  size_t i = 0;
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) {
    h.Record(values[i++ & 3], kThree);
  }
  ReportAllocs(st, before);
}
OTELWEB_BENCHMARK(BM_HistogramRecord_Exponential_3Attrs);

// Inside a sampled span with the trace_based filter: every recording offers
// an exemplar (value, time, trace id, span id) to its bucket's slot.
void BM_HistogramRecord_Exemplar(benchmark::State& st) {
  auto tracing = bench::NoopBatchProvider();
  MetricsSetup m(ExemplarFilter::kTraceBased);
  InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(kHttpDurationBuckets),
                                        std::end(kHttpDurationBuckets));
  auto h = m.meter.CreateDoubleHistogram("http.server.request.duration", "s", "", adv);
  Span span = tracing->GetTracer("bench").StartSpan("request");
  {
    Scope scope = MakeCurrent(span);
    h.Record(0.01, kThree);
    double v = 0.0123;
    uint64_t before = otelweb_bench_allocs();
    for (auto _ : st) {
      h.Record(v, kThree);
      benchmark::DoNotOptimize(v);
    }
    ReportAllocs(st, before);
  }
  span.End();
  tracing->Shutdown();
}
OTELWEB_BENCHMARK(BM_HistogramRecord_Exemplar);

// One series recorded by 1 and by 2 threads (attributes per call): compare
// items_per_second (aggregate throughput) of /threads:1 and /threads:2.
void BM_CounterAdd_TwoThreads(benchmark::State& st) {
  static MetricsSetup* m = new MetricsSetup();  // shared by the threads, made once
  static Counter<int64_t> c = m->meter.CreateInt64Counter("shared");
  for (auto _ : st) c.Add(1, kThree);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_CounterAdd_TwoThreads)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace
