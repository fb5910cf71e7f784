// Private: the HTTP client instruments (semantic conventions, HTTP client
// metrics), resolved once per ClientInstrumenter from its meter provider or
// the global one (metrics/instrument_cache.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "metrics/instrument_cache.h"
#include "otelweb/http/client.h"
#include "otelweb/metrics/meter_provider.h"

namespace otelweb::http::internal {

struct ClientMetrics {
  // http.client.request.duration (s, the advised buckets 0.005 ... 10)
  metrics::Histogram<double> duration;
  // http.client.request.body.size / response.body.size (By)
  metrics::Histogram<int64_t> request_size;
  metrics::Histogram<int64_t> response_size;
  bool enabled = false;

  static ClientMetrics Create(metrics::MeterProvider& provider, std::string_view scope);
};

class ClientMetricsSource : public metrics::internal::InstrumentCache<ClientMetrics> {
 public:
  using InstrumentCache::InstrumentCache;
};

}  // namespace otelweb::http::internal
