// TracerProvider: the trace SDK's root object (OpenTelemetry specification,
// SDK "Tracer Provider"), and the global provider.
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
#include <string_view>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/diagnostics.h"
#include "otelweb/resource.h"
#include "otelweb/trace/id_generator.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span_limits.h"
#include "otelweb/trace/span_processor.h"
#include "otelweb/trace/tracer.h"

namespace otelweb {

struct TracerProviderOptions {
  // Default: Resource::Create() (environment and detected attributes).
  std::optional<Resource> resource{};
  // Default: from OTEL_TRACES_SAMPLER[_ARG], else parentbased_always_on.
  std::shared_ptr<Sampler> sampler{};
  // Default: the built-in random generator.
  std::shared_ptr<IdGenerator> id_generator{};
  SpanLimitsOptions limits{};
  std::vector<std::unique_ptr<SpanProcessor>> processors{};
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

}  // namespace otelweb
