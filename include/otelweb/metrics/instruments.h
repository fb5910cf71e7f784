// Metric instruments (OpenTelemetry metrics API "Instrument"): Counter,
// UpDownCounter, Histogram and Gauge, each for int64_t or double, and their
// pre-bound forms (spec: "Instrument bind", Development), which resolve the
// attribute set and the cardinality limit once and then record with one
// atomic add.
//
// Recording path (see docs/metrics.md "Design"): an instrument is a handle on
// a stream whose series live in a lock-free open-addressing table keyed by an
// order-independent hash of the attribute set. Each series keeps its values in
// a few cache-line "stripes"; a thread always adds into the stripe of its own
// index, so threads recording the same series do not fight over one cache
// line, and no lock is taken unless a series is created. Collection sums the
// stripes. Exemplar offering is one predictable branch when the filter is
// always_off.
//
// Units: values are in the instrument's unit (UCUM, e.g. "s", "By",
// "{request}"); nothing is converted.
// Errors: a negative value given to a Counter, or NaN/inf to any instrument, is
// discarded (one warning per instrument). Recording never throws and never
// blocks; a new attribute set beyond the cardinality limit goes to the
// overflow series (otel.metric.overflow=true).
//
// Ownership: instruments and bound instruments are cheap handles (one
// shared_ptr) on state owned jointly with their MeterProvider; they stay
// valid (and harmless) after the provider is shut down or destroyed.
// Thread-safety: every recording method may be called from any thread
// concurrently, including while a reader collects.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "otelweb/attribute.h"
#include "otelweb/context.h"

namespace otelweb::metrics {

// The instrument kinds of the API. The observable (asynchronous) kinds are
// reported through callbacks at collection.
enum class InstrumentKind : uint8_t {
  kCounter,
  kUpDownCounter,
  kHistogram,
  kGauge,
  kObservableCounter,
  kObservableUpDownCounter,
  kObservableGauge,
};
std::string_view InstrumentKindName(InstrumentKind k) noexcept;

enum class InstrumentValueType : uint8_t { kInt64, kDouble };

namespace internal {
struct InstrumentState;
struct Series;
struct ObservationSink;
struct CallbackEntry;
}  // namespace internal

namespace detail {
// Index of the calling thread's stripe (assigned on first use, round robin).
// Written by the library, read inline by the application: exported for the
// reason given at otelweb::detail::t_sampled_span_current (context.h); with
// two copies every inline read would miss and call AssignStripe.
[[gnu::visibility("default")]] inline constinit thread_local uint32_t t_stripe = 0;
uint32_t AssignStripe() noexcept;
inline uint32_t ThreadStripe() noexcept {
  uint32_t s = t_stripe;
  return s != 0 ? s : AssignStripe();
}

// What a bound instrument needs to add without calling into the library: the
// series' first stripe, the stride between stripes (in 8-byte words) and the
// stripe mask. `exemplars`: 0 = the add is all (exemplars always_off, one
// stream); 1 = trace_based exemplars: the library is called only while a
// sampled span is current (an inline thread-local check); 2 = the library is
// called on every add (always_on, or views gave the instrument more streams).
struct BoundCell {
  std::atomic<uint64_t>* words = nullptr;
  uint32_t stride = 0;
  uint32_t mask = 0;
  uint8_t exemplars = 0;
  internal::Series* series = nullptr;
  internal::InstrumentState* state = nullptr;
  // The series of the instrument's other streams (views), or null.
  const void* fanout = nullptr;
};

// Out-of-line recording (the unbound path and the bound paths that offer
// exemplars). `state` may be null (a disabled or no-op instrument).
void RecordInt(internal::InstrumentState* state, int64_t v, Attributes attrs) noexcept;
void RecordDouble(internal::InstrumentState* state, double v, Attributes attrs) noexcept;
void RecordBoundInt(const BoundCell& c, int64_t v) noexcept;
void RecordBoundDouble(const BoundCell& c, double v) noexcept;
// Offers an exemplar for a value already added through a bound cell (sums),
// and adds it to the instrument's other streams (views).
void OfferExemplar(const BoundCell& c, uint64_t value_bits) noexcept;
BoundCell Bind(const std::shared_ptr<internal::InstrumentState>& state, Attributes attrs) noexcept;
bool Enabled(const internal::InstrumentState* state) noexcept;

// For otelweb's instrumentations (not a stable API): one value of a
// RecordSameSet call, for the instrument `state` (null: skipped).
struct SameSetValue {
  internal::InstrumentState* state = nullptr;
  bool is_double = false;
  int64_t i = 0;
  double d = 0;
};
// Records each value into its instrument, all with the attribute set `attrs`
// (an HTTP request's duration and body sizes): the same effect as recording
// them one by one, but the set is compared once, with the first instrument's
// last lookup; the others take the series the calling thread found for that
// same set before, while none of those instruments forgot a series since.
// Thread-safe like any recording; allocates nothing once the series exist.
void RecordSameSet(const SameSetValue* values, size_t n, Attributes attrs) noexcept;
struct InstrumentAccess;
}  // namespace detail

// The common base of the synchronous instruments: the handle.
class SyncInstrument {
 public:
  SyncInstrument() noexcept = default;
  explicit SyncInstrument(std::shared_ptr<internal::InstrumentState> s) noexcept
      : s_(std::move(s)) {}
  // False when recording has no effect: a no-op provider, an invalid name,
  // or every view dropped the instrument. Instrumentation may skip the work
  // of computing values and attributes then.
  bool Enabled() const noexcept { return detail::Enabled(s_.get()); }

 protected:
  friend struct detail::InstrumentAccess;
  std::shared_ptr<internal::InstrumentState> s_;
};

namespace detail {
// For otelweb's instrumentations: the state of an instrument, for
// RecordSameSet (null for a no-op instrument). Valid while the handle is.
struct InstrumentAccess {
  static internal::InstrumentState* State(const SyncInstrument& i) noexcept { return i.s_.get(); }
};
}  // namespace detail

// A pre-bound attribute set of a sum instrument (Counter, UpDownCounter).
template <typename T>
class BoundSum {
 public:
  BoundSum() noexcept = default;
  // Adds `value` to the bound series. Counters discard negative values.
  void Add(T value) const noexcept {
    if (c_.words == nullptr) return;
    if constexpr (std::is_same_v<T, int64_t>) {
      if (monotonic_ && value < 0) return Slow(value);  // discarded there, with the warning
      std::atomic<uint64_t>* w = c_.words + (detail::ThreadStripe() & c_.mask) * c_.stride;
      w->fetch_add(static_cast<uint64_t>(value), std::memory_order_relaxed);
      // Exemplar offer only when the filter is not always_off (the library
      // then checks the current span), or when views gave more streams.
      const uint8_t e = c_.exemplars;
      if (e != 0 && (e != 1 || ::otelweb::detail::t_sampled_span_current)) [[unlikely]]
        detail::OfferExemplar(c_, static_cast<uint64_t>(value));
    } else {
      Slow(value);
    }
  }

 private:
  template <typename>
  friend class Counter;
  template <typename>
  friend class UpDownCounter;
  BoundSum(std::shared_ptr<internal::InstrumentState> keep, detail::BoundCell c,
           bool monotonic) noexcept
      : keep_(std::move(keep)), c_(c), monotonic_(monotonic) {}
  void Slow(T value) const noexcept {
    if constexpr (std::is_same_v<T, int64_t>) {
      detail::RecordBoundInt(c_, value);
    } else {
      detail::RecordBoundDouble(c_, value);
    }
  }
  std::shared_ptr<internal::InstrumentState> keep_;
  detail::BoundCell c_{};
  bool monotonic_ = false;
};

// A monotonic sum (spec: Counter). T is int64_t or double.
template <typename T>
class Counter : public SyncInstrument {
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, double>);

 public:
  using SyncInstrument::SyncInstrument;
  // Adds a non-negative value for the attribute set (borrowed for the call).
  void Add(T value, Attributes attrs = {}) const noexcept {
    if constexpr (std::is_same_v<T, int64_t>) {
      detail::RecordInt(s_.get(), value, attrs);
    } else {
      detail::RecordDouble(s_.get(), value, attrs);
    }
  }
  void Add(T value, std::initializer_list<KeyValue> attrs) const noexcept {
    Add(value, Attributes(attrs.begin(), attrs.size()));
  }
  // Resolves the attribute set once (it counts against the cardinality limit
  // now) and returns a handle whose Add is one atomic add.
  BoundSum<T> Bind(Attributes attrs) const noexcept { return {s_, detail::Bind(s_, attrs), true}; }
  BoundSum<T> Bind(std::initializer_list<KeyValue> attrs) const noexcept {
    return Bind(Attributes(attrs.begin(), attrs.size()));
  }
};

// A non-monotonic sum (spec: UpDownCounter).
template <typename T>
class UpDownCounter : public SyncInstrument {
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, double>);

 public:
  using SyncInstrument::SyncInstrument;
  void Add(T value, Attributes attrs = {}) const noexcept {
    if constexpr (std::is_same_v<T, int64_t>) {
      detail::RecordInt(s_.get(), value, attrs);
    } else {
      detail::RecordDouble(s_.get(), value, attrs);
    }
  }
  void Add(T value, std::initializer_list<KeyValue> attrs) const noexcept {
    Add(value, Attributes(attrs.begin(), attrs.size()));
  }
  BoundSum<T> Bind(Attributes attrs) const noexcept { return {s_, detail::Bind(s_, attrs), false}; }
  BoundSum<T> Bind(std::initializer_list<KeyValue> attrs) const noexcept {
    return Bind(Attributes(attrs.begin(), attrs.size()));
  }
};

// A pre-bound attribute set of a Histogram or Gauge.
template <typename T>
class BoundRecorder {
 public:
  BoundRecorder() noexcept = default;
  void Record(T value) const noexcept {
    if (c_.words == nullptr) return;
    if constexpr (std::is_same_v<T, int64_t>) {
      detail::RecordBoundInt(c_, value);
    } else {
      detail::RecordBoundDouble(c_, value);
    }
  }

 private:
  template <typename>
  friend class Histogram;
  template <typename>
  friend class Gauge;
  BoundRecorder(std::shared_ptr<internal::InstrumentState> keep, detail::BoundCell c) noexcept
      : keep_(std::move(keep)), c_(c) {}
  std::shared_ptr<internal::InstrumentState> keep_;
  detail::BoundCell c_{};
};

// A distribution (spec: Histogram); aggregated as an explicit-bucket
// histogram by default (advisory boundaries if given at creation).
template <typename T>
class Histogram : public SyncInstrument {
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, double>);

 public:
  using SyncInstrument::SyncInstrument;
  // Records a non-negative value (negative values are discarded, as the API
  // says histograms record non-negative measurements when used as a sum).
  void Record(T value, Attributes attrs = {}) const noexcept {
    if constexpr (std::is_same_v<T, int64_t>) {
      detail::RecordInt(s_.get(), value, attrs);
    } else {
      detail::RecordDouble(s_.get(), value, attrs);
    }
  }
  void Record(T value, std::initializer_list<KeyValue> attrs) const noexcept {
    Record(value, Attributes(attrs.begin(), attrs.size()));
  }
  BoundRecorder<T> Bind(Attributes attrs) const noexcept { return {s_, detail::Bind(s_, attrs)}; }
  BoundRecorder<T> Bind(std::initializer_list<KeyValue> attrs) const noexcept {
    return Bind(Attributes(attrs.begin(), attrs.size()));
  }
};

// The current value of something (spec: synchronous Gauge); aggregated as
// last value.
template <typename T>
class Gauge : public SyncInstrument {
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, double>);

 public:
  using SyncInstrument::SyncInstrument;
  void Record(T value, Attributes attrs = {}) const noexcept {
    if constexpr (std::is_same_v<T, int64_t>) {
      detail::RecordInt(s_.get(), value, attrs);
    } else {
      detail::RecordDouble(s_.get(), value, attrs);
    }
  }
  void Record(T value, std::initializer_list<KeyValue> attrs) const noexcept {
    Record(value, Attributes(attrs.begin(), attrs.size()));
  }
  BoundRecorder<T> Bind(Attributes attrs) const noexcept { return {s_, detail::Bind(s_, attrs)}; }
};

using Int64Counter = Counter<int64_t>;
using DoubleCounter = Counter<double>;
using Int64UpDownCounter = UpDownCounter<int64_t>;
using DoubleUpDownCounter = UpDownCounter<double>;
using Int64Histogram = Histogram<int64_t>;
using DoubleHistogram = Histogram<double>;
using Int64Gauge = Gauge<int64_t>;
using DoubleGauge = Gauge<double>;

// ---------------------------------------------------------------------------
// Asynchronous (observable) instruments (metrics API "Asynchronous
// instruments"; SDK "Observations inside asynchronous callbacks").
//
// An observable instrument reports through callbacks: every collection of
// every reader calls each registered callback once (on the collecting thread:
// the periodic reader's worker, or the caller of MetricReader::Collect), and
// the callback reports the current values with ObserverResult::Observe.
// Counters and up-down counters observe absolute totals (a delta reader
// reports the difference from its previous observation of the same attribute
// set); gauges observe current values. Only the attribute sets observed in a
// collection are reported by it. The cardinality limit and the overflow
// series apply as for synchronous instruments (overflowed sums are added up).
//
// Callbacks: should return quickly and may run concurrently for two readers
// (make them reentrant). An exception is caught, that callback's observations
// of that collection are discarded, and it is reported once. C++ cannot abort
// a callback that never returns: it holds the thread that called it; other
// collections skip a callback that has been running for more than one second
// (reported once) until it returns, and the periodic reader's Shutdown returns
// Timeout at its deadline, abandoning that collection (its late observations
// are never exported).

// What a callback receives: the sink of one collection's observations. Valid
// only during the callback.
template <typename T>
class ObserverResult {
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, double>);

 public:
  // Reports `value` for the attribute set (borrowed for the call). The last
  // observation of a set in one callback wins.
  void Observe(T value, Attributes attrs = {}) noexcept;
  void Observe(T value, std::initializer_list<KeyValue> attrs) noexcept {
    Observe(value, Attributes(attrs.begin(), attrs.size()));
  }
  explicit ObserverResult(internal::ObservationSink* sink) noexcept : sink_(sink) {}

 private:
  internal::ObservationSink* sink_;
};

template <typename T>
using ObservableCallback = std::function<void(ObserverResult<T>&)>;

// The handle of one callback registration (Go: metric.Registration).
// Destroying the handle does NOT remove the callback; Unregister does.
// Thread-safety: Unregister may be called from any thread, also from inside
// the callback; a collection already running may still call it once.
class CallbackRegistration {
 public:
  CallbackRegistration() noexcept = default;
  explicit CallbackRegistration(std::shared_ptr<internal::CallbackEntry> e) noexcept
      : e_(std::move(e)) {}
  // Removes the callback; true when it was registered until now.
  bool Unregister() noexcept;
  // True until Unregister (false for a default or disabled registration).
  bool Registered() const noexcept;

 private:
  std::shared_ptr<internal::CallbackEntry> e_;
};

namespace detail {
void ObserveInt(internal::ObservationSink* sink, int64_t v, Attributes attrs) noexcept;
void ObserveDouble(internal::ObservationSink* sink, double v, Attributes attrs) noexcept;
CallbackRegistration AddCallback(internal::InstrumentState* state,
                                 ObservableCallback<int64_t> int_cb,
                                 ObservableCallback<double> double_cb) noexcept;
}  // namespace detail

template <typename T>
void ObserverResult<T>::Observe(T value, Attributes attrs) noexcept {
  if constexpr (std::is_same_v<T, int64_t>) {
    detail::ObserveInt(sink_, value, attrs);
  } else {
    detail::ObserveDouble(sink_, value, attrs);
  }
}

// The common handle of the observable instruments.
template <typename T>
class ObservableInstrument {
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, double>);

 public:
  ObservableInstrument() noexcept = default;
  explicit ObservableInstrument(std::shared_ptr<internal::InstrumentState> s) noexcept
      : s_(std::move(s)) {}
  // Registers another callback (called from the next collection on). A
  // disabled instrument returns an unregistered handle.
  CallbackRegistration AddCallback(ObservableCallback<T> callback) const noexcept {
    if constexpr (std::is_same_v<T, int64_t>) {
      return detail::AddCallback(s_.get(), std::move(callback), {});
    } else {
      return detail::AddCallback(s_.get(), {}, std::move(callback));
    }
  }
  bool Enabled() const noexcept { return detail::Enabled(s_.get()); }

 protected:
  std::shared_ptr<internal::InstrumentState> s_;
};

// Spec: "Asynchronous Counter" (monotonic totals, e.g. CPU time).
template <typename T>
class ObservableCounter : public ObservableInstrument<T> {
 public:
  using ObservableInstrument<T>::ObservableInstrument;
};
// Spec: "Asynchronous UpDownCounter" (totals that go up and down, e.g. a
// queue's length).
template <typename T>
class ObservableUpDownCounter : public ObservableInstrument<T> {
 public:
  using ObservableInstrument<T>::ObservableInstrument;
};
// Spec: "Asynchronous Gauge" (current values, e.g. a temperature).
template <typename T>
class ObservableGauge : public ObservableInstrument<T> {
 public:
  using ObservableInstrument<T>::ObservableInstrument;
};

using Int64ObservableCounter = ObservableCounter<int64_t>;
using DoubleObservableCounter = ObservableCounter<double>;
using Int64ObservableUpDownCounter = ObservableUpDownCounter<int64_t>;
using DoubleObservableUpDownCounter = ObservableUpDownCounter<double>;
using Int64ObservableGauge = ObservableGauge<int64_t>;
using DoubleObservableGauge = ObservableGauge<double>;

}  // namespace otelweb::metrics
