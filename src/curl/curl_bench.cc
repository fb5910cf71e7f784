// A libcurl GET on loopback with a reused handle (keep-alive), plain
// curl_easy_perform against otelweb::curl::Easy::perform (arg 1), to put the
// instrumentation next to the cheapest real request there is. The server is a
// plain httplib::Server on 127.0.0.1 (otelweb_bench links otelweb_httplib).
#include <benchmark/benchmark.h>

#if __has_include(<httplib.h>)
#include <httplib.h>

#include <thread>

#include "otelweb/curl/curl.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "bench_common.h"
#include "loopback_server.h"

namespace {

using namespace otelweb;


size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

void BM_CurlEasyLoopback(benchmark::State& st) {
  const bool traced = st.range(0) != 0;
  bench::LoopbackHelloServer server;
  const int port = server.port();
  auto provider = bench::NoopBatchProvider();
  curl::Options co;
  co.tracer_provider = provider;
  co.excluded_urls = "";
  curl::Instrument(co);
  if (!traced) curl::Uninstrument();
  curl::Easy e;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hello";
  e.setopt(CURLOPT_URL, url);
  e.setopt(CURLOPT_TIMEOUT_MS, 5000L);
  e.setopt(CURLOPT_NOSIGNAL, 1L);
  e.setopt(CURLOPT_TCP_NODELAY, 1L);
  e.setopt(CURLOPT_WRITEFUNCTION, &Discard);
  int failures = 0;
  for (auto _ : st) {
    if (e.perform() != CURLE_OK) ++failures;
  }
  st.counters["failures"] = failures;
  curl::Instrument();
  provider->Shutdown();
}
BENCHMARK(BM_CurlEasyLoopback)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace

#endif  // __has_include(<httplib.h>)
