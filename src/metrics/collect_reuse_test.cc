// Collection into a reused ResourceMetrics (MetricReader::Collect replaces
// what *out held and reuses its storage; the periodic reader keeps one): the
// result equals a collection into a fresh ResourceMetrics whatever the
// previous content (other kinds, more or fewer points, exemplars, array
// attributes), the storage is really reused, and threads recording while a
// reader collects into one reused output lose nothing and count nothing twice.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/span.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;
using otelweb::testing::MemoryTracing;

// Field-by-field equality of two collections, times excepted (two readers
// collect one after the other; `time` and the delta start times differ).
void ExpectSameAttributes(const std::vector<OwnedKeyValue>& a, const std::vector<OwnedKeyValue>& b,
                          const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key) << where;
    EXPECT_TRUE(a[i].value == b[i].value) << where << " key " << a[i].key;
  }
}

void ExpectSameExemplars(const std::vector<Exemplar>& a, const std::vector<Exemplar>& b,
                         const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (size_t i = 0; i < a.size(); ++i) {
    ExpectSameAttributes(a[i].filtered_attributes, b[i].filtered_attributes, where + " exemplar");
    EXPECT_EQ(a[i].time, b[i].time) << where;
    EXPECT_EQ(a[i].is_int, b[i].is_int) << where;
    EXPECT_EQ(a[i].as_int, b[i].as_int) << where;
    EXPECT_EQ(a[i].as_double, b[i].as_double) << where;
    EXPECT_EQ(a[i].trace_id, b[i].trace_id) << where;
    EXPECT_EQ(a[i].span_id, b[i].span_id) << where;
  }
}

// What number and histogram points have in common.
template <typename Point>
void ExpectSameCommon(const Point& u, const Point& v, const std::string& where) {
  ExpectSameAttributes(u.attributes, v.attributes, where);
  EXPECT_LE(u.start_time, u.time) << where;
  ExpectSameExemplars(u.exemplars, v.exemplars, where);
}

void ExpectSameCollection(const ResourceMetrics& a, const ResourceMetrics& b) {
  ExpectSameAttributes(a.resource.attributes(), b.resource.attributes(), "resource");
  ASSERT_EQ(a.scope_metrics.size(), b.scope_metrics.size());
  for (size_t s = 0; s < a.scope_metrics.size(); ++s) {
    const ScopeMetrics& x = a.scope_metrics[s];
    const ScopeMetrics& y = b.scope_metrics[s];
    EXPECT_EQ(x.scope.name, y.scope.name);
    EXPECT_EQ(x.scope.version, y.scope.version);
    ASSERT_EQ(x.metrics.size(), y.metrics.size()) << x.scope.name;
    for (size_t m = 0; m < x.metrics.size(); ++m) {
      const MetricData& p = x.metrics[m];
      const MetricData& q = y.metrics[m];
      const std::string where = p.name;
      EXPECT_EQ(p.name, q.name);
      EXPECT_EQ(p.description, q.description) << where;
      EXPECT_EQ(p.unit, q.unit) << where;
      EXPECT_EQ(p.instrument_kind, q.instrument_kind) << where;
      EXPECT_EQ(p.point_kind, q.point_kind) << where;
      EXPECT_EQ(p.temporality, q.temporality) << where;
      EXPECT_EQ(p.monotonic, q.monotonic) << where;
      ASSERT_EQ(p.number_points.size(), q.number_points.size()) << where;
      for (size_t i = 0; i < p.number_points.size(); ++i) {
        const NumberPoint& u = p.number_points[i];
        const NumberPoint& v = q.number_points[i];
        ExpectSameCommon(u, v, where);
        EXPECT_EQ(u.is_int, v.is_int) << where;
        EXPECT_EQ(u.as_int, v.as_int) << where;
        EXPECT_EQ(u.as_double, v.as_double) << where;
      }
      ASSERT_EQ(p.histogram_points.size(), q.histogram_points.size()) << where;
      for (size_t i = 0; i < p.histogram_points.size(); ++i) {
        const HistogramPoint& u = p.histogram_points[i];
        const HistogramPoint& v = q.histogram_points[i];
        ExpectSameCommon(u, v, where);
        EXPECT_EQ(u.count, v.count) << where;
        EXPECT_EQ(u.sum, v.sum) << where;
        EXPECT_EQ(u.has_min_max, v.has_min_max) << where;
        EXPECT_EQ(u.min, v.min) << where;
        EXPECT_EQ(u.max, v.max) << where;
        EXPECT_EQ(u.boundaries, v.boundaries) << where;
        EXPECT_EQ(u.bucket_counts, v.bucket_counts) << where;
        EXPECT_EQ(u.scale, v.scale) << where;
        EXPECT_EQ(u.zero_count, v.zero_count) << where;
        EXPECT_EQ(u.zero_threshold, v.zero_threshold) << where;
        EXPECT_EQ(u.positive.offset, v.positive.offset) << where;
        EXPECT_EQ(u.positive.bucket_counts, v.positive.bucket_counts) << where;
        EXPECT_EQ(u.negative.offset, v.negative.offset) << where;
        EXPECT_EQ(u.negative.bucket_counts, v.negative.bucket_counts) << where;
      }
    }
  }
}

TEST(MetricCollection, AReusedOutputEqualsAFreshCollectionWhateverItHeldBefore) {
  MemoryTracing tracing;
  for (TemporalityPreference pref : {TemporalityPreference::kCumulative,
                                     TemporalityPreference::kDelta}) {
    SCOPED_TRACE(pref == TemporalityPreference::kDelta ? "delta" : "cumulative");
    auto reused_reader = std::make_shared<ManualReader>(pref);
    auto fresh_reader = std::make_shared<ManualReader>(pref);
    MeterProviderOptions o;
    o.resource = Resource({{"service.name", OwnedValue(AttributeValue("reuse-test"))}});
    o.readers = {reused_reader, fresh_reader};
    o.exemplar_filter = ExemplarFilter::kAlwaysOn;
    View expo;
    expo.selector.name = "expo";
    expo.aggregation = ViewAggregation::kBase2ExponentialBucketHistogram;
    View narrow;  // exemplars then carry the removed "user" attribute
    narrow.selector.name = "narrow";
    narrow.attribute_keys = std::vector<std::string>{"route"};
    o.views = {expo, narrow};
    MeterProvider provider(std::move(o));
    Meter a = provider.GetMeter("scope.a", "1.0");
    Meter b = provider.GetMeter("scope.b");
    auto counter = a.CreateInt64Counter("requests");
    auto updown = a.CreateDoubleUpDownCounter("queue.depth");
    auto gauge = a.CreateInt64Gauge("temperature");
    auto hist = b.CreateDoubleHistogram("http.server.request.duration", "s");
    auto ex = b.CreateDoubleHistogram("expo");
    auto narrow_counter = b.CreateInt64Counter("narrow");
    int64_t observed = 0;
    auto observable = b.CreateInt64ObservableCounter(
        "observed", {}, {}, [&](ObserverResult<int64_t>& r) {
          if (observed > 0) r.Observe(observed, {{"source", "cb"}});
        });

    ResourceMetrics kept;
    auto compare = [&](const char* step) {
      SCOPED_TRACE(step);
      ResourceMetrics fresh;
      ASSERT_TRUE(reused_reader->Collect(&kept));
      ASSERT_TRUE(fresh_reader->Collect(&fresh));
      ExpectSameCollection(kept, fresh);
    };

    // 1: a few series of every kind, one attribute set with an array value.
    counter.Add(3, {{"http.request.method", "GET"}, {"http.route", "/a/long/route/name"}});
    const std::string_view tags[] = {"x", "y"};
    counter.Add(1, {{"tags", AttributeValue(std::span<const std::string_view>(tags))}});
    updown.Add(-2.5, {{"queue", "q1"}});
    gauge.Record(21, {{"room", "a"}});
    hist.Record(0.02, {{"http.response.status_code", 200}, {"ok", true}});
    ex.Record(3.0);
    ex.Record(-0.5);
    compare("first");

    // 2: more series (new ones come first in the stream's list, so every
    // position holds another series than before), exemplars in a span, a
    // filtered attribute, the observable.
    {
      Span span = tracing.tracer().StartSpan("work");
      Scope scope = MakeCurrent(span);
      for (int i = 0; i < 20; ++i) {
        std::string route = "/r/" + std::to_string(i);
        hist.Record(0.001 * i, {{"http.route", std::string_view(route)}, {"ratio", 0.5 * i}});
        counter.Add(i, {{"n", int64_t{i}}});
      }
      narrow_counter.Add(7, {{"route", "/n"}, {"user", "u1"}});
      ex.Record(1e6);
      span.End();
    }
    observed = 5;
    compare("grown");

    // 3: only two series change: the delta readers report far fewer points
    // and whole metrics disappear (positions shift across kinds).
    hist.Record(0.5, {{"http.route", "/r/3"}, {"ratio", 1.5}});
    gauge.Record(19, {{"room", "a"}});
    compare("shrunk");

    // 4: nothing recorded.
    compare("idle");

    // 5: back to many.
    for (int i = 0; i < 20; ++i) counter.Add(1, {{"n", int64_t{i}}});
    updown.Add(1, {{"queue", "q2"}});
    observed = 9;
    compare("again");
  }
}

TEST(MetricCollection, AReusedOutputKeepsItsStorage) {
  auto reader = std::make_shared<ManualReader>();
  MeterProviderOptions o;
  o.readers = {reader};
  MeterProvider provider(std::move(o));
  Meter m = provider.GetMeter("m");
  auto h = m.CreateDoubleHistogram("h", "s");
  std::vector<std::string> routes;
  for (int i = 0; i < 50; ++i) routes.push_back("/a/route/long/enough/" + std::to_string(i));
  auto record = [&] {
    for (const std::string& r : routes)
      h.Record(0.1, {{"http.request.method", "GET"}, {"http.route", std::string_view(r)}});
  };
  record();
  ResourceMetrics rm;
  ASSERT_TRUE(reader->Collect(&rm));
  const MetricData* d = rm.Find("h");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), routes.size());
  const HistogramPoint* points = d->histogram_points.data();
  const char* key = points[7].attributes[0].key.data();
  const char* value = points[7].attributes[1].value.s.data();
  const uint64_t* buckets = points[7].bucket_counts.data();
  record();
  ASSERT_TRUE(reader->Collect(&rm));
  d = rm.Find("h");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), routes.size());
  // The same point, attribute and bucket storage, now with the new counts.
  EXPECT_EQ(d->histogram_points.data(), points);
  EXPECT_EQ(points[7].attributes[0].key.data(), key);
  EXPECT_EQ(points[7].attributes[1].value.s.data(), value);
  EXPECT_EQ(points[7].bucket_counts.data(), buckets);
  for (const HistogramPoint& p : d->histogram_points) EXPECT_EQ(p.count, 2u);
}

// Threads record into histogram series spread over several stripes (each
// thread its own) while a delta and a cumulative reader collect in a loop,
// each into one ResourceMetrics it keeps: the deltas add up to what was
// recorded, and the last cumulative collection holds every recording.
TEST(MetricCollection, RecordingWhileCollectingIntoAReusedOutputLosesNothing) {
  constexpr int kThreads = 4, kPerThread = 40000, kRoutes = 16;
  auto delta = std::make_shared<ManualReader>(TemporalityPreference::kDelta);
  auto cumulative = std::make_shared<ManualReader>();
  MeterProviderOptions options;
  options.readers = {delta, cumulative};
  MeterProvider provider(std::move(options));
  Meter meter = provider.GetMeter("m");
  auto h = meter.CreateInt64Histogram("h");
  auto c = meter.CreateInt64Counter("c");
  std::vector<std::string> routes;
  for (int i = 0; i < kRoutes; ++i) routes.push_back("/route/" + std::to_string(i));
  std::atomic<int> ready{0}, done{0};
  auto work = [&](int t) {
    ready.fetch_add(1);
    while (ready.load() < kThreads + 1) {
    }
    for (int i = 0; i < kPerThread; ++i) {
      // Each thread starts on its own route: the first recordings into a
      // series' stripes happen while the readers collect.
      const std::string& r = routes[static_cast<size_t>((i + t * 5) % kRoutes)];
      h.Record(i % 100, {{"http.route", std::string_view(r)}});
      c.Add(1, {{"http.route", std::string_view(r)}});
    }
    done.fetch_add(1);
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) ts.emplace_back(work, t);
  uint64_t delta_count = 0;
  double delta_sum = 0;
  int64_t delta_adds = 0;
  ResourceMetrics d_out, c_out;
  auto take = [&] {
    ASSERT_TRUE(delta->Collect(&d_out));
    if (const MetricData* d = d_out.Find("h")) {
      for (const HistogramPoint& pt : d->histogram_points) {
        uint64_t buckets = 0;
        for (uint64_t b : pt.bucket_counts) buckets += b;
        EXPECT_EQ(buckets, pt.count);
        // No point of count 0 (OTLP: its sum would have to be 0).
        EXPECT_GT(pt.count, 0u) << "sum " << pt.sum;
        EXPECT_GE(pt.sum, 0);
        delta_count += pt.count;
        delta_sum += pt.sum;
      }
    }
    if (const MetricData* d = d_out.Find("c"))
      for (const NumberPoint& pt : d->number_points) delta_adds += pt.as_int;
    ASSERT_TRUE(cumulative->Collect(&c_out));
  };
  ready.fetch_add(1);  // all start together
  int collections = 0;
  while (done.load() < kThreads) {
    take();
    ++collections;
  }
  for (auto& t : ts) t.join();
  take();
  EXPECT_GT(collections, 1);
  const uint64_t recorded = uint64_t{kThreads} * kPerThread;
  const double recorded_sum = kThreads * (kPerThread / 100) * 4950.0;
  EXPECT_EQ(delta_count, recorded);
  EXPECT_DOUBLE_EQ(delta_sum, recorded_sum);
  EXPECT_EQ(delta_adds, static_cast<int64_t>(recorded));
  const MetricData* ch = c_out.Find("h");
  ASSERT_NE(ch, nullptr);
  ASSERT_EQ(ch->histogram_points.size(), static_cast<size_t>(kRoutes));
  uint64_t count = 0;
  double sum = 0;
  for (const HistogramPoint& pt : ch->histogram_points) {
    count += pt.count;
    sum += pt.sum;
    EXPECT_TRUE(pt.has_min_max);
    EXPECT_GE(pt.min, 0);
    EXPECT_LE(pt.max, 99);
  }
  EXPECT_EQ(count, recorded);
  EXPECT_DOUBLE_EQ(sum, recorded_sum);
}

// Every point of a histogram recorded while a reader collects agrees with the
// values recorded (all 7): no delta point has count 0 (OTLP: a count of zero
// means a sum of zero); a cumulative sum holds every counted value, may be
// ahead by values whose buckets the collection did not see yet, and never
// goes back; the delta points, added up, are never behind either (what a
// point's sum has ahead is what the next points count); exponential
// histograms are exact (their stripes are copied under the stripe's lock).
// Over all the points, nothing is lost or counted twice.
TEST(MetricCollection, HistogramPointsRecordedWhileCollectingKeepSumInStepWithCount) {
  constexpr int kThreads = 2, kPerThread = 1500000;
  constexpr double kValue = 7;
  auto delta = std::make_shared<ManualReader>(TemporalityPreference::kDelta);
  auto cumulative = std::make_shared<ManualReader>();
  MeterProviderOptions options;
  options.readers = {delta, cumulative};
  View expo;
  expo.selector.name = "e";
  expo.aggregation = ViewAggregation::kBase2ExponentialBucketHistogram;
  options.views = {expo};
  MeterProvider provider(std::move(options));
  Meter meter = provider.GetMeter("m");
  auto h = meter.CreateInt64Histogram("h");
  auto e = meter.CreateDoubleHistogram("e");
  std::atomic<int> ready{0}, done{0};
  auto work = [&](int t) {
    ready.fetch_add(1);
    while (ready.load() < kThreads + 1) {
    }
    for (int i = 0; i < kPerThread; ++i) {
      h.Record(7);
      if (i % 8 == t) e.Record(kValue);
    }
    done.fetch_add(1);
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) ts.emplace_back(work, t);
  struct Seen {
    uint64_t count = 0;
    double sum = 0;
    double last_cumulative_sum = 0;
  };
  Seen seen[2];  // h, e
  int collections = 0;
  ResourceMetrics d_out, c_out;
  auto take = [&] {
    ASSERT_TRUE(delta->Collect(&d_out));
    ASSERT_TRUE(cumulative->Collect(&c_out));
    ++collections;
    for (int k = 0; k < 2; ++k) {
      const char* name = k == 0 ? "h" : "e";
      const bool exact = k == 1;
      SCOPED_TRACE(std::string(name) + ", collection " + std::to_string(collections));
      if (const MetricData* d = d_out.Find(name)) {
        ASSERT_EQ(d->histogram_points.size(), 1u);
        const HistogramPoint& pt = d->histogram_points[0];
        ASSERT_GT(pt.count, 0u) << "sum " << pt.sum;
        EXPECT_EQ(pt.sum / kValue, std::floor(pt.sum / kValue)) << pt.sum;
        if (exact) {
          EXPECT_EQ(pt.sum, kValue * static_cast<double>(pt.count));
        }
        seen[k].count += pt.count;
        seen[k].sum += pt.sum;
        EXPECT_GE(seen[k].sum, kValue * static_cast<double>(seen[k].count))
            << "count " << pt.count << " sum " << pt.sum;
      }
      if (const MetricData* c = c_out.Find(name)) {
        ASSERT_EQ(c->histogram_points.size(), 1u);
        const HistogramPoint& pt = c->histogram_points[0];
        ASSERT_GT(pt.count, 0u) << "sum " << pt.sum;
        EXPECT_GE(pt.sum, kValue * static_cast<double>(pt.count)) << pt.count;
        if (exact) {
          EXPECT_EQ(pt.sum, kValue * static_cast<double>(pt.count));
        }
        EXPECT_GE(pt.sum, seen[k].last_cumulative_sum);
        seen[k].last_cumulative_sum = pt.sum;
        EXPECT_EQ(pt.min, kValue);
        EXPECT_EQ(pt.max, kValue);
      }
    }
  };
  ready.fetch_add(1);
  while (done.load() < kThreads && !::testing::Test::HasFatalFailure()) take();
  for (auto& t : ts) t.join();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  take();
  EXPECT_GT(collections, 2);
  const uint64_t recorded[2] = {uint64_t{kThreads} * kPerThread,
                                uint64_t{kThreads} * (kPerThread / 8)};
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(seen[k].count, recorded[k]) << k;
    EXPECT_EQ(seen[k].sum, kValue * static_cast<double>(recorded[k])) << k;
    EXPECT_EQ(seen[k].last_cumulative_sum, kValue * static_cast<double>(recorded[k])) << k;
  }
}

}  // namespace
