// Per-thread state: record pools, context stack, id generator, counters.
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "core/ab_switches.h"
#include "core/internal.h"
#include "otelweb/common.h"
#include "otelweb/diagnostics.h"

namespace otelweb {

std::string_view OperationResult::ToString() const noexcept {
  switch (code_) {
    case Code::kOk: return "ok";
    case Code::kTimeout: return "timeout";
    case Code::kFailure: return "failure";
    case Code::kAlreadyShutDown: return "already shut down";
  }
  return "unknown";
}

OperationResult OperationResult::Merge(OperationResult other) const noexcept {
  auto rank = [](Code c) {
    switch (c) {
      case Code::kOk: return 0;
      case Code::kAlreadyShutDown: return 1;
      case Code::kTimeout: return 2;
      case Code::kFailure: return 3;
    }
    return 3;
  };
  return rank(other.code_) > rank(code_) ? other : *this;
}

namespace internal {

constinit thread_local ThreadState* t_state = nullptr;
std::atomic<uint64_t> g_fork_gen{0};

namespace {

// Everything below lives until the end of the process: pools and counters
// are handed from exiting threads to new ones, never freed, so a record or
// a counter pointer can never dangle.
struct Registry {
  std::mutex mu;
  std::vector<RecordPool*> free_pools;
  std::vector<ThreadCounters*> all_counters;
  std::vector<ThreadCounters*> free_counters;
  std::vector<const std::atomic<uint64_t>*> exported_shards;
};

Registry& Reg() {
  static Registry* r = new Registry;  // intentionally immortal
  return *r;
}

// In the child only this thread exists: a lock another thread held at the
// fork is constructed anew (the lists it guards are only ever appended to
// or popped under it, and those few instructions cannot leave them torn
// in a way that matters more than a lost free pool).
void OnForkChild() {
  g_fork_gen.fetch_add(1, std::memory_order_relaxed);
  new (&Reg().mu) std::mutex();
}

// Hands the calling thread's state back (pool and counters to the free lists).
void ReleaseThreadState() noexcept {
  ThreadState* s = t_state;
  if (s == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(Reg().mu);
    Reg().free_pools.push_back(s->pool);
    Reg().free_counters.push_back(s->counters);
  }
  t_state = nullptr;
  delete s;
}

// Set once t_owner's destructor ran: a thread_local destroyed after it (for
// example an instrumentation's per-thread request that ends a pending span)
// may create a new state, which t_owner can no longer hand back.
thread_local bool t_owner_gone = false;

struct ThreadStateOwner {
  bool armed = false;
  ~ThreadStateOwner() {
    ReleaseThreadState();
    t_owner_gone = true;
  }
};
thread_local ThreadStateOwner t_owner;

// Such a late state is handed back by a pthread key destructor, which glibc
// runs after the thread_local destructors.
pthread_key_t LateStateKey() {
  static pthread_key_t key = [] {
    pthread_key_t k;
    pthread_key_create(&k, [](void*) { ReleaseThreadState(); });
    return k;
  }();
  return key;
}

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void Seed(ThreadState& s) noexcept {
  uint64_t seed[4] = {0, 0, 0, 0};
  ssize_t got = getrandom(seed, sizeof(seed), GRND_NONBLOCK);
  uint64_t mix = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                 (uint64_t(getpid()) << 32) ^ reinterpret_cast<uintptr_t>(&s);
  if (got != static_cast<ssize_t>(sizeof(seed))) {
    for (auto& w : seed) w ^= SplitMix(mix);
  }
  for (int i = 0; i < 4; ++i) s.rng[i] = seed[i] ^ SplitMix(mix);
  if ((s.rng[0] | s.rng[1] | s.rng[2] | s.rng[3]) == 0) s.rng[0] = 1;
  s.rng_fork_gen = g_fork_gen.load(std::memory_order_relaxed);
}


// A T alone on its own 64-byte lines (the A/B arm "padded thread state" of
// issue 18; pools and counters are never freed, so no matching delete).
template <class T>
T* NewPadded() {
  void* p = ::operator new((sizeof(T) + 63) / 64 * 64, std::align_val_t(64));
  return new (p) T;
}

}  // namespace

ThreadState* CreateThreadState() noexcept {
  static std::once_flag fork_once;
  std::call_once(fork_once, [] { pthread_atfork(nullptr, nullptr, OnForkChild); });
  auto* s = new (std::nothrow) ThreadState;
  if (s == nullptr) std::terminate();  // out of memory before any telemetry exists
  {
    std::lock_guard<std::mutex> lock(Reg().mu);
    auto& r = Reg();
    if (!r.free_pools.empty()) {
      s->pool = r.free_pools.back();
      r.free_pools.pop_back();
    } else {
      s->pool = ab::Get().padded_thread_state ? NewPadded<RecordPool>() : new RecordPool;
    }
    if (!r.free_counters.empty()) {
      s->counters = r.free_counters.back();
      r.free_counters.pop_back();
    } else {
      s->counters = ab::Get().padded_thread_state ? NewPadded<ThreadCounters>() : new ThreadCounters;
      r.all_counters.push_back(s->counters);
    }
  }
  s->stack.reserve(16);
  s->stack.emplace_back();
  Seed(*s);
  t_state = s;
  if (t_owner_gone) {
    pthread_setspecific(LateStateKey(), s);  // the thread is exiting
  } else {
    t_owner.armed = true;  // touching it registers its destructor, which hands the state back
  }
  return s;
}

const Context& CurrentContextRef() noexcept {
  static const Context* empty = new Context();
  ThreadState* s = t_state;
  if (s == nullptr) return *empty;
  return s->stack.back().ctx;
}

void SeedThreadRng(ThreadState& s) noexcept { Seed(s); }

SpanRecord* RecordPool::AcquireSlow() noexcept {
  SpanRecord* r = returned.exchange(nullptr, std::memory_order_acquire);
  if (r == nullptr) {
    r = new (std::nothrow) SpanRecord;
    if (r == nullptr) return nullptr;
    r->pool = this;
    ++allocated;
    r->Clear();
    return r;
  }
  free_list = r->next;
  r->Clear();
  return r;
}

void RecycleRecord(SpanRecord* r) noexcept {
  r->ShrinkIfLarge();
  ThreadState* s = t_state;
  if (s != nullptr && r->pool == s->pool) {
    s->pool->ReleaseLocal(r);
  } else {
    r->pool->ReleaseRemote(r, r);
  }
}

void RegisterExportedShard(const std::atomic<uint64_t>* c) {
  std::lock_guard<std::mutex> lock(Reg().mu);
  Reg().exported_shards.push_back(c);
}

void UnregisterExportedShard(const std::atomic<uint64_t>* c) {
  std::lock_guard<std::mutex> lock(Reg().mu);
  auto& v = Reg().exported_shards;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == c) {
      Globals().exported.fetch_add(c->load(std::memory_order_relaxed), std::memory_order_relaxed);
      v.erase(v.begin() + static_cast<long>(i));
      return;
    }
  }
}

GlobalCounters& Globals() noexcept {
  static GlobalCounters* g = new GlobalCounters;
  return *g;
}

}  // namespace internal

SdkCounters GetSdkCounters() noexcept {
  SdkCounters c;
  {
    std::lock_guard<std::mutex> lock(internal::Reg().mu);
    for (auto* tc : internal::Reg().all_counters) {
      c.spans_started += tc->started.load(std::memory_order_relaxed);
      c.spans_non_recording += tc->non_recording.load(std::memory_order_relaxed);
      c.spans_ended += tc->ended.load(std::memory_order_relaxed);
    }
    for (auto* e : internal::Reg().exported_shards) c.spans_exported += e->load(std::memory_order_relaxed);
  }
  auto& g = internal::Globals();
  c.spans_dropped_queue_full = g.dropped_queue_full.load(std::memory_order_relaxed);
  c.spans_dropped_after_shutdown = g.dropped_after_shutdown.load(std::memory_order_relaxed);
  c.spans_dropped_deadline = g.dropped_deadline.load(std::memory_order_relaxed);
  c.spans_exported += g.exported.load(std::memory_order_relaxed);
  c.spans_export_failed = g.export_failed.load(std::memory_order_relaxed);
  c.export_calls_failed = g.export_calls_failed.load(std::memory_order_relaxed);
  c.span_buffer_bytes = static_cast<uint64_t>(std::max<int64_t>(0, internal::ArenaBytes().load(std::memory_order_relaxed)));
  return c;
}

}  // namespace otelweb

namespace otelweb::internal {

void UnrefRecords(SpanRecord** recs, size_t n) noexcept {
  // Chains per pool; a batch usually comes from a handful of threads.
  constexpr size_t kMaxPools = 8;
  RecordPool* pools[kMaxPools];
  SpanRecord* first[kMaxPools];
  SpanRecord* last[kMaxPools];
  size_t np = 0;
  ThreadState* me = t_state;
  // A/B arm of issue 18 (core/ab_switches.h): the worker frees the records
  // and their producers allocate new ones.
  const bool free_them = ab::Get().handback == ab::Handback::kFree;
  for (size_t i = 0; i < n; ++i) {
    SpanRecord* r = recs[i];
    if (r == nullptr) continue;
    if (!(r->refs.load(std::memory_order_acquire) == 1 ||
          r->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)) {
      continue;
    }
    if (free_them) [[unlikely]] {
      delete r;
      continue;
    }
    r->ShrinkIfLarge();
    if (me != nullptr && r->pool == me->pool) {
      me->pool->ReleaseLocal(r);
      continue;
    }
    size_t j = 0;
    while (j < np && pools[j] != r->pool) ++j;
    if (j == np) {
      if (np == kMaxPools) {
        r->pool->ReleaseRemote(r, r);
        continue;
      }
      pools[np] = r->pool;
      first[np] = last[np] = r;
      r->next = nullptr;
      ++np;
      continue;
    }
    r->next = first[j];
    first[j] = r;
  }
  for (size_t j = 0; j < np; ++j) pools[j]->ReleaseRemote(first[j], last[j]);
}

}  // namespace otelweb::internal
