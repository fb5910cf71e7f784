// The metrics SDK: instruments, aggregations, temporality, cardinality limit,
// exemplars, readers and exporters (real threads, real clocks).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/metrics/exporters.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/trace/span.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;
using otelweb::testing::DiagnosticsCapture;
using otelweb::testing::MemoryTracing;
using otelweb::testing::ScopedEnv;

struct Fixture {
  explicit Fixture(TemporalityPreference pref = TemporalityPreference::kCumulative,
                   size_t limit = 2000, ExemplarFilter filter = ExemplarFilter::kTraceBased) {
    reader = std::make_shared<ManualReader>(pref);
    MeterProviderOptions o;
    o.resource = Resource({{"service.name", OwnedValue(AttributeValue("metrics-test"))}});
    o.readers.push_back(reader);
    o.cardinality_limit = limit;
    o.exemplar_filter = filter;
    provider = std::make_unique<MeterProvider>(std::move(o));
    meter = provider->GetMeter("test.meter", "1.0");
  }
  ResourceMetrics Collect() {
    ResourceMetrics rm;
    EXPECT_TRUE(reader->Collect(&rm));
    return rm;
  }
  std::shared_ptr<ManualReader> reader;
  std::unique_ptr<MeterProvider> provider;
  Meter meter;
};

const OwnedValue* Attr(const std::vector<OwnedKeyValue>& a, std::string_view k) {
  for (const auto& kv : a)
    if (kv.key == k) return &kv.value;
  return nullptr;
}

const NumberPoint* PointWith(const MetricData& m, std::string_view key, std::string_view value) {
  for (const auto& p : m.number_points) {
    const OwnedValue* v = Attr(p.attributes, key);
    if (v != nullptr && v->s == value) return &p;
  }
  return nullptr;
}

TEST(Metrics, CounterSumsPerAttributeSetWhateverTheOrder) {
  Fixture f;
  auto c = f.meter.CreateInt64Counter("requests", "{request}", "Requests served");
  ASSERT_TRUE(c.Enabled());
  c.Add(1, {{"route", "/a"}, {"method", "GET"}});
  c.Add(2, {{"method", "GET"}, {"route", "/a"}});  // same set, other order
  c.Add(5, {{"route", "/b"}, {"method", "GET"}});
  c.Add(-3, {{"route", "/b"}, {"method", "GET"}});  // discarded: counters only go up
  auto rm = f.Collect();
  const MetricData* m = rm.Find("requests");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->unit, "{request}");
  EXPECT_EQ(m->description, "Requests served");
  EXPECT_TRUE(m->monotonic);
  EXPECT_EQ(m->temporality, AggregationTemporality::kCumulative);
  ASSERT_EQ(m->number_points.size(), 2u);
  EXPECT_EQ(PointWith(*m, "route", "/a")->as_int, 3);
  EXPECT_EQ(PointWith(*m, "route", "/b")->as_int, 5);
  EXPECT_EQ(rm.resource.service_name(), "metrics-test");
  ASSERT_EQ(rm.scope_metrics.size(), 1u);
  EXPECT_EQ(rm.scope_metrics[0].scope.name, "test.meter");
  EXPECT_EQ(rm.scope_metrics[0].scope.version, "1.0");
}

TEST(Metrics, DuplicateKeysKeepTheLastValue) {
  Fixture f;
  auto c = f.meter.CreateInt64Counter("dups");
  c.Add(1, {{"k", "a"}, {"k", "b"}});
  c.Add(1, {{"k", "b"}});
  auto rm = f.Collect();
  const MetricData* m = rm.Find("dups");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->number_points.size(), 1u);
  EXPECT_EQ(m->number_points[0].as_int, 2);
  ASSERT_EQ(m->number_points[0].attributes.size(), 1u);
}

TEST(Metrics, DoubleUpDownCounterAndGauge) {
  Fixture f;
  auto u = f.meter.CreateDoubleUpDownCounter("queue.depth");
  u.Add(2.5);
  u.Add(-1.0);
  auto g = f.meter.CreateInt64Gauge("temperature", "Cel");
  g.Record(20, {{"room", "a"}});
  g.Record(23, {{"room", "a"}});
  auto rm = f.Collect();
  EXPECT_DOUBLE_EQ(rm.Find("queue.depth")->number_points.at(0).as_double, 1.5);
  EXPECT_FALSE(rm.Find("queue.depth")->monotonic);
  const MetricData* t = rm.Find("temperature");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->point_kind, MetricPointKind::kGauge);
  EXPECT_EQ(t->number_points.at(0).as_int, 23);
}

TEST(Metrics, HistogramWithAdvisedBucketsCountsUpperBoundsInclusively) {
  Fixture f;
  InstrumentAdvice adv;
  adv.explicit_bucket_boundaries.assign(std::begin(kHttpDurationBuckets),
                                        std::end(kHttpDurationBuckets));
  auto h = f.meter.CreateDoubleHistogram("http.server.request.duration", "s", "", adv);
  h.Record(0.005);  // in the first bucket (upper bound inclusive)
  h.Record(0.0051);
  h.Record(0.3);
  h.Record(42.0);  // overflow bucket
  auto rm = f.Collect();
  const MetricData* m = rm.Find("http.server.request.duration");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->histogram_points.size(), 1u);
  const auto& p = m->histogram_points[0];
  EXPECT_EQ(p.boundaries.size(), 14u);
  ASSERT_EQ(p.bucket_counts.size(), 15u);
  EXPECT_EQ(p.bucket_counts[0], 1u);
  EXPECT_EQ(p.bucket_counts[1], 1u);
  EXPECT_EQ(p.bucket_counts[7], 1u);  // (0.25, 0.5]
  EXPECT_EQ(p.bucket_counts[14], 1u);
  EXPECT_EQ(p.count, 4u);
  EXPECT_NEAR(p.sum, 42.3101, 1e-9);
  EXPECT_TRUE(p.has_min_max);
  EXPECT_DOUBLE_EQ(p.min, 0.005);
  EXPECT_DOUBLE_EQ(p.max, 42.0);
}

TEST(Metrics, HistogramWithoutAdviceUsesTheSpecDefaultBoundaries) {
  Fixture f;
  auto h = f.meter.CreateInt64Histogram("body.size", "By");
  h.Record(7);
  auto rm = f.Collect();
  const auto& p = rm.Find("body.size")->histogram_points.at(0);
  EXPECT_EQ(p.boundaries, (std::vector<double>{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500,
                                               5000, 7500, 10000}));
  EXPECT_EQ(p.bucket_counts[2], 1u);
}

TEST(Metrics, CardinalityLimitAdmitsExactlyNSetsThenOneOverflowSeries) {
  Fixture f(TemporalityPreference::kCumulative, 5);
  DiagnosticsCapture diag(LogLevel::kWarning);
  auto c = f.meter.CreateInt64Counter("users");
  for (int i = 0; i < 20; ++i) {
    std::string id = "u" + std::to_string(i);
    c.Add(1, {{"user", id}});
    c.Add(1, {{"user", id}});
  }
  auto rm = f.Collect();
  const MetricData* m = rm.Find("users");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->number_points.size(), 6u);  // 5 admitted + overflow
  int64_t total = 0, overflow = 0;
  for (const auto& p : m->number_points) {
    total += p.as_int;
    if (const OwnedValue* v = Attr(p.attributes, "otel.metric.overflow")) {
      EXPECT_TRUE(v->b);
      EXPECT_EQ(p.attributes.size(), 1u);
      overflow = p.as_int;
    } else {
      EXPECT_EQ(p.as_int, 2);
    }
  }
  EXPECT_EQ(total, 40);  // nothing lost, nothing counted twice
  EXPECT_EQ(overflow, 30);
  EXPECT_EQ(diag.Count("cardinality limit of 5"), 1u);
  // Sets admitted before the overflow keep their own series.
  c.Add(1, {{"user", "u0"}});
  rm = f.Collect();
  EXPECT_EQ(PointWith(*rm.Find("users"), "user", "u0")->as_int, 3);
}

TEST(Metrics, DeltaTemporalityReportsChangesWithAdvancingStartTimes) {
  Fixture f(TemporalityPreference::kDelta);
  auto c = f.meter.CreateInt64Counter("jobs");
  auto h = f.meter.CreateDoubleHistogram("latency", "s");
  auto ud = f.meter.CreateInt64UpDownCounter("inflight");
  c.Add(3, {{"k", "a"}});
  h.Record(1.0);
  ud.Add(4);
  auto first = f.Collect();
  const auto& p1 = first.Find("jobs")->number_points.at(0);
  EXPECT_EQ(p1.as_int, 3);
  EXPECT_EQ(first.Find("jobs")->temporality, AggregationTemporality::kDelta);
  EXPECT_EQ(first.Find("inflight")->temporality,
            AggregationTemporality::kCumulative);  // spec: delta pref
  c.Add(4, {{"k", "a"}});
  h.Record(2.0);
  h.Record(3.0);
  auto second = f.Collect();
  const auto& p2 = second.Find("jobs")->number_points.at(0);
  EXPECT_EQ(p2.as_int, 4);
  EXPECT_EQ(p2.start_time, p1.time);  // delta start = previous collection
  const auto& hp = second.Find("latency")->histogram_points.at(0);
  EXPECT_EQ(hp.count, 2u);
  EXPECT_DOUBLE_EQ(hp.sum, 5.0);
  EXPECT_EQ(second.Find("inflight")->number_points.at(0).as_int, 4);
  // Nothing recorded: a delta series reports no point.
  auto third = f.Collect();
  EXPECT_EQ(third.Find("jobs"), nullptr);
  EXPECT_EQ(third.Find("latency"), nullptr);
}

TEST(Metrics, CumulativeStartTimeStaysTheSeriesStart) {
  Fixture f;
  auto c = f.meter.CreateInt64Counter("hits");
  c.Add(1);
  auto a = f.Collect();
  c.Add(1);
  auto b = f.Collect();
  const auto& pa = a.Find("hits")->number_points.at(0);
  const auto& pb = b.Find("hits")->number_points.at(0);
  EXPECT_EQ(pa.start_time, pb.start_time);
  EXPECT_LT(pa.time, pb.time);
  EXPECT_EQ(pb.as_int, 2);
}

TEST(Metrics, TwoReadersAreIndependent) {
  auto cumulative = std::make_shared<ManualReader>();
  auto delta = std::make_shared<ManualReader>(TemporalityPreference::kDelta);
  MeterProviderOptions o;
  o.readers = {cumulative, delta};
  MeterProvider p(std::move(o));
  auto c = p.GetMeter("m").CreateInt64Counter("n");
  c.Add(5);
  ResourceMetrics r1, r2;
  ASSERT_TRUE(delta->Collect(&r1));
  EXPECT_EQ(r1.Find("n")->number_points.at(0).as_int, 5);
  c.Add(1);
  ASSERT_TRUE(delta->Collect(&r1));
  EXPECT_EQ(r1.Find("n")->number_points.at(0).as_int, 1);
  ASSERT_TRUE(cumulative->Collect(&r2));
  EXPECT_EQ(r2.Find("n")->number_points.at(0).as_int, 6);
  EXPECT_FALSE(MeterProvider().AddReader(delta));  // one provider per reader
}

// Threads record while a reader collects in a loop: the sum of the deltas
// and the last cumulative value equal what was recorded.
TEST(Metrics, RecordingConcurrentWithCollectionLosesNothingAndCountsNothingTwice) {
  auto cumulative = std::make_shared<ManualReader>();
  auto delta = std::make_shared<ManualReader>(TemporalityPreference::kDelta);
  MeterProviderOptions o;
  o.readers = {cumulative, delta};
  MeterProvider p(std::move(o));
  Meter m = p.GetMeter("m");
  auto c = m.CreateInt64Counter("c");
  auto h = m.CreateInt64Histogram("h");
  auto bound = c.Bind({{"k", "bound"}});
  constexpr int kThreads = 4, kPerThread = 50000;
  std::atomic<bool> go{false};
  std::atomic<int> done{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      while (!go.load()) {
      }
      for (int i = 0; i < kPerThread; ++i) {
        c.Add(1, {{"k", (i & 1) ? "odd" : "even"}, {"t", int64_t{t % 2}}});
        bound.Add(2);
        h.Record(i % 100);
      }
      done.fetch_add(1);
    });
  }
  int64_t delta_sum = 0, delta_bound = 0;
  uint64_t delta_hist = 0;
  auto take = [&](const ResourceMetrics& rm) {
    if (const MetricData* d = rm.Find("c")) {
      for (const auto& pt : d->number_points) {
        const OwnedValue* v = Attr(pt.attributes, "k");
        (v && v->s == "bound" ? delta_bound : delta_sum) += pt.as_int;
      }
    }
    if (const MetricData* d = rm.Find("h"))
      for (const auto& pt : d->histogram_points) delta_hist += pt.count;
  };
  go = true;
  int collections = 0;
  while (done.load() < kThreads) {
    ResourceMetrics rm;
    ASSERT_TRUE(delta->Collect(&rm));
    take(rm);
    ++collections;
  }
  for (auto& t : ts) t.join();
  ResourceMetrics rm;
  ASSERT_TRUE(delta->Collect(&rm));
  take(rm);
  EXPECT_GT(collections, 1);
  EXPECT_EQ(delta_sum, int64_t{kThreads} * kPerThread);
  EXPECT_EQ(delta_bound, int64_t{kThreads} * kPerThread * 2);
  EXPECT_EQ(delta_hist, uint64_t{kThreads} * kPerThread);
  ResourceMetrics cr;
  ASSERT_TRUE(cumulative->Collect(&cr));
  int64_t total = 0;
  for (const auto& pt : cr.Find("c")->number_points) total += pt.as_int;
  EXPECT_EQ(total, int64_t{kThreads} * kPerThread * 3);
  const auto& hp = cr.Find("h")->histogram_points.at(0);
  uint64_t buckets = 0;
  for (uint64_t b : hp.bucket_counts) buckets += b;
  EXPECT_EQ(hp.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(buckets, hp.count);
  EXPECT_DOUBLE_EQ(hp.sum, kThreads * (kPerThread / 100) * 4950.0);
  EXPECT_DOUBLE_EQ(hp.min, 0);
  EXPECT_DOUBLE_EQ(hp.max, 99);
}

TEST(Metrics, BoundCounterAddsToItsSeries) {
  Fixture f;
  auto c = f.meter.CreateInt64Counter("bound");
  auto b = c.Bind({{"route", "/x"}});
  b.Add(2);
  b.Add(-1);  // discarded
  c.Add(3, {{"route", "/x"}});
  auto d = f.meter.CreateDoubleCounter("boundd");
  d.Bind({{"a", 1}}).Add(0.5);
  auto h = f.meter.CreateDoubleHistogram("boundh");
  h.Bind({{"a", 1}}).Record(0.5);
  auto rm = f.Collect();
  EXPECT_EQ(rm.Find("bound")->number_points.at(0).as_int, 5);
  EXPECT_DOUBLE_EQ(rm.Find("boundd")->number_points.at(0).as_double, 0.5);
  EXPECT_EQ(rm.Find("boundh")->histogram_points.at(0).count, 1u);
}

TEST(Metrics, DuplicateAndConflictingRegistrations) {
  Fixture f;
  DiagnosticsCapture diag(LogLevel::kWarning);
  auto a = f.meter.CreateInt64Counter("dup", "1");
  auto b = f.meter.CreateInt64Counter("DUP", "1");  // identical (names are case-insensitive)
  a.Add(1);
  b.Add(1);
  EXPECT_EQ(diag.Count("registered twice"), 0u);
  auto c = f.meter.CreateDoubleHistogram("dup", "s");  // conflicting: works, one warning
  c.Record(1);
  EXPECT_EQ(diag.Count("registered twice"), 1u);
  auto rm = f.Collect();
  int streams = 0;
  for (const auto& m : rm.scope_metrics.at(0).metrics) {
    if (m.name == "dup" && m.point_kind == MetricPointKind::kSum) {
      EXPECT_EQ(m.number_points.at(0).as_int, 2);
      ++streams;
    }
    if (m.name == "dup" && m.point_kind == MetricPointKind::kHistogram) ++streams;
  }
  EXPECT_EQ(streams, 2);
}

TEST(Metrics, InvalidNamesGiveADisabledInstrumentAndAWarning) {
  Fixture f;
  DiagnosticsCapture diag(LogLevel::kWarning);
  auto c = f.meter.CreateInt64Counter("1bad name");
  EXPECT_FALSE(c.Enabled());
  c.Add(1);
  EXPECT_EQ(diag.Count("is invalid"), 1u);
  EXPECT_FALSE(IsValidInstrumentName(std::string(256, 'a')));
  EXPECT_TRUE(IsValidInstrumentName("http.server.request.duration"));
  EXPECT_FALSE(Meter().CreateInt64Counter("x").Enabled());
  EXPECT_FALSE(MeterProvider::NoOp()->GetMeter("x").CreateInt64Counter("x").Enabled());
}

TEST(Metrics, ExemplarsCarryTheCurrentSampledSpansIds) {
  MemoryTracing tracing;
  Fixture f;  // trace_based
  auto h = f.meter.CreateDoubleHistogram("d", "s");
  auto c = f.meter.CreateInt64Counter("n");
  h.Record(0.5);  // outside any span: not an exemplar
  Span span = tracing.tracer().StartSpan("work");
  SpanContext sc = span.GetContext();
  {
    Scope scope = MakeCurrent(span);
    h.Record(0.02);
    c.Add(1);
  }
  span.End();
  auto rm = f.Collect();
  const auto& hp = rm.Find("d")->histogram_points.at(0);
  ASSERT_EQ(hp.exemplars.size(), 1u);
  EXPECT_EQ(hp.exemplars[0].trace_id, sc.trace_id());
  EXPECT_EQ(hp.exemplars[0].span_id, sc.span_id());
  EXPECT_DOUBLE_EQ(hp.exemplars[0].as_double, 0.02);
  const auto& np = rm.Find("n")->number_points.at(0);
  ASSERT_EQ(np.exemplars.size(), 1u);
  EXPECT_EQ(np.exemplars[0].trace_id, sc.trace_id());
  EXPECT_EQ(np.exemplars[0].as_int, 1);
  // The next collection has no new exemplar.
  auto again = f.Collect();
  EXPECT_TRUE(again.Find("d")->histogram_points.at(0).exemplars.empty());
  // The console table shows the trace id.
  EXPECT_THAT(FormatMetricsTable(rm), ::testing::HasSubstr(sc.trace_id().ToHex()));
}

TEST(Metrics, ExemplarFilterFromEnvironmentAndAlwaysOff) {
  MemoryTracing tracing;
  {
    ScopedEnv env("OTEL_METRICS_EXEMPLAR_FILTER", "always_off");
    MeterProvider p;
    EXPECT_EQ(p.exemplar_filter(), ExemplarFilter::kAlwaysOff);
  }
  {
    ScopedEnv env("OTEL_METRICS_EXEMPLAR_FILTER", "always_on");
    auto reader = std::make_shared<ManualReader>();
    MeterProviderOptions o;
    o.readers.push_back(reader);
    MeterProvider p(std::move(o));
    EXPECT_EQ(p.exemplar_filter(), ExemplarFilter::kAlwaysOn);
    auto c = p.GetMeter("m").CreateInt64Counter("n");
    c.Add(1);  // no span: an exemplar without trace id
    ResourceMetrics rm;
    reader->Collect(&rm);
    ASSERT_EQ(rm.Find("n")->number_points.at(0).exemplars.size(), 1u);
    EXPECT_FALSE(rm.Find("n")->number_points.at(0).exemplars[0].trace_id.IsValid());
  }
  Fixture off(TemporalityPreference::kCumulative, 2000, ExemplarFilter::kAlwaysOff);
  auto h = off.meter.CreateDoubleHistogram("d");
  Span span = tracing.tracer().StartSpan("work");
  {
    Scope scope = MakeCurrent(span);
    h.Record(1);
  }
  auto rm = off.Collect();
  EXPECT_TRUE(rm.Find("d")->histogram_points.at(0).exemplars.empty());
  {
    DiagnosticsCapture diag(LogLevel::kWarning);
    ScopedEnv env("OTEL_METRICS_EXEMPLAR_FILTER", "sometimes");
    MeterProvider p;
    EXPECT_EQ(p.exemplar_filter(), ExemplarFilter::kTraceBased);
    EXPECT_EQ(diag.Count("OTEL_METRICS_EXEMPLAR_FILTER"), 1u);
  }
}

TEST(Metrics, PeriodicReaderExportsOnItsIntervalAndOnFlushAndShutdown) {
  auto exporter = std::make_unique<InMemoryMetricExporter>();
  auto storage = exporter->storage();
  PeriodicReaderOptions ro;
  ro.interval = std::chrono::milliseconds(30);
  auto reader = std::make_shared<PeriodicExportingMetricReader>(std::move(exporter), ro);
  MeterProviderOptions o;
  o.readers.push_back(reader);
  MeterProvider p(std::move(o));
  auto c = p.GetMeter("m").CreateInt64Counter("ticks");
  c.Add(1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (storage->size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(storage->size(), 2u);  // exported on the interval without being asked
  c.Add(1);
  EXPECT_TRUE(reader->ForceFlush(std::chrono::seconds(5)).ok());
  auto items = storage->Snapshot();
  EXPECT_EQ(items.back().Find("ticks")->number_points.at(0).as_int, 2);
  c.Add(1);
  EXPECT_TRUE(p.Shutdown(std::chrono::seconds(5)).ok());
  items = storage->Snapshot();
  EXPECT_EQ(items.back().Find("ticks")->number_points.at(0).as_int,
            3);  // the last export at shutdown
  EXPECT_EQ(p.Shutdown(), OperationResult::AlreadyShutDown());
  EXPECT_EQ(reader->ForceFlush(), OperationResult::AlreadyShutDown());
}

// An exporter slower than the deadline: flush and shutdown return Timeout in
// time, and exports never overlap.
class SlowExporter final : public MetricExporter {
 public:
  ExportResult Export(const ResourceMetrics&) noexcept override {
    int now = active.fetch_add(1) + 1;
    int prev = max_active.load();
    while (now > prev && !max_active.compare_exchange_weak(prev, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    active.fetch_sub(1);
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    return OperationResult::Ok();
  }
  std::string_view Name() const noexcept override { return "slow"; }
  static inline std::atomic<int> active{0}, max_active{0};
};

TEST(Metrics, PeriodicReaderDeadlinesAndNoOverlappingExports) {
  PeriodicReaderOptions ro;
  ro.interval = std::chrono::milliseconds(10);
  auto reader =
      std::make_shared<PeriodicExportingMetricReader>(std::make_unique<SlowExporter>(), ro);
  MeterProviderOptions o;
  o.readers.push_back(reader);
  MeterProvider p(std::move(o));
  p.GetMeter("m").CreateInt64Counter("x").Add(1);
  std::vector<std::thread> flushers;
  for (int i = 0; i < 3; ++i)
    flushers.emplace_back([&] { reader->ForceFlush(std::chrono::seconds(5)); });
  for (auto& t : flushers) t.join();
  EXPECT_EQ(SlowExporter::max_active.load(), 1);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(reader->ForceFlush(std::chrono::milliseconds(50)), OperationResult::Timeout());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  t0 = std::chrono::steady_clock::now();
  OperationResult r = p.Shutdown(std::chrono::milliseconds(50));
  EXPECT_TRUE(r == OperationResult::Timeout() || r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
}

TEST(Metrics, PeriodicReaderReadsIntervalAndTimeoutFromEnvironment) {
  ScopedEnv env({{"OTEL_METRIC_EXPORT_INTERVAL", "1234"}, {"OTEL_METRIC_EXPORT_TIMEOUT", "567"}});
  PeriodicExportingMetricReader r(std::make_unique<InMemoryMetricExporter>());
  EXPECT_EQ(r.interval(), std::chrono::milliseconds(1234));
  EXPECT_EQ(r.timeout(), std::chrono::milliseconds(567));
}

TEST(Metrics, ConsoleTableShowsEveryMetric) {
  Fixture f;
  f.meter.CreateInt64Counter("requests").Add(3, {{"route", "/a"}});
  f.meter.CreateDoubleHistogram("latency", "s").Record(0.2);
  std::string t = FormatMetricsTable(f.Collect());
  EXPECT_THAT(t, ::testing::HasSubstr("metrics of metrics-test"));
  EXPECT_THAT(t, ::testing::HasSubstr("requests  (counter, cumulative)"));
  EXPECT_THAT(t, ::testing::HasSubstr("{route=/a}  3"));
  EXPECT_THAT(t, ::testing::HasSubstr("count=1 sum=0.2 min=0.2 max=0.2"));
}

TEST(Metrics, TemporalityPreferenceMeaning) {
  using K = InstrumentKind;
  auto D = AggregationTemporality::kDelta, C = AggregationTemporality::kCumulative;
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kDelta, K::kCounter), D);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kDelta, K::kObservableCounter), D);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kDelta, K::kUpDownCounter), C);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kLowMemory, K::kObservableCounter), C);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kLowMemory, K::kHistogram), D);
  EXPECT_EQ(TemporalityFor(TemporalityPreference::kCumulative, K::kHistogram), C);
}

// The owner of provider `a` stops it (compare-and-reset, as
// otelweb::MetricsHandle::Shutdown does) while another thread installs `b`.
// Whichever goes first, `b` must stay global: a check-then-set reset
// (GetMeterProvider() == a, then SetMeterProvider(nullptr)) clears `b` when
// the install lands between the check and the set.
TEST(MetricsConcurrency, ResetIfNeverClearsAProviderInstalledMeanwhile) {
  auto a = std::make_shared<MeterProvider>(MeterProviderOptions{});
  auto b = std::make_shared<MeterProvider>(MeterProviderOptions{});
  constexpr int kRounds = 10000;
  std::atomic<int> round{-1};
  std::atomic<int> done{0};
  int lost = 0;
  std::thread resetter([&] {
    for (int i = 0; i < kRounds; ++i) {
      while (round.load(std::memory_order_acquire) < i) {
      }
      ResetMeterProviderIf(a.get());
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    SetMeterProvider(a);
    const int target = done.load(std::memory_order_acquire) + 1;
    round.store(i, std::memory_order_release);
    SetMeterProvider(b);
    while (done.load(std::memory_order_acquire) < target) {
    }
    if (GetMeterProvider() != b) ++lost;
  }
  resetter.join();
  EXPECT_EQ(lost, 0) << "rounds where the reset of `a` cleared `b`";
  EXPECT_FALSE(ResetMeterProviderIf(a.get()));
  const uint64_t gen = MeterProviderGeneration();
  EXPECT_TRUE(ResetMeterProviderIf(b.get()));
  EXPECT_NE(MeterProviderGeneration(), gen);
  EXPECT_EQ(GetMeterProvider(), MeterProvider::NoOp());
  EXPECT_FALSE(ResetMeterProviderIf(nullptr));
}

}  // namespace
