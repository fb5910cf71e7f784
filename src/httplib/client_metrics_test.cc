// HTTP client metrics of TracedClient on real sockets (a plain httplib server
// on 127.0.0.1): http.client.request.duration equal to the client span's
// duration, the semconv attributes, body sizes, 404/500, refused connections
// and timeouts with error.type, unsampled calls measured, excluded URLs not.
#include <gtest/gtest.h>

#include <chrono>
#include <iterator>
#include <string>

#include "otelweb/httplib/client.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/sampler.h"
#include "support/manual_metrics.h"
#include "support/peer_server.h"

namespace otelweb::httplib {
namespace {

using otelweb::testing::HistogramWith;
using otelweb::testing::HttpClientAttrs;
using otelweb::testing::HttpClientOkAttrs;
using otelweb::testing::ManualMetrics;
using otelweb::testing::MemoryTracing;
using otelweb::testing::MetricAttr;
using otelweb::testing::PeerServer;

std::unique_ptr<TracedClient> Client(int port, const MemoryTracing& t, const ManualMetrics& m,
                                     std::string excluded = "") {
  ClientOptions o;
  o.tracer_provider = t.provider;
  o.meter_provider = m.provider;
  o.excluded_urls = std::move(excluded);
  auto c = std::make_unique<TracedClient>("127.0.0.1", port, std::move(o));
  c->set_connection_timeout(2);
  c->set_read_timeout(5);
  return c;
}

double Seconds(const SpanData* s) { return double(s->end_ns() - s->start_ns()) / 1e9; }

TEST(HttplibClientMetrics, DurationEqualsTheSpansWithSemconvAttributesAndBodySizes) {
  MemoryTracing t;
  ManualMetrics m;
  PeerServer peer;
  auto cli = Client(peer.port(), t, m);
  ASSERT_TRUE(cli->Post("/echo", "abcdef", "text/plain"));
  ASSERT_EQ(t.spans().size(), 1u);
  const SpanData* span = t.spans()[0];

  auto rm = m.Collect();
  const metrics::MetricData* d = rm.Find("http.client.request.duration");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->unit, "s");
  ASSERT_EQ(d->histogram_points.size(), 1u);
  const metrics::HistogramPoint& p = d->histogram_points[0];
  EXPECT_EQ(p.count, 1u);
  EXPECT_DOUBLE_EQ(p.sum, Seconds(span));  // the same clock reads as the span
  EXPECT_EQ(p.boundaries, std::vector<double>(std::begin(metrics::kHttpDurationBuckets),
                                              std::end(metrics::kHttpDurationBuckets)));
  EXPECT_EQ(HttpClientAttrs(p.attributes), HttpClientOkAttrs("POST", peer.port()));
  EXPECT_EQ(MetricAttr(p.attributes, "url.full"), "<absent>");  // never a metric attribute
  // The exemplar is the client span.
  ASSERT_EQ(p.exemplars.size(), 1u);
  EXPECT_EQ(p.exemplars[0].span_id, span->span_id());

  const metrics::HistogramPoint* req =
      HistogramWith(rm, "http.client.request.body.size", "http.request.method", "POST");
  const metrics::HistogramPoint* res =
      HistogramWith(rm, "http.client.response.body.size", "http.request.method", "POST");
  ASSERT_NE(req, nullptr);
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(rm.Find("http.client.request.body.size")->unit, "By");
  EXPECT_EQ(req->sum, 6);  // "abcdef"
  EXPECT_EQ(res->sum, 6);  // echoed
}

TEST(HttplibClientMetrics, ErrorStatusesRefusedAndTimeoutCarryErrorType) {
  MemoryTracing t;
  ManualMetrics m;
  PeerServer peer;
  auto cli = Client(peer.port(), t, m);
  ASSERT_TRUE(cli->Get("/missing"));
  ASSERT_TRUE(cli->Get("/boom"));
  cli->set_read_timeout(std::chrono::milliseconds(150));
  EXPECT_FALSE(cli->Get("/slow"));
  auto refused = Client(otelweb::testing::ClosedLoopbackPort(), t, m);
  EXPECT_FALSE(refused->Get("/ok"));

  auto rm = m.Collect();
  const auto* d = rm.Find("http.client.request.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 4u);
  const auto* nf = HistogramWith(rm, "http.client.request.duration", "error.type", "404");
  const auto* ise = HistogramWith(rm, "http.client.request.duration", "error.type", "500");
  const auto* timeout = HistogramWith(rm, "http.client.request.duration", "error.type", "Read");
  const auto* conn = HistogramWith(rm, "http.client.request.duration", "error.type", "Connection");
  ASSERT_NE(nf, nullptr);
  ASSERT_NE(ise, nullptr);
  ASSERT_NE(timeout, nullptr);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(MetricAttr(nf->attributes, "http.response.status_code"), "404");
  EXPECT_EQ(MetricAttr(timeout->attributes, "http.response.status_code"), "<absent>");
  EXPECT_EQ(MetricAttr(conn->attributes, "http.response.status_code"), "<absent>");
  EXPECT_EQ(MetricAttr(conn->attributes, "server.address"), "127.0.0.1");
  // The timeout took the read timeout, not the handler's 800 ms.
  EXPECT_GE(timeout->sum, 0.1);
  EXPECT_LT(timeout->sum, 0.7);
  // No response, no body sizes: only the two answered calls have them.
  const auto* sizes = rm.Find("http.client.response.body.size");
  ASSERT_NE(sizes, nullptr);
  EXPECT_EQ(sizes->histogram_points.size(), 2u);
}

TEST(HttplibClientMetrics, UnsampledCallsAreMeasuredExcludedOnesAreNot) {
  MemoryTracing t(otelweb::testing::NeverSampledTracing());
  ManualMetrics m;
  PeerServer peer;
  auto cli = Client(peer.port(), t, m, "/missing");
  ASSERT_TRUE(cli->Get("/ok"));
  ASSERT_TRUE(cli->Get("/chunked"));
  ASSERT_TRUE(cli->Get("/missing"));  // excluded: neither span nor metrics
  EXPECT_TRUE(t.spans().empty());

  auto rm = m.Collect();
  const auto* d = rm.Find("http.client.request.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 1u);  // /ok and /chunked share the attributes
  EXPECT_EQ(d->histogram_points[0].count, 2u);
  EXPECT_TRUE(d->histogram_points[0].exemplars.empty());  // trace_based: no sampled span
  EXPECT_EQ(MetricAttr(d->histogram_points[0].attributes, "http.response.status_code"), "200");
  // "ok" (Content-Length) and "abcdefg" (chunked, the body httplib kept).
  const auto* res = rm.Find("http.client.response.body.size");
  ASSERT_NE(res, nullptr);
  ASSERT_EQ(res->histogram_points.size(), 1u);
  EXPECT_EQ(res->histogram_points[0].sum, 2 + 7);
  EXPECT_EQ(res->histogram_points[0].max, 7);
  // A GET without body: 0 bytes sent.
  const auto* req = rm.Find("http.client.request.body.size");
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->histogram_points[0].sum, 0);
}

TEST(HttplibClientMetrics, AStreamedResponseWithoutLengthRecordsNoSize) {
  MemoryTracing t;
  ManualMetrics m;
  PeerServer peer;
  auto cli = Client(peer.port(), t, m);
  std::string got;
  ASSERT_TRUE(cli->Get("/chunked", [&](const char* d, size_t n) {
    got.append(d, n);
    return true;
  }));
  EXPECT_EQ(got, "abcdefg");
  ASSERT_TRUE(cli->Get("/ok", [&](const char*, size_t) { return true; }));
  auto rm = m.Collect();
  const auto* res = rm.Find("http.client.response.body.size");
  ASSERT_NE(res, nullptr);
  ASSERT_EQ(res->histogram_points.size(), 1u);
  EXPECT_EQ(res->histogram_points[0].count, 1u);  // /ok by its Content-Length only
  EXPECT_EQ(res->histogram_points[0].sum, 2);
}

// A gzip-encoded response: its Content-Length (the size on the wire), not the
// size httplib decoded it to.
TEST(HttplibClientMetrics, ACompressedResponseReportsItsSizeOnTheWire) {
  MemoryTracing t;
  ManualMetrics m;
  PeerServer peer;
  auto cli = Client(peer.port(), t, m);
  auto r = cli->Get("/text", ::httplib::Headers{{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::string(PeerServer::kTextBody, 'a'));
  ASSERT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  const int64_t on_wire = std::stoll(r->get_header_value("Content-Length"));
  EXPECT_LT(on_wire, static_cast<int64_t>(PeerServer::kTextBody));
  auto rm = m.Collect();
  const auto* res = rm.Find("http.client.response.body.size");
  ASSERT_NE(res, nullptr);
  ASSERT_EQ(res->histogram_points.size(), 1u);
  EXPECT_EQ(res->histogram_points[0].sum, on_wire);
}

}  // namespace
}  // namespace otelweb::httplib
