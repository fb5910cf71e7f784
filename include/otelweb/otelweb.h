// The one-call setup (the umbrella library otelweb::otelweb, pkg-config
// module `otelweb`): builds the SDK from code options and OTEL_* variables,
// installs it (and the propagators) globally, and returns an RAII handle that
// flushes and shuts everything down when it goes out of scope.
//
//   #include <otelweb/otelweb.h>
//   int main() {
//     auto tracing = otelweb::InstallTracing({.service_name = "my-service"});
//     auto tracer = otelweb::GetTracer("my-app");
//     auto span = tracer.StartSpan("work");
//   }
//
// Two forms of one call:
// - otelweb::Install(InstallOptions) -> otelweb::Telemetry: every signal.
//   InstallOptions holds what the signals share (service name, resource,
//   propagators, disabled, shutdown deadline) and one member per signal
//   (`traces` today; the metrics and logs work adds `metrics` and `logs`
//   members, and Telemetry gains matching accessors, so existing calls keep
//   compiling). Telemetry::Shutdown flushes and stops every signal.
// - otelweb::InstallTracing(TracingOptions) -> otelweb::TracingHandle: the
//   traces-only form, kept as the short path for tracing-only programs.
//
// Both handles are [[nodiscard]]: dropping one shuts tracing down at once
// (the compiler warns; with -Werror the build fails).
//
// Ownership: the handle owns the provider (shared with the global slot).
// Thread-safety: Install/InstallTracing are meant to be called once at
// start-up, from one thread (calling again replaces the global provider;
// instrumentations follow). A handle may be destroyed on any thread.
// Spec: SDK environment variables (OTEL_SDK_DISABLED, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_PROPAGATORS, OTEL_TRACES_EXPORTER, ...); see
// docs/configuration.md for each variable and the exporter names.
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
#include "otelweb/graceful_stop.h"
#include "otelweb/propagation.h"
#include "otelweb/resource.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/console_exporter.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb {

// Exporter names understood in TracesOptions::exporter_name and
// OTEL_TRACES_EXPORTER (comma-separated for several):
//   "otlp"         OTLP over gRPC or HTTP (otelweb::otlp::OtlpSpanExporter;
//                  OTEL_EXPORTER_OTLP_* variables)
//   "otlp/stdout"  the OTLP file exporter on standard output: one OTLP/JSON
//                  TracesData per line (otelweb::otlp::OtlpFileExporter)
//   "console"      trace trees for people on standard output
//   "none"         no exporter
// plus names registered with RegisterExporterFactory. Each exporter gets its
// own batch span processor (or a simple one with `simple_processor`).

// The traces part of InstallOptions (every field: code beats environment
// beats defaults).
struct TracesOptions {
  std::shared_ptr<Sampler> sampler{};  // else OTEL_TRACES_SAMPLER[_ARG]
  // Exporter names as above; empty: OTEL_TRACES_EXPORTER; when that is unset
  // too: "otlp" if OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT is set, else
  // "console" (the spec's default is otlp; a library that prints to the
  // terminal until told where the collector is is friendlier, and never sends
  // data to a port nobody configured). Ignored when `exporter` is given.
  std::string exporter_name{};
  std::unique_ptr<SpanExporter> exporter{};  // takes precedence over exporter_name
  // Batch (the default) or simple processing for each exporter.
  bool simple_processor = false;
  BatchSpanProcessorOptions batch{};
  SpanLimitsOptions limits{};
  // For the "console" exporter when it is chosen by name (e.g. an
  // application's own keys in highlight_keys).
  ConsoleSpanExporterOptions console{};
};

// Options for every signal. Fields shared by the signals first, then one
// member per signal.
struct InstallOptions {
  std::string service_name{};                        // else OTEL_SERVICE_NAME, else unknown_service:<exe>
  std::vector<OwnedKeyValue> resource_attributes{};  // merged over OTEL_RESOURCE_ATTRIBUTES
  std::string propagators{};                         // else OTEL_PROPAGATORS, else tracecontext,baggage
  std::optional<bool> disabled{};                    // else OTEL_SDK_DISABLED
  // Deadline for the flush and shutdown of each signal when the handle goes:
  // this, else traces.batch.export_timeout, else OTEL_BSP_EXPORT_TIMEOUT,
  // else 5000 ms. 0 = no limit, capped (like any value) at kShutdownCeiling
  // (otelweb/common.h, the deadline model).
  std::optional<std::chrono::milliseconds> shutdown_timeout{};
  TracesOptions traces{};
};

// The traces-only options of InstallTracing: the shared fields and the
// traces fields of InstallOptions, flat.
struct TracingOptions {
  std::string service_name{};
  std::vector<OwnedKeyValue> resource_attributes{};
  std::shared_ptr<Sampler> sampler{};
  std::string exporter_name{};
  std::unique_ptr<SpanExporter> exporter{};
  bool simple_processor = false;
  BatchSpanProcessorOptions batch{};
  SpanLimitsOptions limits{};
  std::string propagators{};
  std::optional<bool> disabled{};
  std::optional<std::chrono::milliseconds> shutdown_timeout{};  // as InstallOptions::shutdown_timeout
  ConsoleSpanExporterOptions console{};
};

class Telemetry;

// Owns the installed tracer provider. On destruction (or Shutdown):
// ForceFlush + Shutdown within the shutdown timeout (one deadline for both;
// see InstallOptions::shutdown_timeout), and the global provider is reset to
// the no-op one if it is still this one. Spans not exported by then are
// counted by reason (GetSdkCounters) and reported in one line.
class [[nodiscard(
    "keep the tracing handle alive (e.g. `auto tracing = otelweb::InstallTracing(...);` in main): "
    "dropping it shuts tracing down at once")]] TracingHandle {
 public:
  TracingHandle() = default;
  TracingHandle(TracingHandle&&) noexcept = default;
  TracingHandle& operator=(TracingHandle&&) noexcept;
  ~TracingHandle();

  // The provider; after Shutdown (or when moved from), the no-op provider.
  TracerProvider& provider() const noexcept { return provider_ ? *provider_ : NoOpProvider(); }
  std::shared_ptr<TracerProvider> shared_provider() const noexcept { return provider_; }
  OperationResult Shutdown() noexcept;
  // The deadline Shutdown applies (resolved at install time).
  std::chrono::milliseconds shutdown_timeout() const noexcept { return timeout_; }

 private:
  friend class Telemetry;
  friend Telemetry Install(InstallOptions);
  static TracerProvider& NoOpProvider() noexcept;
  std::shared_ptr<TracerProvider> provider_;
  std::chrono::milliseconds timeout_{5000};
};

// Owns every installed signal (traces today). Destruction or Shutdown()
// flushes and shuts down each, within the shutdown timeout for each.
class [[nodiscard(
    "keep the telemetry handle alive (e.g. `auto telemetry = otelweb::Install(...);` in main): "
    "dropping it shuts telemetry down at once")]] Telemetry {
 public:
  Telemetry() = default;
  Telemetry(Telemetry&&) noexcept = default;
  Telemetry& operator=(Telemetry&&) noexcept = default;
  ~Telemetry() = default;

  // Traces: the handle and its provider (a no-op provider when disabled).
  TracingHandle& traces() noexcept { return traces_; }
  TracerProvider& tracer_provider() const noexcept { return traces_.provider(); }
  // Shuts every signal down (later signals first); the merged result.
  OperationResult Shutdown() noexcept;
  // Gives up the traces part, e.g. to keep it in a TracingHandle.
  TracingHandle ReleaseTraces() noexcept { return std::move(traces_); }

 private:
  friend Telemetry Install(InstallOptions);
  TracingHandle traces_;
};

// Installs every signal configured by `options` and the environment.
Telemetry Install(InstallOptions options = {});

// The traces-only form: Install with these fields, returning the traces handle.
TracingHandle InstallTracing(TracingOptions options = {});

// Exporter factories by name, consulted for OTEL_TRACES_EXPORTER before the
// built-in names above (a registered name replaces a built-in one).
using ExporterFactory = std::function<std::unique_ptr<SpanExporter>()>;
void RegisterExporterFactory(std::string name, ExporterFactory factory);

namespace otlp {
// Formerly needed to make "otlp" known to InstallTracing; otelweb::otelweb
// now knows it without this call.
[[deprecated("not needed: otelweb::otelweb knows the \"otlp\" exporter")]] void RegisterExporter();
}  // namespace otlp

}  // namespace otelweb
