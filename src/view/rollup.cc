// Metric rollups of otelweb-view (see rollup.h).
#include "view/rollup.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

namespace otelweb::view {

namespace pb = ::opentelemetry::proto::metrics::v1;

namespace {

constexpr int64_t kSecond = 1000000000;
constexpr size_t kMaxExemplarsPerSeries = 2000;

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  Stmt& Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& Blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), int(v.size()), SQLITE_STATIC);
    return *this;
  }
  bool Step() { return s_ && sqlite3_step(s_) == SQLITE_ROW; }
  // Steps once; false on an error (not for a row or done).
  bool Run() {
    int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
  }
  void Reset() { sqlite3_reset(s_); }
  int64_t Col(int i) { return sqlite3_column_int64(s_, i); }
  bool IsNull(int i) { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  std::string Bytes(int i) {
    const void* p = sqlite3_column_blob(s_, i);
    return p ? std::string(static_cast<const char*>(p), size_t(sqlite3_column_bytes(s_, i)))
             : std::string();
  }
  const char* Data(int i, size_t* n) {
    const void* p = sqlite3_column_blob(s_, i);
    *n = p ? size_t(sqlite3_column_bytes(s_, i)) : 0;
    return static_cast<const char*>(p);
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// The attributes of a point as the wire bytes of a NumberDataPoint's
// attributes field (7): a series key, and parseable back.
template <typename Attrs>
std::string AttrsKey(const Attrs& attrs) {
  std::string out;
  for (const auto& kv : attrs) {
    out.push_back(char((7 << 3) | 2));
    size_t n = kv.ByteSizeLong();
    while (n >= 0x80) {
      out.push_back(char(n | 0x80));
      n >>= 7;
    }
    out.push_back(char(n));
    kv.AppendToString(&out);
  }
  return out;
}

// The folded points of one interval of one series.
struct Cell {
  int64_t last_time = std::numeric_limits<int64_t>::min();
  double last = 0, delta = 0, count = 0, sum = 0;
  // Histogram bucket counts; for an exponential histogram, buckets[0] is the
  // bucket of canonical index `first` (see kExpScale) and `low` counts the
  // zero and negative observations.
  std::vector<double> buckets;
  int32_t first = 0;
  double low = 0;
  std::vector<std::pair<double, std::string>> exemplars;  // value, Exemplar bytes

  void AddExemplar(double value, std::string bytes, size_t cap) {
    for (const auto& e : exemplars)
      if (e.second == bytes) return;
    if (exemplars.size() < cap) {
      exemplars.emplace_back(value, std::move(bytes));
      return;
    }
    // Full: the largest values stay (the slow requests are the ones to open).
    auto low = std::min_element(exemplars.begin(), exemplars.end(),
                                [](const auto& a, const auto& b) { return a.first < b.first; });
    if (low != exemplars.end() && value > low->first) *low = {value, std::move(bytes)};
  }

  void Merge(const Cell& o, size_t cap) {
    if (o.last_time >= last_time) {
      last_time = o.last_time;
      last = o.last;
    }
    delta += o.delta;
    count += o.count;
    sum += o.sum;
    low += o.low;
    AddBuckets(o.first, o.buckets, 1);
    for (const auto& e : o.exemplars) AddExemplar(e.first, e.second, cap);
  }

  // buckets += sign * b (b's first index `at`), widening as needed.
  void AddBuckets(int32_t at, const std::vector<double>& b, double sign) {
    if (b.empty()) return;
    if (buckets.empty()) first = at;
    int32_t lo = std::min(first, at);
    size_t hi = size_t(std::max<int64_t>(int64_t(first) + int64_t(buckets.size()),
                                         int64_t(at) + int64_t(b.size())) - lo);
    if (lo < first) buckets.insert(buckets.begin(), size_t(first - lo), 0.0);
    first = lo;
    if (buckets.size() < hi) buckets.resize(hi, 0);
    for (size_t i = 0; i < b.size(); ++i) buckets[size_t(at - first) + i] += sign * b[i];
  }

  template <typename T>
  static void Put(std::string& out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
  }
  // Compact row bytes: a byte of flags, then only the fields present; the
  // gauge's time as a varint offset from `base` (the interval's start),
  // integral bucket counts as varints. Zero fields are left out.
  enum : uint8_t {
    kGauge = 1, kDelta = 2, kCount = 4, kLow = 8, kBuckets = 16, kIntBuckets = 32, kExemplars = 64
  };
  static void PutVarint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
      out.push_back(char(v | 0x80));
      v >>= 7;
    }
    out.push_back(char(v));
  }
  static uint64_t ZigZag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
  static int64_t UnZigZag(uint64_t v) { return int64_t(v >> 1) ^ -int64_t(v & 1); }

  std::string Encode(int64_t base) const {
    bool gauge = last_time != std::numeric_limits<int64_t>::min();
    bool ints = true;
    for (double b : buckets) ints = ints && b >= 0 && b < 9.0e15 && b == std::floor(b);
    uint8_t flags = (gauge ? kGauge : 0) | (delta != 0 ? kDelta : 0) |
                    (count != 0 || sum != 0 ? kCount : 0) | (first != 0 || low != 0 ? kLow : 0) |
                    (buckets.empty() ? 0 : ints ? kIntBuckets : kBuckets) |
                    (exemplars.empty() ? 0 : kExemplars);
    std::string out(1, char(flags));
    if (gauge) {
      PutVarint(out, ZigZag(last_time - base));
      Put(out, last);
    }
    if (flags & kDelta) Put(out, delta);
    if (flags & kCount) {
      Put(out, count);
      Put(out, sum);
    }
    if (flags & kLow) {
      PutVarint(out, ZigZag(first));
      Put(out, low);
    }
    if (!buckets.empty()) {
      PutVarint(out, buckets.size());
      for (double b : buckets) ints ? PutVarint(out, uint64_t(b)) : Put(out, b);
    }
    if (!exemplars.empty()) {
      PutVarint(out, exemplars.size());
      for (const auto& [v, bytes] : exemplars) {
        Put(out, v);
        PutVarint(out, bytes.size());
        out += bytes;
      }
    }
    return out;
  }
  bool Decode(const char* p, size_t n, int64_t base) {
    const char* end = p + n;
    auto get = [&](auto* v) {
      if (size_t(end - p) < sizeof(*v)) return false;
      std::memcpy(v, p, sizeof(*v));
      p += sizeof(*v);
      return true;
    };
    auto varint = [&](uint64_t* v) {
      *v = 0;
      for (int shift = 0; shift < 64 && p < end; shift += 7) {
        uint8_t c = uint8_t(*p++);
        *v |= uint64_t(c & 0x7f) << shift;
        if (!(c & 0x80)) return true;
      }
      return false;
    };
    *this = Cell();
    uint8_t flags = 0;
    uint64_t u = 0;
    if (!get(&flags)) return false;
    if (flags & kGauge) {
      if (!varint(&u) || !get(&last)) return false;
      last_time = base + UnZigZag(u);
    }
    if ((flags & kDelta) && !get(&delta)) return false;
    if ((flags & kCount) && (!get(&count) || !get(&sum))) return false;
    if (flags & kLow) {
      if (!varint(&u) || !get(&low)) return false;
      first = int32_t(UnZigZag(u));
    }
    if (flags & (kBuckets | kIntBuckets)) {
      if (!varint(&u) || u > size_t(end - p)) return false;
      buckets.resize(size_t(u));
      for (double& b : buckets) {
        if (flags & kIntBuckets) {
          if (!varint(&u)) return false;
          b = double(u);
        } else if (!get(&b)) {
          return false;
        }
      }
    }
    if (flags & kExemplars) {
      uint64_t ne = 0;
      if (!varint(&ne)) return false;
      for (uint64_t i = 0; i < ne; ++i) {
        double v = 0;
        uint64_t len = 0;
        if (!get(&v) || !varint(&len) || len > size_t(end - p)) return false;
        exemplars.emplace_back(v, std::string(p, size_t(len)));
        p += len;
      }
    }
    return true;
  }
};

// The last cumulative point of a series from one resource and scope: the
// base of the next difference. Stored (metric_prev) as doubles: value, count,
// sum, low, first, scale, the number of buckets, the buckets, then the
// explicit bounds.
struct Prev {
  bool have = false;
  uint64_t start = 0;
  double value = 0, count = 0, sum = 0, low = 0;
  int32_t first = 0, scale = 0;
  std::vector<double> buckets, bounds;

  std::string Encode() const {
    std::string out;
    for (double v : {value, count, sum, low, double(first), double(scale), double(buckets.size())})
      Cell::Put(out, v);
    for (double v : buckets) Cell::Put(out, v);
    for (double v : bounds) Cell::Put(out, v);
    return out;
  }
  void Decode(uint64_t s, const char* p, size_t n) {
    have = true;
    start = s;
    std::vector<double> v(n / 8);
    if (!v.empty()) std::memcpy(v.data(), p, v.size() * 8);
    if (v.size() < 7) v.resize(7, 0);
    value = v[0];
    count = v[1];
    sum = v[2];
    low = v[3];
    first = int32_t(v[4]);
    scale = int32_t(v[5]);
    size_t nb = std::min(v.size() - 7, size_t(std::max(0.0, v[6])));
    buckets.assign(v.begin() + 7, v.begin() + 7 + long(nb));
    bounds.assign(v.begin() + 7 + long(nb), v.end());
  }
};

// A series seen for the first time (no stored Prev) whose start time lies
// within this much of its first point began there: that point counts whole.
// An older start (a series that ran before this store saw it, e.g. at every
// viewer start with an in-memory store) makes the first point the base of
// the next difference, with an increase of 0. One minute: the OpenTelemetry
// SDKs' default export interval (OTEL_METRIC_EXPORT_INTERVAL).
constexpr uint64_t kBeganWithin = 60 * uint64_t(kSecond);

template <typename Point>
bool BeganWithFirstPoint(const Point& p) {
  return p.start_time_unix_nano() != 0 && p.start_time_unix_nano() <= p.time_unix_nano() &&
         p.time_unix_nano() - p.start_time_unix_nano() <= kBeganWithin;
}

const char* TemporalityOf(const pb::Metric& m) {
  auto t = m.has_sum()         ? m.sum().aggregation_temporality()
           : m.has_histogram() ? m.histogram().aggregation_temporality()
           : m.has_exponential_histogram() ? m.exponential_histogram().aggregation_temporality()
                                           : pb::AGGREGATION_TEMPORALITY_UNSPECIFIED;
  if (!m.has_sum() && !m.has_histogram() && !m.has_exponential_histogram()) return "";
  return t == pb::AGGREGATION_TEMPORALITY_DELTA ? "delta" : "cumulative";
}

template <typename Point>
void AddExemplars(Cell& c, const Point& p, size_t cap) {
  for (const auto& e : p.exemplars()) {
    if (e.trace_id().empty()) continue;
    c.AddExemplar(e.value_case() == pb::Exemplar::kAsInt ? double(e.as_int()) : e.as_double(),
                  e.SerializeAsString(), cap);
  }
}

// Exponential histograms are kept at one scale, kExpScale (2^(1/4) apart:
// four buckets per power of two): canonical bucket j holds the values in
// (2^(j/4), 2^((j+1)/4)]. A finer point is merged down exactly (index >>
// (scale - kExpScale)); a coarser one puts each bucket's count in the first
// canonical bucket it covers.
constexpr int kExpScale = 2;
// The canonical indexes kept: bucket j's upper bound 2^((j+1)/4) stays a
// finite, normal double (|j| < 4 * 1022); a point's indexes beyond go to the
// first or last of these.
constexpr int64_t kExpMaxIndex = 4 * 1020;

void CanonicalBuckets(const pb::ExponentialHistogramDataPoint& p, int32_t* first,
                      std::vector<double>* out) {
  out->clear();
  const auto& counts = p.positive().bucket_counts();
  if (counts.empty()) return;
  int scale = std::clamp(p.scale(), -10, 20);
  auto canon = [&](int64_t i) -> int64_t {
    int64_t j = scale >= kExpScale ? (i >> (scale - kExpScale)) : i * (int64_t(1) << (kExpScale - scale));
    return std::clamp<int64_t>(j, -kExpMaxIndex, kExpMaxIndex);
  };
  int64_t lo = canon(p.positive().offset());
  int64_t hi = canon(int64_t(p.positive().offset()) + counts.size() - 1);
  *first = int32_t(lo);
  out->assign(size_t(hi - lo + 1), 0);
  for (int i = 0; i < counts.size(); ++i)
    (*out)[size_t(canon(int64_t(p.positive().offset()) + i) - lo)] += double(counts[i]);
}

double NumberOf(const pb::NumberDataPoint& p) {
  return p.value_case() == pb::NumberDataPoint::kAsInt ? double(p.as_int()) : p.as_double();
}

// How a cumulative point relates to its series' Prev: the first point of a
// series that ran before (kBase: increase 0), of one that began with it or
// after a reset (kWhole), or the next point (kDifference).
enum class Fold { kBase, kWhole, kDifference };
template <typename Point>
Fold FoldOf(const Prev& prev, const Point& p, bool reset) {
  if (!prev.have) return BeganWithFirstPoint(p) ? Fold::kWhole : Fold::kBase;
  return reset || p.start_time_unix_nano() != prev.start ? Fold::kWhole : Fold::kDifference;
}

// Calls fn(attrs_key, time, cell, bounds or nullptr) for every point of `m`
// with the cell of that point: a gauge's value, a sum's increase, a
// histogram's increase; prev_of(attrs_key) is the series' Prev (cumulative).
// A histogram point whose bucket counts are not one more than its bounds
// (OTLP metrics.proto HistogramDataPoint) is skipped and counted in
// *malformed. A change of bounds, or an exponential histogram's scale
// dropping, is a reset.
template <typename PrevOf, typename Fn>
void FoldMetric(const pb::Metric& m, size_t cap, PrevOf&& prev_of, Fn&& fn, int64_t* malformed) {
  if (m.has_gauge()) {
    for (const auto& p : m.gauge().data_points()) {
      Cell c;
      c.last_time = int64_t(p.time_unix_nano());
      c.last = NumberOf(p);
      AddExemplars(c, p, cap);
      fn(AttrsKey(p.attributes()), int64_t(p.time_unix_nano()), c, nullptr);
    }
  } else if (m.has_sum()) {
    bool delta = m.sum().aggregation_temporality() == pb::AGGREGATION_TEMPORALITY_DELTA;
    for (const auto& p : m.sum().data_points()) {
      std::string key = AttrsKey(p.attributes());
      Cell c;
      double v = NumberOf(p);
      c.delta = v;
      if (!delta) {
        Prev& prev = prev_of(key);
        Fold f = FoldOf(prev, p, prev.have && v < prev.value);
        if (f == Fold::kBase) c.delta = 0;
        if (f == Fold::kDifference) c.delta = v - prev.value;
        prev.have = true;
        prev.start = p.start_time_unix_nano();
        prev.value = v;
      }
      AddExemplars(c, p, cap);
      fn(key, int64_t(p.time_unix_nano()), c, nullptr);
    }
  } else if (m.has_histogram()) {
    bool delta = m.histogram().aggregation_temporality() == pb::AGGREGATION_TEMPORALITY_DELTA;
    std::vector<double> bounds;
    for (const auto& p : m.histogram().data_points()) {
      size_t nb = size_t(p.bucket_counts().size()), nbounds = size_t(p.explicit_bounds().size());
      if (nb != nbounds + 1 && !(nb == 0 && nbounds == 0)) {
        ++*malformed;
        continue;
      }
      std::string key = AttrsKey(p.attributes());
      bounds.assign(p.explicit_bounds().begin(), p.explicit_bounds().end());
      Cell c;
      c.buckets.assign(p.bucket_counts().begin(), p.bucket_counts().end());
      c.count = double(p.count());
      c.sum = p.sum();
      if (!delta) {
        Prev& prev = prev_of(key);
        Fold f = FoldOf(prev, p,
                        prev.have && (c.count < prev.count || c.buckets.size() != prev.buckets.size() ||
                                      bounds != prev.bounds));
        std::vector<double> cumulative = c.buckets;
        if (f == Fold::kBase) {
          c.count = c.sum = 0;
          std::fill(c.buckets.begin(), c.buckets.end(), 0.0);
        } else if (f == Fold::kDifference) {
          c.count -= prev.count;
          c.sum -= prev.sum;
          for (size_t i = 0; i < c.buckets.size(); ++i) c.buckets[i] -= prev.buckets[i];
        }
        prev.have = true;
        prev.start = p.start_time_unix_nano();
        prev.count = double(p.count());
        prev.sum = p.sum();
        prev.buckets = std::move(cumulative);
        prev.bounds = bounds;
      }
      AddExemplars(c, p, cap);
      fn(key, int64_t(p.time_unix_nano()), c, &bounds);
    }
  } else if (m.has_exponential_histogram()) {
    bool delta =
        m.exponential_histogram().aggregation_temporality() == pb::AGGREGATION_TEMPORALITY_DELTA;
    for (const auto& p : m.exponential_histogram().data_points()) {
      std::string key = AttrsKey(p.attributes());
      Cell c;
      c.count = double(p.count());
      c.sum = p.sum();
      c.low = double(p.zero_count());
      for (uint64_t n : p.negative().bucket_counts()) c.low += double(n);
      CanonicalBuckets(p, &c.first, &c.buckets);
      if (!delta) {
        Prev& prev = prev_of(key);
        Fold f = FoldOf(prev, p, prev.have && c.count < prev.count);
        Cell cumulative = c;
        // The scale dropped below kExpScale (the SDK downscaled): the last
        // point's canonical buckets are put where this scale puts them, so
        // that the difference holds no negative counts.
        int scale = std::clamp(p.scale(), -10, 20);
        if (f == Fold::kDifference && scale < std::min(kExpScale, prev.scale) && !prev.buckets.empty()) {
          int shift = kExpScale - scale;
          Cell coarse;
          for (size_t i = 0; i < prev.buckets.size(); ++i) {
            int64_t j = int64_t(prev.first) + int64_t(i);
            int64_t at = std::max<int64_t>(-kExpMaxIndex, (j >> shift) * (int64_t(1) << shift));
            coarse.AddBuckets(int32_t(at), {prev.buckets[i]}, 1);
          }
          prev.first = coarse.first;
          prev.buckets = std::move(coarse.buckets);
        }
        if (f == Fold::kBase) {
          c.count = c.sum = c.low = 0;
          c.buckets.clear();
          c.first = 0;
        } else if (f == Fold::kDifference) {
          c.count -= prev.count;
          c.sum -= prev.sum;
          c.low -= prev.low;
          c.AddBuckets(prev.first, prev.buckets, -1);
        }
        prev.have = true;
        prev.start = p.start_time_unix_nano();
        prev.count = cumulative.count;
        prev.sum = cumulative.sum;
        prev.low = cumulative.low;
        prev.first = cumulative.first;
        prev.scale = scale;
        prev.buckets = std::move(cumulative.buckets);
      }
      AddExemplars(c, p, cap);
      fn(key, int64_t(p.time_unix_nano()), c, nullptr);
    }
  }
}

std::string EncodeDoubles(const std::vector<double>& v) {
  std::string out;
  for (double d : v) Cell::Put(out, d);
  return out;
}
std::vector<double> DecodeDoubles(const std::string& s) {
  std::vector<double> v(s.size() / 8);
  if (!v.empty()) std::memcpy(v.data(), s.data(), v.size() * 8);
  return v;
}

// One series' cells of the window (one per time bucket, or none) -> the answer.
struct Accumulator {
  std::string service, attrs;
  std::vector<double> bounds;
  std::vector<Cell> cells;
  std::vector<bool> has;
  bool any = false;
};

BucketedSeries Finish(Accumulator& a, const SeriesWindow& w, const std::string& type) {
  bool histogram = type == "histogram" || type == "exponentialHistogram";
  BucketedSeries s;
  s.service = std::move(a.service);
  s.attrs = std::move(a.attrs);
  s.bounds = std::move(a.bounds);
  s.value.assign(w.n, 0);
  s.has = a.has;
  double step_s = double(w.step) / 1e9;
  if (histogram) {
    s.count.assign(w.n, 0);
    s.sum.assign(w.n, 0);
    s.buckets.assign(w.n, {});
  }
  std::set<std::pair<uint64_t, std::string>> seen;
  std::vector<std::pair<uint64_t, std::string>> ex;
  for (size_t k = 0; k < w.n; ++k) {
    if (!a.has[k]) continue;
    Cell& c = a.cells[k];
    if (histogram) {
      s.count[k] = c.count;
      s.sum[k] = c.sum;
      s.buckets[k] = std::move(c.buckets);
      s.value[k] = c.count / step_s;
    } else if (type == "gauge") {
      s.value[k] = c.last;
    } else {
      s.value[k] = c.delta / step_s;
    }
    for (auto& [v, bytes] : c.exemplars) {
      pb::Exemplar e;
      if (!e.ParseFromString(bytes)) continue;
      if (!seen.emplace(e.time_unix_nano(), e.span_id()).second) continue;
      ex.emplace_back(e.time_unix_nano(), std::move(bytes));
    }
  }
  std::stable_sort(ex.begin(), ex.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  if (ex.size() > kMaxExemplarsPerSeries) ex.resize(kMaxExemplarsPerSeries);
  for (auto& e : ex) s.exemplars.push_back(std::move(e.second));
  return s;
}

// Finishes every series; an exponential histogram's canonical buckets become
// explicit ones, one set of bounds for all the series of the answer:
// (-inf, 0] for the zero and negative observations, then the canonical
// buckets from the lowest to the highest index of the window, then an empty
// (last, +inf).
void FinishAll(std::vector<Accumulator>& accs, const SeriesWindow& w, const std::string& type,
               SeriesAnswer* out) {
  if (type == "exponentialHistogram") {
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    for (const Accumulator& a : accs) {
      for (size_t k = 0; k < w.n; ++k) {
        const Cell& c = a.cells[k];
        if (!a.has[k] || c.buckets.empty()) continue;
        lo = std::min<int64_t>(lo, c.first);
        hi = std::max<int64_t>(hi, int64_t(c.first) + int64_t(c.buckets.size()) - 1);
      }
    }
    if (lo > hi) lo = 0, hi = -1;
    std::vector<double> bounds = {0};
    for (int64_t j = lo; j <= hi; ++j) bounds.push_back(std::exp2(double(j + 1) / (1 << kExpScale)));
    for (Accumulator& a : accs) {
      a.bounds = bounds;
      for (size_t k = 0; k < w.n; ++k) {
        if (!a.has[k]) continue;
        Cell& c = a.cells[k];
        std::vector<double> b(size_t(hi - lo + 3), 0);
        b[0] = c.low;
        for (size_t i = 0; i < c.buckets.size(); ++i) b[size_t(c.first - lo) + 1 + i] = c.buckets[i];
        c.buckets = std::move(b);
      }
    }
  }
  for (Accumulator& a : accs) out->series.push_back(Finish(a, w, type));
}

}  // namespace

const char* MetricTypeName(const pb::Metric& m) {
  switch (m.data_case()) {
    case pb::Metric::kGauge:
      return "gauge";
    case pb::Metric::kSum:
      return "sum";
    case pb::Metric::kHistogram:
      return "histogram";
    case pb::Metric::kExponentialHistogram:
      return "exponentialHistogram";
    case pb::Metric::kSummary:
      return "summary";
    default:
      return "unknown";
  }
}

// --- ingest ---------------------------------------------------------------------

struct MetricRollups::State {
  struct Series {
    int64_t id = 0;
    bool dirty = false;
    std::string type, unit, temporality;
    std::vector<double> bounds;
  };
  struct PrevRow {
    Prev prev;
    bool dirty = false;
  };
  explicit State(sqlite3* db)
      : find(db,
             "SELECT id, type, unit, temporality, bounds FROM metric_series "
             "WHERE name = ?1 AND service = ?2 AND attrs = ?3"),
        insert(db,
               "INSERT INTO metric_series(name, service, attrs, type, unit, temporality, bounds) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        update(db,
               "UPDATE metric_series SET type = ?2, unit = ?3, temporality = ?4, bounds = ?5 "
               "WHERE id = ?1"),
        prev_get(db, "SELECT start, prev FROM metric_prev WHERE series = ?1 AND ctx = ?2"),
        prev_put(db,
                 "INSERT OR REPLACE INTO metric_prev(series, ctx, start, prev) VALUES(?1, ?2, ?3, ?4)"),
        row_get(db, "SELECT data FROM metric_rollup WHERE series = ?1 AND res = ?2 AND bucket = ?3"),
        row_put(db,
                "INSERT OR REPLACE INTO metric_rollup(series, res, bucket, data) "
                "VALUES(?1, ?2, ?3, ?4)") {}
  Stmt find, insert, update, prev_get, prev_put, row_get, row_put;
  std::unordered_map<std::string, Series> series;  // by name \0 service \0 attrs
  std::vector<Series*> touched;
  // The cumulative bases by series id and context (resource and scope): two
  // instances of one service difference their own points.
  std::map<std::pair<int64_t, int64_t>, PrevRow> prevs;
  std::vector<std::pair<int64_t, int64_t>> prevs_touched;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Cell> pending;  // series, res, bucket
  int64_t malformed = 0;
  bool malformed_told = false;
};

bool CreateRollupTables(sqlite3* db, std::string* error) {
  char* msg = nullptr;
  // metric_series' prev_start and prev are no longer written (the bases are
  // per context in metric_prev); kept so that older files still open.
  int rc = sqlite3_exec(db,
                        "CREATE TABLE IF NOT EXISTS metric_series(id INTEGER PRIMARY KEY, name TEXT, "
                        "service TEXT, attrs BLOB, type TEXT, unit TEXT, temporality TEXT, bounds BLOB, "
                        "prev_start INT, prev BLOB);"
                        "CREATE UNIQUE INDEX IF NOT EXISTS metric_series_key ON "
                        "metric_series(name, service, attrs);"
                        "CREATE TABLE IF NOT EXISTS metric_prev(series INT, ctx INT, start INT, prev BLOB, "
                        "PRIMARY KEY(series, ctx)) WITHOUT ROWID;"
                        "CREATE TABLE IF NOT EXISTS metric_rollup(series INT, res INT, bucket INT, "
                        "data BLOB, PRIMARY KEY(series, res, bucket)) WITHOUT ROWID;"
                        "CREATE TABLE IF NOT EXISTS rollup_meta(key TEXT PRIMARY KEY, value INT);",
                        nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    if (error) *error = msg ? msg : "SQLite error";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

MetricRollups::MetricRollups(sqlite3* db) : db_(db), s_(std::make_unique<State>(db)) {}
MetricRollups::~MetricRollups() = default;

int64_t MetricRollups::malformed() const { return s_->malformed; }

void MetricRollups::Add(const std::string& service, int64_t ctx, const std::string& metric_bytes) {
  google::protobuf::Arena arena;
  auto* m = google::protobuf::Arena::CreateMessage<pb::Metric>(&arena);
  if (!m->ParseFromString(metric_bytes)) return;
  if (!m->has_gauge() && !m->has_sum() && !m->has_histogram() && !m->has_exponential_histogram())
    return;
  State& st = *s_;
  if (st.series.size() > 100000 || st.prevs.size() > 100000) {
    Flush();
    st.series.clear();
    st.prevs.clear();
  }
  std::string type = MetricTypeName(*m), temporality = TemporalityOf(*m);
  std::string prefix = m->name() + '\0' + service + '\0';
  std::string key;
  auto series_of = [&](const std::string& attrs) -> State::Series& {
    key = prefix;
    key += attrs;
    auto it = st.series.find(key);
    if (it == st.series.end()) {
      State::Series s;
      st.find.Text(1, m->name()).Text(2, service).Blob(3, attrs);
      if (st.find.Step()) {
        s.id = st.find.Col(0);
        s.type = st.find.Bytes(1);
        s.unit = st.find.Bytes(2);
        s.temporality = st.find.Bytes(3);
        s.bounds = DecodeDoubles(st.find.Bytes(4));
        st.find.Reset();
      } else {
        st.find.Reset();
        st.insert.Text(1, m->name()).Text(2, service).Blob(3, attrs).Text(4, type);
        st.insert.Text(5, m->unit()).Text(6, temporality).Blob(7, std::string()).Run();
        s.id = sqlite3_last_insert_rowid(db_);
        s.type = type;
        s.unit = m->unit();
        s.temporality = temporality;
      }
      it = st.series.emplace(key, std::move(s)).first;
    }
    State::Series& s = it->second;
    if (!s.dirty) {
      s.dirty = true;
      st.touched.push_back(&s);
    }
    if (s.type != type || s.unit != m->unit() || s.temporality != temporality) {
      s.type = type;
      s.unit = m->unit();
      s.temporality = temporality;
    }
    return s;
  };
  auto prev_of = [&](const std::string& attrs) -> Prev& {
    std::pair<int64_t, int64_t> k{series_of(attrs).id, ctx};
    auto it = st.prevs.find(k);
    if (it == st.prevs.end()) {
      State::PrevRow row;
      st.prev_get.Int(1, k.first).Int(2, k.second);
      if (st.prev_get.Step()) {
        size_t n = 0;
        const char* p = st.prev_get.Data(1, &n);
        row.prev.Decode(uint64_t(st.prev_get.Col(0)), p, n);
      }
      st.prev_get.Reset();
      it = st.prevs.emplace(k, std::move(row)).first;
    }
    if (!it->second.dirty) {
      it->second.dirty = true;
      st.prevs_touched.push_back(k);
    }
    return it->second.prev;
  };
  FoldMetric(
      *m, kExemplarsPerRow, prev_of,
      [&](const std::string& attrs, int64_t t, const Cell& c, const std::vector<double>* bounds) {
        State::Series& s = series_of(attrs);
        if (bounds) s.bounds = *bounds;
        if (t < 0) return;
        for (int64_t res : kRollupResolutions) {
          st.pending[{s.id, res, t / (res * kSecond)}].Merge(c, kExemplarsPerRow);
        }
      },
      &st.malformed);
  if (st.malformed > 0 && !st.malformed_told) {
    st.malformed_told = true;
    std::fprintf(stderr,
                 "otelweb-view: skipped a histogram point of %s whose bucket counts are not one more "
                 "than its explicit bounds (OTLP HistogramDataPoint); it is stored but not in the "
                 "rollups: check the exporter of service %s\n",
                 m->name().c_str(), service.c_str());
  }
  if (st.pending.size() > 200000) Flush();
}

bool MetricRollups::Flush() {
  State& st = *s_;
  bool ok = true;
  for (auto& [k, c] : st.pending) {
    auto [series, res, bucket] = k;
    st.row_get.Int(1, series).Int(2, res).Int(3, bucket);
    if (st.row_get.Step()) {
      Cell old;
      size_t n = 0;
      const char* p = st.row_get.Data(0, &n);
      if (old.Decode(p, n, bucket * res * kSecond)) {
        old.Merge(c, kExemplarsPerRow);
        c = std::move(old);
      }
    }
    st.row_get.Reset();
    std::string data = c.Encode(bucket * res * kSecond);
    ok = st.row_put.Int(1, series).Int(2, res).Int(3, bucket).Blob(4, data).Run() && ok;
  }
  st.pending.clear();
  for (State::Series* s : st.touched) {
    std::string bounds = EncodeDoubles(s->bounds);
    st.update.Int(1, s->id).Text(2, s->type).Text(3, s->unit).Text(4, s->temporality);
    ok = st.update.Blob(5, bounds).Run() && ok;
    s->dirty = false;
  }
  st.touched.clear();
  for (const auto& k : st.prevs_touched) {
    auto it = st.prevs.find(k);
    if (it == st.prevs.end()) continue;
    it->second.dirty = false;
    if (!it->second.prev.have) continue;
    std::string prev = it->second.prev.Encode();
    st.prev_put.Int(1, k.first).Int(2, k.second).Int(3, int64_t(it->second.prev.start)).Blob(4, prev);
    ok = st.prev_put.Run() && ok;
  }
  st.prevs_touched.clear();
  if (!ok)
    std::fprintf(stderr,
                 "otelweb-view: cannot write the metric rollups: %s (is the disk full? The charts "
                 "of this batch may miss points; source=points still reads them)\n",
                 sqlite3_errmsg(db_));
  return ok;
}

void MetricRollups::Discard() {
  State& st = *s_;
  st.pending.clear();
  st.touched.clear();
  st.series.clear();
  st.prevs_touched.clear();
  st.prevs.clear();
}

int64_t MetricRollups::BackfillIfEmpty() {
  {
    Stmt built(db_, "SELECT 1 FROM rollup_meta WHERE key = 'built'");
    if (built.Step()) return 0;
  }
  auto exec = [&](const char* sql) {
    char* msg = nullptr;
    bool ok = sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK;
    if (!ok)
      std::fprintf(stderr,
                   "otelweb-view: cannot build the metric rollups (%s: %s); the charts read the "
                   "stored points until a restart succeeds (is the disk full or the file "
                   "read-only?)\n",
                   sql, msg ? msg : "SQLite error");
    sqlite3_free(msg);
    return ok;
  };
  if (!exec("BEGIN")) return 0;
  int64_t n = 0;
  bool fold = false;
  {
    // A file written before the rollups: some stored points, no rollups.
    // (A file with rollups and no meta row yet was written with them.)
    Stmt any(db_, "SELECT (SELECT count(*) FROM (SELECT 1 FROM metric_rollup LIMIT 1)), "
                  "(SELECT count(*) FROM (SELECT 1 FROM metric_points LIMIT 1))");
    fold = any.Step() && any.Col(0) == 0 && any.Col(1) != 0;
  }
  if (fold) {
    // Once per file written before the rollups; a large one takes a while.
    std::fprintf(stderr, "otelweb-view: folding the stored metric points into the rollups (once)\n");
    Stmt q(db_,
           "SELECT m.data, c.service, m.ctx FROM metric_points m JOIN contexts c ON c.id = m.ctx "
           "ORDER BY m.id");
    while (q.Step()) {
      Add(q.Bytes(1), q.Col(2), q.Bytes(0));
      ++n;
    }
  }
  bool ok = Flush() && exec("INSERT OR REPLACE INTO rollup_meta(key, value) VALUES('built', 1)");
  if (!ok || !exec("COMMIT")) {
    exec("ROLLBACK");
    Discard();
    return 0;
  }
  return n;
}

bool MetricRollups::Prune() {
  bool ok = Flush();
  char* msg = nullptr;
  // The rows of the intervals ending before the oldest of the first-received
  // 1 000 points left go: points arrive about in time order, and a read of
  // those by id replaces a scan of every stored point (their bytes included)
  // per pruning round.
  if (sqlite3_exec(db_,
                   "DELETE FROM metric_rollup WHERE (bucket + 1) * res * 1000000000 <= "
                   "coalesce((SELECT min(time) FROM (SELECT time FROM metric_points ORDER BY id "
                   "LIMIT 1000)), 9000000000000000000);"
                   "DELETE FROM metric_series WHERE id NOT IN (SELECT DISTINCT series FROM metric_rollup);"
                   "DELETE FROM metric_prev WHERE series NOT IN (SELECT id FROM metric_series);",
                   nullptr, nullptr, &msg) != SQLITE_OK) {
    std::fprintf(stderr,
                 "otelweb-view: cannot prune the metric rollups: %s (is the disk full? The rollups "
                 "of deleted points stay until the next pruning)\n",
                 msg ? msg : "SQLite error");
    ok = false;
  }
  sqlite3_free(msg);
  s_->series.clear();
  s_->prevs.clear();
  return ok;
}

// --- queries --------------------------------------------------------------------

int64_t RollupResolutionFor(int64_t step_ns) {
  if (step_ns <= 0 || step_ns % kSecond != 0) return 0;
  int64_t best = 0;
  for (int64_t r : kRollupResolutions)
    if ((step_ns / kSecond) % r == 0) best = r;
  return best;
}

bool QueryRollups(sqlite3* db, const SeriesWindow& w, SeriesAnswer* out, std::string* error) {
  std::string sql =
      "SELECT id, service, attrs, type, unit, temporality, bounds FROM metric_series WHERE name = ?1";
  if (!w.service.empty()) sql += " AND service = ?2";
  sql += " ORDER BY id";
  Stmt s(db, sql.c_str());
  Stmt rows(db,
            "SELECT bucket, data FROM metric_rollup WHERE series = ?1 AND res = ?2 AND bucket >= ?3 "
            "AND bucket <= ?4");
  if (!s.ok() || !rows.ok()) {
    *error = sqlite3_errmsg(db);
    return false;
  }
  s.Text(1, w.name);
  if (!w.service.empty()) s.Text(2, w.service);
  int64_t res_ns = w.res * kSecond;
  int64_t first = w.start / res_ns, last = (w.start + int64_t(w.n) * w.step - 1) / res_ns;
  bool typed = false;
  std::vector<Accumulator> accs;
  while (s.Step()) {
    if (!typed) {
      out->type = s.Bytes(3);
      out->unit = s.Bytes(4);
      out->temporality = s.Bytes(5);
      typed = true;
    }
    Accumulator a;
    rows.Int(1, s.Col(0)).Int(2, w.res).Int(3, first).Int(4, last);
    while (rows.Step()) {
      int64_t t = rows.Col(0) * res_ns;
      if (t < w.start) continue;
      size_t k = size_t((t - w.start) / w.step);
      if (k >= w.n) continue;
      Cell c;
      size_t n = 0;
      const char* p = rows.Data(1, &n);
      if (!c.Decode(p, n, t)) continue;
      if (!a.any) {
        a.any = true;
        a.cells.resize(w.n);
        a.has.assign(w.n, false);
      }
      if (!a.has[k]) {
        a.cells[k] = std::move(c);
        a.has[k] = true;
      } else {
        a.cells[k].Merge(c, std::numeric_limits<size_t>::max());
      }
    }
    rows.Reset();
    if (!a.any) continue;
    a.service = s.Bytes(1);
    a.attrs = s.Bytes(2);
    a.bounds = DecodeDoubles(s.Bytes(6));
    accs.push_back(std::move(a));
  }
  FinishAll(accs, w, out->type, out);
  return true;
}

// Calls fn(attrs key, start time) for every cumulative point of `m`.
template <typename Fn>
void ForEachCumulativePoint(const pb::Metric& m, Fn&& fn) {
  auto each = [&](const auto& data) {
    if (data.aggregation_temporality() == pb::AGGREGATION_TEMPORALITY_DELTA) return;
    for (const auto& p : data.data_points()) fn(AttrsKey(p.attributes()), p.start_time_unix_nano());
  };
  if (m.has_sum()) each(m.sum());
  if (m.has_histogram()) each(m.histogram());
  if (m.has_exponential_histogram()) each(m.exponential_histogram());
}

bool QueryPoints(sqlite3* db, const SeriesWindow& w, SeriesAnswer* out, std::string* error) {
  // The stored rows of the window (by each row's time, its first point's),
  // then, for the cumulative series in it, the rows before the window
  // holding each series' last point before it (newest first, back to the
  // series' start time at most): the bases of the first differences.
  std::string sql =
      "SELECT m.data, c.service, m.ctx, m.time FROM metric_points m JOIN contexts c ON c.id = m.ctx "
      "WHERE m.name = ?1 AND (?2 = '' OR c.service = ?2) AND m.time >= ?3 AND m.time < ?4 "
      "ORDER BY m.time, m.id";
  std::string before_sql =
      "SELECT m.data, c.service, m.ctx, m.time FROM metric_points m JOIN contexts c ON c.id = m.ctx "
      "WHERE m.name = ?1 AND (?2 = '' OR c.service = ?2) AND m.time < ?3 "
      "ORDER BY m.time DESC, m.id DESC";
  Stmt q(db, sql.c_str()), before(db, before_sql.c_str());
  if (!q.ok() || !before.ok()) {
    *error = sqlite3_errmsg(db);
    return false;
  }
  int64_t end = w.start + int64_t(w.n) * w.step;
  q.Text(1, w.name).Text(2, w.service).Int(3, w.start).Int(4, end);
  struct Row {
    std::string data, service;
    int64_t ctx = 0;
  };
  auto parse = [](pb::Metric* m, const std::string& data) {
    return m->ParseFromString(data) && (m->has_gauge() || m->has_sum() || m->has_histogram() ||
                                        m->has_exponential_histogram());
  };
  std::vector<Row> rows;
  // attrs \0 context id -> the earliest start time of its points in the window.
  std::unordered_map<std::string, uint64_t> need;
  while (q.Step()) {
    Row r{q.Bytes(0), q.Bytes(1), q.Col(2)};
    pb::Metric m;
    if (!parse(&m, r.data)) continue;
    std::string ctx = std::to_string(r.ctx);
    ForEachCumulativePoint(m, [&](const std::string& attrs, uint64_t start) {
      auto [it, fresh] = need.emplace(attrs + '\0' + ctx, start);
      if (!fresh) it->second = std::min(it->second, start);
    });
    rows.push_back(std::move(r));
  }
  std::vector<Row> bases;
  if (!need.empty()) {
    uint64_t oldest = std::numeric_limits<uint64_t>::max();
    for (const auto& [k, start] : need) oldest = std::min(oldest, start);
    before.Text(1, w.name).Text(2, w.service).Int(3, w.start);
    while (!need.empty() && before.Step()) {
      if (uint64_t(before.Col(3)) < oldest) break;  // before every series' start
      Row r{before.Bytes(0), before.Bytes(1), before.Col(2)};
      pb::Metric m;
      if (!parse(&m, r.data)) continue;
      std::string ctx = std::to_string(r.ctx);
      bool useful = false;
      ForEachCumulativePoint(m, [&](const std::string& attrs, uint64_t) {
        useful = need.erase(attrs + '\0' + ctx) > 0 || useful;
      });
      if (useful) bases.push_back(std::move(r));
    }
    std::reverse(bases.begin(), bases.end());
  }
  struct Entry {
    Accumulator a;
  };
  std::unordered_map<std::string, Entry> by_key;  // service \0 attrs
  std::unordered_map<std::string, Prev> prevs;    // attrs \0 context id, as the rollups'
  int64_t malformed = 0;
  for (std::vector<Row>* list : {&bases, &rows}) {
    for (const Row& r : *list) {
      google::protobuf::Arena arena;
      auto* m = google::protobuf::Arena::CreateMessage<pb::Metric>(&arena);
      if (!parse(m, r.data)) continue;
      const std::string& service = r.service;
      std::string ctx = std::to_string(r.ctx);
      out->type = MetricTypeName(*m);
      out->unit = m->unit();
      out->temporality = TemporalityOf(*m);
      auto entry = [&](const std::string& attrs) -> Entry& {
        std::string key = service + '\0' + attrs;
        auto it = by_key.find(key);
        if (it == by_key.end()) {
          Entry e;
          e.a.service = service;
          e.a.attrs = attrs;
          it = by_key.emplace(key, std::move(e)).first;
        }
        return it->second;
      };
      FoldMetric(
          *m, std::numeric_limits<size_t>::max(),
          [&](const std::string& attrs) -> Prev& { return prevs[attrs + '\0' + ctx]; },
          [&](const std::string& attrs, int64_t t, const Cell& c, const std::vector<double>* bounds) {
            if (t < w.start || t >= end) return;
            Entry& e = entry(attrs);
            if (bounds) e.a.bounds = *bounds;
            size_t k = size_t((t - w.start) / w.step);
            if (!e.a.any) {
              e.a.any = true;
              e.a.cells.resize(w.n);
              e.a.has.assign(w.n, false);
            }
            if (!e.a.has[k]) {
              e.a.cells[k] = c;
              e.a.has[k] = true;
            } else {
              e.a.cells[k].Merge(c, std::numeric_limits<size_t>::max());
            }
          },
          &malformed);
    }
  }
  std::vector<Accumulator> accs;
  for (auto& [k, e] : by_key)
    if (e.a.any) accs.push_back(std::move(e.a));
  FinishAll(accs, w, out->type, out);
  return true;
}

}  // namespace otelweb::view
