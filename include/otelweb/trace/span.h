// Spans: the owning, move-only Span handle and the non-owning SpanRef.
//
// Ownership: a Span owns the right to end its span; it ends it on destruction
// if nobody did. A SpanRef (from GetCurrentSpan() or Context::span()) can
// annotate a span it does not own; once that span has ended every call on the
// ref is a no-op, so a stale ref is harmless.
// Thread-safety: a span is written by one thread at a time. Hand a Span (by
// move) or a Context to another thread to continue it there; concurrent calls
// on the same span from two threads need the caller's own synchronization.
// This is a deliberate trade: an uncontended lock per SetAttribute would double
// the cost of a span.
// Every method is noexcept: telemetry never throws into the application.
#pragma once

#include <cstdint>
#include <exception>
#include <span>
#include <string_view>
#include <utility>

#include "otelweb/attribute.h"
#include "otelweb/common.h"
#include "otelweb/context.h"
#include "otelweb/trace/span_context.h"

namespace otelweb {

// Values are the OTLP enum numbers.
enum class SpanKind : uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};
std::string_view SpanKindName(SpanKind k) noexcept;

// Values are the OTLP enum numbers.
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };
std::string_view StatusCodeName(StatusCode c) noexcept;

struct Link {
  SpanContext context{};
  Attributes attributes{};
};

struct SpanOptions {
  SpanKind kind = SpanKind::kInternal;
  // Explicit parent. nullptr: the calling thread's current context.
  const Context* parent = nullptr;
  // Start a new trace, ignoring the current context (and `parent`).
  bool root = false;
  // Zero (the default): now.
  Timestamp start_time{};
  // Attributes known at start; samplers see them.
  Attributes attributes{};
  std::span<const Link> links{};
};

class SpanRef {
 public:
  SpanRef() noexcept = default;

  // False for non-sampled, no-op and ended spans. Check it before computing
  // expensive attribute values.
  bool IsRecording() const noexcept;
  // Valid even for non-recording spans (propagation still needs the ids).
  const SpanContext& GetContext() const noexcept { return context_; }

  // Overwrites a previous value of the same key. Over the span's attribute
  // count limit the new attribute is dropped and counted; over the value
  // length limit (in code points) strings are cut after that many characters.
  void SetAttribute(std::string_view key, AttributeValue value) noexcept {
    if (record_ != nullptr) SetAttributeImpl(key, value);
  }
  void SetAttributes(Attributes attrs) noexcept {
    if (record_ != nullptr) SetAttributesImpl(attrs);
  }
  void AddEvent(std::string_view name, Attributes attrs = {}, Timestamp ts = {}) noexcept {
    if (record_ != nullptr) AddEventImpl(name, attrs, ts);
  }
  void AddLink(const SpanContext& ctx, Attributes attrs = {}) noexcept {
    if (record_ != nullptr) AddLinkImpl(ctx, attrs);
  }
  // Ok is final; Unset is ignored; a description is kept only with Error.
  void SetStatus(StatusCode code, std::string_view description = {}) noexcept {
    if (record_ != nullptr) SetStatusImpl(code, description);
  }
  void UpdateName(std::string_view name) noexcept {
    if (record_ != nullptr) UpdateNameImpl(name);
  }
  // Adds the `exception` event with exception.type (the demangled dynamic
  // type) and exception.message (what()). Does not change the status.
  void RecordException(const std::exception& e, Attributes extra = {}) noexcept;
  void RecordException(std::string_view type, std::string_view message,
                       Attributes extra = {}) noexcept;
  // Records std::current_exception() if there is one (use inside catch(...)).
  void RecordCurrentException(Attributes extra = {}) noexcept;

  // A context whose active span is this one (for Scope or hand-off).
  Context AsContext(const Context& base = Context::Current()) const noexcept;

 protected:
  friend struct internal::ContextAccess;
  SpanRef(internal::SpanRecord* rec, uint32_t gen, const SpanContext& ctx) noexcept
      : record_(rec), gen_(gen), context_(ctx) {}
  SpanRef(internal::SpanRecord* rec, uint32_t gen, SpanContext&& ctx) noexcept
      : record_(rec), gen_(gen), context_(std::move(ctx)) {}
  // A span context built in place (a span start's handle: each field written once).
  SpanRef(internal::SpanRecord* rec, uint32_t gen, const TraceId& trace_id, const SpanId& span_id,
          TraceFlags flags, const TraceState& state) noexcept
      : record_(rec), gen_(gen), context_(trace_id, span_id, flags, false, state) {}
  void SetAttributeImpl(std::string_view key, AttributeValue value) noexcept;
  void SetAttributesImpl(Attributes attrs) noexcept;
  void AddEventImpl(std::string_view name, Attributes attrs, Timestamp ts) noexcept;
  void AddLinkImpl(const SpanContext& ctx, Attributes attrs) noexcept;
  void SetStatusImpl(StatusCode code, std::string_view description) noexcept;
  void UpdateNameImpl(std::string_view name) noexcept;

  internal::SpanRecord* record_ = nullptr;
  uint32_t gen_ = 0;
  SpanContext context_;
};

class Span : public SpanRef {
 public:
  Span() noexcept = default;
  Span(Span&& o) noexcept : SpanRef(std::move(o)) { o.record_ = nullptr; }
  Span& operator=(Span&& o) noexcept {
    if (this != &o) {
      End();
      SpanRef::operator=(std::move(o));
      o.record_ = nullptr;
    }
    return *this;
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() {
    if (record_ != nullptr) EndImpl(Timestamp{});
  }

  // Ends the span (zero timestamp: now). Later calls do nothing; on a
  // non-recording span it is an inline null check.
  void End(Timestamp end_time = {}) noexcept {
    if (record_ != nullptr) EndImpl(end_time);
  }

  // A non-owning reference, e.g. to give to code that annotates but must not end.
  SpanRef Ref() const noexcept { return *this; }

 private:
  friend class Tracer;
  using SpanRef::SpanRef;
  void EndImpl(Timestamp end_time) noexcept;
};

// The calling thread's current span (a no-op ref when none is active).
SpanRef GetCurrentSpan() noexcept;

// Makes a span current for the lifetime of the returned scope:
//   auto span = tracer.StartSpan("work");
//   otelweb::Scope scope = otelweb::MakeCurrent(span);   (C++17 guaranteed elision)
inline Scope MakeCurrent(const SpanRef& span) noexcept { return Scope(span.AsContext()); }

}  // namespace otelweb
