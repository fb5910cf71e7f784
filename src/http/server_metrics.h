// Private: the HTTP server instruments (semantic conventions, HTTP metrics),
// resolved from an explicit meter provider or from the global one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "otelweb/http/server.h"
#include "otelweb/instrumentation.h"
#include "metrics/instrument_cache.h"
#include "otelweb/metrics/meter_provider.h"

namespace otelweb::http::internal {

// http.<side>.request.duration (s, the advised buckets 0.005 ... 10) and
// http.<side>.request.body.size / response.body.size (By), side "server" or
// "client", created on `meter`.
void CreateHttpHistograms(metrics::Meter& meter, std::string_view side,
                          metrics::Histogram<double>* duration,
                          metrics::Histogram<int64_t>* request_size,
                          metrics::Histogram<int64_t>* response_size);

// Records one finished request into those histograms: its duration (s; a
// negative one is recorded as 0) and body sizes (bytes; negative: unknown,
// not recorded), all with `attrs`, which is compared once for the three
// (metrics::detail::RecordSameSet). Never throws; allocates nothing once the
// series exist.
void RecordHttpHistograms(const metrics::Histogram<double>& duration,
                          const metrics::Histogram<int64_t>& request_size,
                          const metrics::Histogram<int64_t>& response_size, Attributes attrs,
                          double seconds, int64_t request_bytes, int64_t response_bytes) noexcept;

struct ServerMetrics {
  // http.server.request.duration (s, the advised buckets 0.005 ... 10)
  metrics::Histogram<double> duration;
  // http.server.active_requests ({request}; method and scheme only)
  metrics::UpDownCounter<int64_t> active;
  // http.server.request.body.size / response.body.size (By)
  metrics::Histogram<int64_t> request_size;
  metrics::Histogram<int64_t> response_size;
  bool enabled = false;

  static ServerMetrics Create(metrics::MeterProvider& provider, std::string_view scope);
};

class ServerMetricsSource : public metrics::internal::InstrumentCache<ServerMetrics> {
 public:
  using InstrumentCache::InstrumentCache;
};

}  // namespace otelweb::http::internal
