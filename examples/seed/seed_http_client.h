// The seed app's outgoing call (what `requests.get(url, timeout=...)` was),
// through otelweb's traced cpp-httplib client: a CLIENT span "GET" under the
// request's span, and traceparent/tracestate/baggage sent to service B.
#pragma once

#include <otelweb/httplib/server.h>

#include <otelweb/httplib/client.h>

#include <chrono>
#include <string>

namespace seed {

struct FetchResult {
  int status = 0;
  std::string body;
  std::string error;  // transport error (refused, timeout, ...), empty on success
};

// GET base_url + path with connect, read and write timeouts (never without:
// a stuck backend would hold the request thread forever).
inline FetchResult Fetch(const std::string& base_url, const std::string& path,
                         std::chrono::milliseconds timeout) {
  FetchResult out;
  otelweb::httplib::TracedClient client(base_url);  // was: httplib::Client
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  httplib::Result r = client.Get(path);
  if (!r) {
    out.error = "GET " + base_url + path +
                " failed: " + std::string(otelweb::httplib::ErrorName(r.error())) +
                (r.error() == httplib::Error::Read ? " (no answer within the timeout)" : "");
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  return out;
}

}  // namespace seed
