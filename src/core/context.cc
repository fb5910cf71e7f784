// The thread-local context stack and RAII scopes.
#include <atomic>

#include "core/internal.h"
#include "otelweb/context.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/span.h"

namespace otelweb {

using internal::State;
using internal::ThreadState;

Context Context::Current() noexcept { return internal::CurrentContextRef(); }

SpanRef Context::span() const noexcept {
  // Without a record (a non-recording span made current, or a remote parent)
  // the SpanRef records nothing but still carries the span context: log
  // correlation and GetCurrentSpan().GetContext() need the ids of an
  // unsampled request too (spec: a SpanContext wrapped in a non-recording span).
  return internal::ContextAccess::MakeRef(record_, record_gen_, span_context_);
}

Context Context::WithSpanContext(SpanContext sc) const noexcept {
  Context c = *this;
  c.span_context_ = std::move(sc);
  c.record_ = nullptr;
  c.record_gen_ = 0;
  return c;
}

Context Context::WithBaggage(Baggage b) const noexcept {
  Context c = *this;
  c.baggage_ = std::move(b);
  return c;
}

Context Context::WithInstrumentationSuppressed(bool suppressed) const noexcept {
  Context c = *this;
  c.flags_ = suppressed ? (c.flags_ | kSuppressed) : (c.flags_ & ~kSuppressed);
  return c;
}

namespace {
std::atomic<bool> g_warned_out_of_order{false};
std::atomic<bool> g_warned_cross_thread{false};
std::atomic<bool> g_warned_stale{false};
}  // namespace

Scope::Scope(const Context& ctx) noexcept {
  ThreadState& s = State();
  stack_ = &s;
  serial_ = s.next_serial++;
  index_ = static_cast<uint32_t>(s.stack.size());
  try {
    s.stack.emplace_back(ctx, serial_, false);  // one copy of the context, in place
    detail::t_sampled_span_current = ctx.span_context().sampled();
  } catch (...) {
    stack_ = nullptr;  // could not attach: the scope does nothing
    Log(LogLevel::kError, "context scope could not be attached (out of memory)");
  }
}

Scope::~Scope() {
  if (stack_ == nullptr) return;
  ThreadState* s = internal::t_state;
  if (s != stack_) {
    LogOnce(g_warned_cross_thread, LogLevel::kError,
            "a context Scope was destroyed on a thread other than the one that created it; "
            "it was ignored (use Context::Current() and a new Scope to hand a context over)");
    return;
  }
  auto& st = s->stack;
  if (index_ >= st.size() || st[index_].serial != serial_) {
    LogOnce(g_warned_stale, LogLevel::kError, "a context Scope was detached twice; ignored");
    return;
  }
  if (index_ + 1 == st.size()) {
    st.pop_back();
    while (st.size() > 1 && st.back().detached) st.pop_back();
    detail::t_sampled_span_current = st.back().ctx.span_context().sampled();
  } else {
    st[index_].detached = true;
    LogOnce(g_warned_out_of_order, LogLevel::kWarning,
            "context Scopes were destroyed out of order; the newer scope stays current until it "
            "ends (reported once)");
  }
}

}  // namespace otelweb
