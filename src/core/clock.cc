// Now(): the wall clock for span timestamps.
//
// Reading CLOCK_REALTIME costs about 26 ns on the virtual machines we measure
// on (kvm-clock through the vDSO), against 11 ns for the time-stamp counter;
// with two reads per span that is a third of a span's cost. So when the CPU
// has an invariant TSC (constant_tsc and nonstop_tsc), Now() extrapolates the
// wall clock from the TSC: an anchor pair (wall time, TSC) plus a rate
// measured between anchors. The anchor is renewed from clock_gettime at least
// once a second, which also follows NTP adjustments and bounds any drift to
// microseconds. Until the first 20 ms have given a rate, and whenever the TSC
// is unsuitable, Now() reads clock_gettime. OTELWEB_TSC=0 turns the TSC off.
// An anchor's TSC is read on both sides of its clock_gettime (the narrowest
// of four brackets, its middle), and a rate is taken only when the window is
// a thousand times longer than the two anchors' uncertainty: a thread
// preempted between the two reads cannot skew the rate.
//
// A span's end needs no anchor: internal::SpanStartNs keeps the TSC reading
// its start time came from, and internal::SpanEndNs adds the ticks elapsed
// since, at the current rate (one TSC read, no sequence lock). Spans longer
// than the re-anchor period (1 s), or started from the system clock, read
// Now() at their end as before. A span's duration is therefore measured by
// one monotonic counter, never by two anchors.
#include <time.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "core/internal.h"
#include "otelweb/common.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#define OTELWEB_HAVE_TSC 1
#endif

namespace otelweb {

namespace {

inline int64_t SystemNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

#ifdef OTELWEB_HAVE_TSC

constexpr int64_t kCalibrateNs = 20 * 1000000;     // first rate after 20 ms
constexpr int64_t kReanchorNs = 1000 * 1000000;    // renew the anchor every second

// Anchor published with a sequence lock; fields are atomics so concurrent
// readers are well-defined.
struct Anchor {
  std::atomic<uint64_t> seq{0};
  std::atomic<int64_t> wall{0};
  std::atomic<uint64_t> tsc{0};
  std::atomic<uint64_t> mult{0};  // ns per tick in 32.32 fixed point; 0 = not calibrated
  std::atomic<uint64_t> reanchor_ticks{0};
  std::atomic<uint64_t> tsc_err{0};  // half the TSC bracket around the anchor's clock read
  std::atomic<bool> busy{false};
  std::atomic<int> mode{-1};  // -1 unknown, 0 system clock only, 1 TSC allowed
};

Anchor g_anchor;

bool TscUsable() {
  const char* env = std::getenv("OTELWEB_TSC");
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" constant_tsc") != std::string::npos && line.find(" nonstop_tsc") != std::string::npos;
    }
  }
  return false;
}

// One (wall, tsc) pair: the TSC read on both sides of clock_gettime, the
// narrowest bracket of four tries, the TSC at its middle. *err is half that
// bracket in ticks (tens of ticks normally; a preemption between the reads
// widens it to the preemption's length, and the next try is taken instead).
void ReadPair(int64_t* wall, uint64_t* tsc, uint64_t* err) noexcept {
  uint64_t best = ~uint64_t{0};
  for (int i = 0; i < 4; ++i) {
    const uint64_t t1 = __rdtsc();
    const int64_t w = SystemNs();
    const uint64_t t2 = __rdtsc();
    if (t2 < t1 || t2 - t1 >= best) continue;
    best = t2 - t1;
    *wall = w;
    *tsc = t1 + best / 2;
  }
  if (best == ~uint64_t{0}) {  // the TSC went backwards every time: an unusable pair
    *wall = SystemNs();
    *tsc = __rdtsc();
    best = ~uint64_t{0} - 1;
  }
  *err = best / 2;
}

// Takes a fresh (wall, tsc) pair; with a previous anchor old enough, also a
// new rate, measured between the two anchors. Only one thread at a time does
// it; others keep using the old one. A rate whose window is too short for its
// anchors' uncertainty (internal::RateWindowTrustworthy) is not taken: the
// new pair replaces the anchor only if it is the more certain one (the rate
// is kept), Now() reads the system clock while the anchor is stale, and the
// next call measures over a longer window or from the better anchor.
void Reanchor() noexcept {
  Anchor& a = g_anchor;
  if (a.busy.exchange(true, std::memory_order_acquire)) return;
  int64_t w = 0;
  uint64_t t = 0, err = 0;
  ReadPair(&w, &t, &err);
  const int64_t w0 = a.wall.load(std::memory_order_relaxed);
  const uint64_t t0 = a.tsc.load(std::memory_order_relaxed);
  const uint64_t err0 = a.tsc_err.load(std::memory_order_relaxed);
  uint64_t mult = a.mult.load(std::memory_order_relaxed);
  bool publish = false;
  if (t0 == 0) {
    publish = true;  // first anchor, no rate yet
  } else if (w - w0 >= kCalibrateNs && t > t0) {
    if (internal::RateWindowTrustworthy(t - t0, err0, err)) {
      unsigned __int128 m = (static_cast<unsigned __int128>(w - w0) << 32) / (t - t0);
      mult = static_cast<uint64_t>(m);
      publish = true;
    } else if (err < err0) {
      publish = true;  // a better anchor than the old one; the rate, if any, is kept
    }
  }
  if (publish) {
    a.seq.fetch_add(1, std::memory_order_acq_rel);  // odd: writing
    a.wall.store(w, std::memory_order_relaxed);
    a.tsc.store(t, std::memory_order_relaxed);
    a.mult.store(mult, std::memory_order_relaxed);
    a.tsc_err.store(err, std::memory_order_relaxed);
    if (mult != 0) {
      a.reanchor_ticks.store(static_cast<uint64_t>((static_cast<unsigned __int128>(kReanchorNs) << 32) / mult),
                             std::memory_order_relaxed);
    }
    a.seq.fetch_add(1, std::memory_order_release);  // even: done
  }
  a.busy.store(false, std::memory_order_release);
}

// The wall time extrapolated from the TSC, and the TSC reading it came from;
// false while calibrating, when the anchor is stale (or the TSC went
// backwards), or when a writer kept the anchor busy for four attempts.
inline bool TscNow(int64_t* ns, uint64_t* tsc) noexcept {
  Anchor& a = g_anchor;
  for (int attempt = 0; attempt < 4; ++attempt) {
    uint64_t s1 = a.seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    const int64_t w0 = a.wall.load(std::memory_order_relaxed);
    const uint64_t t0 = a.tsc.load(std::memory_order_relaxed);
    const uint64_t mult = a.mult.load(std::memory_order_relaxed);
    const uint64_t limit = a.reanchor_ticks.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (a.seq.load(std::memory_order_relaxed) != s1) continue;
    if (mult == 0) return false;
    const uint64_t t = __rdtsc();
    const uint64_t dt = t - t0;
    if (t < t0 || dt > limit) return false;
    *tsc = t;
    *ns = w0 + static_cast<int64_t>((static_cast<unsigned __int128>(dt) * mult) >> 32);
    return true;
  }
  return false;
}

#endif  // OTELWEB_HAVE_TSC

}  // namespace

namespace internal {

bool RateWindowTrustworthy(uint64_t window_ticks, uint64_t err0, uint64_t err1) noexcept {
  // Both errors are half brackets (< 2^63); their sum cannot overflow.
  const unsigned __int128 uncertainty = static_cast<unsigned __int128>(err0) + err1;
  return uncertainty * kRateErrorDivisor <= window_ticks;
}

int64_t SpanStartNs(uint64_t* tsc) noexcept {
#ifdef OTELWEB_HAVE_TSC
  int64_t ns;
  if (g_anchor.mode.load(std::memory_order_relaxed) == 1 && TscNow(&ns, tsc)) return ns;
#endif
  *tsc = 0;
  return Now().time_since_epoch().count();
}

int64_t SpanEndNs(int64_t start_ns, uint64_t start_tsc) noexcept {
#ifdef OTELWEB_HAVE_TSC
  if (start_tsc != 0) {
    // The rate and bound may be renewed meanwhile by another thread; either
    // value of each is a valid one, so no sequence check is needed.
    const uint64_t mult = g_anchor.mult.load(std::memory_order_relaxed);
    const uint64_t limit = g_anchor.reanchor_ticks.load(std::memory_order_relaxed);
    const uint64_t t = __rdtsc();
    const uint64_t dt = t - start_tsc;
    if (t >= start_tsc && dt <= limit) {
      return start_ns + static_cast<int64_t>((static_cast<unsigned __int128>(dt) * mult) >> 32);
    }
  }
#else
  (void)start_tsc;
#endif
  const int64_t ns = Now().time_since_epoch().count();
  return ns < start_ns ? start_ns : ns;
}

}  // namespace internal

Timestamp Now() noexcept {
#ifdef OTELWEB_HAVE_TSC
  Anchor& a = g_anchor;
  int mode = a.mode.load(std::memory_order_relaxed);
  if (__builtin_expect(mode < 0, 0)) {
    mode = TscUsable() ? 1 : 0;
    a.mode.store(mode, std::memory_order_relaxed);
  }
  if (mode == 1) {
    int64_t tsc_ns;
    uint64_t tsc;
    if (TscNow(&tsc_ns, &tsc)) return Timestamp(std::chrono::nanoseconds(tsc_ns));
    // Still calibrating, a stale anchor or the TSC went backwards: renew below.
    const int64_t ns = SystemNs();
    const int64_t w0 = a.wall.load(std::memory_order_relaxed);
    if (w0 == 0 || ns - w0 >= kCalibrateNs) Reanchor();
    return Timestamp(std::chrono::nanoseconds(ns));
  }
#endif
  return Timestamp(std::chrono::nanoseconds(SystemNs()));
}

}  // namespace otelweb
