// Tracer: a cheap handle that starts spans for one instrumentation scope
// (OpenTelemetry specification, API "Tracer"). Get one from a TracerProvider
// (otelweb/trace/tracer_provider.h).
//
// Ownership: a Tracer is a small value pointing into provider state that is
// kept until the end of the process, so a Tracer that outlives its provider
// never dangles: after the provider shuts down it starts no-op spans.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "otelweb/trace/span.h"

namespace otelweb {

struct InstrumentationScope {
  std::string name{};
  std::string version{};
  std::string schema_url{};
};

class TracerProvider;
namespace internal {
struct TracerCore;
}  // namespace internal

class Tracer {
 public:
  // A no-op tracer: every span it starts is non-recording and invalid.
  Tracer() noexcept = default;

  Span StartSpan(std::string_view name, const SpanOptions& options = {}) noexcept;
  Span StartSpan(std::string_view name, SpanKind kind) noexcept {
    SpanOptions o;
    o.kind = kind;
    return StartSpan(name, o);
  }
  // False once the provider is shut down (or for a no-op tracer).
  bool Enabled() const noexcept;
  const InstrumentationScope& scope() const noexcept;

 private:
  friend class TracerProvider;
  explicit Tracer(internal::TracerCore* core) noexcept : core_(core) {}
  internal::TracerCore* core_ = nullptr;
};

}  // namespace otelweb
