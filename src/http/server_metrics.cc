// HTTP server instruments and their resolution (server_metrics.h).
#include "http/server_metrics.h"

#include <iterator>
#include <string>

namespace otelweb::http::internal {

void CreateHttpHistograms(metrics::Meter& meter, std::string_view side,
                          metrics::Histogram<double>* duration,
                          metrics::Histogram<int64_t>* request_size,
                          metrics::Histogram<int64_t>* response_size) {
  const std::string name = "http." + std::string(side);
  const std::string what = "HTTP " + std::string(side);
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(metrics::kHttpDurationBuckets),
                                        std::end(metrics::kHttpDurationBuckets));
  *duration = meter.CreateDoubleHistogram(name + ".request.duration", "s",
                                          "Duration of " + what + " requests.", adv);
  *request_size = meter.CreateInt64Histogram(name + ".request.body.size", "By",
                                             "Size of " + what + " request bodies.");
  *response_size = meter.CreateInt64Histogram(name + ".response.body.size", "By",
                                              "Size of " + what + " response bodies.");
}

void RecordHttpHistograms(const metrics::Histogram<double>& duration,
                          const metrics::Histogram<int64_t>& request_size,
                          const metrics::Histogram<int64_t>& response_size, Attributes attrs,
                          double seconds, int64_t request_bytes, int64_t response_bytes) noexcept {
  using metrics::detail::InstrumentAccess;
  metrics::detail::SameSetValue v[3];
  size_t n = 0;
  v[n++] = {InstrumentAccess::State(duration), true, 0, seconds < 0 ? 0 : seconds};
  if (request_bytes >= 0) v[n++] = {InstrumentAccess::State(request_size), false, request_bytes, 0};
  if (response_bytes >= 0)
    v[n++] = {InstrumentAccess::State(response_size), false, response_bytes, 0};
  metrics::detail::RecordSameSet(v, n, attrs);
}

ServerMetrics ServerMetrics::Create(metrics::MeterProvider& provider, std::string_view scope) {
  ServerMetrics m;
  metrics::Meter meter = provider.GetMeter(scope, kVersion);
  CreateHttpHistograms(meter, "server", &m.duration, &m.request_size, &m.response_size);
  m.active = meter.CreateInt64UpDownCounter("http.server.active_requests", "{request}",
                                            "Number of active HTTP server requests.");
  m.enabled = m.duration.Enabled() || m.active.Enabled();
  return m;
}

}  // namespace otelweb::http::internal
