// Views (SDK "View"): selection, renaming, attribute filters, aggregations,
// cardinality limits, several streams per instrument, invalid views and
// duplicate streams.
#include <gtest/gtest.h>

#include <string>

#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/diagnostics_capture.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;
using otelweb::testing::DiagnosticsCapture;

struct Provider {
  explicit Provider(std::vector<View> views) {
    reader = std::make_shared<ManualReader>();
    MeterProviderOptions o;
    o.readers = {reader};
    o.views = std::move(views);
    provider = std::make_unique<MeterProvider>(std::move(o));
  }
  ResourceMetrics Collect() {
    ResourceMetrics rm;
    EXPECT_TRUE(reader->Collect(&rm));
    return rm;
  }
  std::shared_ptr<ManualReader> reader;
  std::unique_ptr<MeterProvider> provider;
};

bool HasKey(const std::vector<OwnedKeyValue>& a, std::string_view k) {
  for (const auto& kv : a)
    if (kv.key == k) return true;
  return false;
}

TEST(MetricViews, RenameDescribeAndKeepOnlyAllowedAttributeKeys) {
  View v;
  v.selector.name = "http.server.request.duration";
  v.name = "http.duration";
  v.description = "Duration by route";
  v.attribute_keys = std::vector<std::string>{"http.route"};
  Provider p({v});
  auto h = p.provider->GetMeter("m").CreateDoubleHistogram("http.server.request.duration", "s");
  h.Record(0.1, {{"http.route", "/a"}, {"user.id", "1"}});
  h.Record(0.2, {{"user.id", "2"}, {"http.route", "/a"}});
  h.Record(0.3, {{"http.route", "/b"}, {"user.id", "3"}});
  auto b = h.Bind({{"http.route", "/b"}, {"user.id", "4"}});
  b.Record(0.4);
  auto rm = p.Collect();
  EXPECT_EQ(rm.Find("http.server.request.duration"), nullptr);
  const MetricData* m = rm.Find("http.duration");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->description, "Duration by route");
  EXPECT_EQ(m->unit, "s");
  ASSERT_EQ(m->histogram_points.size(), 2u);  // one per route: user.id was removed
  uint64_t count = 0;
  for (const auto& pt : m->histogram_points) {
    EXPECT_TRUE(HasKey(pt.attributes, "http.route"));
    EXPECT_FALSE(HasKey(pt.attributes, "user.id"));
    EXPECT_EQ(pt.count, 2u);
    count += pt.count;
  }
  EXPECT_EQ(count, 4u);
}

TEST(MetricViews, WildcardsKindMeterAndUnitSelectAndDropDisables) {
  View drop;
  drop.selector.name = "debug.*";
  drop.aggregation = ViewAggregation::kDrop;
  View excl;
  excl.selector.kind = InstrumentKind::kCounter;
  excl.selector.meter_name = "lib.a";
  excl.selector.unit = "{request}";
  excl.excluded_attribute_keys = {"secret"};
  Provider p({drop, excl});
  Meter a = p.provider->GetMeter("lib.a");
  Meter b = p.provider->GetMeter("lib.b");
  auto dbg = a.CreateInt64Counter("DEBUG.hits");  // case-insensitive match
  EXPECT_FALSE(dbg.Enabled());
  dbg.Add(5);
  auto ca = a.CreateInt64Counter("reqs", "{request}");
  auto cb = b.CreateInt64Counter("reqs", "{request}");
  auto cu = a.CreateInt64Counter("bytes", "By");  // other unit: not selected
  ca.Add(1, {{"secret", "x"}, {"k", "v"}});
  cb.Add(1, {{"secret", "x"}, {"k", "v"}});
  cu.Add(1, {{"secret", "x"}});
  auto rm = p.Collect();
  EXPECT_EQ(rm.Find("DEBUG.hits"), nullptr);
  ASSERT_EQ(rm.scope_metrics.size(), 2u);
  for (const auto& sm : rm.scope_metrics) {
    for (const auto& m : sm.metrics) {
      bool filtered = sm.scope.name == "lib.a" && m.name == "reqs";
      EXPECT_EQ(HasKey(m.number_points.at(0).attributes, "secret"), !filtered)
          << sm.scope.name << " " << m.name;
    }
  }
}

TEST(MetricViews, AggregationsAndSeveralStreamsPerInstrument) {
  View hist;  // a counter seen as a histogram with its own boundaries, no min/max
  hist.selector.name = "queue.wait";
  hist.name = "queue.wait.histogram";
  hist.aggregation = ViewAggregation::kExplicitBucketHistogram;
  hist.boundaries = {1, 10};
  hist.record_min_max = false;
  View sum;  // the same counter kept as a sum
  sum.selector.name = "queue.wait";
  sum.aggregation = ViewAggregation::kSum;
  View last;  // a histogram reduced to its last value
  last.selector.name = "temperature";
  last.aggregation = ViewAggregation::kLastValue;
  Provider p({hist, sum, last});
  Meter m = p.provider->GetMeter("m");
  auto c = m.CreateInt64Counter("queue.wait", "ms");
  c.Add(5);
  c.Add(50);
  auto bound = c.Bind({{"q", "x"}});
  bound.Add(7);  // the bound path reaches both streams too
  auto t = m.CreateDoubleHistogram("temperature");
  t.Record(20);
  t.Record(22.5);
  auto rm = p.Collect();
  const MetricData* h = rm.Find("queue.wait.histogram");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->point_kind, MetricPointKind::kHistogram);
  uint64_t n = 0;
  for (const auto& pt : h->histogram_points) {
    EXPECT_EQ(pt.boundaries, (std::vector<double>{1, 10}));
    EXPECT_FALSE(pt.has_min_max);
    n += pt.count;
  }
  EXPECT_EQ(n, 3u);
  const MetricData* s = rm.Find("queue.wait");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->point_kind, MetricPointKind::kSum);
  int64_t total = 0;
  for (const auto& pt : s->number_points) total += pt.as_int;
  EXPECT_EQ(total, 62);
  const MetricData* g = rm.Find("temperature");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->point_kind, MetricPointKind::kGauge);
  EXPECT_DOUBLE_EQ(g->number_points.at(0).as_double, 22.5);
}

TEST(MetricViews, ViewCardinalityLimitAndObservableInstruments) {
  View v;
  v.selector.name = "pool.*";
  v.cardinality_limit = 2;
  v.attribute_keys = std::vector<std::string>{"pool"};
  Provider p({v});
  auto g = p.provider->GetMeter("m").CreateInt64ObservableGauge(
      "pool.size", {}, {}, [](ObserverResult<int64_t>& r) {
        for (int i = 0; i < 4; ++i) r.Observe(i, {{"pool", std::to_string(i)}, {"host", "h"}});
      });
  auto rm = p.Collect();
  const MetricData* m = rm.Find("pool.size");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->number_points.size(), 3u);  // 2 sets + overflow
  for (const auto& pt : m->number_points) EXPECT_FALSE(HasKey(pt.attributes, "host"));
}

TEST(MetricViews, InvalidViewsAreIgnoredWithAWarning) {
  DiagnosticsCapture diag(LogLevel::kWarning);
  View renames_many;  // a name with a wildcard selector
  renames_many.selector.name = "http.*";
  renames_many.name = "one";
  View bad_bounds;
  bad_bounds.selector.name = "x";
  bad_bounds.aggregation = ViewAggregation::kExplicitBucketHistogram;
  bad_bounds.boundaries = {5, 1};
  View sum_on_gauge;
  sum_on_gauge.selector.name = "g";
  sum_on_gauge.aggregation = ViewAggregation::kSum;
  Provider p({renames_many, bad_bounds, sum_on_gauge});
  Meter m = p.provider->GetMeter("m");
  m.CreateInt64Counter("http.requests").Add(1);
  m.CreateDoubleHistogram("x").Record(3);
  m.CreateInt64Gauge("g").Record(7);
  auto rm = p.Collect();
  EXPECT_NE(rm.Find("http.requests"), nullptr);
  EXPECT_EQ(rm.Find("one"), nullptr);
  ASSERT_NE(rm.Find("x"), nullptr);
  EXPECT_EQ(rm.Find("x")->histogram_points.at(0).boundaries.size(), 15u);  // the default
  ASSERT_NE(rm.Find("g"), nullptr);
  EXPECT_EQ(rm.Find("g")->point_kind, MetricPointKind::kGauge);
  EXPECT_EQ(diag.Count("the view is ignored"), 3u) << diag.text();
}

TEST(MetricViews, DuplicateStreamNamesAreBothReportedWithAWarning) {
  DiagnosticsCapture diag(LogLevel::kWarning);
  View v;
  v.selector.name = "b";
  v.name = "a";
  Provider p({v});
  Meter m = p.provider->GetMeter("m");
  auto a = m.CreateInt64Counter("a", "By");
  auto b = m.CreateInt64Histogram("b", "By");
  a.Add(1);
  b.Record(2);
  auto rm = p.Collect();
  size_t named_a = 0;
  for (const auto& sm : rm.scope_metrics)
    for (const auto& md : sm.metrics) named_a += md.name == "a";
  EXPECT_EQ(named_a, 2u);
  EXPECT_EQ(diag.Count("both streams are reported"), 1u) << diag.text();
}

}  // namespace
