// Private: the shared state of a MeterProvider (scopes, instruments, readers).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "metrics/storage.h"
#include "otelweb/metrics/meter_provider.h"

namespace otelweb::metrics::internal {

struct ScopeState {
  InstrumentationScope scope;
  std::mutex mu;
  std::vector<std::shared_ptr<InstrumentState>> instruments;
};

struct ProviderState {
  Resource resource;
  size_t cardinality_limit = kDefaultCardinalityLimit;
  ExemplarFilter exemplar_filter = ExemplarFilter::kTraceBased;
  HistogramAggregation histogram_aggregation = HistogramAggregation::kExplicitBucket;
  std::vector<View> views;  // the valid ones, in order
  mutable std::mutex mu;
  std::vector<std::shared_ptr<ScopeState>> scopes;
  std::vector<std::shared_ptr<MetricReader>> readers;
  size_t next_slot = 0;
  bool shut_down = false;

  // One collection for the reader in `slot`, with that reader's temporality.
  bool CollectFor(size_t slot,
                  const std::function<AggregationTemporality(InstrumentKind)>& temporality,
                  ResourceMetrics* out);
};

}  // namespace otelweb::metrics::internal
