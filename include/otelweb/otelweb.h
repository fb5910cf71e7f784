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
#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/console_exporter.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/metrics/meter_provider.h"
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

// The logs part of InstallOptions: a LoggerProvider with the shared
// resource, installed as the global one (bridges such as the spdlog sink
// follow it). Exporter names (OTEL_LOGS_EXPORTER, comma-separated):
//   "otlp"         OTLP logs (otelweb::otlp::OtlpLogRecordExporter;
//                  OTEL_EXPORTER_OTLP_LOGS_* then OTEL_EXPORTER_OTLP_*)
//   "otlp/stdout"  one OTLP/JSON LogsData per line on standard output
//   "console"      one line per record on standard output
//   "none"         no exporter
// Unset in code and environment: "otlp" when OTEL_EXPORTER_OTLP_LOGS_ENDPOINT
// or OTEL_EXPORTER_OTLP_ENDPOINT is set, else "none" (the application's own
// log output already reaches the terminal; printing it twice helps nobody).
struct LogsOptions {
  std::string exporter_name{};
  std::unique_ptr<logs::LogRecordExporter> exporter{};  // takes precedence over exporter_name
  bool simple_processor = false;
  logs::BatchLogRecordProcessorOptions batch{};
  logs::LogRecordLimitsOptions limits{};
  // Per-scope logger configuration (minimum severity, trace-based filter).
  std::function<logs::LoggerConfig(const InstrumentationScope&)> configurator{};
  logs::ConsoleLogRecordExporterOptions console{};
};

// The metrics part of InstallOptions. Exporter names
// (OTEL_METRICS_EXPORTER): "otlp" (OTLP metrics, OTEL_EXPORTER_OTLP_METRICS_*
// then OTEL_EXPORTER_OTLP_*), "console" (a table per collection on standard
// output), "prometheus" (a /metrics endpoint on OTEL_EXPORTER_PROMETHEUS_HOST
// and _PORT, default localhost:9464, for a Prometheus server to scrape),
// "none". When neither the code nor OTEL_METRICS_EXPORTER names one:
// "otlp" if OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT is set, else none: a
// program does not print a table every minute unless asked (the traces'
// rule, without the console fallback). Each exporter gets a periodic
// exporting reader (OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT). With no exporter
// and no reader, no meter provider is installed and instrumentation records
// nothing (at the cost of one check per request).
class Telemetry;
struct InstallOptions;

struct MetricsOptions {
  std::string exporter_name{};
  std::unique_ptr<metrics::MetricExporter> exporter{};  // takes precedence over exporter_name
  // More readers (e.g. a ManualReader for tests or a pull exporter).
  std::vector<std::shared_ptr<metrics::MetricReader>> readers{};
  metrics::PeriodicReaderOptions periodic{};
  std::optional<metrics::ExemplarFilter> exemplar_filter{};  // else OTEL_METRICS_EXEMPLAR_FILTER
  size_t cardinality_limit = metrics::kDefaultCardinalityLimit;
};

// Owns the installed meter provider. On destruction (or Shutdown): ForceFlush
// + Shutdown within the shutdown timeout, and the global meter provider is
// reset to the no-op one if it is still this one.
class MetricsHandle {
 public:
  MetricsHandle() = default;
  // Takes over `provider` (installed as the global one by the caller, if wanted).
  MetricsHandle(std::shared_ptr<metrics::MeterProvider> provider, std::chrono::milliseconds timeout) noexcept
      : provider_(std::move(provider)), timeout_(timeout) {}
  MetricsHandle(MetricsHandle&&) noexcept = default;
  MetricsHandle& operator=(MetricsHandle&&) noexcept;
  ~MetricsHandle();
  // The provider; null when metrics were not installed.
  std::shared_ptr<metrics::MeterProvider> shared_provider() const noexcept { return provider_; }
  OperationResult Shutdown() noexcept;

 private:
  std::shared_ptr<metrics::MeterProvider> provider_;
  std::chrono::milliseconds timeout_{5000};
};

// Metrics alone (Install does this as part of everything): the exporters
// and readers of `options` with `resource` (default Resource::Create(); pass
// the tracer provider's to describe the process the same way), installed as
// the global meter provider. An empty handle when nothing would read.
MetricsHandle InstallMetrics(MetricsOptions options = {}, std::optional<Resource> resource = {},
                             std::chrono::milliseconds shutdown_timeout = std::chrono::milliseconds(5000));

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
  LogsOptions logs{};
  MetricsOptions metrics{};
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

// Owns every installed signal (traces and logs). Destruction or Shutdown()
// flushes and shuts down each, within the shutdown timeout for each.
class [[nodiscard(
    "keep the telemetry handle alive (e.g. `auto telemetry = otelweb::Install(...);` in main): "
    "dropping it shuts telemetry down at once")]] Telemetry {
 public:
  Telemetry() = default;
  Telemetry(Telemetry&&) noexcept = default;
  Telemetry& operator=(Telemetry&& o) noexcept;
  ~Telemetry();

  // Traces: the handle and its provider (a no-op provider when disabled).
  TracingHandle& traces() noexcept { return traces_; }
  TracerProvider& tracer_provider() const noexcept { return traces_.provider(); }
  // Logs: the provider (a no-op provider when logs are not installed, the
  // SDK is disabled, or after Shutdown).
  logs::LoggerProvider& logger_provider() const noexcept;
  std::shared_ptr<logs::LoggerProvider> shared_logger_provider() const noexcept { return logs_; }
  // Shuts every signal down (later signals first); the merged result.
  OperationResult Shutdown() noexcept;
  // Gives up the traces part, e.g. to keep it in a TracingHandle.
  TracingHandle ReleaseTraces() noexcept { return std::move(traces_); }
  // Metrics: the handle, and its provider (null when not installed).
  MetricsHandle& metrics() noexcept { return metrics_; }
  std::shared_ptr<metrics::MeterProvider> meter_provider() const noexcept { return metrics_.shared_provider(); }

 private:
  friend Telemetry Install(InstallOptions);
  OperationResult ShutdownLogs() noexcept;
  // Declared first: destroyed (shut down) after the metrics; logs are shut
  // down first, explicitly.
  TracingHandle traces_;
  MetricsHandle metrics_;
  std::shared_ptr<logs::LoggerProvider> logs_;
  std::chrono::milliseconds logs_timeout_{5000};
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
