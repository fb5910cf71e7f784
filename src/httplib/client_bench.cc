// Cost of the cpp-httplib client instrumentation per call, without sockets:
// detail::ClientCall (lock, CLIENT span, injection into a copy of the
// client's default headers, set_default_headers swap) and Finish (restore,
// response attributes, end) around a response made in memory. What a real
// request adds on top of this is the network round trip.
#include <benchmark/benchmark.h>

#include "alloc_counter.h"
#include "otelweb/httplib.h"
#include "otelweb/processor.h"
#include "otelweb/sampler.h"

namespace {

using namespace otelweb;

class NoopExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<EndedSpan>) noexcept override { return ExportResult::kSuccess; }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    return OperationResult::Ok();
  }
  std::string_view Name() const noexcept override { return "noop"; }
};

void BM_HttplibClientCall(benchmark::State& st) {
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::make_unique<BatchSpanProcessor>(std::make_unique<NoopExporter>()));
  auto provider = std::make_shared<TracerProvider>(std::move(o));
  otelweb::httplib::ClientOptions co;
  co.tracer_provider = provider;
  co.excluded_urls = "";
  co.capture_request_headers = std::vector<std::string>{};
  co.capture_response_headers = std::vector<std::string>{};
  otelweb::httplib::TracedClient cli("127.0.0.1", 5001, co);
  cli.set_default_headers({{"Accept", "application/json"}});
  ::httplib::Response res;
  res.status = 200;
  res.version = "HTTP/1.1";
  const std::string path = "/api/v1/users/12345/orders?page=2";
  Span parent = provider->GetTracer("bench").StartSpan("parent", SpanKind::kServer);
  Scope scope = MakeCurrent(parent);
  for (int i = 0; i < 5000; ++i) {
    otelweb::httplib::detail::ClientCall call(cli, "GET", path, nullptr);
    call.Finish(&res, ::httplib::Error::Success);
  }
  uint64_t allocs_before = otelweb_bench_allocs();
  for (auto _ : st) {
    otelweb::httplib::detail::ClientCall call(cli, "GET", path, nullptr);
    call.Finish(&res, ::httplib::Error::Success);
  }
  st.counters["allocs_per_op"] = benchmark::Counter(
      static_cast<double>(otelweb_bench_allocs() - allocs_before), benchmark::Counter::kAvgIterations);
  parent.End();
  provider->Shutdown();
}
BENCHMARK(BM_HttplibClientCall);

}  // namespace
