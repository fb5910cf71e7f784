#include "alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
thread_local uint64_t t_allocs = 0;
std::atomic<uint64_t> g_allocs{0};
inline void Count() noexcept {
  ++t_allocs;
  g_allocs.fetch_add(1, std::memory_order_relaxed);
}
void* Alloc(std::size_t n) {
  Count();
  void* p = std::malloc(n ? n : 1);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* AllocAligned(std::size_t n, std::align_val_t al) {
  Count();
  void* p = nullptr;
  std::size_t a = static_cast<std::size_t>(al);
  if (a < sizeof(void*)) a = sizeof(void*);
  if (posix_memalign(&p, a, n ? n : 1) != 0) throw std::bad_alloc();
  return p;
}
}  // namespace

uint64_t otelweb_bench_allocs() noexcept { return t_allocs; }
uint64_t otelweb_bench_allocs_all() noexcept { return g_allocs.load(std::memory_order_relaxed); }

void* operator new(std::size_t n) { return Alloc(n); }
void* operator new[](std::size_t n) { return Alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  Count();
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  Count();
  return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t a) { return AllocAligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return AllocAligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
