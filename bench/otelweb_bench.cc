// The benchmark contract of shared/BENCHMARKS.md. Case names are fixed so that
// runs can be compared with each other and with the reference figures.
//
// Run: build/bench/otelweb_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "alloc_counter.h"
#include "bench_common.h"
#include "fixed_iterations.h"
#include "otelweb/otelweb.h"

namespace otelweb::bench {

namespace {

// Counts spans and does nothing else; the processor still recycles records.
using bench::NoopExporter;

enum class Proc { kSimple, kBatch };

std::unique_ptr<TracerProvider> MakeProvider(Proc proc, std::shared_ptr<Sampler> sampler = AlwaysOnSampler(),
                                             BatchSpanProcessor** batch_out = nullptr) {
  TracerProviderOptions o;
  o.sampler = std::move(sampler);
  o.resource = Resource::Create({});
  if (proc == Proc::kSimple) {
    o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<NoopExporter>()));
  } else {
    auto b = std::make_unique<BatchSpanProcessor>(std::make_unique<NoopExporter>());
    if (batch_out) *batch_out = b.get();
    o.processors.push_back(std::move(b));
  }
  return std::make_unique<TracerProvider>(std::move(o));
}

// Allocations on this thread per iteration, as the user counter allocs_per_op.
class AllocScope {
 public:
  explicit AllocScope(benchmark::State& st) : st_(st), start_(otelweb_bench_allocs()) {}
  ~AllocScope() {
    uint64_t n = otelweb_bench_allocs() - start_;
    st_.counters["allocs_per_op"] =
        benchmark::Counter(static_cast<double>(n), benchmark::Counter::kAvgIterations);
  }

 private:
  benchmark::State& st_;
  uint64_t start_;
};

void Warm(Tracer& t, bool attrs) {
  // Fill the thread's record pool and grow record buffers once, as a server
  // does in its first requests.
  for (int i = 0; i < 5000; ++i) {
    Span s = t.StartSpan("warm-up");
    if (attrs) SetTenAttributes(s);
  }
}

void SpanCase(benchmark::State& st, Proc proc, bool attrs) {
  auto provider = MakeProvider(proc);
  Tracer t = provider->GetTracer("bench");
  Warm(t, attrs);
  {
    AllocScope a(st);
    for (auto _ : st) {
      Span s = t.StartSpan("GET /api/v1/users/{id}/orders");
      if (attrs) SetTenAttributes(s);
      s.End();
    }
  }
  provider->Shutdown();
}

}  // namespace

static void BM_SpanNoAttrs_Simple(benchmark::State& st) { SpanCase(st, Proc::kSimple, false); }
static void BM_Span10Attrs_Simple(benchmark::State& st) { SpanCase(st, Proc::kSimple, true); }
static void BM_SpanNoAttrs_Batch(benchmark::State& st) { SpanCase(st, Proc::kBatch, false); }
static void BM_Span10Attrs_Batch(benchmark::State& st) { SpanCase(st, Proc::kBatch, true); }
OTELWEB_BENCHMARK(BM_SpanNoAttrs_Simple);
OTELWEB_BENCHMARK(BM_Span10Attrs_Simple);
OTELWEB_BENCHMARK(BM_SpanNoAttrs_Batch);
OTELWEB_BENCHMARK(BM_Span10Attrs_Batch);

static void BM_SpanNonRecording(benchmark::State& st) {
  auto provider = MakeProvider(Proc::kSimple, AlwaysOffSampler());
  Tracer t = provider->GetTracer("bench");
  Warm(t, true);
  AllocScope a(st);
  for (auto _ : st) {
    Span s = t.StartSpan("GET /api/v1/users/{id}/orders");
    SetTenAttributes(s);
    s.End();
  }
}
OTELWEB_BENCHMARK(BM_SpanNonRecording);

static void BM_ChildSpan_WithScope(benchmark::State& st) {
  auto provider = MakeProvider(Proc::kSimple);
  Tracer t = provider->GetTracer("bench");
  Warm(t, false);
  Span parent = t.StartSpan("parent");
  Scope ps(parent.AsContext());
  {
    AllocScope a(st);
    for (auto _ : st) {
      Span child = t.StartSpan("child");
      Scope cs(child.AsContext());
      child.End();
    }
  }
}
OTELWEB_BENCHMARK(BM_ChildSpan_WithScope);

static void BM_TraceparentExtract(benchmark::State& st) {
  std::map<std::string, std::string> headers{
      {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
      {"content-type", "application/json"},
      {"host", "api.example.com"}};
  MapCarrier<std::map<std::string, std::string>> carrier(headers);
  W3CTraceContextPropagator prop;
  Context base;
  AllocScope a(st);
  for (auto _ : st) {
    Context c = prop.Extract(carrier, base);
    benchmark::DoNotOptimize(c);
  }
}
OTELWEB_BENCHMARK(BM_TraceparentExtract);

static void BM_TraceparentInject(benchmark::State& st) {
  auto provider = MakeProvider(Proc::kSimple);
  Tracer t = provider->GetTracer("bench");
  Span s = t.StartSpan("outgoing");
  Context ctx = s.AsContext();
  std::map<std::string, std::string> headers;
  MapCarrier<std::map<std::string, std::string>> carrier(headers);
  W3CTraceContextPropagator prop;
  prop.Inject(ctx, carrier);
  AllocScope a(st);
  for (auto _ : st) {
    prop.Inject(ctx, carrier);
    benchmark::DoNotOptimize(headers);
  }
}
OTELWEB_BENCHMARK(BM_TraceparentInject);

static void BM_ServerRequestPattern(benchmark::State& st) {
  auto provider = MakeProvider(Proc::kSimple);
  Tracer t = provider->GetTracer("bench");
  Warm(t, false);
  std::map<std::string, std::string> headers{
      {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  MapCarrier<std::map<std::string, std::string>> carrier(headers);
  W3CTraceContextPropagator prop;
  Context base;
  AllocScope a(st);
  for (auto _ : st) {
    Context remote = prop.Extract(carrier, base);
    SpanOptions so;
    so.kind = SpanKind::kServer;
    so.parent = &remote;
    Span server = t.StartSpan("GET /api/v1/users/{id}", so);
    Scope scope(server.AsContext());
    Span child = t.StartSpan("SELECT users");
    child.End();
    server.End();
  }
}
OTELWEB_BENCHMARK(BM_ServerRequestPattern);

// Two threads flood one batch processor; reports what was offered, exported
// and dropped per second of real time.
static void BM_TwoThreads_Batch(benchmark::State& st) {
  static std::unique_ptr<TracerProvider> provider;
  static BatchSpanProcessor* batch = nullptr;
  static std::chrono::steady_clock::time_point start;
  static uint64_t started_before = 0;
  static ProcessorCounters before;
  if (st.thread_index() == 0) {
    provider = MakeProvider(Proc::kBatch, AlwaysOnSampler(), &batch);
    before = batch->counters();
    started_before = GetSdkCounters().spans_started;
    start = std::chrono::steady_clock::now();
  }
  Tracer t;
  bool first = true;
  for (auto _ : st) {
    if (first) {
      t = provider->GetTracer("bench");
      first = false;
    }
    Span s = t.StartSpan("flood");
    s.End();
  }
  if (st.thread_index() == 0) {
    // The end of the loop is a barrier: both threads have stopped producing.
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ProcessorCounters c = batch->counters();
    double offered = static_cast<double>(GetSdkCounters().spans_started - started_before);
    double exported = static_cast<double>(c.exported - before.exported);
    double dropped = static_cast<double>(c.dropped_queue_full - before.dropped_queue_full);
    st.counters["offered_per_s"] = benchmark::Counter(offered / secs);
    st.counters["exported_per_s"] = benchmark::Counter(exported / secs);
    st.counters["dropped_pct"] = benchmark::Counter(offered > 0 ? 100.0 * dropped / offered : 0);
    provider->Shutdown();
  }
}
BENCHMARK(BM_TwoThreads_Batch)->Threads(2)->MinTime(1.0)->UseRealTime();

}  // namespace otelweb::bench

int main(int argc, char** argv) {
  // A process that never started a thread lets libstdc++ skip atomic
  // operations; real servers have threads, so the benchmark does too.
  std::thread([] {}).join();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
