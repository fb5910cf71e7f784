// What a collection produces (OpenTelemetry metrics data model: Resource ->
// Scope -> Metric -> points) and the MetricExporter interface that receives
// it (spec: metrics SDK "MetricExporter").
//
// Ownership: plain owned values. An exporter receives a const reference that
// is valid for the duration of Export only; copy what you keep.
// Thread-safety: values; an exporter's Export is never called concurrently
// with itself by one reader (the periodic reader serialises exports).
// Units: times are wall-clock Timestamps (ns since the epoch); values are in
// the instrument's unit.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/metrics/instruments.h"
#include "otelweb/resource.h"
#include "otelweb/trace/span_context.h"
#include "otelweb/trace/span_exporter.h"  // ExportResult

namespace otelweb::metrics {

// Spec: "Aggregation Temporality". Numbers match OTLP's enum.
enum class AggregationTemporality : uint8_t { kUnspecified = 0, kDelta = 1, kCumulative = 2 };
std::string_view TemporalityName(AggregationTemporality t) noexcept;

// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE.
enum class TemporalityPreference : uint8_t { kCumulative, kDelta, kLowMemory };
// The spec's per-instrument meaning of a preference: delta = delta for
// (observable) counters and histograms, cumulative for up-down counters;
// lowmemory = delta only for synchronous counters and histograms; gauges are
// reported as cumulative (their temporality does not change last values).
AggregationTemporality TemporalityFor(TemporalityPreference p, InstrumentKind k) noexcept;

// A sampled measurement linking a point to a trace (spec: "Exemplar").
struct Exemplar {
  std::vector<OwnedKeyValue> filtered_attributes{};  // attributes a view removed
  Timestamp time{};
  bool is_int = false;
  int64_t as_int = 0;
  double as_double = 0;
  TraceId trace_id{};  // invalid when recorded outside a span
  SpanId span_id{};
};

struct NumberPoint {
  std::vector<OwnedKeyValue> attributes{};
  Timestamp start_time{};
  Timestamp time{};
  bool is_int = false;
  int64_t as_int = 0;
  double as_double = 0;
  std::vector<Exemplar> exemplars{};
};

// One range (positive or negative values) of an exponential histogram point:
// bucket_counts[k] counts the values v with base^(offset+k) < |v| <=
// base^(offset+k+1), base = 2^(2^-scale).
struct ExponentialBuckets {
  int32_t offset = 0;
  std::vector<uint64_t> bucket_counts{};
};

// A histogram point: explicit buckets (MetricPointKind::kHistogram) or base-2
// exponential buckets (kExponentialHistogram; `boundaries` and
// `bucket_counts` are then empty and scale, zero_count, positive and
// negative hold the buckets).
struct HistogramPoint {
  std::vector<OwnedKeyValue> attributes{};
  Timestamp start_time{};
  Timestamp time{};
  uint64_t count = 0;
  double sum = 0;
  bool has_min_max = false;  // min/max of the reported interval
  double min = 0;
  double max = 0;
  std::vector<double> boundaries{};       // explicit bounds, ascending
  std::vector<uint64_t> bucket_counts{};  // boundaries.size() + 1 entries
  std::vector<Exemplar> exemplars{};
  // kExponentialHistogram only.
  int32_t scale = 0;
  uint64_t zero_count = 0;    // values equal to 0 (zero_threshold is 0)
  double zero_threshold = 0;
  ExponentialBuckets positive{};
  ExponentialBuckets negative{};
};

enum class MetricPointKind : uint8_t { kSum, kGauge, kHistogram, kExponentialHistogram };

struct MetricData {
  std::string name{};
  std::string description{};
  std::string unit{};
  InstrumentKind instrument_kind = InstrumentKind::kCounter;
  MetricPointKind point_kind = MetricPointKind::kSum;
  AggregationTemporality temporality = AggregationTemporality::kCumulative;
  bool monotonic = false;                          // sums only
  std::vector<NumberPoint> number_points{};        // kSum, kGauge
  std::vector<HistogramPoint> histogram_points{};  // kHistogram, kExponentialHistogram
};

struct InstrumentationScope {
  std::string name{};
  std::string version{};
  std::string schema_url{};
  std::vector<OwnedKeyValue> attributes{};
};

struct ScopeMetrics {
  InstrumentationScope scope{};
  std::vector<MetricData> metrics{};
};

struct ResourceMetrics {
  Resource resource{};
  std::vector<ScopeMetrics> scope_metrics{};
  // Number of points in all metrics (for exporters' counters and tests).
  size_t PointCount() const noexcept;
  // The metric named `name` in any scope, or nullptr.
  const MetricData* Find(std::string_view name) const noexcept;
};

// Spec: "MetricExporter" (push). Export is called by one reader at a time,
// never concurrently with itself from that reader.
class MetricExporter {
 public:
  virtual ~MetricExporter() = default;
  // Exports one collection. `metrics` is valid only during the call: the
  // reader reuses it for its next collection (the periodic reader keeps one
  // ResourceMetrics and rewrites it in place), so an exporter that keeps
  // anything past the call (a batch, a queue, an in-memory store) copies it.
  // Errors are returned as the ExportResult, never thrown.
  virtual ExportResult Export(const ResourceMetrics& metrics) noexcept = 0;
  virtual OperationResult ForceFlush(std::chrono::milliseconds) noexcept {
    return OperationResult::Ok();
  }
  virtual OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept = 0;
  // The temporality this exporter wants for an instrument kind (default:
  // cumulative for everything).
  virtual AggregationTemporality TemporalityFor(InstrumentKind) const noexcept {
    return AggregationTemporality::kCumulative;
  }
  virtual std::string_view Name() const noexcept = 0;
};

}  // namespace otelweb::metrics
