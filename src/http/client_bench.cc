// Cost of the HTTP client layer per request, without sockets: ClientSpan
// Start (CLIENT span, child of the current span, URL redaction check,
// ~5 attributes), Inject (traceparent into a small carrier), End (status and
// protocol attributes). Part of otelweb_bench when otelweb_http is built.
#include <benchmark/benchmark.h>

#include <cstring>

#include "alloc_counter.h"
#include "otelweb/http/server.h"
#include "otelweb/http/client.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "bench_common.h"
#include "fixed_iterations.h"

namespace {

using namespace otelweb;


// Keeps the last injected value in a fixed buffer (no allocation).
class FixedCarrier final : public TextMapSetter {
 public:
  void Set(std::string_view key, std::string_view value) noexcept override {
    (void)key;
    size_t n = value.size() < sizeof(buf_) ? value.size() : sizeof(buf_);
    std::memcpy(buf_, value.data(), n);
    len_ = n;
  }
  char buf_[128];
  size_t len_ = 0;
};

// with_metrics: the client metrics too (http.client.request.duration and the
// body sizes, six attributes, into a provider with a ManualReader; the
// exemplar names the span).
void ClientSpanLoop(benchmark::State& st, bool with_metrics) {
  auto provider = bench::NoopBatchProvider();
  SetTextMapPropagator(std::make_shared<W3CTraceContextPropagator>());
  http::ClientSettings cs;
  cs.tracer_provider = provider;
  if (with_metrics) {
    metrics::MeterProviderOptions mo;
    mo.resource = Resource();
    mo.readers.push_back(std::make_shared<metrics::ManualReader>());
    cs.meter_provider = std::make_shared<metrics::MeterProvider>(std::move(mo));
  }
  cs.excluded_urls = "";
  cs.capture_request_headers = std::vector<std::string>{};
  cs.capture_response_headers = std::vector<std::string>{};
  http::ClientInstrumenter inst(cs, "BENCH");
  http::ClientRequestView req;
  req.method = "GET";
  req.url = "http://backend.internal:5001/api/v1/users/12345/orders?page=2";
  http::ClientResponseView res;
  res.status_code = 200;
  res.protocol_version = "1.1";
  res.body_size = 1234;
  Span parent = provider->GetTracer("bench").StartSpan("parent", SpanKind::kServer);
  Scope scope = MakeCurrent(parent);
  FixedCarrier carrier;
  for (int i = 0; i < 5000; ++i) {  // warm the record pool
    http::ClientSpan s;
    s.Start(inst, req);
    s.Inject(carrier);
    s.End(res);
  }
  uint64_t allocs_before = otelweb_bench_allocs();
  for (auto _ : st) {
    http::ClientSpan s;
    s.Start(inst, req);
    s.Inject(carrier);
    s.End(res);
    benchmark::DoNotOptimize(carrier.len_);
  }
  st.counters["allocs_per_op"] =
      benchmark::Counter(static_cast<double>(otelweb_bench_allocs() - allocs_before),
                         benchmark::Counter::kAvgIterations);
  parent.End();
  provider->Shutdown();
  SetTextMapPropagator(MakePropagators(""));
}

void BM_HttpClientSpan(benchmark::State& st) { ClientSpanLoop(st, false); }
OTELWEB_BENCHMARK(BM_HttpClientSpan);
void BM_HttpClientSpan_Metrics(benchmark::State& st) { ClientSpanLoop(st, true); }
OTELWEB_BENCHMARK(BM_HttpClientSpan_Metrics);

}  // namespace
