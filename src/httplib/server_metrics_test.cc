// HTTP server metrics of the cpp-httplib adapter on real sockets: the
// semconv instruments and attributes, duration equal to the span's,
// active_requests back to zero, excluded URLs, unsampled requests, body sizes,
// exemplars naming the request's span, concurrent load, per-request
// attributes from handlers (the labeler).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "otelweb/http/labeler.h"
#include "otelweb/httplib/server.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/sampler.h"

namespace otelweb::httplib {
namespace {

using namespace otelweb::metrics;
using otelweb::testing::MemoryTracing;
using otelweb::testing::MemoryTracingOptions;

class Serving {
 public:
  explicit Serving(::httplib::Server& s) : s_(s) {
    s_.set_keep_alive_timeout(1);
    port_ = s_.bind_to_any_port("127.0.0.1");
    t_ = std::thread([this] { s_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !s_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~Serving() {
    s_.stop();
    t_.join();
  }
  ::httplib::Client Client() const {
    ::httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(2);
    c.set_read_timeout(5);
    return c;
  }

 private:
  ::httplib::Server& s_;
  int port_ = 0;
  std::thread t_;
};

struct Metrics {
  Metrics() {
    MeterProviderOptions o;
    o.readers.push_back(reader);
    o.resource = Resource();
    provider = std::make_shared<MeterProvider>(std::move(o));
  }
  ResourceMetrics Collect() {
    ResourceMetrics rm;
    reader->Collect(&rm);
    return rm;
  }
  std::shared_ptr<ManualReader> reader = std::make_shared<ManualReader>();
  std::shared_ptr<MeterProvider> provider;
};

ServerOptions Opts(const MemoryTracing& t, const Metrics& m) {
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.meter_provider = m.provider;
  o.excluded_urls = "/health";
  o.capture_request_headers = std::vector<std::string>{};
  o.capture_response_headers = std::vector<std::string>{};
  return o;
}

std::string Str(const std::vector<OwnedKeyValue>& a, std::string_view k) {
  for (const auto& kv : a)
    if (kv.key == k)
      return kv.value.type == AttributeType::kInt ? std::to_string(kv.value.i) : kv.value.s;
  return "<absent>";
}

TEST(HttplibServerMetrics, DurationActiveRequestsAndBodySizesWithSemconvAttributes) {
  MemoryTracing t;
  Metrics m;
  TracedServer app(Opts(t, m));
  app.Post("/items/:id", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("0123456789", "text/plain");
  });
  app.Get("/health", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  app.Get("/boom", [](const ::httplib::Request&, ::httplib::Response& res) { res.status = 503; });
  Serving s(app);
  auto c = s.Client();
  ASSERT_TRUE(c.Post("/items/7", "abcdef", "text/plain"));
  ASSERT_TRUE(c.Get("/health"));  // excluded from metrics too
  ASSERT_TRUE(c.Get("/boom"));
  ASSERT_TRUE(t.WaitFor(2));

  auto rm = m.Collect();
  const MetricData* d = rm.Find("http.server.request.duration");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->unit, "s");
  ASSERT_EQ(d->histogram_points.size(), 2u);
  const HistogramPoint* post = nullptr;
  const HistogramPoint* boom = nullptr;
  for (const auto& p : d->histogram_points)
    (Str(p.attributes, "http.request.method") == "POST" ? post : boom) = &p;
  ASSERT_NE(post, nullptr);
  ASSERT_NE(boom, nullptr);
  EXPECT_EQ(post->boundaries,
            std::vector<double>(std::begin(kHttpDurationBuckets), std::end(kHttpDurationBuckets)));
  EXPECT_EQ(Str(post->attributes, "http.route"), "/items/:id");
  EXPECT_EQ(Str(post->attributes, "url.scheme"), "http");
  EXPECT_EQ(Str(post->attributes, "http.response.status_code"), "200");
  EXPECT_EQ(Str(post->attributes, "network.protocol.version"), "1.1");
  EXPECT_EQ(Str(post->attributes, "error.type"), "<absent>");
  EXPECT_EQ(Str(post->attributes, "server.address"), "<absent>");  // opt-in only
  EXPECT_EQ(Str(post->attributes, "client.address"), "<absent>");
  EXPECT_EQ(post->attributes.size(), 5u);
  EXPECT_EQ(Str(boom->attributes, "error.type"), "503");

  // The duration equals the span's.
  const SpanData* span = nullptr;
  for (const SpanData* sd : t.spans())
    if (sd->name() == "POST /items/:id") span = sd;
  ASSERT_NE(span, nullptr);
  EXPECT_DOUBLE_EQ(post->sum,
                   std::chrono::duration<double>(span->end_time() - span->start_time()).count());
  // Its exemplar names the request's span.
  ASSERT_EQ(post->exemplars.size(), 1u);
  EXPECT_EQ(post->exemplars[0].trace_id, span->context().trace_id());
  EXPECT_EQ(post->exemplars[0].span_id, span->context().span_id());

  const MetricData* req_size = rm.Find("http.server.request.body.size");
  const MetricData* res_size = rm.Find("http.server.response.body.size");
  ASSERT_NE(req_size, nullptr);
  ASSERT_NE(res_size, nullptr);
  EXPECT_EQ(req_size->unit, "By");
  for (const auto& p : req_size->histogram_points)
    if (Str(p.attributes, "http.request.method") == "POST") {
      EXPECT_DOUBLE_EQ(p.sum, 6);
    }
  for (const auto& p : res_size->histogram_points)
    if (Str(p.attributes, "http.request.method") == "POST") {
      EXPECT_DOUBLE_EQ(p.sum, 10);
    }

  const MetricData* active = rm.Find("http.server.active_requests");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->unit, "{request}");
  for (const auto& p : active->number_points) {
    EXPECT_EQ(p.as_int, 0);              // every increment was matched
    EXPECT_EQ(p.attributes.size(), 2u);  // method and scheme only
  }
}

TEST(HttplibServerMetrics, ActiveRequestsCountsRequestsInFlight) {
  MemoryTracing t;
  Metrics m;
  TracedServer app(Opts(t, m));
  std::atomic<bool> release{false};
  std::atomic<int> inside{0};
  app.Get("/slow", [&](const ::httplib::Request&, ::httplib::Response& res) {
    inside.fetch_add(1);
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    res.set_content("done", "text/plain");
  });
  Serving s(app);
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) clients.emplace_back([&] { s.Client().Get("/slow"); });
  for (int i = 0; i < 2000 && inside.load() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(inside.load(), 3);
  auto during = m.Collect();
  EXPECT_EQ(during.Find("http.server.active_requests")->number_points.at(0).as_int, 3);
  release = true;
  for (auto& c : clients) c.join();
  ASSERT_TRUE(t.WaitFor(3));
  auto after = m.Collect();
  EXPECT_EQ(after.Find("http.server.active_requests")->number_points.at(0).as_int, 0);
}

TEST(HttplibServerMetrics, UnsampledRequestsAreMeasuredAndLoadIsCountedExactly) {
  MemoryTracingOptions to;
  to.sampler = AlwaysOffSampler();
  MemoryTracing t(to);
  Metrics m;
  TracedServer app(Opts(t, m));
  app.Get("/n/:i", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("x", "text/plain");
  });
  Serving s(app);
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < kThreads; ++i) {
    ts.emplace_back([&] {
      auto c = s.Client();
      for (int j = 0; j < kEach; ++j)
        if (c.Get("/n/" + std::to_string(j))) ok.fetch_add(1);
    });
  }
  for (auto& th : ts) th.join();
  ASSERT_EQ(ok.load(), kThreads * kEach);
  // The server logs (and records) after the response is written: wait a little.
  uint64_t count = 0;
  for (int i = 0; i < 500 && count < uint64_t{kThreads * kEach}; ++i) {
    auto rm = m.Collect();
    count = rm.Find("http.server.request.duration")->histogram_points.at(0).count;
    if (count < uint64_t{kThreads * kEach})
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(count, uint64_t{kThreads * kEach});  // one series (one route), no span was sampled
  auto rm = m.Collect();
  EXPECT_TRUE(rm.Find("http.server.request.duration")->histogram_points.at(0).exemplars.empty());
  EXPECT_EQ(t.spans().size(), 0u);
}

}  // namespace
// The labeler: a handler adds tenant (and plan) to its request; the duration
// and both body-size histograms carry them, active_requests does not;
// reserved keys are refused; the attribute sets count against the
// cardinality limit (overflow series beyond it); a request without labels
// and a request on a server without metrics are unaffected.
TEST(HttplibServerMetrics, LabelerAddsHandlerAttributesToTheRequestsHistograms) {
  MemoryTracing t;
  MeterProviderOptions mo;
  auto reader = std::make_shared<ManualReader>();
  mo.readers.push_back(reader);
  mo.cardinality_limit = 4;
  auto provider = std::make_shared<MeterProvider>(std::move(mo));
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.meter_provider = provider;
  TracedServer app(o);
  std::atomic<int> refused{0};
  app.Post("/t/:tenant", [&](const ::httplib::Request& req, ::httplib::Response& res) {
    http::Labeler l = http::Labeler::Current();
    if (!l.valid()) res.status = 500;
    l.Add("tenant", std::string_view(req.path).substr(3));  // "/t/<tenant>"
    l.Add("plan", "free");
    l.Add("plan", "pro");  // replaces
    refused += !l.Add("http.route", "/forged");
    refused += !l.Add("error.type", "x");
    refused += !l.Add("", "x");
    res.set_content("hello", "text/plain");
  });
  app.Get("/plain", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("x", "text/plain");
  });
  Serving s(app);
  auto c = s.Client();
  // One request at a time, each recorded before the next starts (the client
  // has its answer before the server records the request's metrics and ends
  // its span, in that order): the admitted sets are the first four recorded.
  size_t requests = 0;
  ASSERT_TRUE(c.Get("/plain"));
  ASSERT_TRUE(t.WaitFor(++requests));
  for (const char* tenant : {"acme", "acme", "globex", "initech", "umbrella", "hooli"}) {
    ASSERT_TRUE(c.Post(std::string("/t/") + tenant, "abc", "text/plain"));
    ASSERT_TRUE(t.WaitFor(++requests)) << tenant;
  }
  ASSERT_EQ(requests, 7u);
  EXPECT_EQ(refused.load(), 18);
  EXPECT_FALSE(http::Labeler::Current().valid());  // outside a request

  ResourceMetrics rm;
  ASSERT_TRUE(reader->Collect(&rm));
  for (const char* name : {"http.server.request.duration", "http.server.request.body.size",
                           "http.server.response.body.size"}) {
    const MetricData* d = rm.Find(name);
    ASSERT_NE(d, nullptr) << name;
    std::map<std::string, uint64_t> by_tenant;
    uint64_t total = 0;
    for (const auto& p : d->histogram_points) {
      total += p.count;
      if (Str(p.attributes, "otel.metric.overflow") != "<absent>") {
        by_tenant["<overflow>"] += p.count;
        continue;
      }
      by_tenant[Str(p.attributes, "tenant")] += p.count;
      if (Str(p.attributes, "tenant") != "<absent>") {
        EXPECT_EQ(Str(p.attributes, "plan"), "pro") << name;
        EXPECT_EQ(Str(p.attributes, "http.route"), "/t/:tenant") << name;
        EXPECT_EQ(p.attributes.size(), 7u) << name;  // 5 semconv + tenant + plan
      }
    }
    EXPECT_EQ(total, 7u) << name;
    // Limit 4: /plain's set and the first three tenants' sets are admitted
    // (in the order they were first recorded), the last two overflow.
    EXPECT_EQ(by_tenant["acme"], 2u) << name;
    EXPECT_EQ(by_tenant["globex"], 1u) << name;
    EXPECT_EQ(by_tenant["<absent>"], 1u) << name;  // GET /plain: no labels
    EXPECT_EQ(by_tenant["initech"], 1u) << name;
    EXPECT_EQ(by_tenant["<overflow>"], 2u) << name;  // umbrella, hooli
    EXPECT_EQ(by_tenant.count("umbrella"), 0u) << name;
  }
  const MetricData* a = rm.Find("http.server.active_requests");
  ASSERT_NE(a, nullptr);
  for (const auto& p : a->number_points) EXPECT_EQ(Str(p.attributes, "tenant"), "<absent>");

  // A server without metrics: the labeler is invalid, the handler still runs.
  ServerOptions no_metrics;
  no_metrics.tracer_provider = t.provider;
  no_metrics.meter_provider = MeterProvider::NoOp();
  TracedServer plain(no_metrics);
  std::atomic<bool> valid{true};
  plain.Get("/", [&](const ::httplib::Request&, ::httplib::Response& res) {
    valid = http::Labeler::Current().valid();
    res.set_content("x", "text/plain");
  });
  Serving s2(plain);
  auto c2 = s2.Client();
  ASSERT_TRUE(c2.Get("/"));
  EXPECT_FALSE(valid.load());
}

}  // namespace otelweb::httplib
