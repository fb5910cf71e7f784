// Cost of the HTTP layer per request, without sockets: ServerSpan Start (W3C
// extract, SERVER span with ~12 attributes, scope), SetRoute, End. Part of
// otelweb_bench when otelweb_http is built.
#include <benchmark/benchmark.h>

#include <utility>
#include <vector>

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


class BenchHeaders final : public http::HeaderReader {
 public:
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const auto& [k, v] : h_) {
      if (!visit(ctx, k, v)) return;
    }
  }
  std::vector<std::pair<std::string, std::string>> h_ = {
      {"host", "api.example.com:8080"},
      {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0"},
      {"accept", "*/*"},
      {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
};

void BM_HttpServerSpan(benchmark::State& st) {
  auto provider = bench::NoopBatchProvider();
  http::ServerOptions so;
  so.tracer_provider = provider;
  so.excluded_urls = "";
  so.capture_request_headers = std::vector<std::string>{};
  so.capture_response_headers = std::vector<std::string>{};
  http::ServerInstrumenter inst(so);
  BenchHeaders headers;
  http::ServerRequestView v;
  v.method = "GET";
  v.target = "/api/v1/users/12345/orders?page=2";
  v.protocol_version = "HTTP/1.1";
  v.peer_address = "10.1.2.3";
  v.peer_port = 51234;
  v.headers = &headers;
  http::ServerResponseView res;
  res.status_code = 200;
  for (int i = 0; i < 5000; ++i) {  // warm the record pool
    http::ServerSpan s;
    s.Start(inst, v);
    s.End(res, &v);
  }
  uint64_t allocs_before = otelweb_bench_allocs();
  for (auto _ : st) {
    http::ServerSpan s;
    s.Start(inst, v);
    s.SetRoute("/api/v1/users/:id/orders");
    s.End(res, &v);
  }
  st.counters["allocs_per_op"] = benchmark::Counter(
      static_cast<double>(otelweb_bench_allocs() - allocs_before), benchmark::Counter::kAvgIterations);
  provider->Shutdown();
}
OTELWEB_BENCHMARK(BM_HttpServerSpan);

// The same request with user regexes on the path of every request: an
// excluded-URL list that does not match, a capture regex matching two of six
// headers and a sanitize regex (docs/performance.md, "User regexes").
class PatternHeaders final : public http::HeaderReader {
 public:
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const auto& [k, v] : h_) {
      if (!visit(ctx, k, v)) return;
    }
  }
  std::vector<std::pair<std::string, std::string>> h_ = {
      {"host", "api.example.com:8080"},
      {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0"},
      {"accept", "*/*"},
      {"x-tenant", "acme"},
      {"x-request-id", "5f1c2a9e-77b0-4a43-9d1e-0c3b1f4e8a21"},
      {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
};

void BM_HttpServerSpan_Patterns(benchmark::State& st) {
  auto provider = bench::NoopBatchProvider();
  http::ServerOptions so;
  so.tracer_provider = provider;
  so.excluded_urls = "/health$,^/static/.*\\.(js|css)$,/metrics";
  so.capture_request_headers = std::vector<std::string>{"x-(tenant|request)-.*", "x-tenant"};
  so.capture_response_headers = std::vector<std::string>{};
  so.sanitize_fields = std::vector<std::string>{"private-.*"};
  http::ServerInstrumenter inst(so);
  PatternHeaders headers;
  http::ServerRequestView v;
  v.method = "GET";
  v.target = "/api/v1/users/12345/orders?page=2";
  v.protocol_version = "HTTP/1.1";
  v.peer_address = "10.1.2.3";
  v.peer_port = 51234;
  v.headers = &headers;
  http::ServerResponseView res;
  res.status_code = 200;
  for (int i = 0; i < 5000; ++i) {  // warm the record pool (and the regex caches)
    http::ServerSpan s;
    s.Start(inst, v);
    s.End(res, &v);
  }
  for (auto _ : st) {
    http::ServerSpan s;
    s.Start(inst, v);
    s.SetRoute("/api/v1/users/:id/orders");
    s.End(res, &v);
  }
  provider->Shutdown();
}
OTELWEB_BENCHMARK(BM_HttpServerSpan_Patterns);

}  // namespace
