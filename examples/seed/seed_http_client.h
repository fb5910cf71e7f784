// The seed app's outgoing call (what `requests.get(url, timeout=...)` was).
#pragma once

#include <chrono>
#include <string>

#include <httplib.h>
#include <otelweb/otelweb.h>

namespace seed {

struct FetchResult {
  int status = 0;
  std::string body;
  std::string error;  // transport error (refused, timeout, ...), empty on success
};

namespace detail {
class HeaderSetter final : public otelweb::TextMapSetter {
 public:
  explicit HeaderSetter(httplib::Headers& h) : h_(h) {}
  void Set(std::string_view key, std::string_view value) noexcept override {
    try {
      h_.erase(std::string(key));
      h_.emplace(std::string(key), std::string(value));
    } catch (...) {
    }
  }

 private:
  httplib::Headers& h_;
};
}  // namespace detail

// GET base_url + path with connect and read timeouts. A CLIENT span named
// "GET" wraps the call and its context goes out in traceparent/tracestate/
// baggage.
inline FetchResult Fetch(const std::string& base_url, const std::string& path,
                         std::chrono::milliseconds timeout) {
  FetchResult out;
  httplib::Client client(base_url);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);

  auto span = otelweb::GetTracer("seed-app.client").StartSpan("GET", otelweb::SpanKind::kClient);
  span.SetAttribute("http.request.method", "GET");
  span.SetAttribute("url.full", base_url + path);
  httplib::Headers headers;
  {
    detail::HeaderSetter setter(headers);
    otelweb::GetTextMapPropagator()->Inject(span.AsContext(), setter);
  }
  httplib::Result r = client.Get(path.c_str(), headers);
  if (!r) {
    out.error = httplib::to_string(r.error());
    span.SetAttribute("error.type", out.error);
    span.SetStatus(otelweb::StatusCode::kError, out.error);
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  span.SetAttribute("http.response.status_code", static_cast<int64_t>(r->status));
  if (r->status >= 400) {
    span.SetAttribute("error.type", std::to_string(r->status));
    span.SetStatus(otelweb::StatusCode::kError);
  }
  return out;
}

}  // namespace seed
