// The metrics part of Install: exporter by name (OTEL_METRICS_EXPORTER), a
// periodic reader per exporter, the meter provider with the traces' resource,
// and the handle that shuts it down.
#include <string>

#include "core/config.h"
#include "otelweb/metrics/exporters.h"
#include "otelweb/otelweb.h"
#ifdef OTELWEB_HAVE_OTLP
#include "otelweb/otlp/metric_exporter.h"
#endif
#ifdef OTELWEB_HAVE_PROMETHEUS
#include "otelweb/prometheus/exporter.h"
#endif

namespace otelweb {

MetricsHandle& MetricsHandle::operator=(MetricsHandle&& other) noexcept {
  if (this != &other) {
    Shutdown();
    provider_ = std::move(other.provider_);
    timeout_ = other.timeout_;
  }
  return *this;
}

MetricsHandle::~MetricsHandle() { Shutdown(); }

OperationResult MetricsHandle::Shutdown() noexcept {
  if (!provider_) return OperationResult::Ok();
  auto p = std::move(provider_);
  provider_.reset();
  metrics::ResetMeterProviderIf(p.get());  // never clears a provider installed meanwhile
  return p->Shutdown(timeout_);  // each reader's shutdown collects and exports a last time
}

namespace internal {

namespace {

std::unique_ptr<metrics::MetricExporter> MakeMetricExporter(const std::string& name) {
  if (name == "console") return std::make_unique<metrics::ConsoleMetricExporter>();
  if (name == "otlp") {
#ifdef OTELWEB_HAVE_OTLP
    return std::make_unique<otlp::OtlpMetricExporter>();
#else
    Log(LogLevel::kWarning,
        "OTEL_METRICS_EXPORTER=otlp but otelweb was built without its OTLP library (zlib, libcurl, "
        "gRPC or "
        "protobuf were missing): install them and rebuild otelweb; metrics are not exported.");
    return nullptr;
#endif
  }
  if (name == "prometheus") {  // a reader, not a push exporter: see InstallMetrics
#ifndef OTELWEB_HAVE_PROMETHEUS
    Log(LogLevel::kWarning,
        "OTEL_METRICS_EXPORTER=prometheus but otelweb was built without its Prometheus exporter "
        "(cpp-httplib was "
        "missing): install libcpp-httplib-dev and rebuild otelweb; metrics are not exported.");
#endif
    return nullptr;
  }
  if (name != "none") {
    config::WarnInvalid("OTEL_METRICS_EXPORTER", name, "otlp, prometheus, console or none");
  }
  return nullptr;
}

}  // namespace

MetricsHandle InstallMetrics(MetricsOptions options, const Resource& resource,
                             std::chrono::milliseconds timeout) {
  std::vector<std::unique_ptr<metrics::MetricExporter>> exporters;
  if (options.exporter) {
    exporters.push_back(std::move(options.exporter));
  } else {
    std::string names = options.exporter_name;
    if (names.empty()) names = config::GetString("OTEL_METRICS_EXPORTER").value_or("");
    if (names.empty() && (config::GetString("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") ||
                          config::GetString("OTEL_EXPORTER_OTLP_ENDPOINT"))) {
      names = "otlp";
    }
    for (const std::string& n : config::SplitList(names)) {
#ifdef OTELWEB_HAVE_PROMETHEUS
      if (n ==
          "prometheus") {  // /metrics on OTEL_EXPORTER_PROMETHEUS_HOST:PORT, scraped, not pushed
        options.readers.push_back(std::make_shared<prometheus::PrometheusExporter>());
        continue;
      }
#endif
      if (auto e = MakeMetricExporter(n)) exporters.push_back(std::move(e));
    }
  }
  if (exporters.empty() && options.readers.empty()) return MetricsHandle();
  metrics::MeterProviderOptions mo;
  mo.resource = resource;
  mo.exemplar_filter = options.exemplar_filter;
  mo.cardinality_limit = options.cardinality_limit;
  mo.readers = std::move(options.readers);
  for (auto& e : exporters) {
    mo.readers.push_back(
        std::make_shared<metrics::PeriodicExportingMetricReader>(std::move(e), options.periodic));
  }
  auto provider = std::make_shared<metrics::MeterProvider>(std::move(mo));
  metrics::SetMeterProvider(provider);
  return MetricsHandle(std::move(provider), timeout);
}

}  // namespace internal

MetricsHandle InstallMetrics(MetricsOptions options, std::optional<Resource> resource,
                             std::chrono::milliseconds shutdown_timeout) {
  return internal::InstallMetrics(std::move(options), resource ? *resource : Resource::Create(),
                                  shutdown_timeout);
}

}  // namespace otelweb
