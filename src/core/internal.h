// Internal machinery of the tracing core: span records and their per-thread
// pools, per-thread state (context stack, id generator, counters), and the
// provider/tracer cores. Not installed; other components use the public API.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/export_counters.h"
#include "core/copy_bytes.h"
#include "otelweb/context.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/resource.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/span_data.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::internal {

// Whether a TSC rate measured over window_ticks, between two anchors whose
// TSC readings are each uncertain by err0 and err1 ticks (half the bracket of
// TSC reads around their clock_gettime), is within 1/kRateErrorDivisor
// (0.1 %) of the true rate. A preemption between an anchor's two reads makes
// its error as long as the preemption; with the first window only 20 ms
// long, a 4 ms preemption would otherwise skew every TSC-derived timestamp
// and duration by 20 % until the next anchor. Pure; thread-safe.
inline constexpr uint64_t kRateErrorDivisor = 1000;
bool RateWindowTrustworthy(uint64_t window_ticks, uint64_t err0, uint64_t err1) noexcept;

// Span clock (clock.cc). SpanStartNs: Now() in ns since the epoch, and in
// *tsc the TSC reading it was extrapolated from (0 when it came from the
// system clock). SpanEndNs: the wall time now for a span started at
// (start_ns, start_tsc): start_ns plus the ticks since start_tsc when the TSC
// is in use and under a second passed, Now() otherwise; never before start_ns.
int64_t SpanStartNs(uint64_t* tsc) noexcept;
int64_t SpanEndNs(int64_t start_ns, uint64_t start_tsc) noexcept;

// ---------------------------------------------------------------------------
// Span records

struct SpanRecord : SpanData {
  using SpanData::arena_;
  using SpanData::attrs_;
  using SpanData::context_;
  using SpanData::dropped_attrs_;
  using SpanData::dropped_events_;
  using SpanData::dropped_links_;
  using SpanData::end_ns_;
  using SpanData::event_attrs_;
  using SpanData::events_;
  using SpanData::kind_;
  using SpanData::link_attrs_;
  using SpanData::links_;
  using SpanData::name_len_;
  using SpanData::name_off_;
  using SpanData::parent_remote_;
  using SpanData::parent_span_id_;
  using SpanData::start_ns_;
  using SpanData::status_;
  using SpanData::status_len_;
  using SpanData::status_off_;
  using SpanData::tracer_;

  RecordPool* pool = nullptr;
  SpanRecord* next = nullptr;        // free-list link
  std::atomic<uint32_t> refs{0};     // processors still holding it
  std::atomic<uint32_t> gen{1};      // bumped at End: stale handles stop writing
  const SpanLimits* limits = nullptr;
  uint64_t start_tsc = 0;  // see SpanStartNs; 0 when the start time came from elsewhere
  // One bit per span attribute key (a hash of its first 8 bytes and length):
  // a new key whose bit is clear needs no duplicate scan.
  uint64_t key_bloom = 0;

  // Frees what an oversized span grew past what a record keeps for reuse:
  // string storage over kKeptArenaBytes, an attribute list over kKeptSlots
  // entries (only with raised limits: 128 by default). So a burst of oversized
  // spans does not leave every pooled record holding its peak size for good.
  // Called when a record goes back to its pool, by the thread that releases
  // it (usually the batch worker); two compares otherwise. The event and link
  // lists are bounded by the span limits and keep their capacity.
  static constexpr uint32_t kKeptArenaBytes = 64 * 1024;
  static constexpr size_t kKeptSlots = 1024;
  void ShrinkIfLarge() noexcept {
    if (arena_.capacity() > kKeptArenaBytes) [[unlikely]] arena_.Release();
    if (attrs_.capacity() > kKeptSlots) [[unlikely]] std::vector<AttrSlot>().swap(attrs_);
  }

  // Set when an event or a link was added: most spans have neither, and
  // Clear then leaves those four lists alone.
  bool has_events_or_links = false;

  // Empties the record, keeping every buffer's capacity.
  void Clear() noexcept {
    attrs_.clear();
    if (has_events_or_links) [[unlikely]] {
      events_.clear();
      event_attrs_.clear();
      links_.clear();
      link_attrs_.clear();
      has_events_or_links = false;
    }
    arena_.clear();
    dropped_attrs_ = dropped_events_ = dropped_links_ = 0;
    status_ = StatusCode::kUnset;
    status_off_ = status_len_ = 0;
    parent_remote_ = false;
    key_bloom = 0;
  }
};

// A pool of records owned by one thread. The owner takes and returns records
// without synchronisation; other threads (the batch worker) return records
// by pushing a chain onto `returned` with one CAS. Pools are never freed: a
// thread that exits leaves its pool to the next thread that starts.
struct RecordPool {
  SpanRecord* free_list = nullptr;            // owner only
  std::atomic<SpanRecord*> returned{nullptr};  // any thread pushes
  uint64_t allocated = 0;                      // owner only

  // A record from the free list, emptied (inline: the common case);
  // AcquireSlow takes the records other threads returned, or makes one.
  SpanRecord* Acquire() noexcept {
    SpanRecord* r = free_list;
    if (r == nullptr) [[unlikely]] return AcquireSlow();
    free_list = r->next;
    r->Clear();
    return r;
  }
  SpanRecord* AcquireSlow() noexcept;
  void ReleaseLocal(SpanRecord* r) noexcept {
    r->next = free_list;
    free_list = r;
  }
  void ReleaseRemote(SpanRecord* first, SpanRecord* last) noexcept {
    SpanRecord* head = returned.load(std::memory_order_relaxed);
    do {
      last->next = head;
    } while (!returned.compare_exchange_weak(head, first, std::memory_order_release,
                                             std::memory_order_relaxed));
  }
};

// ---------------------------------------------------------------------------
// Per-thread state

struct ContextEntry {
  // Constructors, so that emplace_back builds an entry in place (one copy of
  // the context) with clang 14 too, which lacks C++20's parenthesized
  // aggregate initialization.
  ContextEntry() = default;
  ContextEntry(const Context& c, uint32_t s, bool d) : ctx(c), serial(s), detached(d) {}
  Context ctx;
  uint32_t serial = 0;
  bool detached = false;
};

// Counters kept per thread by the thread itself (single writer, relaxed
// load+store, no locked instruction); readers sum over all threads.
struct ThreadCounters {
  std::atomic<uint64_t> started{0};
  std::atomic<uint64_t> non_recording{0};
  std::atomic<uint64_t> ended{0};
  void Bump(std::atomic<uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

struct ThreadState {
  RecordPool* pool = nullptr;
  ThreadCounters* counters = nullptr;
  std::vector<ContextEntry> stack;  // stack[0] is the empty context
  uint32_t next_serial = 1;
  // xoshiro256** state for ids.
  uint64_t rng[4] = {0, 0, 0, 0};
  uint64_t rng_fork_gen = ~0ull;
};

ThreadState* CreateThreadState() noexcept;
// constinit: no dynamic initialisation, so no TLS wrapper check per access.
extern constinit thread_local ThreadState* t_state;

inline ThreadState& State() noexcept {
  ThreadState* s = t_state;
  if (__builtin_expect(s == nullptr, 0)) s = CreateThreadState();
  return *s;
}

// The calling thread's current context (a static empty one when none).
const Context& CurrentContextRef() noexcept;

// Bumped in a forked child so each thread reseeds its id generator there.
extern std::atomic<uint64_t> g_fork_gen;
void SeedThreadRng(ThreadState& s) noexcept;

// Fast random 64-bit values from the thread's xoshiro256** generator (never zero).
inline uint64_t NextRandom64(ThreadState& s) noexcept {
  if (__builtin_expect(s.rng_fork_gen != g_fork_gen.load(std::memory_order_relaxed), 0)) SeedThreadRng(s);
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  for (;;) {
    uint64_t* r = s.rng;
    const uint64_t result = rotl(r[1] * 5, 7) * 9;
    const uint64_t t = r[1] << 17;
    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    if (result != 0) return result;
  }
}
inline uint64_t NextRandom64() noexcept { return NextRandom64(State()); }

// The ids a span start draws, with the generator state loaded and stored
// once. A child takes one step (its span id, the ** output). A root takes two:
// the first gives the trace id's 128 bits, its low word (the bytes W3C's
// "random" flag speaks of) from the ** output and its high word from the ++
// output of the same state (xoshiro256++'s scrambler: a different function of
// other state words), and the second gives the span id. Steps whose **
// output is zero are skipped, so the span id and the trace id's low word are
// never zero. out: {span id} for a child, {trace hi, trace lo, span id} for a root.
inline void NextIds(ThreadState& s, uint64_t* out, bool root) noexcept {
  if (__builtin_expect(s.rng_fork_gen != g_fork_gen.load(std::memory_order_relaxed), 0)) SeedThreadRng(s);
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  uint64_t r0 = s.rng[0], r1 = s.rng[1], r2 = s.rng[2], r3 = s.rng[3];
  auto step = [&]() {
    const uint64_t t = r1 << 17;
    r2 ^= r0;
    r3 ^= r1;
    r1 ^= r2;
    r0 ^= r3;
    r2 ^= t;
    r3 = rotl(r3, 45);
  };
  if (root) {
    for (;;) {
      const uint64_t lo = rotl(r1 * 5, 7) * 9;
      const uint64_t hi = rotl(r0 + r3, 23) + r0;
      step();
      if (lo != 0) {
        out[0] = hi;
        out[1] = lo;
        break;
      }
    }
    out += 2;
  }
  for (;;) {
    const uint64_t v = rotl(r1 * 5, 7) * 9;
    step();
    if (v != 0) {
      out[0] = v;
      break;
    }
  }
  s.rng[0] = r0;
  s.rng[1] = r1;
  s.rng[2] = r2;
  s.rng[3] = r3;
}

// Returns a record to its pool, from whichever thread.
void RecycleRecord(SpanRecord* r) noexcept;
// Drops one reference; recycles on the last.
inline void UnrefRecord(SpanRecord* r) noexcept {
  if (r->refs.load(std::memory_order_acquire) == 1 ||
      r->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    RecycleRecord(r);
  }
}

// ---------------------------------------------------------------------------
// Provider and tracer cores (kept for the life of the process)

struct ProcessorList {
  std::vector<SpanProcessor*> all;
  std::vector<SpanProcessor*> on_start;
};

struct ProviderCore {
  std::atomic<bool> active{true};
  Resource resource;
  SpanLimits limits;
  std::shared_ptr<Sampler> sampler;
  Sampler::Builtin sampler_kind = Sampler::Builtin::kCustom;
  std::shared_ptr<IdGenerator> id_generator;  // null: built-in
  uint8_t random_trace_ids = TraceFlags::kRandom;  // the W3C random flag of new traces, or 0
  std::atomic<ProcessorList*> processors{nullptr};

  std::mutex mu;  // guards the members below
  std::vector<std::unique_ptr<SpanProcessor>> owned_processors;
  std::vector<std::unique_ptr<ProcessorList>> lists;  // every list ever published
  std::vector<std::unique_ptr<TracerCore>> tracers;
  bool shut_down = false;
};

struct TracerCore {
  ProviderCore* provider = nullptr;
  InstrumentationScope scope;
};

// Process-wide accounting of the span processors (added to SdkCounters): the
// mirror every span processor's ExportCounters counts into.
using GlobalCounters = ExportCounters;
GlobalCounters& Globals() noexcept;
// Counters of exported spans kept by one processor and written without locked
// instructions; GetSdkCounters adds them. Unregistering folds the value into
// Globals().exported.
void RegisterExportedShard(const std::atomic<uint64_t>* c);
void UnregisterExportedShard(const std::atomic<uint64_t>* c);

// Gives internal code access to Context's private members.
struct ContextAccess {
  static Context Make(const SpanContext& sc, SpanRecord* rec, uint32_t gen, const Context& base) {
    Context c = base;
    c.span_context_ = sc;
    c.record_ = rec;
    c.record_gen_ = gen;
    return c;
  }
  static SpanRecord* Record(const Context& c) noexcept { return c.record_; }
  static uint32_t RecordGen(const Context& c) noexcept { return c.record_gen_; }
  static SpanRef MakeRef(SpanRecord* rec, uint32_t gen, const SpanContext& sc) noexcept {
    return SpanRef(rec, gen, sc);
  }
  static SpanRecord* Record(const SpanRef& s) noexcept { return s.record_; }
  static uint32_t RecordGen(const SpanRef& s) noexcept { return s.gen_; }
};

// Stores attributes into a record under its limits (shared by spans, events
// and links).
// `owned`: an instrumentation's own attribute (instrumentation::
// SetInstrumentationAttribute): on a full list it replaces the most recent
// attribute that is not owned instead of being dropped.
void StoreAttribute(SpanRecord* r, std::vector<AttrSlot>& slots, uint32_t begin, uint32_t count_limit,
                    uint32_t* dropped, std::string_view key, const AttributeValue& value,
                    bool owned = false) noexcept;

void AddLinkTo(SpanRecord* r, const SpanContext& ctx, Attributes attrs) noexcept;

// Returns many records at once (the batch worker): one CAS per pool.
void UnrefRecords(SpanRecord** recs, size_t n) noexcept;

// Bytes of string storage held by every span record (SdkCounters::span_buffer_bytes).
std::atomic<int64_t>& ArenaBytes() noexcept;

// Cuts s to at most n bytes without splitting a UTF-8 sequence.
size_t Utf8Prefix(std::string_view s, size_t n) noexcept;
// The length in bytes of the first n code points of s (attribute value
// length limits count code points, as the specification says).
size_t Utf8PrefixCodePoints(std::string_view s, size_t n) noexcept;

// Called, with the global's mutex held, after a global provider or
// propagator was replaced (see GlobalsGeneration()).
void BumpGlobalsGeneration() noexcept;
// True when the global provider is unset (or the no-op one) because a real
// provider was removed from it, and that provider has been shut down or
// destroyed since: the signature of a dropped TracingHandle.
bool GlobalProviderDroppedAndShutDown() noexcept;
// Clears the global tracer provider only if it is still `expected` (one
// compare-and-reset under the global's lock: a handle shut down on one thread
// never removes a provider another thread installed meanwhile). True if cleared.
bool ClearGlobalTracerProviderIf(const TracerProvider* expected) noexcept;

}  // namespace otelweb::internal
