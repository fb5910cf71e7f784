// HTTP client instruments (client_metrics.h).
#include "http/client_metrics.h"

#include <iterator>

namespace otelweb::http::internal {

ClientMetrics ClientMetrics::Create(metrics::MeterProvider& provider, std::string_view scope) {
  ClientMetrics m;
  metrics::Meter meter = provider.GetMeter(scope, kVersion);
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(metrics::kHttpDurationBuckets),
                                        std::end(metrics::kHttpDurationBuckets));
  m.duration = meter.CreateDoubleHistogram("http.client.request.duration", "s",
                                           "Duration of HTTP client requests.", adv);
  m.request_size = meter.CreateInt64Histogram("http.client.request.body.size", "By",
                                              "Size of HTTP client request bodies.");
  m.response_size = meter.CreateInt64Histogram("http.client.response.body.size", "By",
                                               "Size of HTTP client response bodies.");
  m.enabled = m.duration.Enabled() || m.request_size.Enabled() || m.response_size.Enabled();
  return m;
}

}  // namespace otelweb::http::internal
