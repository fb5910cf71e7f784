// otelweb_metrics_soak: RSS under attribute churn with delta temporality
// (issue 13, "RSS bounded under attribute churn"; docs/performance.md).
//
// Records 1 M distinct attribute sets (a counter and an explicit-bucket
// histogram, each set used once: `session.id` = its number) at a paced rate
// into a provider whose only reader is a delta ManualReader collecting every
// interval, as a periodic exporter would. Series that stop reporting are
// forgotten, so memory must stay flat once the first grace periods have
// passed. Prints the RSS about once a second and a final verdict line:
//   verdict: PASS|FAIL rss_first_half_max_kb=.. rss_second_half_max_kb=.. ...
// PASS: the highest RSS of the second half is at most 10 % (+ 2 MB) above
// the highest of the first half (after one second of warm-up), and the
// delta counter points add up to exactly the number of recordings.
//
// Usage: otelweb_metrics_soak [--sets N] [--rate SETS_PER_S] [--interval-ms MS]
// Defaults: 1000000 sets, 50000 sets/s, 40 ms (2000 new sets per interval:
// the default cardinality limit, so every set is admitted). Bounded: the
// loop ends after N sets. Exit status 0 on PASS, 1 on FAIL, 2 on bad usage.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/metrics/meter_provider.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;
using Clock = std::chrono::steady_clock;

// Resident set size in KiB (/proc/self/statm, second field, in pages).
long RssKb() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long size = 0, resident = 0;
  int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (got != 2) return -1;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

bool ParseLong(const char* s, long* out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long sets = 1'000'000, rate = 50'000, interval_ms = 40;
  for (int i = 1; i < argc; ++i) {
    long* target = nullptr;
    if (std::strcmp(argv[i], "--sets") == 0) target = &sets;
    if (std::strcmp(argv[i], "--rate") == 0) target = &rate;
    if (std::strcmp(argv[i], "--interval-ms") == 0) target = &interval_ms;
    if (target == nullptr || i + 1 >= argc || !ParseLong(argv[i + 1], target)) {
      std::fprintf(stderr,
                   "usage: %s [--sets N] [--rate SETS_PER_S] [--interval-ms MS] "
                   "(positive integers; see the comment at the top of bench/metrics_soak.cc)\n",
                   argv[0]);
      return 2;
    }
    ++i;
  }

  auto reader = std::make_shared<ManualReader>(TemporalityPreference::kDelta);
  MeterProviderOptions o;
  o.resource = Resource();
  o.readers.push_back(reader);
  MeterProvider provider(std::move(o));
  Meter meter = provider.GetMeter("soak");
  auto counter = meter.CreateInt64Counter("soak.requests");
  InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(kHttpDurationBuckets),
                                        std::end(kHttpDurationBuckets));
  auto histogram = meter.CreateDoubleHistogram("soak.duration", "s", "", adv);

  // A worker thread exists, as in a server (and as the contract asks).
  std::thread idle([] {});
  idle.join();

  struct Sample {
    double t;
    long rss_kb;
  };
  std::vector<Sample> samples;
  int64_t reported = 0, points = 0, overflow_points = 0, collections = 0;
  // One ResourceMetrics for every collection, as the periodic reader keeps
  // one (each collection reuses the previous one's point storage).
  ResourceMetrics rm;
  auto collect = [&] {
    reader->Collect(&rm);
    ++collections;
    if (const MetricData* m = rm.Find("soak.requests")) {
      for (const auto& p : m->number_points) {
        reported += p.as_int;
        ++points;
        for (const auto& kv : p.attributes)
          if (kv.key == "otel.metric.overflow") ++overflow_points;
      }
    }
  };

  const auto start = Clock::now();
  const auto interval = std::chrono::milliseconds(interval_ms);
  auto next_collect = start + interval;
  auto next_sample = start;
  const long chunk = std::max(1L, rate / 1000);  // sets per millisecond
  std::printf("otelweb_metrics_soak: %ld sets at %ld/s, delta reader collecting every %ld ms\n",
              sets, rate, interval_ms);
  std::printf("%8s %10s %12s\n", "t_s", "sets", "rss_kb");
  for (long done = 0; done < sets;) {
    long end = std::min(sets, done + chunk);
    for (; done < end; ++done) {
      KeyValue kv[] = {{"session.id", static_cast<int64_t>(done)}, {"http.route", "/soak"}};
      counter.Add(1, kv);
      histogram.Record(0.001 * static_cast<double>(done % 997), kv);
    }
    auto now = Clock::now();
    if (now >= next_collect) {
      collect();
      next_collect += interval;
      if (next_collect < now) next_collect = now + interval;
    }
    if (now >= next_sample) {
      double t = std::chrono::duration<double>(now - start).count();
      samples.push_back({t, RssKb()});
      std::printf("%8.1f %10ld %12ld\n", t, done, samples.back().rss_kb);
      std::fflush(stdout);
      next_sample += std::chrono::seconds(1);
    }
    // Pace: `done` sets should take done / rate seconds.
    auto due = start + std::chrono::microseconds(done * 1'000'000 / rate);
    if (due > Clock::now()) std::this_thread::sleep_until(due);
  }
  // Two more intervals and the grace period: everything recorded is reported.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    collect();
  }
  double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  samples.push_back({total_s, RssKb()});
  std::printf("%8.1f %10ld %12ld\n", total_s, sets, samples.back().rss_kb);

  long first = 0, second = 0;
  const double half = samples.back().t / 2;
  for (const Sample& s : samples) {
    if (s.t < 1.0) continue;  // warm-up: the first grace period
    long& m = s.t < half ? first : second;
    m = std::max(m, s.rss_kb);
  }
  const bool flat = first > 0 && second <= first + first / 10 + 2048;
  const bool exact = reported == sets;
  std::printf(
      "verdict: %s rss_first_half_max_kb=%ld rss_second_half_max_kb=%ld recorded=%ld "
      "reported=%lld points=%lld overflow_points=%lld collections=%lld seconds=%.1f\n",
      flat && exact ? "PASS" : "FAIL", first, second, sets, static_cast<long long>(reported),
      static_cast<long long>(points), static_cast<long long>(overflow_points),
      static_cast<long long>(collections), total_s);
  if (!flat) std::printf("RSS grew: series that stopped reporting are not being forgotten\n");
  if (!exact) std::printf("the delta points do not add up to the recordings\n");
  return flat && exact ? 0 : 1;
}
