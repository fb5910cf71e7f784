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

ServerMetricsSource::ServerMetricsSource(std::shared_ptr<metrics::MeterProvider> provider,
                                         std::string scope)
    : explicit_(std::move(provider)), scope_(std::move(scope)) {
  if (explicit_) {
    auto e = std::make_unique<Entry>();
    e->provider = explicit_;
    e->m = ServerMetrics::Create(*explicit_, scope_);
    entry_.Publish(std::move(e));
  }
}

const ServerMetrics* ServerMetricsSource::Get() const noexcept {
  const Entry* e = entry_.Get();
  if (explicit_) return e != nullptr && e->m.enabled ? &e->m : nullptr;
  uint64_t gen = metrics::MeterProviderGeneration();
  if (e == nullptr || e->generation != gen) {
    try {
      e = entry_.PublishUnless([gen](const Entry& cur) { return cur.generation == gen; },
                               [&] {
                                 auto n = std::make_unique<Entry>();
                                 n->generation = gen;
                                 n->provider = metrics::GetMeterProvider();
                                 n->m = ServerMetrics::Create(*n->provider, scope_);
                                 return n;
                               });
    } catch (...) {
      return nullptr;
    }
  }
  return e != nullptr && e->m.enabled ? &e->m : nullptr;
}

}  // namespace otelweb::http::internal
