// OtlpMetricExporter: encodes a collection and hands the request to the
// signal-neutral ExportClient (Signal::kMetrics: /v1/metrics, the
// MetricsService gRPC method, OTEL_EXPORTER_OTLP_METRICS_* variables).
#include "otelweb/otlp/metric_exporter.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

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

namespace {

// One data point of a collection, by position (for splitting a request that
// is over the size limit: OTEL_CPP_EXPORTER_OTLP_MAX_REQUEST_BYTES).
struct PointRef {
  uint32_t scope;
  uint32_t metric;
  uint32_t point;
};

// A copy of `rm` holding only the points `refs` names (in collection order),
// each under its own scope and metric.
metrics::ResourceMetrics Subset(const metrics::ResourceMetrics& rm, std::span<const PointRef> refs) {
  metrics::ResourceMetrics out;
  out.resource = rm.resource;
  uint32_t scope_in_out = UINT32_MAX;  // index into rm of out.scope_metrics.back()
  for (size_t i = 0; i < refs.size();) {
    const PointRef first = refs[i];
    const metrics::ScopeMetrics& sm = rm.scope_metrics[first.scope];
    if (scope_in_out != first.scope) {
      out.scope_metrics.push_back(metrics::ScopeMetrics{sm.scope, {}});
      scope_in_out = first.scope;
    }
    const metrics::MetricData& md = sm.metrics[first.metric];
    metrics::MetricData part = md;
    part.number_points.clear();
    part.histogram_points.clear();
    for (; i < refs.size() && refs[i].scope == first.scope && refs[i].metric == first.metric; ++i) {
      if (md.point_kind == metrics::MetricPointKind::kHistogram ||
          md.point_kind == metrics::MetricPointKind::kExponentialHistogram) {
        part.histogram_points.push_back(md.histogram_points[refs[i].point]);
      } else {
        part.number_points.push_back(md.number_points[refs[i].point]);
      }
    }
    out.scope_metrics.back().metrics.push_back(std::move(part));
  }
  return out;
}

}  // namespace

ExportResult OtlpMetricExporter::Export(const metrics::ResourceMetrics& rm) noexcept {
  const size_t points = rm.PointCount();
  return impl_->client.Guarded(points, [&] {
    if (!impl_->client.Accepting(points)) return ExportResult::kFailure;
    const bool as_json = impl_->client.options().protocol == Protocol::kHttpJson;
    auto encode = [&](const metrics::ResourceMetrics& m) -> std::string_view {
      if (as_json) {
        impl_->body = EncodeMetricsJson(m);
      } else {
        EncodeMetricsProtobuf(m, &impl_->body);
      }
      return impl_->body;
    };
    // The usual case: the whole collection fits in one request.
    const std::string_view whole = encode(rm);
    if (whole.size() <= impl_->client.options().max_request_bytes) return impl_->client.Send(whole, points);
    // Over the limit: split by data point (each part repeats the resource,
    // scope and metric description of the points it carries).
    std::vector<PointRef> refs;
    refs.reserve(points);
    for (uint32_t s = 0; s < rm.scope_metrics.size(); ++s) {
      const auto& ms = rm.scope_metrics[s].metrics;
      for (uint32_t m = 0; m < ms.size(); ++m) {
        // A metric holds number points or histogram points, never both.
        const size_t n = ms[m].histogram_points.size() + ms[m].number_points.size();
        for (uint32_t p = 0; p < n; ++p) refs.push_back(PointRef{s, m, p});
      }
    }
    return impl_->client.SendInParts(std::span<const PointRef>(refs), [&](std::span<const PointRef> part) {
      return encode(Subset(rm, part));
    });
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
