// HTTP server instruments and their resolution (server_metrics.h).
#include "http/server_metrics.h"

#include <iterator>

namespace otelweb::http::internal {

ServerMetrics ServerMetrics::Create(metrics::MeterProvider& provider, std::string_view scope) {
  ServerMetrics m;
  metrics::Meter meter = provider.GetMeter(scope, kVersion);
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(metrics::kHttpDurationBuckets),
                                        std::end(metrics::kHttpDurationBuckets));
  m.duration = meter.CreateDoubleHistogram("http.server.request.duration", "s",
                                           "Duration of HTTP server requests.", adv);
  m.active = meter.CreateInt64UpDownCounter("http.server.active_requests", "{request}",
                                            "Number of active HTTP server requests.");
  m.request_size = meter.CreateInt64Histogram("http.server.request.body.size", "By",
                                              "Size of HTTP server request bodies.");
  m.response_size = meter.CreateInt64Histogram("http.server.response.body.size", "By",
                                               "Size of HTTP server response bodies.");
  m.enabled = m.duration.Enabled() || m.active.Enabled();
  return m;
}

}  // namespace otelweb::http::internal
