// The one-call setup: InstallTracing builds a TracerProvider from code options
// and OTEL_* variables, installs it (and the propagators) globally, and
// returns an RAII handle that flushes and shuts everything down when it goes
// out of scope.
//
//   #include <otelweb/otelweb.h>
//   int main() {
//     auto tracing = otelweb::InstallTracing({.service_name = "my-service"});
//     auto tracer = otelweb::GetTracer("my-app");
//     auto span = tracer.StartSpan("work");
//   }
//
// Ownership: the handle owns the provider (shared with the global slot).
// Thread-safety: InstallTracing is meant to be called once at start-up, from
// one thread. The handle may be destroyed on any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otelweb/baggage.h"
#include "otelweb/common.h"
#include "otelweb/context.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/propagation.h"
#include "otelweb/resource.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb {

struct TracingOptions {
  // Code beats environment beats defaults, field by field.
  std::string service_name{};              // else OTEL_SERVICE_NAME, else unknown_service:<exe>
  std::vector<OwnedKeyValue> resource_attributes{};  // merged over OTEL_RESOURCE_ATTRIBUTES
  std::shared_ptr<Sampler> sampler{};      // else OTEL_TRACES_SAMPLER[_ARG]
  // Exporter names as in OTEL_TRACES_EXPORTER ("console", "otlp", "none",
  // comma-separated for several); empty: OTEL_TRACES_EXPORTER;
  // when that is unset too: "otlp" if OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT is
  // set, else "console" (the spec's default is otlp; a library that prints
  // to the terminal until told where the collector is is friendlier, and
  // never sends data to a port nobody configured). Ignored when `exporter`
  // is given.
  std::string exporter_name{};
  std::unique_ptr<SpanExporter> exporter{};  // takes precedence over exporter_name
  // Batch (the default) or simple processing for the exporter above.
  bool simple_processor = false;
  BatchOptions batch{};
  SpanLimitsOptions limits{};
  std::string propagators{};               // else OTEL_PROPAGATORS, else tracecontext,baggage
  std::optional<bool> disabled{};          // else OTEL_SDK_DISABLED
  std::chrono::milliseconds shutdown_timeout{5000};
};

// Owns the installed provider. On destruction: ForceFlush + Shutdown within
// shutdown_timeout, and the global provider is reset to the no-op one.
class TracingHandle {
 public:
  TracingHandle() = default;
  TracingHandle(TracingHandle&&) noexcept = default;
  TracingHandle& operator=(TracingHandle&&) noexcept;
  ~TracingHandle();

  TracerProvider& provider() const noexcept { return *provider_; }
  std::shared_ptr<TracerProvider> shared_provider() const noexcept { return provider_; }
  OperationResult Shutdown() noexcept;

 private:
  friend TracingHandle InstallTracing(TracingOptions);
  std::shared_ptr<TracerProvider> provider_;
  std::chrono::milliseconds timeout_{5000};
};

TracingHandle InstallTracing(TracingOptions options = {});

// Exporter factories by name, consulted for OTEL_TRACES_EXPORTER. Core
// registers "console" and "none"; the OTLP library registers "otlp"
// (call otelweb::otlp::RegisterExporter(), or link otelweb::otelweb which does).
using ExporterFactory = std::function<std::unique_ptr<SpanExporter>()>;
void RegisterExporterFactory(std::string name, ExporterFactory factory);

}  // namespace otelweb
