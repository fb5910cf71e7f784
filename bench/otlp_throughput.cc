// OTLP export throughput and export cost: spans with the ten attributes of
// shared/BENCHMARKS.md go through the batch span processor and
// OtlpSpanExporter to the test receiver on 127.0.0.1, for a fixed time.
//
// Usage: otelweb_otlp_throughput [grpc|http/protobuf|http/json] [seconds=5] [gzip 0|1]
//                                [receiver process|same|at=ENDPOINT] [spans_per_second=0]
//        otelweb_otlp_throughput serve grpc|http
//
// receiver "process" (the default) runs the receiver in a forked child, so
// this process's CPU is the producer plus the export path (batch worker,
// encoding, transport threads); "same" runs it in this process, as the
// earlier figures did; "at=ENDPOINT" sends to a receiver started apart, e.g.
// by `otelweb_otlp_throughput serve grpc`, which prints its endpoint and
// serves until its standard input closes (for profiling the sender under
// valgrind, whose fork()ed children would run under valgrind too).
// spans_per_second 0 produces as fast as the exporter
// takes spans (the producer backs off when the queue overflows); N > 0 paces
// the producer at N spans a second in 1 ms ticks.
//
// Prints one line: protocol, spans/s exported, spans dropped by the full
// queue, requests, the process CPU per exported span, and the export cost:
// the process CPU minus the producer thread's own CPU
// (CLOCK_THREAD_CPUTIME_ID), per exported span. With the receiver in the
// same process that figure includes the receiver's decoding.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "bench_common.h"
#include "otelweb/otelweb.h"
#include "otelweb/otlp/exporter.h"
#include "receiver.h"
#include "receiver_process.h"

using namespace otelweb;
using Clock = std::chrono::steady_clock;

static double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// System (kernel) CPU seconds of the process and of the calling thread.
static double SystemSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return double(u.ru_stime.tv_sec) + double(u.ru_stime.tv_usec) / 1e6;
}

static double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "serve") == 0) {
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    return bench::ServeReceiver(std::strcmp(argv[2], "grpc") == 0 ? "grpc" : "http", 1, 0) ? 0 : 1;
  }
  const std::string proto = argc > 1 ? argv[1] : "grpc";
  const double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
  const bool gzip = argc > 3 && std::strcmp(argv[3], "1") == 0;
  const std::string where = argc > 4 ? argv[4] : "process";
  const long rate = argc > 5 ? std::atol(argv[5]) : 0;
  if ((proto != "grpc" && proto != "http/protobuf" && proto != "http/json") || seconds <= 0 || seconds > 600 ||
      (where != "process" && where != "same" && where.rfind("at=", 0) != 0) || rate < 0) {
    std::fprintf(stderr,
                 "usage: %s [grpc|http/protobuf|http/json] [seconds (0 < s <= 600)] [gzip 0|1] "
                 "[receiver process|same|at=ENDPOINT] [spans_per_second (0 = as fast as exported)]\n",
                 argv[0]);
    return 2;
  }
  const bool grpc = proto == "grpc";

  // The child is forked first, while this process has no threads.
  std::unique_ptr<otlp::testing::Receiver> rx;
  std::string endpoint;
  if (where == "process") {
    endpoint = bench::StartReceiverProcess(grpc ? "grpc" : "http");
    if (endpoint.empty()) {
      std::fprintf(stderr, "could not fork the receiver process (pipe or fork failed); try receiver 'same'\n");
      return 1;
    }
  } else if (where.rfind("at=", 0) == 0) {
    endpoint = where.substr(3);
  } else {
    otlp::testing::ReceiverOptions ro;
    ro.keep_requests = false;
    rx = std::make_unique<otlp::testing::Receiver>(ro);
    endpoint = grpc ? rx->grpc_endpoint() : rx->http_url();
  }
  std::thread([] {}).join();

  otlp::OtlpExporterOptions eo;
  eo.read_environment = false;
  eo.protocol = grpc                  ? otlp::Protocol::kGrpc
                : proto == "http/json" ? otlp::Protocol::kHttpJson
                                       : otlp::Protocol::kHttpProtobuf;
  eo.endpoint = endpoint;
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

  const double cpu0 = CpuSeconds();
  const double producer0 = ThreadCpuSeconds();
  const double sys0 = SystemSeconds(RUSAGE_SELF), producer_sys0 = SystemSeconds(RUSAGE_THREAD);
  const uint64_t exported0 = ex->counters().spans_exported;
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  uint64_t dropped_seen = 0;
  auto tick = t0;
  while (Clock::now() < end) {
    const long n = rate > 0 ? std::max(1L, rate / 1000) : 256;
    for (long i = 0; i < n; ++i) {
      Span s = tracer.StartSpan("GET /api/v1/users/{id}/orders", SpanKind::kServer);
      bench::SetTenAttributes(s);
    }
    if (rate > 0) {
      tick += std::chrono::milliseconds(1);
      std::this_thread::sleep_until(tick);
      continue;
    }
    // Leave the exporter room: a producer that only fills a full queue
    // measures dropping, not exporting.
    const uint64_t d = b->counters().dropped_queue_full;
    if (d != dropped_seen) {
      dropped_seen = d;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
  const double producer = ThreadCpuSeconds() - producer0;
  const double producer_sys = SystemSeconds(RUSAGE_THREAD) - producer_sys0;
  const double sys = SystemSeconds(RUSAGE_SELF) - sys0;
  // What the exporter confirmed by now; the CPU spent so far exported it.
  const uint64_t exported = ex->counters().spans_exported - exported0;
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  (void)provider.Shutdown(std::chrono::seconds(10));
  const auto c = ex->counters();
  const auto pc = b->counters();
  std::printf(
      "%s%s (receiver %s, %s): %.0f spans/s exported (%llu spans in %.2f s), %llu dropped (queue full), "
      "%llu requests, %.2f us process CPU per exported span, export cost %.3f us CPU per exported span "
      "(process minus producer thread%s; of which kernel %.3f us)\n",
      proto.c_str(), gzip ? "+gzip" : "", where == "same" ? "in this process" : "in another process",
      rate > 0 ? ("paced at " + std::to_string(rate) + " spans/s").c_str() : "unpaced",
      double(exported) / elapsed, (unsigned long long)exported, elapsed, (unsigned long long)pc.dropped_queue_full,
      (unsigned long long)c.requests, exported ? cpu * 1e6 / double(exported) : 0.0,
      exported ? (cpu - producer) * 1e6 / double(exported) : 0.0,
      where == "same" ? ", receiver included" : "",
      exported ? (sys - producer_sys) * 1e6 / double(exported) : 0.0);
  return 0;
}
