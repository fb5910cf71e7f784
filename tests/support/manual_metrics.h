// A meter provider with one ManualReader for metric tests, readers of the
// collected points (attribute values as text, points found by one
// attribute), and never-sampled tracing options.
//
// Ownership: owns its provider and reader. Thread-safety: Collect may be
// called from any thread (ManualReader's rules).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otelweb/metrics/meter_provider.h"
#include "otelweb/metrics/metric_reader.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/sampler.h"

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

// Tracing whose spans are never sampled (AlwaysOff), not installed as the
// global provider: for "unsampled work is still measured".
inline MemoryTracingOptions NeverSampledTracing() {
  MemoryTracingOptions o;
  o.sampler = AlwaysOffSampler();
  o.set_global = false;
  return o;
}

// The value of attribute `k` as text ("<absent>" when missing).
inline std::string MetricAttr(const std::vector<OwnedKeyValue>& a, std::string_view k) {
  for (const auto& kv : a)
    if (kv.key == k)
      return kv.value.type == AttributeType::kInt ? std::to_string(kv.value.i) : kv.value.s;
  return "<absent>";
}

// The HTTP client metric attributes of a point, "key=value" joined by
// spaces in a fixed order (absent ones as "<absent>"), for one comparison.
inline std::string HttpClientAttrs(const std::vector<OwnedKeyValue>& a) {
  std::string out;
  for (std::string_view k : {"http.request.method", "server.address", "server.port",
                             "http.response.status_code", "network.protocol.version",
                             "error.type"}) {
    if (!out.empty()) out += ' ';
    out.append(k).append("=").append(MetricAttr(a, k));
  }
  return out;
}
// What HttpClientAttrs gives for a successful HTTP/1.1 call to 127.0.0.1.
inline std::string HttpClientOkAttrs(std::string_view method, int port) {
  return "http.request.method=" + std::string(method) + " server.address=127.0.0.1 server.port=" +
         std::to_string(port) +
         " http.response.status_code=200 network.protocol.version=1.1 error.type=<absent>";
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

// The histogram points of metric `name` as "v1 v2 ..." (the values of
// attributes `keys`, in that order) -> {count, sum}; empty when none.
inline std::map<std::string, std::pair<uint64_t, double>> HistogramCountSumBy(
    const metrics::ResourceMetrics& rm, std::string_view name,
    std::initializer_list<std::string_view> keys) {
  std::map<std::string, std::pair<uint64_t, double>> out;
  const metrics::MetricData* d = rm.Find(name);
  if (d == nullptr) return out;
  for (const auto& p : d->histogram_points) {
    std::string key;
    for (std::string_view k : keys) key += (key.empty() ? "" : " ") + MetricAttr(p.attributes, k);
    out[key] = {p.count, p.sum};
  }
  return out;
}

// The measurements of histogram `name` over all its points (0: none).
inline uint64_t HistogramTotalCount(const metrics::ResourceMetrics& rm, std::string_view name) {
  const metrics::MetricData* d = rm.Find(name);
  uint64_t n = 0;
  if (d != nullptr)
    for (const auto& p : d->histogram_points) n += p.count;
  return n;
}

}  // namespace otelweb::testing
