// The Prometheus pull exporter: the text format by the compatibility rules,
// and a real Prometheus server (Debian's `prometheus`, started here on
// 127.0.0.1 with its own free port, data directory and generated config,
// stopped by pid) scraping /metrics of this process, then queried through
// its HTTP API (series, values, histogram_quantile).
#include "otelweb/prometheus/exporter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/span.h"

namespace otelweb::prometheus {
namespace {

using namespace std::chrono_literals;

struct PromSetup {
  explicit PromSetup(int port = 0, std::vector<metrics::View> views = {}) {
    exporter = std::make_shared<PrometheusExporter>(
        PrometheusExporterOptions{.host = "127.0.0.1", .port = port});
    metrics::MeterProviderOptions o;
    o.resource = Resource({{"service.name", OwnedValue(AttributeValue("prom-test"))},
                           {"service.instance.id", OwnedValue(AttributeValue("i-1"))}});
    o.readers.push_back(exporter);
    o.views = std::move(views);
    provider = std::make_unique<metrics::MeterProvider>(std::move(o));
    meter = provider->GetMeter("prom.test", "1.2");
  }
  std::shared_ptr<PrometheusExporter> exporter;
  std::unique_ptr<metrics::MeterProvider> provider;
  metrics::Meter meter;
};

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(Prometheus, NamesUnitsAndSuffixesFollowTheCompatibilityRules) {
  EXPECT_EQ(PrometheusName("http.server.request.duration", "s", false),
            "http_server_request_duration_seconds");
  EXPECT_EQ(PrometheusName("http.server.active_requests", "{request}", true),
            "http_server_active_requests");
  EXPECT_EQ(PrometheusName("body.size", "By", false), "body_size_bytes");
  EXPECT_EQ(PrometheusName("cpu.utilization", "1", true), "cpu_utilization_ratio");
  EXPECT_EQ(PrometheusName("speed", "m/s", true), "speed_meters_per_second");
  EXPECT_EQ(PrometheusName("latency_seconds", "s", false), "latency_seconds");
}

TEST(Prometheus, TextFormatOfEveryKind) {
  PromSetup s;
  s.meter.CreateInt64Counter("orders", "{order}", "Orders placed").Add(5, {{"shop.region", "eu"}});
  s.meter.CreateInt64UpDownCounter("queue.depth").Add(-2);
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries = {0.1, 1};
  auto h = s.meter.CreateDoubleHistogram("latency", "s", "", adv);
  h.Record(0.05);
  h.Record(0.5);
  h.Record(5);
  std::string t = s.exporter->Scrape();
  EXPECT_TRUE(Has(t,
                  "# TYPE target_info "
                  "gauge\ntarget_info{service_instance_id=\"i-1\",service_name=\"prom-test\"} 1\n"))
      << t;
  EXPECT_TRUE(Has(t, "# HELP orders_total Orders placed\n# TYPE orders_total counter\n")) << t;
  EXPECT_TRUE(Has(t,
                  "orders_total{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\",shop_"
                  "region=\"eu\"} 5\n"))
      << t;
  EXPECT_TRUE(Has(t, "# TYPE queue_depth gauge\n")) << t;
  EXPECT_TRUE(Has(t, "queue_depth{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\"} -2\n"))
      << t;
  EXPECT_TRUE(Has(t, "# TYPE latency_seconds histogram\n")) << t;
  EXPECT_TRUE(Has(t,
                  "latency_seconds_bucket{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\","
                  "le=\"0.10000000000000001\"} 1\n"))
      << t;
  EXPECT_TRUE(Has(t,
                  "latency_seconds_bucket{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\","
                  "le=\"1\"} 2\n"))
      << t;
  EXPECT_TRUE(Has(t,
                  "latency_seconds_bucket{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\","
                  "le=\"+Inf\"} 3\n"))
      << t;
  EXPECT_TRUE(
      Has(t, "latency_seconds_count{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\"} 3\n"))
      << t;
  EXPECT_TRUE(
      Has(t, "latency_seconds_sum{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\"} 5.5"))
      << t;
}

// The text formats have no native histograms: an exponential histogram
// becomes a classic one whose `le` are the exponential buckets' upper
// boundaries (negative range, zero bucket, positive range, +Inf).
TEST(Prometheus, ExponentialHistogramsBecomeClassicBucketsAtTheirBoundaries) {
  metrics::View v;
  v.selector.name = "sizes";
  v.aggregation = metrics::ViewAggregation::kBase2ExponentialBucketHistogram;
  v.max_size = 4;  // the values below end at scale 0: buckets (2^i, 2^(i+1)]
  PromSetup s(0, {v});
  auto h = s.meter.CreateDoubleHistogram("sizes", "By");
  for (double x : {0.0, -2.0, 1.0, 2.0, 4.0, 8.0, 7.5}) h.Record(x);
  const std::string t = s.exporter->Scrape();
  EXPECT_TRUE(Has(t, "# TYPE sizes_bytes histogram\n")) << t;
  const std::string l = "sizes_bytes_bucket{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\",le=";
  EXPECT_TRUE(Has(t, l + "\"-1\"} 1\n" + l + "\"0\"} 2\n" + l + "\"1\"} 3\n" + l + "\"2\"} 4\n" + l +
                         "\"4\"} 5\n" + l + "\"8\"} 7\n" + l + "\"+Inf\"} 7\n"))
      << t;
  EXPECT_TRUE(Has(t, "sizes_bytes_count{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\"} 7\n"))
      << t;
  EXPECT_TRUE(Has(t, "sizes_bytes_sum{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\"} 20.5\n"))
      << t;
}

// OpenMetrics when the scraper asks for it: counter families without
// _total, target_info an info metric, exemplars with the trace id of the span
// that recorded, # EOF; the 0.0.4 format has none of these.
TEST(Prometheus, OpenMetricsWithExemplarsWhenTheScraperAsksForIt) {
  testing::MemoryTracing tracing;
  PromSetup s;
  ASSERT_GT(s.exporter->port(), 0);
  auto orders = s.meter.CreateInt64Counter("orders", "{order}", "Orders placed");
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries = {0.1, 1};
  auto h = s.meter.CreateDoubleHistogram("latency", "s", "", adv);
  h.Record(0.05);  // outside a span: no exemplar
  Span span = tracing.tracer().StartSpan("work");
  const std::string trace = span.GetContext().trace_id().ToHex();
  const std::string sid = span.GetContext().span_id().ToHex();
  {
    Scope scope = MakeCurrent(span);
    orders.Add(2, {{"shop.region", "eu"}});
    h.Record(0.5);
  }
  span.End();

  ::httplib::Client c("127.0.0.1", s.exporter->port());
  auto om = c.Get("/metrics", {{"Accept", "application/openmetrics-text;version=1.0.0,text/plain;"
                                          "version=0.0.4;q=0.5,*/*;q=0.1"}});
  ASSERT_TRUE(om);
  EXPECT_EQ(om->get_header_value("Content-Type"),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  const std::string& t = om->body;
  EXPECT_TRUE(t.ends_with("# EOF\n")) << t;
  EXPECT_TRUE(Has(t, "# TYPE target info\ntarget_info{")) << t;
  EXPECT_TRUE(Has(t, "# HELP orders Orders placed\n# TYPE orders counter\n")) << t;
  EXPECT_TRUE(Has(t, "orders_total{otel_scope_name=\"prom.test\",otel_scope_version=\"1.2\","
                     "shop_region=\"eu\"} 2 # {trace_id=\"" +
                         trace + "\",span_id=\"" + sid + "\"} 2 "))
      << t;
  // The exemplar 0.5 sits on the bucket (0.1, 1] only.
  EXPECT_TRUE(Has(t, "latency_seconds_bucket{le=\"1\",otel_scope_name=\"prom.test\","
                     "otel_scope_version=\"1.2\"} 2 # {trace_id=\"" +
                         trace + "\",span_id=\"" + sid + "\"} 0.5 ") ||
              Has(t, "latency_seconds_bucket{otel_scope_name=\"prom.test\",otel_scope_version=\"1."
                     "2\",le=\"1\"} 2 # {trace_id=\"" +
                         trace + "\",span_id=\"" + sid + "\"} 0.5 "))
      << t;
  size_t exemplars = 0;
  for (size_t i = t.find(" # {"); i != std::string::npos; i = t.find(" # {", i + 1)) ++exemplars;
  EXPECT_EQ(exemplars, 2u) << t;

  auto text = c.Get("/metrics");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_FALSE(Has(text->body, " # {")) << text->body;
  EXPECT_FALSE(Has(text->body, "# EOF")) << text->body;
  EXPECT_TRUE(Has(text->body, "# TYPE orders_total counter\n")) << text->body;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// A Prometheus server of our own: generated config, own data directory, own
// port; stopped by pid.
class PrometheusServer {
 public:
  PrometheusServer(int target_port) {
    dir_ = std::filesystem::temp_directory_path() / ("otelweb-prom-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "data");
    port_ = FreePort();
    std::ofstream(dir_ / "prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        << "scrape_configs:\n  - job_name: otelweb\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    std::string cfg = "--config.file=" + (dir_ / "prometheus.yml").string();
    std::string data = "--storage.tsdb.path=" + (dir_ / "data").string();
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    std::string log = (dir_ / "prometheus.log").string();
    pid_ = fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 2);
      execlp("prometheus", "prometheus", cfg.c_str(), data.c_str(), listen.c_str(),
             "--log.level=warn", "--enable-feature=exemplar-storage", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PrometheusServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      for (int i = 0; i < 100 && waitpid(pid_, &st, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(50ms);
      if (waitpid(pid_, &st, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // The body of an instant query (empty on error).
  std::string Query(const std::string& promql) {
    ::httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1);
    c.set_read_timeout(5);
    auto r = c.Get("/api/v1/query", ::httplib::Params{{"query", promql}}, ::httplib::Headers{});
    return r && r->status == 200 ? r->body : std::string();
  }
  // The body of an exemplar query over the last hour (empty on error).
  std::string QueryExemplars(const std::string& promql) {
    ::httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1);
    c.set_read_timeout(5);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto r = c.Get("/api/v1/query_exemplars",
                   ::httplib::Params{{"query", promql},
                                     {"start", std::to_string(now - 3600)},
                                     {"end", std::to_string(now + 60)}},
                   ::httplib::Headers{});
    return r && r->status == 200 ? r->body : std::string();
  }
  // Polls until the query has a result (or the deadline passes).
  std::string WaitFor(const std::string& promql, std::chrono::seconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string b = Query(promql);
      if (Has(b, "\"result\":[{")) return b;
      std::this_thread::sleep_for(250ms);
    }
    return Query(promql);
  }
  std::string Log() const {
    std::ifstream f(dir_ / "prometheus.log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

bool HavePrometheus() { return std::system("command -v prometheus >/dev/null 2>&1") == 0; }

TEST(Prometheus, ARealPrometheusScrapesAndQueriesTheSeries) {
  if (!HavePrometheus()) GTEST_SKIP() << "prometheus is not installed (scripts/setup installs it)";
  PromSetup s;
  ASSERT_GT(s.exporter->port(), 0);
  auto orders = s.meter.CreateInt64Counter("orders", "{order}");
  orders.Add(7, {{"shop.region", "eu"}});
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(metrics::kHttpDurationBuckets),
                                        std::end(metrics::kHttpDurationBuckets));
  auto d = s.meter.CreateDoubleHistogram("http.server.request.duration", "s", "", adv);
  for (int i = 0; i < 99; ++i) d.Record(i < 90 ? 0.02 : 3.0, {{"http.route", "/items"}});
  testing::MemoryTracing tracing;  // one recording inside a sampled span: an exemplar
  Span span = tracing.tracer().StartSpan("GET /items");
  const std::string trace = span.GetContext().trace_id().ToHex();
  {
    Scope scope = MakeCurrent(span);
    d.Record(0.02, {{"http.route", "/items"}});
  }
  span.End();

  PrometheusServer prom(s.exporter->port());
  std::string r = prom.WaitFor("orders_total");
  ASSERT_TRUE(Has(r, "\"shop_region\":\"eu\"")) << r << prom.Log();
  EXPECT_TRUE(Has(r, "\"job\":\"otelweb\"")) << r;
  EXPECT_TRUE(Has(r, "\"otel_scope_name\":\"prom.test\"")) << r;
  EXPECT_TRUE(Has(r, ",\"7\"]")) << r;

  r = prom.WaitFor("target_info");
  EXPECT_TRUE(Has(r, "\"service_name\":\"prom-test\"")) << r;

  r = prom.WaitFor("http_server_request_duration_seconds_count");
  EXPECT_TRUE(Has(r, ",\"100\"]")) << r;
  // The median is in the (0.01, 0.025] bucket; the 95th percentile in (2.5, 5].
  r = prom.WaitFor(
      "histogram_quantile(0.5, sum by (le) (http_server_request_duration_seconds_bucket))");
  size_t v = r.find("\"value\":[");
  ASSERT_NE(v, std::string::npos) << r;
  size_t q = r.find(",\"", v);
  double median = std::atof(r.c_str() + q + 2);
  EXPECT_GT(median, 0.01) << r;
  EXPECT_LE(median, 0.025) << r;
  r = prom.WaitFor(
      "histogram_quantile(0.95, sum by (le) (http_server_request_duration_seconds_bucket))");
  v = r.find("\"value\":[");
  q = r.find(",\"", v);
  double p95 = std::atof(r.c_str() + q + 2);
  EXPECT_GT(p95, 2.5) << r;
  EXPECT_LE(p95, 5) << r;

  // Prometheus scraped OpenMetrics (it asks for it) and stored the exemplar.
  std::string ex;
  for (auto until = std::chrono::steady_clock::now() + 30s;
       !Has(ex, trace) && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(250ms))
    ex = prom.QueryExemplars("http_server_request_duration_seconds_bucket");
  EXPECT_TRUE(Has(ex, "\"trace_id\":\"" + trace + "\"")) << ex << prom.Log();

  // A later increment shows in a later scrape.
  orders.Add(3, {{"shop.region", "eu"}});
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!Has(prom.Query("orders_total"), ",\"10\"]") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_TRUE(Has(prom.Query("orders_total"), ",\"10\"]"));
}

}  // namespace
}  // namespace otelweb::prometheus
