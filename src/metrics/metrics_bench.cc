// The metrics cases of the benchmark contract (shared/BENCHMARKS.md): one
// recording with three attributes given per call, with a pre-bound attribute
// set, into a histogram, into a histogram inside a sampled span (exemplar),
// and two threads on one series. A ManualReader is registered (as in a real
// setup) but does not collect during the loop.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

// http.server.request.duration with the advised buckets.
Histogram<double> DurationHistogram(Meter& meter) {
  InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(kHttpDurationBuckets),
                                        std::end(kHttpDurationBuckets));
  return meter.CreateDoubleHistogram("http.server.request.duration", "s", "", adv);
}

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

// The floor under BM_CounterAdd_Bound: one relaxed atomic fetch_add on a
// shared cell (a locked read-modify-write on x86), which is what a bound add
// must do as long as two threads may add to one series' cell. Not a goal: it
// says how much of the bound add's time is the atomic instruction itself.
void BM_AtomicFetchAdd_Floor(benchmark::State& st) {
  static std::atomic<int64_t> cell{0};
  for (auto _ : st) cell.fetch_add(1, std::memory_order_relaxed);
  benchmark::DoNotOptimize(cell.load(std::memory_order_relaxed));
}
OTELWEB_BENCHMARK(BM_AtomicFetchAdd_Floor);

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
  auto h = DurationHistogram(m.meter);
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
  auto h = DurationHistogram(m.meter);
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

// Same three attributes, but alternating between two status codes: every
// recording misses the thread's last lookup of the stream (hash, table
// probe and comparison), what a server whose consecutive requests differ
// pays.
void BM_CounterAdd_3Attrs_Alternating(benchmark::State& st) {
  MetricsSetup m;
  auto c = m.meter.CreateInt64Counter("requests");
  const KeyValue other[] = {kThree[0], kThree[1], {"http.response.status_code", 404}};
  const Attributes sets[2] = {Attributes(kThree), Attributes(other)};
  c.Add(1, sets[0]);
  c.Add(1, sets[1]);
  size_t i = 0;
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) c.Add(1, sets[i++ & 1]);
  ReportAllocs(st, before);
}
OTELWEB_BENCHMARK(BM_CounterAdd_3Attrs_Alternating);

// One series (attributes per call) recorded by one thread, then by two
// threads together, in interleaved rounds: each round times kOps additions
// per thread (threads started and waiting at a barrier before the clock
// starts; the round ends when the last one finishes). Counters: the medians
// over the rounds of one_thread_per_s, two_threads_per_s (aggregate) and
// ratio (two ÷ one, per round), and the lowest and highest ratio.
void BM_CounterAdd_TwoThreads(benchmark::State& st) {
  MetricsSetup m;
  auto c = m.meter.CreateInt64Counter("shared");
  c.Add(1, kThree);
  constexpr int kRounds = 7;
  constexpr int64_t kOps = 2'000'000;
  auto run = [&](int threads) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        for (int64_t i = 0; i < kOps; ++i) c.Add(1, kThree);
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    auto t0 = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    for (auto& t : ts) t.join();
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
    return static_cast<double>(threads * kOps) / d.count();
  };
  std::vector<double> one, two, ratio;
  for (auto _ : st) {
    for (int r = 0; r < kRounds; ++r) {
      one.push_back(run(1));
      two.push_back(run(2));
      ratio.push_back(two.back() / one.back());
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  st.counters["one_thread_per_s"] = median(one);
  st.counters["two_threads_per_s"] = median(two);
  st.counters["ratio"] = median(ratio);
  st.counters["ratio_min"] = ratio.empty() ? 0 : *std::min_element(ratio.begin(), ratio.end());
  st.counters["ratio_max"] = ratio.empty() ? 0 : *std::max_element(ratio.begin(), ratio.end());
}
BENCHMARK(BM_CounterAdd_TwoThreads)->Iterations(1)->UseRealTime();

// Collection of 2000 series of an explicit-bucket histogram (the advised
// HTTP duration buckets, three attributes each, the default cardinality
// limit) by a cumulative ManualReader: the time of one Collect, points
// built. Goal <= 1 ms. `reuse_output`: every Collect writes into the same
// ResourceMetrics (what the periodic reader does), so the points' storage of
// the previous collection is reused; otherwise each Collect fills a fresh one.
void HistogramCollect2000(benchmark::State& st, bool reuse_output) {
  MetricsSetup m;
  auto h = DurationHistogram(m.meter);
  constexpr int kSeries = 2000;
  std::vector<std::string> routes;
  routes.reserve(kSeries);
  for (int i = 0; i < kSeries; ++i) routes.push_back("/api/v1/items/" + std::to_string(i));
  for (int i = 0; i < kSeries; ++i) {
    KeyValue kv[] = {{"http.request.method", "GET"},
                     {"http.route", std::string_view(routes[static_cast<size_t>(i)])},
                     {"http.response.status_code", 200}};
    for (int k = 0; k < 3; ++k) h.Record(0.003 * (1 + (i + k) % 50), kv);
  }
  size_t points = 0;
  ResourceMetrics kept;
  if (reuse_output) m.reader->Collect(&kept);  // warm-up: the storage exists
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) {
    ResourceMetrics fresh;
    ResourceMetrics& rm = reuse_output ? kept : fresh;
    m.reader->Collect(&rm);
    const MetricData* d = rm.Find("http.server.request.duration");
    points = d != nullptr ? d->histogram_points.size() : 0;
    benchmark::DoNotOptimize(rm);
  }
  ReportAllocs(st, before);
  st.counters["points"] = static_cast<double>(points);
  if (points != kSeries) st.SkipWithError("not every series was collected");
}
void BM_HistogramCollect_2000Series(benchmark::State& st) { HistogramCollect2000(st, false); }
OTELWEB_BENCHMARK(BM_HistogramCollect_2000Series)->Unit(benchmark::kMicrosecond);
void BM_HistogramCollect_2000Series_ReusedOutput(benchmark::State& st) {
  HistogramCollect2000(st, true);
}
OTELWEB_BENCHMARK(BM_HistogramCollect_2000Series_ReusedOutput)->Unit(benchmark::kMicrosecond);

}  // namespace
