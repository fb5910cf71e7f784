// HTTP client instruments (client_metrics.h).
#include "http/client_metrics.h"

#include "http/server_metrics.h"

namespace otelweb::http::internal {

ClientMetrics ClientMetrics::Create(metrics::MeterProvider& provider, std::string_view scope) {
  ClientMetrics m;
  metrics::Meter meter = provider.GetMeter(scope, kVersion);
  CreateHttpHistograms(meter, "client", &m.duration, &m.request_size, &m.response_size);
  m.enabled = m.duration.Enabled() || m.request_size.Enabled() || m.response_size.Enabled();
  return m;
}

}  // namespace otelweb::http::internal
