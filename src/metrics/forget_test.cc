// Forgetting delta series that stopped reporting: memory and the
// cardinality limit recover, bound series stay, nothing recorded is lost
// (also a recording into a series while it is being forgotten).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "metrics/storage.h"
#include "otelweb/metrics/meter_provider.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;

bool HasOverflow(const MetricData& m) {
  for (const auto& p : m.number_points)
    for (const auto& kv : p.attributes)
      if (kv.key == "otel.metric.overflow") return true;
  return false;
}

int64_t Total(const ResourceMetrics& rm, std::string_view name) {
  const MetricData* m = rm.Find(name);
  int64_t t = 0;
  if (m != nullptr)
    for (const auto& p : m->number_points) t += p.as_int;
  return t;
}

struct Provider {
  explicit Provider(std::vector<TemporalityPreference> prefs, size_t limit) {
    MeterProviderOptions o;
    for (auto p : prefs) readers.push_back(std::make_shared<ManualReader>(p));
    for (auto& r : readers) o.readers.push_back(r);
    o.cardinality_limit = limit;
    provider = std::make_unique<MeterProvider>(std::move(o));
    meter = provider->GetMeter("m");
  }
  ResourceMetrics Collect(size_t i = 0) {
    ResourceMetrics rm;
    EXPECT_TRUE(readers[i]->Collect(&rm));
    return rm;
  }
  std::vector<std::shared_ptr<ManualReader>> readers;
  std::unique_ptr<MeterProvider> provider;
  Meter meter;
};

TEST(ForgetDeltaSeries, IdleSeriesAreForgottenSoTheCardinalityLimitRecovers) {
  Provider p({TemporalityPreference::kDelta}, /*limit=*/3);
  auto c = p.meter.CreateInt64Counter("jobs");
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) c.Add(1 + i, {{"job", std::to_string(round * 10 + i)}});
    auto rm = p.Collect();
    const MetricData* m = rm.Find("jobs");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->number_points.size(), 3u) << "round " << round;
    EXPECT_FALSE(HasOverflow(*m)) << "round " << round;  // the previous round's sets were forgotten
    EXPECT_EQ(Total(rm, "jobs"), 6);
    auto idle = p.Collect();  // nothing recorded since: forgotten now
    EXPECT_EQ(idle.Find("jobs"), nullptr);
  }
  // A forgotten set that comes back starts again (delta from zero).
  c.Add(7, {{"job", "0"}});
  auto rm = p.Collect();
  ASSERT_NE(rm.Find("jobs"), nullptr);
  EXPECT_EQ(Total(rm, "jobs"), 7);
  const NumberPoint& pt = rm.Find("jobs")->number_points.at(0);
  EXPECT_LT(pt.start_time, pt.time);
}

TEST(ForgetDeltaSeries, ACumulativeReaderKeepsEverySeries) {
  Provider p({TemporalityPreference::kDelta, TemporalityPreference::kCumulative}, 2);
  auto c = p.meter.CreateInt64Counter("jobs");
  c.Add(1, {{"job", "a"}});
  c.Add(1, {{"job", "b"}});
  for (int i = 0; i < 2; ++i) {
    p.Collect(0);
    p.Collect(1);
  }
  c.Add(1, {{"job", "c"}});  // still over the limit: the cumulative reader needs a and b
  auto rm = p.Collect(1);
  EXPECT_TRUE(HasOverflow(*rm.Find("jobs")));
  EXPECT_EQ(Total(rm, "jobs"), 3);
}

TEST(ForgetDeltaSeries, TwoDeltaReadersForgetOnlyWhenBothReportedEverything) {
  Provider p({TemporalityPreference::kDelta, TemporalityPreference::kDelta}, 1);
  auto c = p.meter.CreateInt64Counter("jobs");
  c.Add(4, {{"job", "a"}});
  EXPECT_EQ(Total(p.Collect(0), "jobs"), 4);
  EXPECT_EQ(Total(p.Collect(0), "jobs"), 0);  // idle for reader 0, reader 1 has not seen it
  EXPECT_EQ(Total(p.Collect(1), "jobs"), 4);  // nothing lost for reader 1
  EXPECT_EQ(Total(p.Collect(1), "jobs"), 0);  // now both reported it: forgotten
  c.Add(1, {{"job", "b"}});                   // admitted: the limit of 1 recovered
  auto rm = p.Collect(0);
  ASSERT_NE(rm.Find("jobs"), nullptr);
  EXPECT_FALSE(HasOverflow(*rm.Find("jobs")));
  EXPECT_EQ(Total(p.Collect(1), "jobs"), 1);
}

TEST(ForgetDeltaSeries, BoundSeriesAreNeverForgotten) {
  Provider p({TemporalityPreference::kDelta}, 2);
  auto c = p.meter.CreateInt64Counter("jobs");
  auto bound = c.Bind({{"job", "bound"}});
  bound.Add(2);
  p.Collect();
  p.Collect();
  p.Collect();
  bound.Add(5);
  EXPECT_EQ(Total(p.Collect(), "jobs"), 5);
}

TEST(ForgetDeltaSeries, ARecordingIntoASeriesBeingForgottenIsReportedLater) {
  // What a thread that found the series just before it was forgotten does:
  // it adds into the unlinked series; the value moves to the live series of
  // the same attributes after the grace period.
  metrics::internal::StreamConfig cfg;
  cfg.name = "late";
  cfg.kind = InstrumentKind::kCounter;
  cfg.monotonic = true;
  cfg.exemplar_filter = ExemplarFilter::kAlwaysOff;
  metrics::internal::Stream stream(cfg);
  KeyValue kv[] = {{"k", "v"}};
  metrics::internal::Series* s = stream.Resolve(kv);
  stream.RecordInt(s, 3);
  auto collect = [&] {
    MetricData md;
    stream.Collect(0, AggregationTemporality::kDelta, Now(), &md, 1);
    int64_t t = 0;
    for (const auto& p : md.number_points) t += p.as_int;
    return t;
  };
  EXPECT_EQ(collect(), 3);
  EXPECT_EQ(collect(), 0);  // forgotten
  EXPECT_EQ(stream.live_series(), 0u);
  stream.RecordInt(s, 4);  // late, into the forgotten series
  EXPECT_EQ(collect(), 0);  // within the grace period
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  EXPECT_EQ(collect(), 4);  // moved to a live series, reported once
  EXPECT_EQ(collect(), 0);
}

TEST(ForgetDeltaSeries, ChurnWithConcurrentRecordingLosesNothing) {
  Provider p({TemporalityPreference::kDelta}, 64);
  auto c = p.meter.CreateInt64Counter("churn");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> recorded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      int64_t n = 0;
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        c.Add(1, {{"set", std::to_string((i / 50) % 40)}, {"thread", static_cast<int64_t>(t)}});
        ++n;
      }
      recorded.fetch_add(n);
    });
  }
  int64_t reported = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  while (std::chrono::steady_clock::now() < until) reported += Total(p.Collect(), "churn");
  stop.store(true);
  for (auto& th : threads) th.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // late ones moved
  reported += Total(p.Collect(), "churn");
  reported += Total(p.Collect(), "churn");
  EXPECT_EQ(reported, recorded.load());
}

bool HasHistogramOverflow(const MetricData& m) {
  for (const auto& p : m.histogram_points)
    for (const auto& kv : p.attributes)
      if (kv.key == "otel.metric.overflow") return true;
  return false;
}

TEST(ForgetDeltaSeries, IdleExponentialHistogramSeriesAreForgotten) {
  auto reader = std::make_shared<ManualReader>(TemporalityPreference::kDelta);
  MeterProviderOptions o;
  o.readers.push_back(reader);
  o.cardinality_limit = 3;
  o.default_histogram_aggregation = HistogramAggregation::kBase2Exponential;
  MeterProvider provider(std::move(o));
  auto h = provider.GetMeter("m").CreateDoubleHistogram("latency", "s");
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) h.Record(0.5 * (i + 1), {{"job", std::to_string(round * 10 + i)}});
    ResourceMetrics rm;
    ASSERT_TRUE(reader->Collect(&rm));
    const MetricData* m = rm.Find("latency");
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(m->point_kind, MetricPointKind::kExponentialHistogram);
    EXPECT_EQ(m->histogram_points.size(), 3u) << "round " << round;
    EXPECT_FALSE(HasHistogramOverflow(*m)) << "round " << round;  // the previous sets were forgotten
    uint64_t count = 0;
    double sum = 0;
    for (const auto& p : m->histogram_points) count += p.count, sum += p.sum;
    EXPECT_EQ(count, 3u);
    EXPECT_DOUBLE_EQ(sum, 3.0);
    ResourceMetrics idle;  // nothing recorded since: forgotten now
    reader->Collect(&idle);
    EXPECT_EQ(idle.Find("latency"), nullptr) << "round " << round;
  }
}

TEST(ForgetDeltaSeries, ALateRecordingIntoAForgottenExponentialSeriesIsReportedLater) {
  metrics::internal::StreamConfig cfg;
  cfg.name = "late";
  cfg.kind = InstrumentKind::kHistogram;
  cfg.value_type = InstrumentValueType::kDouble;
  cfg.aggregation = metrics::internal::Aggregation::kExponentialHistogram;
  cfg.exemplar_filter = ExemplarFilter::kAlwaysOff;
  metrics::internal::Stream stream(cfg);
  KeyValue kv[] = {{"k", "v"}};
  metrics::internal::Series* s = stream.Resolve(kv);
  stream.RecordDouble(s, 2.0);
  struct Seen {
    uint64_t count = 0, in_buckets = 0;
    double sum = 0;
  };
  auto collect = [&] {
    MetricData md;
    stream.Collect(0, AggregationTemporality::kDelta, Now(), &md, 1);
    Seen seen;
    for (const auto& p : md.histogram_points) {
      seen.count += p.count;
      seen.sum += p.sum;
      for (uint64_t c : p.positive.bucket_counts) seen.in_buckets += c;
    }
    return seen;
  };
  EXPECT_EQ(collect().count, 1u);
  EXPECT_EQ(collect().count, 0u);  // forgotten
  EXPECT_EQ(stream.live_series(), 0u);
  stream.RecordDouble(s, 3.0);  // late, into the forgotten series
  stream.RecordDouble(s, 0.25);
  EXPECT_EQ(collect().count, 0u);  // within the grace period
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  Seen moved = collect();  // moved to a live series, reported once
  EXPECT_EQ(moved.count, 2u);
  EXPECT_EQ(moved.in_buckets, 2u);
  EXPECT_DOUBLE_EQ(moved.sum, 3.25);
  EXPECT_EQ(stream.live_series(), 1u);
  EXPECT_EQ(collect().count, 0u);
}

}  // namespace
