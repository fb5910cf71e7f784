// Prometheus pull exporter: serves the metrics of a MeterProvider at
// http://HOST:PORT/metrics in the Prometheus text exposition format (0.0.4),
// converted by the OpenTelemetry-to-Prometheus compatibility rules
// (specification compatibility/prometheus_and_openmetrics.md):
//   - names: characters outside [a-zA-Z0-9_:] become '_'; the unit is
//     appended as a suffix in Prometheus words ("s" -> _seconds,
//     "By" -> _bytes, "ms" -> _milliseconds, "1" -> _ratio for gauges;
//     curly-brace annotations like "{request}" are dropped); monotonic sums
//     are counters and get "_total";
//   - non-monotonic sums and gauges are gauges; explicit-bucket histograms
//     are histograms (_bucket with cumulative counts and le, _sum, _count);
//   - attribute keys become label names the same way; the instrumentation
//     scope is given as otel_scope_name / otel_scope_version labels;
//   - the resource is one target_info gauge (value 1) with its attributes as
//     labels (job / instance come from the scraper);
//   - when the scraper accepts application/openmetrics-text (Prometheus does
//     by default), the answer is OpenMetrics 1.0: counter families named
//     without "_total", target_info an info metric, "# EOF" at the end, and
//     exemplars (trace_id, span_id, value, time) on counter samples and on the
//     histogram bucket that holds the exemplar's value; the 0.0.4 text format
//     has no exemplars.
// The exporter is a MetricReader (cumulative, as Prometheus needs): register
// it with the provider (MeterProviderOptions::readers or AddReader); each
// scrape collects.
//
// Ownership: owns its HTTP server thread; shared with the provider like any
// reader. Shutdown (the provider's) or destruction stops the server (a scrape
// in progress finishes).
// Thread-safety: scrapes are served on the server's threads; Format is a pure
// function.
// Errors: a port that cannot be bound is reported once with what to do, and
// the exporter serves nothing (port() returns 0).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "otelweb/metrics/meter_provider.h"
#include "otelweb/metrics/metric_data.h"

namespace otelweb::prometheus {

struct PrometheusExporterOptions {
  // Default: OTEL_EXPORTER_PROMETHEUS_HOST, else "localhost".
  std::optional<std::string> host{};
  // Default: OTEL_EXPORTER_PROMETHEUS_PORT, else 9464; 0 picks a free port.
  std::optional<int> port{};
};

class PrometheusExporter final : public metrics::MetricReader {
 public:
  explicit PrometheusExporter(PrometheusExporterOptions options = {});
  ~PrometheusExporter() override;

  // The port the server listens on (0 when it could not start).
  int port() const noexcept;
  enum class ScrapeFormat : uint8_t { kText004, kOpenMetrics };
  // One scrape's body (what /metrics answers), for tests and other servers.
  std::string Scrape(ScrapeFormat format = ScrapeFormat::kText004);

  struct Impl;

 protected:
  OperationResult OnShutdown(std::chrono::milliseconds timeout) noexcept override;

 private:
  std::unique_ptr<Impl> impl_;
};

// The text exposition (0.0.4) of one collection.
std::string FormatPrometheusText(const metrics::ResourceMetrics& rm);
// The OpenMetrics 1.0 text of one collection, with exemplars.
std::string FormatOpenMetricsText(const metrics::ResourceMetrics& rm);
// True when an Accept header asks for OpenMetrics.
bool AcceptsOpenMetrics(std::string_view accept) noexcept;
// The Prometheus metric name of an OpenTelemetry metric (suffixes included,
// "_total" excluded).
std::string PrometheusName(std::string_view name, std::string_view unit, bool gauge_ratio);

}  // namespace otelweb::prometheus
