// Private: the base-2 exponential bucket histogram aggregation (OpenTelemetry
// metrics SDK spec, "Base2 Exponential Bucket Histogram Aggregation"; data
// model "ExponentialHistogram"). See docs/metrics.md, "Exponential
// histograms".
//
// A state is a fixed array of 8-byte words (no allocation while recording):
//   [kLock] spin lock of a recording stripe (unused in snapshots)
//   [kCount] [kZero] counts; [kSum] [kMin] [kMax] double bits
//   [kScale] int64; [kPosLo] [kPosHi] [kNegLo] [kNegHi] the occupied index
//   ranges (int64; lo > hi: empty)
//   [kHeader, kHeader + M) positive bucket counts, then M negative ones,
//   each a ring: index i lives at i mod M (M = max_size), so a range of at
//   most M indices never collides and extending it downwards moves nothing.
// Bucket i at scale s holds the values v with base^i < |v| <= base^(i+1),
// base = 2^(2^-s). When a value's index would make a range wider than M, the
// scale drops by the smallest amount that fits (both ranges, as OTLP has one
// scale per point): bucket i becomes i >> c, so counts merge exactly.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace otelweb::metrics::internal::exph {

inline constexpr int kDefaultMaxScale = 20;
inline constexpr size_t kDefaultMaxSize = 160;
inline constexpr int kMinScale = -10;         // a view's max_scale: [-10, 20]
inline constexpr size_t kMaxMaxSize = 1024;   // a view's max_size: [2, 1024]

enum : size_t {
  kLock = 0,
  kCount,
  kZero,
  kSum,
  kMin,
  kMax,
  kScale,
  kPosLo,
  kPosHi,
  kNegLo,
  kNegHi,
  kHeader = 16
};

inline size_t Words(size_t max_size) noexcept { return kHeader + 2 * max_size; }

// The index of the bucket holding |v| (v finite, non-zero) at `scale`:
// exact for powers of two at every scale (2^k is the upper boundary of
// bucket (k << scale) - 1); other boundaries use log2 of the significand and
// may be off by one for values within rounding of a boundary, as the spec
// permits.
inline int32_t MapToIndex(double v, int scale) noexcept {
  int e = 0;
  double m = std::frexp(std::fabs(v), &e);  // |v| = m * 2^e, m in [0.5, 1)
  const int64_t exp = e - 1;                // |v| = (2m) * 2^exp, subnormals too
  const bool power_of_two = m == 0.5;
  if (scale <= 0) return static_cast<int32_t>((power_of_two ? exp - 1 : exp) >> -scale);
  if (power_of_two) return static_cast<int32_t>((exp << scale) - 1);
  const int64_t n = int64_t{1} << scale;
  auto sub = static_cast<int64_t>(std::floor(std::log2(2 * m) * static_cast<double>(n)));
  sub = std::clamp<int64_t>(sub, 0, n - 1);
  return static_cast<int32_t>((exp << scale) + sub);
}

// The lower boundary base^index of bucket `index` at `scale` (for display
// and conversions).
inline double LowerBoundary(int64_t index, int scale) noexcept {
  if (scale <= 0) return std::ldexp(1.0, static_cast<int>(index << -scale));
  return std::exp2(static_cast<double>(index) / static_cast<double>(int64_t{1} << scale));
}

// Word access through atomics (a recording stripe, under its lock) or plain
// memory (a snapshot).
struct AtomicWords {
  std::atomic<uint64_t>* w;
  uint64_t Get(size_t i) const noexcept { return w[i].load(std::memory_order_relaxed); }
  void Set(size_t i, uint64_t v) const noexcept { w[i].store(v, std::memory_order_relaxed); }
};
struct PlainWords {
  uint64_t* w;
  uint64_t Get(size_t i) const noexcept { return w[i]; }
  void Set(size_t i, uint64_t v) const noexcept { w[i] = v; }
};

inline size_t Ring(int64_t index, size_t m) noexcept {
  int64_t r = index % static_cast<int64_t>(m);
  return static_cast<size_t>(r < 0 ? r + static_cast<int64_t>(m) : r);
}

template <class W>
inline int64_t GetI(W w, size_t i) noexcept {
  return static_cast<int64_t>(w.Get(i));
}
template <class W>
inline void SetI(W w, size_t i, int64_t v) noexcept {
  w.Set(i, static_cast<uint64_t>(v));
}
template <class W>
inline double GetD(W w, size_t i) noexcept {
  return std::bit_cast<double>(w.Get(i));
}
template <class W>
inline void SetD(W w, size_t i, double v) noexcept {
  w.Set(i, std::bit_cast<uint64_t>(v));
}

// An empty state at `max_scale` (the lock word is left alone).
template <class W>
inline void Init(W w, int max_scale, size_t m) noexcept {
  for (size_t i = 1; i < Words(m); ++i) w.Set(i, 0);
  SetD(w, kMin, std::numeric_limits<double>::infinity());
  SetD(w, kMax, -std::numeric_limits<double>::infinity());
  SetI(w, kScale, max_scale);
  SetI(w, kPosLo, 0);
  SetI(w, kPosHi, -1);
  SetI(w, kNegLo, 0);
  SetI(w, kNegHi, -1);
}

// The smallest c >= 0 such that [lo >> c, hi >> c] has at most m indices.
inline int ChangeToFit(int64_t lo, int64_t hi, size_t m) noexcept {
  int c = 0;
  while ((hi >> c) - (lo >> c) + 1 > static_cast<int64_t>(m)) ++c;
  return c;
}

// Merges one range's buckets i into i >> c.
template <class W>
inline void DownscaleRange(W w, size_t lo_word, size_t base, int c, size_t m) noexcept {
  const int64_t lo = GetI(w, lo_word), hi = GetI(w, lo_word + 1);
  if (lo > hi || c == 0) return;
  std::array<uint64_t, kMaxMaxSize> tmp;
  const size_t n = static_cast<size_t>(hi - lo + 1);
  for (size_t k = 0; k < n; ++k) {
    size_t at = base + Ring(lo + static_cast<int64_t>(k), m);
    tmp[k] = w.Get(at);
    w.Set(at, 0);
  }
  for (size_t k = 0; k < n; ++k) {
    size_t at = base + Ring((lo + static_cast<int64_t>(k)) >> c, m);
    w.Set(at, w.Get(at) + tmp[k]);
  }
  SetI(w, lo_word, lo >> c);
  SetI(w, lo_word + 1, hi >> c);
}

template <class W>
inline void Downscale(W w, int c, size_t m) noexcept {
  if (c <= 0) return;
  DownscaleRange(w, kPosLo, kHeader, c, m);
  DownscaleRange(w, kNegLo, kHeader + m, c, m);
  SetI(w, kScale, GetI(w, kScale) - c);
}

// Adds `count` to bucket `index` (at the state's scale) of one range,
// downscaling first when the range would not fit.
template <class W>
inline void AddToRange(W w, bool negative, int64_t index, uint64_t count, size_t m) noexcept {
  const size_t lo_word = negative ? kNegLo : kPosLo;
  int64_t lo = GetI(w, lo_word), hi = GetI(w, lo_word + 1);
  if (lo > hi) {
    lo = hi = index;
  } else {
    lo = std::min(lo, index);
    hi = std::max(hi, index);
    if (int c = ChangeToFit(lo, hi, m); c > 0) {
      Downscale(w, c, m);
      index >>= c;
      lo = std::min(GetI(w, lo_word), index);
      hi = std::max(GetI(w, lo_word + 1), index);
    }
  }
  SetI(w, lo_word, lo);
  SetI(w, lo_word + 1, hi);
  const size_t at = (negative ? kHeader + m : kHeader) + Ring(index, m);
  w.Set(at, w.Get(at) + count);
}

// Records one finite value.
template <class W>
inline void Record(W w, double v, size_t m) noexcept {
  w.Set(kCount, w.Get(kCount) + 1);
  SetD(w, kSum, GetD(w, kSum) + v);
  if (v < GetD(w, kMin)) SetD(w, kMin, v);
  if (v > GetD(w, kMax)) SetD(w, kMax, v);
  if (v == 0) {
    w.Set(kZero, w.Get(kZero) + 1);
    return;
  }
  AddToRange(w, v < 0, MapToIndex(v, static_cast<int>(GetI(w, kScale))), 1, m);
}

// dst += src (both plain snapshots of the same max size).
inline void Merge(uint64_t* dst, const uint64_t* src, size_t m) noexcept {
  PlainWords d{dst};
  if (src[kCount] == 0) return;
  d.Set(kCount, dst[kCount] + src[kCount]);
  d.Set(kZero, dst[kZero] + src[kZero]);
  SetD(d, kSum, std::bit_cast<double>(dst[kSum]) + std::bit_cast<double>(src[kSum]));
  SetD(d, kMin, std::min(std::bit_cast<double>(dst[kMin]), std::bit_cast<double>(src[kMin])));
  SetD(d, kMax, std::max(std::bit_cast<double>(dst[kMax]), std::bit_cast<double>(src[kMax])));
  const int64_t ds = static_cast<int64_t>(dst[kScale]), ss = static_cast<int64_t>(src[kScale]);
  // The common scale, then lower still if the union of the ranges does not fit.
  int64_t target = std::min(ds, ss);
  for (size_t lo_word : {size_t{kPosLo}, size_t{kNegLo}}) {
    const int64_t dl = static_cast<int64_t>(dst[lo_word]), dh = static_cast<int64_t>(dst[lo_word + 1]);
    const int64_t sl = static_cast<int64_t>(src[lo_word]), sh = static_cast<int64_t>(src[lo_word + 1]);
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    if (dl <= dh) lo = std::min(lo, dl >> (ds - target)), hi = std::max(hi, dh >> (ds - target));
    if (sl <= sh) lo = std::min(lo, sl >> (ss - target)), hi = std::max(hi, sh >> (ss - target));
    if (lo <= hi) target -= ChangeToFit(lo, hi, m);
  }
  Downscale(d, static_cast<int>(ds - target), m);
  const int shift = static_cast<int>(ss - target);
  for (bool negative : {false, true}) {
    const size_t lo_word = negative ? kNegLo : kPosLo;
    const size_t base = negative ? kHeader + m : kHeader;
    const int64_t sl = static_cast<int64_t>(src[lo_word]), sh = static_cast<int64_t>(src[lo_word + 1]);
    for (int64_t i = sl; i <= sh; ++i) {
      uint64_t c = src[base + Ring(i, m)];
      if (c != 0) AddToRange(d, negative, i >> shift, c, m);
    }
  }
}

// cur -= prev, where prev is an earlier snapshot of the same cumulative
// state (so prev's scale >= cur's and every bucket of prev, brought to
// cur's scale, is at most cur's). `prev` is modified (downscaled).
inline void Subtract(uint64_t* cur, uint64_t* prev, size_t m) noexcept {
  PlainWords c{cur}, p{prev};
  if (prev[kCount] == 0) return;
  Downscale(p, static_cast<int>(GetI(p, kScale) - GetI(c, kScale)), m);
  c.Set(kCount, cur[kCount] - prev[kCount]);
  c.Set(kZero, cur[kZero] - prev[kZero]);
  SetD(c, kSum, GetD(c, kSum) - GetD(p, kSum));
  for (bool negative : {false, true}) {
    const size_t lo_word = negative ? kNegLo : kPosLo;
    const size_t base = negative ? kHeader + m : kHeader;
    for (int64_t i = GetI(p, lo_word); i <= GetI(p, lo_word + 1); ++i)
      cur[base + Ring(i, m)] -= prev[base + Ring(i, m)];
  }
}

}  // namespace otelweb::metrics::internal::exph
