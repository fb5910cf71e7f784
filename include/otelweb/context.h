// Context: what is "current" for a thread — the active span, baggage, and
// flags such as "instrumentation suppressed" — and RAII scopes that make a
// context current.
//
// Ownership: Context is a value (copies share baggage and trace state by
// reference count). It refers to an active local span without owning it: a
// span that ends while a context still names it simply stops accepting
// changes through that context.
// Thread-safety: a Context may be copied to and used on any thread (that is
// how async hand-off works). A Scope belongs to the thread that created it
// and must be destroyed there.
#pragma once

#include <cstdint>

#include "otelweb/baggage.h"
#include "otelweb/trace/span_context.h"

namespace otelweb {

namespace internal {
struct SpanRecord;
struct ContextAccess;
}  // namespace internal

class SpanRef;

namespace detail {
// True while the calling thread's current context names a sampled span. Kept
// by Scope (set when a scope is attached or detached), read inline by the
// metrics SDK so that the trace_based exemplar filter costs one thread-local
// load when no sampled span is current. Not part of the API: do not write it.
//
// Written by the library (context.cc) and read inline by the application
// (BoundSum::Add), so the program must hold one definition of it. A static
// build has one; in a shared build the dynamic linker merges the library's
// and the application's copies only if the symbol is exported. It is
// exported explicitly (default visibility) rather than only documented,
// because a shared build made with -fvisibility=hidden (a common packaging
// choice) would otherwise compile and run with two copies: the library
// would set its own, the application would read its own, always false, and
// bound instruments would silently never offer trace_based exemplars.
// Still unsupported: hiding it by a linker version script or
// -Wl,--exclude-libs, or linking the static library into more than one
// shared object (that duplicates all of the library's state, not just this).
[[gnu::visibility("default")]] inline constinit thread_local bool t_sampled_span_current = false;
}  // namespace detail

class Context {
 public:
  Context() noexcept = default;

  // The calling thread's current context (the empty context when no scope is
  // active). Cheap: a copy of the top of a thread-local stack.
  static Context Current() noexcept;

  const SpanContext& span_context() const noexcept { return span_context_; }
  const Baggage& baggage() const noexcept { return baggage_; }
  // The active span named by this context. It records nothing when the span
  // is not recording (unsampled), remote, or ended, but GetContext() still
  // returns the span context (valid for an unsampled or remote span; all
  // zero only when the context has no span at all).
  SpanRef span() const noexcept;
  bool instrumentation_suppressed() const noexcept { return (flags_ & kSuppressed) != 0; }

  // Derivations: each returns a new context, *this is unchanged.
  // A remote (or any) parent span context, e.g. from a propagator.
  Context WithSpanContext(SpanContext sc) const noexcept;
  Context WithBaggage(Baggage b) const noexcept;
  // Instrumentations check this to avoid tracing their own work (the
  // exporter's HTTP calls, for example).
  Context WithInstrumentationSuppressed(bool suppressed = true) const noexcept;

 private:
  friend struct internal::ContextAccess;
  static constexpr uint32_t kSuppressed = 1;

  SpanContext span_context_;
  internal::SpanRecord* record_ = nullptr;  // active local span, may be null
  uint32_t record_gen_ = 0;
  uint32_t flags_ = 0;
  Baggage baggage_;
};

// Makes a context current on this thread until destroyed. Scopes nest; a scope
// destroyed out of order is reported once through diagnostics and the stack is
// repaired without disturbing the scopes still alive. Not copyable or movable.
class Scope {
 public:
  explicit Scope(const Context& ctx) noexcept;
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  void* stack_;  // the owning thread's stack, to detect cross-thread destruction
  uint32_t index_;
  uint32_t serial_;
};

}  // namespace otelweb
