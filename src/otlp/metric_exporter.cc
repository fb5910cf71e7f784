// OtlpMetricExporter: encodes a collection and hands the request to the
// signal-neutral ExportClient (Signal::kMetrics: /v1/metrics, the
// MetricsService gRPC method, OTEL_EXPORTER_OTLP_METRICS_* variables).
#include "otelweb/otlp/metric_exporter.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "core/config.h"
#include "otlp/export_client.h"

namespace otelweb::otlp {

bool ParseTemporalityPreference(std::string_view text,
                                metrics::TemporalityPreference* out) noexcept {
  std::string t(config::Trim(text));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "cumulative") {
    *out = metrics::TemporalityPreference::kCumulative;
  } else if (t == "delta") {
    *out = metrics::TemporalityPreference::kDelta;
  } else if (t == "lowmemory") {
    *out = metrics::TemporalityPreference::kLowMemory;
  } else {
    return false;
  }
  return true;
}

struct OtlpMetricExporter::Impl {
  explicit Impl(const OtlpMetricExporterOptions& o)
      : client(ResolveOptions(o.otlp, Signal::kMetrics)) {}
  internal::ExportClient client;
  metrics::TemporalityPreference pref = metrics::TemporalityPreference::kCumulative;
  std::string body;
};

OtlpMetricExporter::OtlpMetricExporter(OtlpMetricExporterOptions options)
    : impl_(std::make_unique<Impl>(options)) {
  if (options.temporality_preference) {
    impl_->pref = *options.temporality_preference;
  } else if (options.otlp.read_environment) {
    if (auto v = config::GetString("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE")) {
      if (!ParseTemporalityPreference(*v, &impl_->pref)) {
        config::WarnInvalid("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", *v,
                            "cumulative, delta or lowmemory");
      }
    }
  }
}

OtlpMetricExporter::~OtlpMetricExporter() = default;

ExportResult OtlpMetricExporter::Export(const metrics::ResourceMetrics& rm) noexcept {
  const size_t points = rm.PointCount();
  return impl_->client.Guarded(points, [&] {
    if (!impl_->client.Accepting(points)) return ExportResult::kFailure;
    if (impl_->client.options().protocol == Protocol::kHttpJson) {
      impl_->body = EncodeMetricsJson(rm);
    } else {
      EncodeMetricsProtobuf(rm, &impl_->body);
    }
    return impl_->client.Send(impl_->body, points);
  });
}

OperationResult OtlpMetricExporter::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  return impl_->client.ForceFlush(timeout);
}

OperationResult OtlpMetricExporter::Shutdown(std::chrono::milliseconds timeout) noexcept {
  return impl_->client.Shutdown(timeout);
}

metrics::AggregationTemporality OtlpMetricExporter::TemporalityFor(
    metrics::InstrumentKind kind) const noexcept {
  return metrics::TemporalityFor(impl_->pref, kind);
}

const ResolvedOtlpOptions& OtlpMetricExporter::options() const noexcept {
  return impl_->client.options();
}

OtlpMetricExporterCounters OtlpMetricExporter::counters() const noexcept {
  auto k = impl_->client.counters();
  OtlpMetricExporterCounters c;
  c.points_exported = k.items_exported;
  c.points_dropped = k.items_dropped;
  c.exports = k.requests - k.retries;
  return c;
}

}  // namespace otelweb::otlp
