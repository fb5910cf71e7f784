// The instrumentation kit (library otelweb_core, namespace
// otelweb::instrumentation): the plumbing every adapter (cpp-httplib, civetweb,
// libcurl, SQLite, a new one) needs and none re-implements.
//
//   InstrumentationTracer  the tracer and propagator an instrumentation uses:
//                          an explicit provider, else the global one, resolved
//                          again whenever the global provider or propagator is
//                          replaced (InstallTracing called again), one
//                          generation compare per call otherwise; and ONE
//                          diagnostic when spans are started through a
//                          provider that was shut down (a dropped TracingHandle).
//   Published<T>           immutable snapshots (options, callbacks) published
//                          to serving threads through an atomic pointer, the
//                          replaced ones kept alive (a worker may still use them).
//   RunGuarded             runs a user hook; whatever it throws is caught and
//                          reported (once, or each time: HookExceptionPolicy),
//                          naming the exception's type.
//   CurrentExceptionTypeName / TypeName   demangled exception type names.
//   SetInstrumentationAttribute(s)  semantic-convention attributes set after
//                          start that user attributes and captured headers
//                          cannot displace at the attribute count limit.
//   AttrList<N>            a bounded attribute list on the stack: Add cannot
//                          overflow (past N it drops and counts; debug builds
//                          assert), for SpanOptions::attributes.
//
//   namespace inst = otelweb::instrumentation;
//   inst::InstrumentationTracer tracer_("otelweb.myframework.server", otelweb::kVersion,
//                                       options.tracer_provider);
//   ...per request:
//   const inst::ResolvedTracer& r = tracer_.Resolve();
//   otelweb::Span span = tracer_.StartSpan(r, "GET", span_options);
//   inst::RunGuarded(hook_warned_, "request hook", [&] { hook(span.Ref(), req); });
//
// Metrics and logs: a ResolvedTracer is one resolution at one
// GlobalsGeneration(). The meter and logger of the same scope will be resolved
// the same way: either as InstrumentationMeter / InstrumentationLogger beside
// this class (same Resolve()/generation pattern, same Published<> cache), or, for
// instrumentations that record all three signals, as `meter` and `logger` fields
// added to the resolved snapshot, so one generation compare per request serves
// the three. The generation then also changes when the global meter or logger
// provider is replaced.
//
// Ownership: an InstrumentationTracer owns its snapshots (every one it ever
// resolved stays alive with it; they change only when the globals are
// replaced). It holds no reference to a global provider: a provider replaced
// and dropped by the application is destroyed (and flushed) as usual. A
// Published<T> owns every value published to it.
// Thread-safety: every member may be called from any thread. Resolve() and
// Published<T>::Get() take no lock (atomic loads); a resolution after the
// globals changed, and Publish, take a mutex.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "otelweb/attribute.h"
#include "otelweb/common.h"
#include "otelweb/diagnostics.h"
#include "otelweb/propagation.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::instrumentation {

// ---------------------------------------------------------------------------
// Published<T>

// A value read by serving threads without a lock and replaced, rarely, as a
// whole. Get() is one acquire load. Publish keeps every earlier value alive
// until the Published is destroyed: a thread that loaded it may still be using
// it, and values change rarely (at configuration time), so keeping them costs
// little and needs no reference count or reader lock on the request path.
template <typename T>
class Published {
 public:
  Published() = default;
  explicit Published(std::unique_ptr<T> first) { Publish(std::move(first)); }
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  // The current value (null before the first Publish, or after Withdraw).
  const T* Get() const noexcept { return current_.load(std::memory_order_acquire); }

  // Makes `next` the current value; returns it. Throws std::bad_alloc (the
  // current value then stays).
  const T* Publish(std::unique_ptr<T> next) {
    std::lock_guard<std::mutex> lock(mu_);
    return PublishLocked(std::move(next));
  }
  // Publishes a copy of the current value (a default T when there is none)
  // with change(T&) applied; concurrent Updates are serialised.
  template <typename F>
  const T* Update(F&& change) {
    std::lock_guard<std::mutex> lock(mu_);
    const T* cur = current_.load(std::memory_order_relaxed);
    auto next = cur != nullptr ? std::make_unique<T>(*cur) : std::make_unique<T>();
    std::forward<F>(change)(*next);
    return PublishLocked(std::move(next));
  }
  // Publishes the value made by make() unless `keep(current)` says the current
  // one is still good, all under the lock: the double-checked slow path of a
  // cache. Returns the current value afterwards.
  template <typename Keep, typename Make>
  const T* PublishUnless(Keep&& keep, Make&& make) {
    std::lock_guard<std::mutex> lock(mu_);
    const T* cur = current_.load(std::memory_order_relaxed);
    if (cur != nullptr && keep(*cur)) return cur;
    return PublishLocked(make());
  }
  // No current value any more (Get() returns null); earlier values stay alive.
  void Withdraw() noexcept { current_.store(nullptr, std::memory_order_release); }
  // How many values were ever published (tests).
  size_t history_size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return history_.size();
  }

 private:
  const T* PublishLocked(std::unique_ptr<T> next) {
    const T* p = next.get();
    history_.push_back(std::move(next));
    current_.store(p, std::memory_order_release);
    return p;
  }
  mutable std::mutex mu_;
  std::atomic<const T*> current_{nullptr};
  std::vector<std::unique_ptr<T>> history_;
};

// ---------------------------------------------------------------------------
// Instrumentation-owned attributes

// Sets a span attribute that the instrumentation owns: a semantic-convention
// attribute it sets after the span started (http.route, the response status
// code, error.type, db.response.status_code ...). Like SpanRef::SetAttribute,
// except on a span whose attribute count limit is reached: the attribute then
// takes the place of the most recently added attribute that is not
// instrumentation-owned (which is counted as dropped), so that captured
// headers or attributes set by user code can never push it out. Attributes
// given at start (SpanOptions::attributes, a sampler's) count as owned too and
// are never displaced. Over the limit with only owned attributes, or with a
// limit of 0, it is dropped as usual. Thread-safety and ownership as SpanRef::SetAttribute (one thread at
// a time per span; the value is copied). Non-recording spans: no-op.
void SetInstrumentationAttribute(const SpanRef& span, std::string_view key, AttributeValue value) noexcept;
void SetInstrumentationAttributes(const SpanRef& span, Attributes attrs) noexcept;

// ---------------------------------------------------------------------------
// AttrList<N>

// At most N attributes, stored in place (no allocation); keys and values are
// borrowed (they must outlive the use of attributes()). Add past N drops the
// attribute and counts it in dropped(), and asserts in debug builds: N is a
// compile-time bound the instrumentation chose, so reaching it is a bug to
// fix by raising N, never memory corruption.
// Called by AttrList on overflow: one warning per process naming the first
// key that did not fit (a bug in an instrumentation: its N is too small).
void ReportAttrListOverflow(std::string_view key, size_t capacity) noexcept;

template <size_t N>
class AttrList {
  static_assert(std::is_trivially_destructible_v<KeyValue> &&
                std::is_trivially_copyable_v<KeyValue>);

 public:
  static constexpr size_t kCapacity = N;
  // No element is constructed until added (the storage is raw): an unused
  // capacity costs nothing.
  AttrList() noexcept {}
  AttrList(const AttrList&) = delete;
  AttrList& operator=(const AttrList&) = delete;

  void Add(std::string_view key, AttributeValue value) noexcept {
    if (n_ < N) [[likely]] {
      ::new (static_cast<void*>(&slots_[n_])) KeyValue{key, value};
      ++n_;
    } else {
      ++dropped_;
      assert(false && "AttrList<N>: more attributes than N; raise N");
      ReportAttrListOverflow(key, N);  // release builds: one warning per process
    }
  }
  // Adds when the string is not empty / the number is positive (the usual
  // "only when known" rule of semantic conventions).
  void AddIfNotEmpty(std::string_view key, std::string_view value) noexcept {
    if (!value.empty()) Add(key, value);
  }
  void AddIfPositive(std::string_view key, int64_t value) noexcept {
    if (value > 0) Add(key, value);
  }

  Attributes attributes() const noexcept { return Attributes(data(), n_); }
  size_t size() const noexcept { return n_; }
  size_t dropped() const noexcept { return dropped_; }
  const KeyValue& operator[](size_t i) const noexcept { return data()[i]; }
  const KeyValue* begin() const noexcept { return data(); }
  const KeyValue* end() const noexcept { return data() + n_; }
  // The value of `key` (the first one added), or null.
  const AttributeValue* Find(std::string_view key) const noexcept {
    for (size_t i = 0; i < n_; ++i) {
      if (data()[i].key == key) return &data()[i].value;
    }
    return nullptr;
  }

 private:
  struct alignas(KeyValue) Slot {
    unsigned char bytes[sizeof(KeyValue)];
  };
  const KeyValue* data() const noexcept {
    return std::launder(reinterpret_cast<const KeyValue*>(slots_));
  }
  Slot slots_[N];
  size_t n_ = 0;
  size_t dropped_ = 0;
};

// ---------------------------------------------------------------------------
// Exceptions and user hooks

// The demangled name of a type ("std::runtime_error"); "unknown" when it
// cannot be made (no allocation possible).
std::string TypeName(const std::type_info& type) noexcept;
// The demangled type of the exception being handled (call inside a catch
// block); "unknown" outside one.
std::string CurrentExceptionTypeName() noexcept;

// What happens when a user hook (request/response hook, statement hook...)
// throws. Under every policy the exception is caught: the request goes on and
// the span keeps what the hook set before throwing.
enum class HookExceptionPolicy : uint8_t {
  kReportOnce,  // one warning per instrumentation (the default; production)
  kReportEach,  // a warning for every failure (while writing or debugging a hook)
};

// Reports the exception being handled (call inside a catch block) as a
// warning: "otelweb: <what> threw <type>: <message> ...": once per `warned`
// flag (kReportOnce), or every time (kReportEach).
void ReportHookException(std::atomic<bool>& warned, std::string_view what,
                         HookExceptionPolicy policy = HookExceptionPolicy::kReportOnce) noexcept;

// Runs a user hook. Whatever it throws is caught and reported once per
// `warned` flag, naming `what` ("cpp-httplib request hook") and the exception's
// type. Returns false when the hook threw.
template <typename F>
bool RunGuarded(std::atomic<bool>& warned, std::string_view what, F&& hook,
                HookExceptionPolicy policy = HookExceptionPolicy::kReportOnce) noexcept {
  try {
    std::forward<F>(hook)();
    return true;
  } catch (...) {
    ReportHookException(warned, what, policy);
    return false;
  }
}

// ---------------------------------------------------------------------------
// InstrumentationTracer

// One resolution of the tracer and propagator, valid for one generation of
// the globals.
struct ResolvedTracer {
  // GlobalsGeneration() when resolved (0: never resolved).
  uint64_t generation = 0;
  Tracer tracer;
  // The global propagator (null only when it could not be read).
  std::shared_ptr<TextMapPropagator> propagator;
  // True when the tracer belongs to a real provider (an explicit one, or a
  // global one that is not the no-op provider). Servers extract the remote
  // context only then; clients inject the parent's context either way.
  bool live = false;
};

class InstrumentationTracer {
 public:
  // scope_name / scope_version: the instrumentation scope of the spans
  // ("otelweb.httplib.server", kVersion). provider: the explicit provider;
  // null: the global one, as it is whenever a span is started.
  explicit InstrumentationTracer(std::string_view scope_name,
                                 std::string_view scope_version = kVersion,
                                 std::shared_ptr<TracerProvider> provider = nullptr);
  InstrumentationTracer(const InstrumentationTracer&) = delete;
  InstrumentationTracer& operator=(const InstrumentationTracer&) = delete;

  // What to start spans with now. Hot path: one generation load and compare;
  // the globals are read again (under a lock) only after they were replaced.
  // The reference stays valid for the InstrumentationTracer's life.
  const ResolvedTracer& Resolve() const noexcept {
    const uint64_t gen = GlobalsGeneration();  // read before the snapshot it checks
    const ResolvedTracer* r = resolved_.Get();
    if (r != nullptr && r->generation == gen) [[likely]] {
      return *r;
    }
    return ResolveSlow(gen);
  }
  Tracer tracer() const noexcept { return Resolve().tracer; }
  const TextMapPropagator* propagator() const noexcept { return Resolve().propagator.get(); }

  // Starts a span with r.tracer. When that tracer's provider has been shut
  // down (spans would silently be dropped), reports it once per process, with
  // what to do (keep the TracingHandle alive).
  Span StartSpan(const ResolvedTracer& r, std::string_view name,
                 const SpanOptions& options = {}) const noexcept {
    Tracer t = r.tracer;  // a pointer-sized handle
    Span s = t.StartSpan(name, options);
    if (r.live && !s.GetContext().IsValid()) [[unlikely]] {
      CheckShutDown(r);
    }
    return s;
  }
  Span StartSpan(std::string_view name, const SpanOptions& options = {}) const noexcept {
    return StartSpan(Resolve(), name, options);
  }

  const std::string& scope_name() const noexcept { return scope_name_; }
  const std::shared_ptr<TracerProvider>& explicit_provider() const noexcept { return provider_; }

 private:
  const ResolvedTracer& ResolveSlow(uint64_t gen) const noexcept;
  void CheckShutDown(const ResolvedTracer& r) const noexcept;
  std::string scope_name_;
  std::string scope_version_;
  std::shared_ptr<TracerProvider> provider_;
  mutable Published<ResolvedTracer> resolved_;
};

// Tests: allow the "provider shut down" diagnostic to be reported again.
void ResetShutDownDiagnosticForTesting() noexcept;

}  // namespace otelweb::instrumentation
