// A meter provider with one ManualReader for metric tests, and readers of
// the collected points (attribute values as text, points found by one
// attribute).
//
// Ownership: owns its provider and reader. Thread-safety: Collect may be
// called from any thread (ManualReader's rules).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/metrics/meter_provider.h"
#include "otelweb/metrics/metric_reader.h"

namespace otelweb::testing {

struct ManualMetrics {
  ManualMetrics() {
    metrics::MeterProviderOptions o;
    o.readers.push_back(reader);
    o.resource = Resource();
    provider = std::make_shared<metrics::MeterProvider>(std::move(o));
  }
  metrics::ResourceMetrics Collect() {
    metrics::ResourceMetrics rm;
    reader->Collect(&rm);
    return rm;
  }
  std::shared_ptr<metrics::ManualReader> reader = std::make_shared<metrics::ManualReader>();
  std::shared_ptr<metrics::MeterProvider> provider;
};

// The value of attribute `k` as text ("<absent>" when missing).
inline std::string MetricAttr(const std::vector<OwnedKeyValue>& a, std::string_view k) {
  for (const auto& kv : a)
    if (kv.key == k)
      return kv.value.type == AttributeType::kInt ? std::to_string(kv.value.i) : kv.value.s;
  return "<absent>";
}

// The histogram point of metric `name` whose attribute `k` is `v` (null: none).
inline const metrics::HistogramPoint* HistogramWith(const metrics::ResourceMetrics& rm,
                                                    std::string_view name, std::string_view k,
                                                    std::string_view v) {
  const metrics::MetricData* d = rm.Find(name);
  if (d == nullptr) return nullptr;
  for (const auto& p : d->histogram_points)
    if (MetricAttr(p.attributes, k) == v) return &p;
  return nullptr;
}

}  // namespace otelweb::testing
