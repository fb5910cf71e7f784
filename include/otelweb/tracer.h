// TracerProvider (the SDK's root object) and Tracer (a cheap handle that
// starts spans for one instrumentation scope).
//
// Ownership: a TracerProvider owns its processors, sampler and resource.
// Tracers are small values that point into provider state; that state is kept
// until the end of the process (a few hundred bytes per provider ever made),
// so a Tracer or a Span that outlives its provider never dangles: after the
// provider shuts down or is destroyed, it starts no-op spans.
// Thread-safety: everything here is safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/processor.h"
#include "otelweb/resource.h"
#include "otelweb/sampler.h"
#include "otelweb/span.h"

namespace otelweb {

struct InstrumentationScope {
  std::string name;
  std::string version;
  std::string schema_url;
};

// Per-span limits (OpenTelemetry spec). Unset fields come from the
// environment (OTEL_SPAN_*, OTEL_EVENT_*, OTEL_LINK_*, OTEL_ATTRIBUTE_*), else
// the spec's defaults: 128 for counts, no value-length limit.
struct SpanLimitsOptions {
  std::optional<uint32_t> attribute_count;
  std::optional<uint32_t> attribute_value_length;  // bytes; UINT32_MAX = unlimited
  std::optional<uint32_t> event_count;
  std::optional<uint32_t> link_count;
  std::optional<uint32_t> attributes_per_event;
  std::optional<uint32_t> attributes_per_link;
};

struct SpanLimits {
  static constexpr uint32_t kUnlimited = UINT32_MAX;
  uint32_t attribute_count = 128;
  uint32_t attribute_value_length = kUnlimited;
  uint32_t event_count = 128;
  uint32_t link_count = 128;
  uint32_t attributes_per_event = 128;
  uint32_t attributes_per_link = 128;
};
SpanLimits ResolveSpanLimits(const SpanLimitsOptions& options);

// Makes trace and span ids. The default is a per-thread xoshiro256** stream
// seeded from the OS, which makes ids without locks or syscalls.
// Thread-safety: called concurrently from every thread that starts spans.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual TraceId NewTraceId() noexcept = 0;
  virtual SpanId NewSpanId() noexcept = 0;
};

struct TracerProviderOptions {
  // Default: Resource::Create() (environment and detected attributes).
  std::optional<Resource> resource;
  // Default: from OTEL_TRACES_SAMPLER[_ARG], else parentbased_always_on.
  std::shared_ptr<Sampler> sampler;
  // Default: the built-in random generator.
  std::shared_ptr<IdGenerator> id_generator;
  SpanLimitsOptions limits;
  std::vector<std::unique_ptr<SpanProcessor>> processors;
};

class TracerProvider;

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

class TracerProvider {
 public:
  explicit TracerProvider(TracerProviderOptions options = {});
  ~TracerProvider();  // Shutdown() with the default deadline if not done
  TracerProvider(const TracerProvider&) = delete;
  TracerProvider& operator=(const TracerProvider&) = delete;

  // One Tracer per (name, version, schema_url); repeated calls return the
  // same one. An empty name is allowed (with a warning) as in the spec.
  Tracer GetTracer(std::string_view name, std::string_view version = {},
                   std::string_view schema_url = {});
  // Adds a processor; spans that end afterwards reach it too.
  void AddProcessor(std::unique_ptr<SpanProcessor> processor);

  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  // Flushes and shuts down every processor within the deadline (shared among
  // them). Afterwards every tracer starts no-op spans. Second call:
  // AlreadyShutDown.
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  bool IsShutDown() const noexcept;

  const Resource& resource() const noexcept;
  const SpanLimits& limits() const noexcept;
  const Sampler& sampler() const noexcept;

  // A provider that does nothing (what the global is until one is set).
  static std::shared_ptr<TracerProvider> NoOp();

 private:
  struct NoOpTag {};
  explicit TracerProvider(NoOpTag);
  internal::TracerCore* CoreFor(std::string_view, std::string_view, std::string_view);
  struct State;
  State* s_;  // kept until the end of the process (see the header comment)
};

// The global provider: a no-op provider until SetTracerProvider is called.
// Instrumentations use it when not given a provider explicitly.
std::shared_ptr<TracerProvider> GetTracerProvider() noexcept;
void SetTracerProvider(std::shared_ptr<TracerProvider> provider) noexcept;
// A number that changes whenever the global tracer provider or the global
// propagator is replaced (SetTracerProvider, SetTextMapPropagator, and so
// InstallTracing and TracingHandle's shutdown). Instrumentations that cache
// what they resolved from the globals compare it to know when to resolve
// again. One atomic load; never 0.
uint64_t GlobalsGeneration() noexcept;
// Shorthand for GetTracerProvider()->GetTracer(...).
Tracer GetTracer(std::string_view name, std::string_view version = {});

// Process-wide counters of the SDK itself (all providers together).
struct SdkCounters {
  uint64_t spans_started = 0;        // recording spans
  uint64_t spans_non_recording = 0;  // sampled out
  uint64_t spans_ended = 0;
  uint64_t spans_dropped_queue_full = 0;
  uint64_t spans_dropped_after_shutdown = 0;
  uint64_t spans_exported = 0;
  uint64_t spans_export_failed = 0;
  uint64_t export_calls_failed = 0;
};
SdkCounters GetSdkCounters() noexcept;

}  // namespace otelweb
