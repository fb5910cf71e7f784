// Paced CPU cost: N spans per second with the ten attributes through the
// batch processor (default options, no-op exporter) for D seconds; prints the
// CPU time of the whole process (all threads) as a percentage of one core,
// and the spans exported and dropped.
//
// Usage: otelweb_paced_cpu [spans_per_second=100000] [seconds=5]
//
// A rate of 0 runs the pacing loop alone (1 000 sleeps a second, no spans):
// the harness's own share of the figure, which the contract counts too.
// The OTELWEB_AB_* variables of bench/ab_env.h pick issue 18's A/B arms
// (printed on the result line as `arms: ...`).
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "ab_env.h"
#include "bench_common.h"
#include "otelweb/otelweb.h"

using namespace otelweb;

namespace {

using bench::NoopExporter;

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Mono() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  std::thread([] {}).join();
  const long rate = argc > 1 ? std::atol(argv[1]) : 100000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
  if (rate < 0 || seconds <= 0 || seconds > 600) {
    std::fprintf(stderr, "usage: %s [spans_per_second] [seconds (<= 600)]\n", argv[0]);
    return 2;
  }
  const bench::AbArms arms = bench::ReadAbArms();
  // The contract's no-op exporter, or (OTELWEB_AB_EXPORT=read) one that reads the spans.
  std::atomic<uint64_t>* exported_count;
  std::unique_ptr<SpanExporter> exporter;
  if (arms.exporter == "read") {
    auto e = std::make_unique<bench::ReadingExporter>();
    exported_count = &e->count;
    exporter = std::move(e);
  } else {
    auto e = std::make_unique<NoopExporter>();
    exported_count = &e->count;
    exporter = std::move(e);
  }
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.resource = Resource::Create({});
  if (arms.attrs_off) o.limits.attribute_count = 0;
  BatchSpanProcessor* batch = nullptr;
  if (arms.simple_processor) {
    o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::move(exporter)));
  } else {
    auto bp = std::make_unique<BatchSpanProcessor>(std::move(exporter));
    batch = bp.get();
    o.processors.push_back(std::move(bp));
  }
  TracerProvider provider(std::move(o));
  Tracer tracer = provider.GetTracer("paced");

  // 1 ms ticks: each tick makes rate/1000 spans, then sleeps to the next tick.
  const long per_tick = rate / 1000;
  const long ticks = static_cast<long>(seconds * 1000);
  double cpu0 = CpuSeconds();
  double wall0 = Mono();
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (long t = 0; t < ticks; ++t) {
    for (long i = 0; i < per_tick; ++i) {
      Span s = tracer.StartSpan("GET /api/v1/users/{id}/orders", SpanKind::kServer);
      bench::SetTenAttributes(s);
      s.End();
    }
    next.tv_nsec += 1000000;
    if (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      ++next.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
  double wall = Mono() - wall0;
  double cpu = CpuSeconds() - cpu0;
  provider.ForceFlush();
  ProcessorCounters c = batch != nullptr ? batch->counters() : ProcessorCounters{};
  // With export off the exporter is never called: the processor's count.
  const uint64_t exported = internal::ab::Get().export_off ? c.exported : exported_count->load();
  std::printf("rate=%ld spans/s seconds=%.2f wall=%.3f s cpu=%.3f s cpu_pct_of_core=%.2f%% "
              "exported=%llu dropped=%llu arms: %s\n",
              rate, seconds, wall, cpu, 100.0 * cpu / wall, static_cast<unsigned long long>(exported),
              static_cast<unsigned long long>(c.dropped_queue_full), arms.description.c_str());
  return 0;
}
