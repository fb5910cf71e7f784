// Install / InstallTracing: the one-call setup (umbrella library).
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/internal.h"
#include "otelweb/otelweb.h"
#include "otelweb/trace/console_exporter.h"
#ifdef OTELWEB_HAVE_OTLP
#include "otelweb/otlp/exporter.h"
#include "otelweb/otlp/file_exporter.h"
#include "otelweb/otlp/log_exporter.h"
#endif
#include "otelweb/logs/console_join.h"
#include "otelweb/logs/simple_log_record_processor.h"

namespace otelweb {

namespace internal {
// install_metrics.cc
MetricsHandle InstallMetrics(MetricsOptions options, const Resource& resource, std::chrono::milliseconds timeout);
}  // namespace internal

namespace {

struct FactoryRegistry {
  std::mutex mu;
  std::map<std::string, ExporterFactory, std::less<>> factories;
};

FactoryRegistry& Factories() {
  static FactoryRegistry* r = new FactoryRegistry;
  return *r;
}

constexpr const char* kKnown = "otlp, otlp/stdout, console, none";

// An endpoint as shown in the start-up line: user info and the query are
// replaced (they may hold credentials).
std::string RedactEndpoint(std::string url) {
  const size_t scheme = url.find("://");
  const size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t path = url.find_first_of("/?#", host);
  const size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
  if (at != std::string::npos && at >= host) url.replace(host, at - host, "REDACTED");
  const size_t q = url.find('?');
  if (q != std::string::npos) url.replace(q + 1, std::string::npos, "REDACTED");
  return url;
}

// "otlp-http-protobuf http://host:4318/v1/traces" or the exporter's name.
std::string Where(std::string_view name, const void* otlp_options) {
  std::string w(name);
#ifdef OTELWEB_HAVE_OTLP
  if (otlp_options != nullptr) {
    const auto& o = *static_cast<const otlp::ResolvedOtlpOptions*>(otlp_options);
    w += " " + RedactEndpoint(o.url);
  }
#else
  (void)otlp_options;
#endif
  return w;
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? "none" : out;
}

// The built-in exporters by name; nullptr for an unknown name.
std::unique_ptr<SpanExporter> MakeBuiltin(const std::string& name, const TracesOptions& options) {
  if (name == "console") return std::make_unique<ConsoleSpanExporter>(options.console);
#ifdef OTELWEB_HAVE_OTLP
  if (name == "otlp") return std::make_unique<otlp::OtlpSpanExporter>();
  if (name == "otlp/stdout") return std::make_unique<otlp::OtlpFileExporter>();
#else
  if (name == "otlp" || name == "otlp/stdout") {
    Log(LogLevel::kWarning, "OTEL_TRACES_EXPORTER=" + name +
                                " but otelweb was built without its OTLP library (zlib, libcurl, gRPC or "
                                "protobuf were missing): install them and rebuild otelweb; using the console "
                                "exporter");
    return std::make_unique<ConsoleSpanExporter>(options.console);
  }
#endif
  Log(LogLevel::kWarning, "unknown exporter '" + name + "' in OTEL_TRACES_EXPORTER (known: " + kKnown +
                              ", and names given to RegisterExporterFactory); ignored");
  return nullptr;
}

std::unique_ptr<SpanExporter> MakeNamed(const std::string& name, const TracesOptions& options) {
  ExporterFactory f;
  {
    std::lock_guard<std::mutex> lock(Factories().mu);
    auto it = Factories().factories.find(name);
    if (it != Factories().factories.end()) f = it->second;
  }
  try {
    if (!f) return MakeBuiltin(name, options);
    return f();
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "exporter '" + name + "' could not be created: " + e.what() +
                              "; its spans are dropped");
  } catch (...) {
    Log(LogLevel::kError, "exporter '" + name + "' could not be created; its spans are dropped");
  }
  return nullptr;
}

std::shared_ptr<TracerProvider> MakeTracerProvider(TracesOptions options, Resource resource,
                                                   std::vector<std::string>* where) {
  TracerProviderOptions po;
  po.resource = std::move(resource);
  po.sampler = options.sampler;
  po.limits = options.limits;

  std::vector<std::unique_ptr<SpanExporter>> exporters;
  if (options.exporter) {
    exporters.push_back(std::move(options.exporter));
  } else {
    std::string names = options.exporter_name;
    if (names.empty()) names = config::GetString("OTEL_TRACES_EXPORTER").value_or("");
    if (names.empty()) {
      // Not configured: OTLP when an endpoint is configured, else the terminal.
      bool endpoint = config::GetString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").has_value() ||
                      config::GetString("OTEL_EXPORTER_OTLP_ENDPOINT").has_value();
      names = endpoint ? "otlp" : "console";
    }
    for (const std::string& n : config::SplitList(names)) {
      if (n == "none") continue;
      if (auto e = MakeNamed(n, options)) exporters.push_back(std::move(e));
    }
  }
  for (auto& e : exporters) {
    const void* otlp_options = nullptr;
#ifdef OTELWEB_HAVE_OTLP
    if (auto* o = dynamic_cast<const otlp::OtlpSpanExporter*>(e.get())) otlp_options = &o->options();
#endif
    where->push_back(Where(e->Name(), otlp_options));
    if (options.simple_processor) {
      po.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::move(e)));
    } else {
      BatchSpanProcessorOptions batch = options.batch;
      // The console is read by a person waiting for the request's tree: a
      // short delay (never an export on the request thread) unless the code
      // or OTEL_BSP_SCHEDULE_DELAY says otherwise.
      if (e->Name() == "console" && !batch.schedule_delay &&
          !config::GetString("OTEL_BSP_SCHEDULE_DELAY").has_value()) {
        batch.schedule_delay = std::chrono::milliseconds(200);
      }
      po.processors.push_back(std::make_unique<BatchSpanProcessor>(std::move(e), batch));
    }
  }
  return std::make_shared<TracerProvider>(std::move(po));
}

// OTEL_LOGS_EXPORTER names; nullptr for "none" and unknown names.
std::unique_ptr<logs::LogRecordExporter> MakeLogExporter(const std::string& name, const LogsOptions& options,
                                                        const std::shared_ptr<logs::ConsoleLogJoin>& join) {
  if (name == "console") {
    if (join) return join->MakeExporter();
    return std::make_unique<logs::ConsoleLogRecordExporter>(options.console);
  }
#ifdef OTELWEB_HAVE_OTLP
  if (name == "otlp") return std::make_unique<otlp::OtlpLogRecordExporter>();
  if (name == "otlp/stdout") return std::make_unique<otlp::OtlpFileLogRecordExporter>();
#else
  if (name == "otlp" || name == "otlp/stdout") {
    Log(LogLevel::kWarning, "OTEL_LOGS_EXPORTER=" + name +
                                " but otelweb was built without its OTLP library (zlib, libcurl, gRPC or "
                                "protobuf were missing): install them and rebuild otelweb; logs are not exported");
    return nullptr;
  }
#endif
  Log(LogLevel::kWarning, "unknown exporter '" + name +
                              "' in OTEL_LOGS_EXPORTER (known: otlp, otlp/stdout, console, none); ignored");
  return nullptr;
}

// The exporter names of a signal: code, else its variable, else "otlp" when
// an OTLP endpoint is configured, else `fallback`.
std::vector<std::string> ExporterNames(const std::string& code, const char* variable, const char* endpoint_variable,
                                       const char* fallback) {
  std::string names = code;
  if (names.empty()) names = config::GetString(variable).value_or("");
  if (names.empty()) {
    const bool endpoint = config::GetString(endpoint_variable).has_value() ||
                          config::GetString("OTEL_EXPORTER_OTLP_ENDPOINT").has_value();
    names = endpoint ? "otlp" : fallback;
  }
  return config::SplitList(names);
}

bool Has(const std::vector<std::string>& names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

std::shared_ptr<logs::LoggerProvider> MakeLoggerProvider(LogsOptions options, Resource resource,
                                                         const std::shared_ptr<logs::ConsoleLogJoin>& join,
                                                         std::vector<std::string>* where) {
  std::vector<std::unique_ptr<logs::LogRecordExporter>> exporters;
  if (options.exporter) {
    exporters.push_back(std::move(options.exporter));
  } else {
    for (const std::string& n :
         ExporterNames(options.exporter_name, "OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "none")) {
      if (n == "none") continue;
      try {
        if (auto e = MakeLogExporter(n, options, join)) exporters.push_back(std::move(e));
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "log exporter '" + n + "' could not be created: " + e.what() +
                                  "; its records are dropped");
      }
    }
  }
  for (const auto& e : exporters) {
    const void* otlp_options = nullptr;
#ifdef OTELWEB_HAVE_OTLP
    if (auto* o = dynamic_cast<const otlp::OtlpLogRecordExporter*>(e.get())) otlp_options = &o->options();
#endif
    where->push_back(Where(e->Name(), otlp_options));
  }
  if (exporters.empty()) return nullptr;
  logs::LoggerProviderOptions lo;
  lo.resource = std::move(resource);
  lo.limits = options.limits;
  lo.configurator = std::move(options.configurator);
  for (auto& e : exporters) {
    if (options.simple_processor) {
      lo.processors.push_back(std::make_unique<logs::SimpleLogRecordProcessor>(std::move(e)));
    } else {
      logs::BatchLogRecordProcessorOptions batch = options.batch;
      // As for spans: a person reads the console, so a short delay unless the
      // code or OTEL_BLRP_SCHEDULE_DELAY says otherwise.
      if (e->Name() == "console" && !batch.schedule_delay &&
          !config::GetString("OTEL_BLRP_SCHEDULE_DELAY").has_value()) {
        batch.schedule_delay = std::chrono::milliseconds(200);
      }
      lo.processors.push_back(std::make_unique<logs::BatchLogRecordProcessor>(std::move(e), batch));
    }
  }
  return std::make_shared<logs::LoggerProvider>(std::move(lo));
}

// The handle's deadline (the model is in otelweb/common.h): code, then the
// batch processor's export timeout (code, then OTEL_BSP_EXPORT_TIMEOUT; an
// invalid value is reported once, by the processor), else 5 s.
std::chrono::milliseconds ResolveShutdownTimeout(const InstallOptions& o) {
  std::chrono::milliseconds t{5000};
  if (o.shutdown_timeout) {
    t = *o.shutdown_timeout;
  } else if (o.traces.batch.export_timeout) {
    t = *o.traces.batch.export_timeout;
  } else if (auto v = config::GetString("OTEL_BSP_EXPORT_TIMEOUT")) {
    int64_t ms;
    if (config::ParseInt(*v, &ms) && ms >= 0) t = std::chrono::milliseconds(ms);
  }
  return EffectiveShutdownTimeout(t);
}

}  // namespace

void RegisterExporterFactory(std::string name, ExporterFactory factory) {
  std::lock_guard<std::mutex> lock(Factories().mu);
  Factories().factories[std::move(name)] = std::move(factory);
}

namespace otlp {
void RegisterExporter() {}
}  // namespace otlp

TracingHandle& TracingHandle::operator=(TracingHandle&& o) noexcept {
  if (this != &o) {
    (void)Shutdown();
    provider_ = std::move(o.provider_);
    timeout_ = o.timeout_;
  }
  return *this;
}

TracingHandle::~TracingHandle() { (void)Shutdown(); }

TracerProvider& TracingHandle::NoOpProvider() noexcept {
  static TracerProvider* noop = TracerProvider::NoOp().get();  // kept for the process
  return *noop;
}

OperationResult TracingHandle::Shutdown() noexcept {
  if (!provider_) return OperationResult::AlreadyShutDown();
  std::shared_ptr<TracerProvider> p = std::move(provider_);
  internal::ClearGlobalTracerProviderIf(p.get());
  if (p == TracerProvider::NoOp()) return OperationResult::Ok();
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  OperationResult r = p->ForceFlush(timeout_);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return r.Merge(p->Shutdown(std::max(left, std::chrono::milliseconds(0))));
}

Telemetry::~Telemetry() { (void)ShutdownLogs(); }

Telemetry& Telemetry::operator=(Telemetry&& o) noexcept {
  if (this != &o) {
    (void)ShutdownLogs();
    traces_ = std::move(o.traces_);
    logs_ = std::move(o.logs_);
    logs_timeout_ = o.logs_timeout_;
  }
  return *this;
}

logs::LoggerProvider& Telemetry::logger_provider() const noexcept {
  static logs::LoggerProvider* noop = logs::LoggerProvider::NoOp().get();  // kept for the process
  return logs_ ? *logs_ : *noop;
}

OperationResult Telemetry::ShutdownLogs() noexcept {
  if (!logs_) return OperationResult::Ok();
  std::shared_ptr<logs::LoggerProvider> p = std::move(logs_);
  logs::ResetLoggerProviderIf(p.get());  // compare-and-reset: never clears a provider installed since
  const auto deadline = std::chrono::steady_clock::now() + logs_timeout_;
  OperationResult r = p->ForceFlush(logs_timeout_);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return r.Merge(p->Shutdown(std::max(left, std::chrono::milliseconds(0))));
}

OperationResult Telemetry::Shutdown() noexcept {
  // Later signals (metrics, logs) shut down before traces, so that what they
  // record while stopping can still refer to spans.
  OperationResult r = ShutdownLogs();
  r = r.Merge(metrics_.Shutdown());
  return r.Merge(traces_.Shutdown());
}

Telemetry Install(InstallOptions options) {
  Telemetry telemetry;
  TracingHandle& traces = telemetry.traces_;
  traces.timeout_ = ResolveShutdownTimeout(options);

  std::string propagators = options.propagators;
  if (propagators.empty()) propagators = config::GetString("OTEL_PROPAGATORS").value_or("");
  SetTextMapPropagator(MakePropagators(propagators));

  bool disabled = options.disabled.value_or(config::GetBool("OTEL_SDK_DISABLED").value_or(false));
  if (disabled) {
    traces.provider_ = TracerProvider::NoOp();
    SetTracerProvider(traces.provider_);
    Log(LogLevel::kInfo, std::string("otelweb: disabled (") +
                             (options.disabled ? "InstallOptions::disabled" : "OTEL_SDK_DISABLED=true") +
                             "): no telemetry is recorded or exported");
    return telemetry;
  }
  const std::optional<std::string> env_service = config::GetString("OTEL_SERVICE_NAME");
  const bool code_service = !options.service_name.empty();
  const bool service_overridden = code_service && env_service && *env_service != options.service_name;

  std::vector<OwnedKeyValue> attrs = options.resource_attributes;
  if (!options.service_name.empty()) {
    OwnedKeyValue kv;
    kv.key = "service.name";
    kv.value = OwnedValue(AttributeValue(options.service_name));
    attrs.push_back(std::move(kv));
  }
  Resource resource = Resource::Create(attrs);

  // Both signals on the console: log records print under their spans.
  std::shared_ptr<logs::ConsoleLogJoin> join;
  if (!options.logs.exporter && !options.traces.exporter && !options.traces.console.annotator &&
      Has(ExporterNames(options.logs.exporter_name, "OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "none"),
          "console") &&
      Has(ExporterNames(options.traces.exporter_name, "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                        "console"),
          "console")) {
    join = logs::ConsoleLogJoin::Create({.out = options.traces.console.out});
    options.traces.console.annotator = join;
  }
  telemetry.logs_timeout_ = traces.timeout_;  // one deadline for every signal
  std::vector<std::string> logs_where, traces_where;
  telemetry.logs_ = MakeLoggerProvider(std::move(options.logs), resource, join, &logs_where);
  if (telemetry.logs_) logs::SetLoggerProvider(telemetry.logs_);
  // Metrics share the traces' resource.
  const std::string metrics_names = options.metrics.exporter_name.empty()
                                        ? config::GetString("OTEL_METRICS_EXPORTER").value_or("otlp")
                                        : options.metrics.exporter_name;
  telemetry.metrics_ = internal::InstallMetrics(std::move(options.metrics), resource, traces.timeout_);
  traces.provider_ = MakeTracerProvider(std::move(options.traces), std::move(resource), &traces_where);
  SetTracerProvider(traces.provider_);
  // The start-up line: where telemetry goes, once per Install.
  try {
    std::string line = "telemetry of service '" + std::string(traces.provider_->resource().service_name()) + "'";
    if (service_overridden) {
      line += " (service.name set in code overrides OTEL_SERVICE_NAME='" + *env_service + "')";
    }
    line += "; traces -> " + Joined(traces_where) + " (sampler " + traces.provider_->sampler().Description() +
            "); logs -> " + Joined(logs_where) + "; metrics -> " +
            (telemetry.metrics_.shared_provider() ? metrics_names : std::string("none")) +
            ". Change with OTEL_TRACES_EXPORTER, OTEL_LOGS_EXPORTER, OTEL_METRICS_EXPORTER, "
            "OTEL_EXPORTER_OTLP_ENDPOINT (docs/configuration.md); OTEL_LOG_LEVEL=warn hides this line.";
    Log(LogLevel::kInfo, line);
  } catch (...) {
  }
  return telemetry;
}

TracingHandle InstallTracing(TracingOptions options) {
  InstallOptions io;
  io.service_name = std::move(options.service_name);
  io.resource_attributes = std::move(options.resource_attributes);
  io.propagators = std::move(options.propagators);
  io.disabled = options.disabled;
  io.shutdown_timeout = options.shutdown_timeout;
  io.traces.sampler = std::move(options.sampler);
  io.traces.exporter_name = std::move(options.exporter_name);
  io.traces.exporter = std::move(options.exporter);
  io.traces.simple_processor = options.simple_processor;
  io.traces.batch = options.batch;
  io.traces.limits = options.limits;
  io.traces.console = std::move(options.console);
  return Install(std::move(io)).ReleaseTraces();
}

}  // namespace otelweb
