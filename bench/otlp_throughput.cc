// End-to-end OTLP export throughput: spans with the ten attributes of
// shared/BENCHMARKS.md go through the batch span processor and
// OtlpSpanExporter to the test receiver on 127.0.0.1 (same process), for a
// fixed time; the figure is spans per second confirmed by the receiver.
//
// Usage: otelweb_otlp_throughput [grpc|http/protobuf|http/json] [seconds=5] [gzip 0|1]
// Prints one line: protocol, spans/s exported, spans dropped by the full
// queue, requests, and the process CPU time per exported span.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "bench_common.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/otelweb.h"
#include "receiver.h"

using namespace otelweb;
using Clock = std::chrono::steady_clock;

static double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char** argv) {
  std::string proto = argc > 1 ? argv[1] : "grpc";
  double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
  bool gzip = argc > 3 && std::strcmp(argv[3], "1") == 0;

  otlp::testing::ReceiverOptions ro;
  ro.keep_requests = false;
  otlp::testing::Receiver rx(ro);

  otlp::OtlpExporterOptions eo;
  eo.read_environment = false;
  eo.protocol = proto == "grpc"        ? otlp::Protocol::kGrpc
                : proto == "http/json" ? otlp::Protocol::kHttpJson
                                       : otlp::Protocol::kHttpProtobuf;
  eo.endpoint = eo.protocol == otlp::Protocol::kGrpc ? rx.grpc_endpoint() : rx.http_url();
  eo.compression = gzip ? otlp::Compression::kGzip : otlp::Compression::kNone;
  auto exporter = std::make_unique<otlp::OtlpSpanExporter>(eo);
  otlp::OtlpSpanExporter* ex = exporter.get();

  TracerProviderOptions po;
  po.sampler = AlwaysOnSampler();
  po.resource = Resource::Create({});
  BatchOptions bo;
  bo.max_queue_size = 8192;
  bo.max_export_batch_size = 512;
  bo.schedule_delay = std::chrono::milliseconds(5);
  auto bsp = std::make_unique<BatchSpanProcessor>(std::move(exporter), bo);
  BatchSpanProcessor* b = bsp.get();
  po.processors.push_back(std::move(bsp));
  TracerProvider provider(std::move(po));
  Tracer tracer = provider.GetTracer("throughput", "1.0");

  double cpu0 = CpuSeconds();
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  uint64_t started = 0, dropped_seen = 0;
  while (Clock::now() < end) {
    for (int i = 0; i < 256; ++i) {
      Span s = tracer.StartSpan("GET /api/v1/users/{id}/orders", SpanKind::kServer);
      bench::SetTenAttributes(s);
      ++started;
    }
    // Leave the exporter room: a producer that only fills a full queue
    // measures dropping, not exporting.
    uint64_t d = b->counters().dropped_queue_full;
    if (d != dropped_seen) {
      dropped_seen = d;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
  uint64_t at_end = rx.spans();
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = CpuSeconds() - cpu0;
  provider.Shutdown(std::chrono::seconds(10));
  auto c = ex->counters();
  auto pc = b->counters();
  std::printf(
      "%s%s: %.0f spans/s exported (%llu spans in %.2f s), %llu dropped (queue full), %llu "
      "requests, "
      "%.2f us CPU per exported span (all threads, receiver included)\n",
      proto.c_str(), gzip ? "+gzip" : "", double(at_end) / elapsed, (unsigned long long)at_end,
      elapsed, (unsigned long long)pc.dropped_queue_full, (unsigned long long)c.requests,
      at_end ? cpu * 1e6 / double(at_end) : 0.0);
  (void)started;
  return 0;
}
