// Counts heap allocations made by the calling thread (a replaced global
// operator new), for the allocs_per_op benchmark counter.
#pragma once
#include <cstdint>

// Allocations made so far by the calling thread.
uint64_t otelweb_bench_allocs() noexcept;
// Allocations made so far by the whole process (every thread).
uint64_t otelweb_bench_allocs_all() noexcept;
