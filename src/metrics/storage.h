// Private: the per-stream storage of the metrics SDK (see docs/metrics.md,
// "Design"). A Stream is one metric stream of one instrument: a lock-free
// open-addressing table of series keyed by an order-independent attribute
// hash, each series holding its values in per-thread-index stripes of
// 8-byte atomic words, plus the exemplar slots.
//
// Word layout of one stripe, by aggregation:
//   sum:        [0] total (int64 two's complement, or double bits)
//   last value: [0] value bits, [1] sequence (0 = never recorded); 1 stripe
//   histogram:  [0..nb] bucket counts, [nb+1] sum (double bits),
//               [nb+2] min, [nb+3] max (double bits; +inf/-inf when empty)
//   exponential histogram: the state of exp_histogram.h, under the stripe's
//               spin lock (at most 4 stripes: a state is 2.7 KB)
// Values accumulate since the series was created (cumulative at the source);
// a delta reader subtracts the totals it saw at its previous collection, so
// any number of readers with any temporality read one storage and nothing is
// lost or counted twice while threads record during a collection (each word
// is read atomically; a recording split across two collections shows up in
// the next one).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/context.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/metrics/metric_data.h"

namespace otelweb::metrics::internal {

enum class Aggregation : uint8_t { kDrop, kSum, kLastValue, kExplicitHistogram, kExponentialHistogram };

struct StreamConfig {
  std::string name;
  std::string description;
  std::string unit;
  InstrumentKind kind = InstrumentKind::kCounter;
  InstrumentValueType value_type = InstrumentValueType::kInt64;
  Aggregation aggregation = Aggregation::kSum;
  bool monotonic = false;
  std::vector<double> boundaries;  // explicit histogram
  size_t exp_max_size = 160;       // exponential histogram
  int exp_max_scale = 20;
  size_t cardinality_limit = kDefaultCardinalityLimit;
  ExemplarFilter exemplar_filter = ExemplarFilter::kTraceBased;
  bool record_min_max = true;
  // A view's attribute filter (filter_attrs: apply it).
  bool filter_attrs = false;
  bool has_allow = false;
  std::vector<std::string> allow;
  std::vector<std::string> exclude;
  bool Keeps(std::string_view key) const noexcept;
};

// One exemplar slot, written under a tiny seqlock (odd = being written; a
// writer that finds it busy drops its offer), read by collectors.
struct ExemplarSlot {
  std::atomic<uint32_t> seq{0};
  std::atomic<uint64_t> value{0};
  std::atomic<int64_t> time_ns{0};
  std::atomic<uint64_t> trace_hi{0}, trace_lo{0}, span{0};
};

// A flat view of one stored attribute for the lookup's comparisons (points
// into Series::attrs).
struct FlatAttr {
  const char* key = nullptr;
  uint32_t key_len = 0;
  AttributeType type = AttributeType::kNone;
  uint32_t str_len = 0;
  const char* str = nullptr;
  uint64_t scalar = 0;  // bool, int64 or double bits
  // Where the creating call's key and string value were, when in read-only
  // memory of the program or of otelweb (string literals, semconv
  // constants: their bytes cannot change), else null. A later call that
  // passes the same address and length passes the same bytes, so the
  // comparison skips them (see InReadOnlyImage).
  const char* key_ro = nullptr;
  const char* str_ro = nullptr;
};

struct Series {
  uint64_t hash = 0;
  std::vector<OwnedKeyValue> attrs;  // de-duplicated, first-seen order
  std::vector<FlatAttr> flat;        // the same, flat, for lookups
  // The start time of its cumulative points: set when created (before it is
  // published), then only lowered, under the stream's collect_mu_, to the
  // time of the first collection that reads it (ClampCreated).
  Timestamp created{};
  Series* next = nullptr;  // the stream's list; immutable once published
  bool overflow = false;
  bool retired = false;               // forgotten (under the stream's insert lock)
  std::atomic<bool> pinned{false};    // a bound handle holds it: never forgotten
  std::atomic<bool> touched{false};        // the overflow series reports only once used
  std::atomic<uint64_t>* words = nullptr;  // stripes, 64-byte aligned
  size_t n_slots = 0;
  ExemplarSlot* slots = nullptr;
  ~Series();
};

// What one reader saw of one series at its previous collection.
struct SeriesMemory {
  std::vector<uint64_t> totals;
  uint64_t gauge_seq = 0;
};

// A forgotten series, kept (unlinked) for a grace period: a thread that
// found it just before may still add to it; what it adds then is moved to
// the live series of the same attributes when the series is freed.
struct RetiredSeries {
  Series* series = nullptr;
  std::vector<uint64_t> snapshot;  // totals when forgotten
  std::chrono::steady_clock::time_point at;
};

struct ReaderStreamState {
  Timestamp last_collect{};
  bool collected_once = false;
  std::unordered_map<const Series*, SeriesMemory> seen;
};

struct Observation;

class Stream {
 public:
  explicit Stream(StreamConfig cfg);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  const StreamConfig& config() const noexcept { return cfg_; }
  // Unique in the process; and the epoch that a forgotten series bumps (a
  // series found while it was unchanged is still the set's series).
  uint64_t id() const noexcept { return id_; }
  uint64_t retire_epoch() const noexcept { return retire_epoch_.load(std::memory_order_acquire); }

  // The series of `attrs`, created if new (admitted while under the limit,
  // else the overflow series). Never null.
  Series* Resolve(Attributes attrs) noexcept;
  // The same, and the recording functions below, for storage.cc only (defined
  // inline there, where the unbound entry points inline them).
  Series* ResolveInline(Attributes attrs) noexcept;
  void RecordIntInline(Series* s, int64_t v) noexcept;
  void RecordDoubleInline(Series* s, double v) noexcept;
  Series* ResolveFiltered(Attributes attrs) noexcept;
  void RecordInt(Series* s, int64_t v) noexcept;
  void RecordDouble(Series* s, double v) noexcept;
  // The exemplar offer of a sum whose value was added inline (bound handle).
  void OfferSum(Series* s, uint64_t bits) noexcept {
    if (s->slots != nullptr) Offer(s, 0, bits);
  }
  bool offers_exemplars() const noexcept {
    return cfg_.exemplar_filter != ExemplarFilter::kAlwaysOff;
  }
  // Whether a recording into `s` offers an exemplar now: the stream keeps
  // exemplars and, for trace_based, a sampled span is current (an inline
  // thread-local load; no call when none is).
  bool WantsExemplar(const Series* s) const noexcept {
    return s->slots != nullptr && (cfg_.exemplar_filter != ExemplarFilter::kTraceBased ||
                                   ::otelweb::detail::t_sampled_span_current);
  }
  uint32_t stride() const noexcept { return stride_; }
  // Warns once that a negative (counter) or non-finite value was discarded.
  void WarnDiscarded() noexcept;
  void WarnNegative() noexcept;  // a counter given a negative value (warns once)
  size_t admitted() const noexcept { return admitted_.load(std::memory_order_relaxed); }

  // Writes this stream's points for reader `slot` into `out` (false: no
  // point). The points `out` already holds are replaced; their storage is
  // reused (a caller that passes the same MetricData to each collection
  // allocates nothing per point once the shape is stable).
  // `forget_readers`: the number of registered readers when every one of
  // them is delta for this stream (0 otherwise); then a series that had no
  // recording since this reader's previous collection, and whose every
  // recording every reader has reported, is forgotten (memory and the
  // cardinality limit recover).
  bool Collect(size_t slot, AggregationTemporality temporality, Timestamp now, MetricData* out,
               size_t forget_readers = 0);
  // Resolve for a bound handle: the series is pinned (never forgotten).
  Series* ResolvePinned(Attributes attrs) noexcept;
  // Series currently linked (admitted sets; for tests).
  size_t live_series() const noexcept { return admitted(); }
  // The same for an observable instrument: the points are the observations
  // of this collection's callbacks (sums: absolute totals; a delta reader
  // gets the difference from its previous observation of the series).
  bool CollectObserved(size_t slot, AggregationTemporality temporality, Timestamp now,
                       const std::vector<Observation>& obs, MetricData* out);

 private:
  void Describe(AggregationTemporality temporality, MetricData* out) const;
  ReaderStreamState& ReaderState(size_t slot);
  Series* Find(const KeyValue* kv, size_t n, uint64_t hash) const noexcept;
  void Totals(const Series* s, std::vector<uint64_t>* tot) const noexcept;
  // A series created after a collection read its time `now` (a recording or
  // a callback during that collection) starts at `now` instead, for every
  // reader and every later point: its start never follows a point's time
  // and never changes (a changed cumulative start reads as a reset).
  // Under collect_mu_.
  static void ClampCreated(Series* s, Timestamp now) noexcept {
    if (s->created > now) s->created = now;
  }
  void Retire(Series* s, std::vector<uint64_t> snapshot);  // under insert_mu_
  void Reclaim(bool all);                                 // under collect_mu_
  void ForgetIdle(size_t slot, size_t readers, const std::vector<Series*>& idle,
                  size_t compared);  // under collect_mu_
  void RebuildTableLocked();                              // under insert_mu_
  void PlaceLocked(Series* s);                            // under insert_mu_
  // The lookup after a miss of the thread's last lookup (`epoch`: the retire
  // epoch read before it).
  Series* ResolveSlow(Attributes attrs, uint64_t epoch) noexcept;
  Series* Insert(Attributes attrs, uint64_t hash) noexcept;
  // How many leading words of a series' totals tell whether it was recorded
  // into (equal to a reader's memory: idle): the bucket counts and the sum
  // of an explicit histogram, the count of an exponential one (after the
  // lock word), the total of a sum.
  size_t IdleWords() const noexcept;
  Series* NewSeries(uint64_t hash, bool overflow);
  size_t BucketOf(double v) const noexcept;
  void Offer(Series* s, size_t slot, uint64_t bits) noexcept;
  void AddHistogram(std::atomic<uint64_t>* w, double v, size_t bucket) noexcept;
  void AddExponential(Series* s, double v) noexcept;
  static void LockStripe(std::atomic<uint64_t>* w) noexcept;
  // Writes the exponential point of `s` at out->histogram_points[at]
  // (appended when at == size()); false: no point (no count).
  bool VisitExponential(const Series* s, std::vector<uint64_t>& tot, bool delta, bool fresh,
                        SeriesMemory* prev, Timestamp start, Timestamp now, MetricData* out,
                        size_t at);

  StreamConfig cfg_;
  const uint64_t id_;  // unique in the process (keys the threads' last lookups)
  const uint64_t secret_;  // HashSecret(), kept where the lookup reads it
  // Bumped when a series is forgotten (invalidates the last lookups).
  std::atomic<uint64_t> retire_epoch_{0};
  uint32_t words_ = 1;   // per stripe
  uint32_t stride_ = 8;  // words between stripes (a multiple of 8)
  uint32_t mask_ = 0;    // stripes - 1
  size_t table_mask_ = 0;
  std::atomic<std::atomic<Series*>*> table_{nullptr};
  std::unique_ptr<std::atomic<Series*>[]> table_owner_;
  size_t used_slots_ = 0;  // live + tombstones (under insert_mu_)
  std::vector<std::pair<std::unique_ptr<std::atomic<Series*>[]>,
                        std::chrono::steady_clock::time_point>>
      old_tables_;                       // replaced tables in their grace period
  std::vector<RetiredSeries> retired_;  // under collect_mu_
  std::atomic<Series*> head_{nullptr};
  std::atomic<size_t> admitted_{0};
  Series* overflow_ = nullptr;
  std::mutex insert_mu_;
  std::mutex collect_mu_;
  std::vector<std::unique_ptr<ReaderStreamState>> readers_;
  std::atomic<bool> warned_negative_{false};
  std::atomic<bool> warned_overflow_{false};
  std::atomic<bool> warned_nan_{false};
};

// A random number drawn once per process (the first call), mixed into the
// attribute hashes so that clients cannot choose values that collide.
uint64_t HashSecret() noexcept;
// Hash of one attribute (key and value, with HashSecret()); the set's hash is
// the sum of its attributes' hashes, so the order of the attributes does not
// matter.
uint64_t HashAttribute(const KeyValue& kv) noexcept;
bool SameValue(const AttributeValue& a, const OwnedValue& b) noexcept;
// Whether `given` is the attribute set of `s`, in any order (the comparison
// that confirms a hash match in the stream's table; exposed for tests). A
// given set with a repeated key never matches (stored keys are unique).
bool SameAttributeSet(Attributes given, const Series& s) noexcept;
// Whether the `n` bytes at `p` lie in a read-only loaded segment of the
// program or of the object that holds otelweb: what a string literal points
// at. Only these two images are trusted: the program is never unloaded, and
// otelweb's object is unloaded only together with otelweb's state (the
// series that keep such addresses); a string literal of another shared
// object (which could be unloaded and its address reused) is compared byte
// by byte. Exposed for tests.
bool InReadOnlyImage(const char* p, size_t n) noexcept;

// One observation of an observable instrument (value bits: int64 two's
// complement or double).
struct Observation {
  Series* series = nullptr;
  uint64_t bits = 0;
};

// Where ObserverResult::Observe puts one callback's observations: one list
// per stream of the instrument.
struct ObservationSink {
  Stream* const* streams = nullptr;
  std::vector<Observation>* out = nullptr;
  size_t n = 0;
};

// One registered callback of an observable instrument.
struct CallbackEntry {
  ObservableCallback<int64_t> int_cb;
  ObservableCallback<double> double_cb;
  std::string instrument;  // for messages
  std::atomic<bool> registered{true};
  std::atomic<int> in_flight{0};
  std::atomic<int64_t> running_since_ns{0};  // steady clock; 0 = not running
  std::atomic<bool> warned_throw{false};
  std::atomic<bool> warned_stuck{false};
};

// The series of a bound attribute set in the instrument's other streams.
struct Fanout {
  std::vector<std::pair<Stream*, Series*>> series;
};

// One instrument: its descriptor and its streams. `stream` is the first (null
// when every view dropped the instrument); views may add `extra` streams,
// which the recording path visits only when there are some.
struct InstrumentState {
  StreamConfig desc;
  std::unique_ptr<Stream> stream;
  std::vector<std::unique_ptr<Stream>> extra;
  std::vector<Stream*> all;  // stream + extra, for collection
  bool observable = false;
  std::mutex callbacks_mu;
  std::vector<std::shared_ptr<CallbackEntry>> callbacks;
  std::mutex fanout_mu;
  std::vector<std::unique_ptr<Fanout>> fanouts;  // of bound handles; kept for the instrument's life
  // Where a bound Counter/UpDownCounter handle adds inline when a view made
  // the first stream something else than a sum (never read: the value
  // reaches the streams through OfferExemplar).
  std::unique_ptr<std::atomic<uint64_t>[]> scratch;
  // Runs the registered callbacks for one collection into outs[i] (one per
  // stream of `all`).
  void Observe(std::vector<std::vector<Observation>>* outs);
  void RecordExtraInt(int64_t v, Attributes attrs) noexcept;
  void RecordExtraDouble(double v, Attributes attrs) noexcept;
};

// Number of stripes per series (a power of two, 4..16).
uint32_t StripeCount() noexcept;

}  // namespace otelweb::metrics::internal
