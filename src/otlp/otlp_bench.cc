// BM_OtlpEncode_10Attrs (shared/BENCHMARKS.md): encode a batch of 512 ended
// spans with the ten attributes to OTLP protobuf bytes. Time and heap
// allocations are reported per span (items = spans).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "alloc_counter.h"
#include "bench_common.h"
#include "fixed_iterations.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/otelweb.h"

namespace otelweb::bench {
namespace {

constexpr int kBatch = 512;

// kBatch ended server spans with the contract's ten attributes, kept by an
// in-memory store (the records live as long as this object).
struct TenAttributeBatch {
  std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>();
  std::unique_ptr<TracerProvider> provider;
  std::vector<const SpanData*> spans;

  TenAttributeBatch() {
    TracerProviderOptions o;
    o.sampler = AlwaysOnSampler();
    o.resource = Resource::Create({});
    o.processors.push_back(
        std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
    provider = std::make_unique<TracerProvider>(std::move(o));
    Tracer tracer = provider->GetTracer("bench", "1.0");
    for (int i = 0; i < kBatch; ++i) {
      Span s = tracer.StartSpan("GET /api/v1/users/{id}/orders", SpanKind::kServer);
      SetTenAttributes(s);
    }
    spans = store->spans();
  }
};

void BM_OtlpEncode_10Attrs(benchmark::State& st) {
  TenAttributeBatch batch;
  const std::vector<const SpanData*>& spans = batch.spans;
  otlp::ProtobufEncoder enc;
  enc.Encode(spans);  // warm the buffer
  uint64_t a0 = otelweb_bench_allocs();
  size_t bytes = 0;
  for (auto _ : st) {
    const std::string& out = enc.Encode(spans);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  uint64_t allocs = otelweb_bench_allocs() - a0;
  st.SetItemsProcessed(int64_t(st.iterations()) * kBatch);
  st.counters["ns_per_span"] = benchmark::Counter(
      double(st.iterations()) * kBatch, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters["allocs_per_span"] = double(allocs) / (double(st.iterations()) * kBatch);
  st.counters["bytes_per_span"] = double(bytes) / kBatch;
}
OTELWEB_BENCHMARK(BM_OtlpEncode_10Attrs);

// The same batch as OTLP/JSON (the console exporter's renderer).
void BM_OtlpJson_10Attrs(benchmark::State& st) {
  TenAttributeBatch batch;
  const std::vector<const SpanData*>& spans = batch.spans;
  for (auto _ : st) {
    std::string out = otlp::EncodeJson(spans);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(int64_t(st.iterations()) * kBatch);
}
BENCHMARK(BM_OtlpJson_10Attrs);

}  // namespace
}  // namespace otelweb::bench
