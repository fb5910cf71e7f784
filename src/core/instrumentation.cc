// The instrumentation kit (otelweb/instrumentation.h).
#include "otelweb/instrumentation.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <string>

#include "core/internal.h"
#include "core/owned_attributes.h"

namespace otelweb::instrumentation {

namespace {

// One per process: the mistake it reports is the program's, not one
// instrumentation's.
std::atomic<bool> g_shut_down_reported{false};

std::string Demangle(const char* mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = (status == 0 && d != nullptr) ? std::string(d) : std::string(mangled);
  std::free(d);
  return out;
}

void ReportShutDown(std::string_view scope, bool dropped_global) noexcept {
  if (g_shut_down_reported.load(std::memory_order_relaxed)) return;
  try {
    std::string msg = "otelweb: instrumentation '";
    msg.append(scope);
    if (dropped_global) {
      msg.append(
          "' is tracing requests, but the tracer provider installed as the global one has been "
          "shut down and removed (the TracingHandle returned by InstallTracing was destroyed), so "
          "no spans are recorded or exported. Keep the handle alive for the life of the program "
          "(auto tracing = otelweb::InstallTracing(...); in main), or install tracing again "
          "(reported once)");
    } else {
      msg.append(
          "' starts spans through a tracer provider that has been shut down, so they are dropped. "
          "If it came from InstallTracing, keep the TracingHandle it returned alive for the life "
          "of the program; if you shut it down on purpose, give the instrumentation a live "
          "provider or install tracing again (reported once)");
    }
    LogOnce(g_shut_down_reported, LogLevel::kWarning, msg);
  } catch (...) {
  }
}

}  // namespace

void SetInstrumentationAttribute(const SpanRef& span, std::string_view key, AttributeValue value) noexcept {
  internal::SpanRecord* r = internal::ContextAccess::Record(span);
  if (r == nullptr || r->gen.load(std::memory_order_relaxed) != internal::ContextAccess::RecordGen(span)) {
    return;
  }
  const KeyValue kv{key, value};
  internal::StoreOwnedSpanAttributes(r, Attributes(&kv, 1));
}

void SetInstrumentationAttributes(const SpanRef& span, Attributes attrs) noexcept {
  internal::SpanRecord* r = internal::ContextAccess::Record(span);
  if (r == nullptr || r->gen.load(std::memory_order_relaxed) != internal::ContextAccess::RecordGen(span)) {
    return;
  }
  internal::StoreOwnedSpanAttributes(r, attrs);
}

void ReportAttrListOverflow(std::string_view key, size_t capacity) noexcept {
  static std::atomic<bool> warned{false};
  try {
    LogOnce(warned, LogLevel::kWarning,
            "otelweb: an instrumentation built more than " + std::to_string(capacity) +
                " attributes into a fixed list; '" + std::string(key) +
                "' and later ones were left out of the span. Please report this as an otelweb bug");
  } catch (...) {
  }
}

// ---------------------------------------------------------------------------
// Exceptions and hooks

std::string TypeName(const std::type_info& type) noexcept {
  try {
    return Demangle(type.name());
  } catch (...) {
    return "unknown";
  }
}

std::string CurrentExceptionTypeName() noexcept {
  try {
    const std::type_info* ti = abi::__cxa_current_exception_type();
    return ti != nullptr ? Demangle(ti->name()) : std::string("unknown");
  } catch (...) {
    return "unknown";
  }
}

void ReportHookException(std::atomic<bool>& warned, std::string_view what,
                         HookExceptionPolicy policy) noexcept {
  const bool each = policy == HookExceptionPolicy::kReportEach;
  if (!each && warned.load(std::memory_order_relaxed)) return;
  try {
    std::string msg = "otelweb: ";
    msg.append(what).append(" threw ").append(CurrentExceptionTypeName());
    try {
      throw;
    } catch (const std::exception& e) {
      msg.append(": ").append(e.what());
    } catch (...) {
    }
    msg.append(
        " (caught; the request goes on, the span keeps what the hook set before throwing). "
        "Make the hook catch its own errors");
    msg.append(each ? " (reported every time: hook_exceptions = kReportEach)" : " (reported once)");
    if (each) {
      warned.store(true, std::memory_order_relaxed);
      Log(LogLevel::kWarning, msg);
    } else {
      LogOnce(warned, LogLevel::kWarning, msg);
    }
  } catch (...) {
    if (each) {
      Log(LogLevel::kWarning, "otelweb: a user hook threw");
    } else {
      LogOnce(warned, LogLevel::kWarning, "otelweb: a user hook threw (reported once)");
    }
  }
}

// ---------------------------------------------------------------------------
// InstrumentationTracer

InstrumentationTracer::InstrumentationTracer(std::string_view scope_name,
                                             std::string_view scope_version,
                                             std::shared_ptr<TracerProvider> provider)
    : scope_name_(scope_name), scope_version_(scope_version), provider_(std::move(provider)) {}

const ResolvedTracer& InstrumentationTracer::ResolveSlow(uint64_t gen) const noexcept {
  static const ResolvedTracer kNothing{};
  const ResolvedTracer* r = resolved_.Get();
  try {
    bool dropped = false;
    r = resolved_.PublishUnless([gen](const ResolvedTracer& cur) { return cur.generation == gen; },
                                [&] {
                                  auto next = std::make_unique<ResolvedTracer>();
                                  next->generation = gen;
                                  std::shared_ptr<TracerProvider> p =
                                      provider_ ? provider_ : GetTracerProvider();
                                  next->tracer = p->GetTracer(scope_name_, scope_version_);
                                  next->live = provider_ != nullptr || p != TracerProvider::NoOp();
                                  next->propagator = GetTextMapPropagator();
                                  dropped = !next->live && internal::GlobalProviderDroppedAndShutDown();
                                  return next;
                                });
    // Resolving means a span is about to be started: if the global provider
    // is gone because its handle was dropped, say so (once).
    if (dropped) ReportShutDown(scope_name_, /*dropped_global=*/true);
    return *r;
  } catch (...) {
    return r != nullptr ? *r : kNothing;
  }
}

void InstrumentationTracer::CheckShutDown(const ResolvedTracer& r) const noexcept {
  // An invalid span from a real provider's tracer: shut down (or, rarely, out
  // of memory, which Enabled() tells apart).
  if (!r.tracer.Enabled()) ReportShutDown(scope_name_, /*dropped_global=*/false);
}

void ResetShutDownDiagnosticForTesting() noexcept {
  g_shut_down_reported.store(false, std::memory_order_relaxed);
}

}  // namespace otelweb::instrumentation
