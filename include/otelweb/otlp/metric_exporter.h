// OTLP metrics: the ExportMetricsServiceRequest encoders (protobuf written
// directly, and the OTLP/JSON mapping) and the OTLP metric exporter, which
// sends them over gRPC, HTTP/protobuf or HTTP/JSON through the same
// ExportClient as the span exporter (retry, gzip, TLS, headers, timeout).
//
// Configuration: OtlpExporterOptions, resolved for Signal::kMetrics, so
// OTEL_EXPORTER_OTLP_METRICS_* override OTEL_EXPORTER_OTLP_* and HTTP posts to
// /v1/metrics. OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE
// (cumulative | delta | lowmemory, default cumulative) picks the
// temporality per instrument kind (spec: metrics/sdk_exporters/otlp.md).
//
// Ownership: the exporter owns its client; encoders return owned strings.
// Thread-safety: Export is called by one reader thread at a time; Shutdown,
// ForceFlush and counters() may be called from any thread.
// Errors: a failed export is retried within the timeout as the OTLP spec
// says, then dropped, counted and reported (rate-limited) by the client.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "otelweb/metrics/metric_data.h"
#include "otelweb/otlp/exporter.h"

namespace otelweb::otlp {

// ExportMetricsServiceRequest protobuf bytes (appended to *out after clearing it).
void EncodeMetricsProtobuf(const metrics::ResourceMetrics& rm, std::string* out);
// The OTLP/JSON form of the same request (also a MetricsData JSON line).
std::string EncodeMetricsJson(const metrics::ResourceMetrics& rm);

// Parses OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE values.
bool ParseTemporalityPreference(std::string_view text,
                                metrics::TemporalityPreference* out) noexcept;

struct OtlpMetricExporterOptions {
  OtlpExporterOptions otlp{};
  // Default: OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else cumulative.
  std::optional<metrics::TemporalityPreference> temporality_preference{};
};

struct OtlpMetricExporterCounters {
  uint64_t points_exported = 0;
  uint64_t points_dropped = 0;
  uint64_t exports = 0;
};

class OtlpMetricExporter final : public metrics::MetricExporter {
 public:
  explicit OtlpMetricExporter(OtlpMetricExporterOptions options = {});
  ~OtlpMetricExporter() override;
  ExportResult Export(const metrics::ResourceMetrics& rm) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  metrics::AggregationTemporality TemporalityFor(
      metrics::InstrumentKind kind) const noexcept override;
  std::string_view Name() const noexcept override { return "otlp"; }

  const ResolvedOtlpOptions& options() const noexcept;
  OtlpMetricExporterCounters counters() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelweb::otlp
