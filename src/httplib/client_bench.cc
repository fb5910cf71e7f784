// Cost of the cpp-httplib client instrumentation per call, without sockets:
// detail::ClientCall (lock, CLIENT span, injection into a copy of the
// client's default headers, set_default_headers swap) and Finish (restore,
// response attributes, end) around a response made in memory. What a real
// request adds on top of this is the network round trip.
#include <benchmark/benchmark.h>

#include <thread>

#include "alloc_counter.h"
#include "otelweb/httplib/server.h"
#include "otelweb/httplib/client.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "bench_common.h"
#include "loopback_server.h"

namespace {

using namespace otelweb;


void BM_HttplibClientCall(benchmark::State& st) {
  auto provider = bench::NoopBatchProvider();
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
  st.counters["allocs_per_op"] =
      benchmark::Counter(static_cast<double>(otelweb_bench_allocs() - allocs_before),
                         benchmark::Counter::kAvgIterations);
  parent.End();
  provider->Shutdown();
}
BENCHMARK(BM_HttplibClientCall);

}  // namespace

namespace {

// A round trip on loopback with keep-alive, plain httplib::Client against
// TracedClient (arg 1), to put the instrumentation next to the cheapest real
// request there is. The server is a plain httplib::Server on 127.0.0.1.
void BM_HttplibClientLoopback(benchmark::State& st) {
  const bool traced = st.range(0) != 0;
  bench::LoopbackHelloServer server;
  const int port = server.port();
  auto provider = bench::NoopBatchProvider();
  otelweb::httplib::ClientOptions co;
  co.tracer_provider = provider;
  co.excluded_urls = "";
  std::unique_ptr<::httplib::Client> plain;
  std::unique_ptr<otelweb::httplib::TracedClient> traced_cli;
  if (traced) {
    traced_cli = std::make_unique<otelweb::httplib::TracedClient>("127.0.0.1", port, co);
    traced_cli->set_keep_alive(true);
    traced_cli->set_tcp_nodelay(true);
  } else {
    plain = std::make_unique<::httplib::Client>("127.0.0.1", port);
    plain->set_keep_alive(true);
    plain->set_tcp_nodelay(true);
  }
  int failures = 0;
  for (auto _ : st) {
    auto r = traced ? traced_cli->Get("/hello") : plain->Get("/hello");
    if (!r) ++failures;
  }
  st.counters["failures"] = failures;
  traced_cli.reset();
  plain.reset();
  provider->Shutdown();
}
BENCHMARK(BM_HttplibClientLoopback)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
