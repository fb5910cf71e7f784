// Shared pieces of the benchmarks: the ten attributes of the contract.
#pragma once

#include "otelweb/span.h"

namespace otelweb::bench {

// The ten attributes of shared/BENCHMARKS.md, set after start.
inline void SetTenAttributes(SpanRef& s) {
  s.SetAttribute("http.request.method", "GET");
  s.SetAttribute("url.path", "/api/v1/users/12345/orders");
  s.SetAttribute("server.address", "api.example.com");
  s.SetAttribute("server.port", 8080);
  s.SetAttribute("http.response.status_code", 200);
  s.SetAttribute("network.protocol.version", "1.1");
  s.SetAttribute("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0");
  s.SetAttribute("http.request.body.size", 1234);
  s.SetAttribute("error", false);
  s.SetAttribute("cache.hit", true);
}

}  // namespace otelweb::bench
