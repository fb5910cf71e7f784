// BM_HttpServerMetrics: every HTTP server instrument of one request, as
// ServerSpan records them (active_requests +1/-1 with method and scheme, the
// duration and both body sizes with the six semconv attributes), into a
// provider with a ManualReader and the default trace_based exemplar filter
// outside any span.
#include <benchmark/benchmark.h>

#include "alloc_counter.h"
#include "bench_common.h"
#include "fixed_iterations.h"
#include "http/server_metrics.h"
#include "otelweb/http/server.h"
#include "otelweb/semconv.h"

namespace {

using namespace otelweb;

std::shared_ptr<metrics::MeterProvider> BenchMeterProvider() {
  metrics::MeterProviderOptions o;
  o.resource = Resource();
  o.readers.push_back(std::make_shared<metrics::ManualReader>());
  return std::make_shared<metrics::MeterProvider>(std::move(o));
}

void BM_HttpServerMetrics(benchmark::State& st) {
  auto provider = BenchMeterProvider();
  auto m = http::internal::ServerMetrics::Create(*provider, "bench");
  KeyValue kv[6] = {
      {semconv::kHttpRequestMethod, "GET"},      {semconv::kUrlScheme, "http"},
      {semconv::kHttpResponseStatusCode, 200},   {semconv::kHttpRoute, "/api/v1/users/:id/orders"},
      {semconv::kNetworkProtocolVersion, "1.1"}, {semconv::kErrorType, "500"}};
  Attributes active(kv, 2), all(kv, 5);
  m.active.Add(1, active);
  http::internal::RecordHttpHistograms(m.duration, m.request_size, m.response_size, all, 0.001, 0,
                                       100);
  uint64_t before = otelweb_bench_allocs();
  for (auto _ : st) {
    m.active.Add(1, active);
    // as ServerSpan::FinishMetrics
    http::internal::RecordHttpHistograms(m.duration, m.request_size, m.response_size, all, 0.0123,
                                         0, 1234);
    m.active.Add(-1, active);
  }
  st.counters["allocs_per_op"] = benchmark::Counter(
      static_cast<double>(otelweb_bench_allocs() - before), benchmark::Counter::kAvgIterations);
}
OTELWEB_BENCHMARK(BM_HttpServerMetrics);

}  // namespace
