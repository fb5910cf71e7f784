// Fixed iteration counts for instruction counting (scripts/bench --instructions).
//
// Google Benchmark 1.7.1 (Debian bookworm) has no command-line flag for a fixed
// number of iterations. A case registered with OTELWEB_BENCHMARK(fn) runs
// exactly N iterations (and once) when the environment variable
// OTELWEB_BENCH_ITERATIONS=N is set, and is timed as usual otherwise.
// scripts/bench --instructions runs each case twice under callgrind, with N1
// and N2 iterations, and reports (Ir(N2) - Ir(N1)) / (N2 - N1): set-up and
// warm-up cancel out.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>

namespace otelweb::bench {

inline void FixedIterationsFromEnv(benchmark::internal::Benchmark* b) {
  const char* v = std::getenv("OTELWEB_BENCH_ITERATIONS");
  if (v == nullptr || *v == '\0') return;
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || n <= 0) return;
  b->Iterations(static_cast<benchmark::IterationCount>(n))->Repetitions(1);
}

}  // namespace otelweb::bench

// BENCHMARK(fn) that honours OTELWEB_BENCH_ITERATIONS.
#define OTELWEB_BENCHMARK(fn) BENCHMARK(fn)->Apply(::otelweb::bench::FixedIterationsFromEnv)
