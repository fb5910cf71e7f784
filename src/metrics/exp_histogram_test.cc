// The base-2 exponential bucket histogram: bucket index math at scale
// boundaries, rescaling, zero and negative values, merging of the recording
// stripes under concurrent recording, delta temporality across a rescale,
// the selection by a view and by
// OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "metrics/exp_histogram.h"
#include "otelweb/metrics/exporters.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/diagnostics_capture.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;
using otelweb::metrics::internal::exph::LowerBoundary;
using otelweb::metrics::internal::exph::MapToIndex;
using otelweb::testing::DiagnosticsCapture;

// The index of bucket (2^k .. ] boundaries, computed with integers only:
// 2^k is the inclusive upper boundary of bucket (k << s) - 1 for s >= 0 and
// of bucket (k - 1) >> -s for s < 0.
int64_t PowerOfTwoIndex(int64_t k, int s) { return s >= 0 ? (k << s) - 1 : (k - 1) >> -s; }

TEST(ExpHistogramIndex, PowersOfTwoAreExactAtEveryScale) {
  const int ks[] = {-1074, -1073, -1022, -1021, -100, -2, -1, 0, 1, 2, 3, 10, 100, 1000, 1023};
  for (int s = -10; s <= 20; ++s) {
    for (int k : ks) {
      const double v = std::ldexp(1.0, k);
      ASSERT_EQ(MapToIndex(v, s), PowerOfTwoIndex(k, s)) << "2^" << k << " scale " << s;
      ASSERT_EQ(MapToIndex(-v, s), PowerOfTwoIndex(k, s)) << "-2^" << k << " scale " << s;
      // Just above 2^k: the next bucket (for s <= 0 only when 2^k is the
      // upper boundary of a bucket at that scale, i.e. k is a multiple of 2^-s).
      if (k < 1023 && k >= -1022) {  // normal numbers: the next double is within bucket width
        const double above = std::nextafter(v, 2 * v);
        const int64_t next = s >= 0 ? (int64_t{k} << s) : int64_t{k} >> -s;
        ASSERT_EQ(MapToIndex(above, s), next) << "above 2^" << k << " scale " << s;
      }
      if (k > -1073 && s >= 0) {  // just below 2^k (not itself a power of two)
        const double below = std::nextafter(v, 0.0);
        ASSERT_EQ(MapToIndex(below, s), PowerOfTwoIndex(k, s)) << "below 2^" << k << " s " << s;
      }
    }
  }
  // The extremes of the double range.
  EXPECT_EQ(MapToIndex(std::numeric_limits<double>::max(), 0), 1023);
  EXPECT_EQ(MapToIndex(std::numeric_limits<double>::denorm_min(), 0), -1075);
  EXPECT_EQ(MapToIndex(std::numeric_limits<double>::max(), 20), (int64_t{1024} << 20) - 1);
}

TEST(ExpHistogramIndex, ValuesBetweenBoundariesAndTheBoundariesThemselves) {
  // Scale 1: base sqrt(2); (1, 1.414..] is bucket 0, (1.414.., 2] bucket 1.
  EXPECT_EQ(MapToIndex(1.4, 1), 0);
  EXPECT_EQ(MapToIndex(1.5, 1), 1);
  EXPECT_EQ(MapToIndex(3.0, 0), 1);
  EXPECT_EQ(MapToIndex(0.75, 0), -1);
  EXPECT_EQ(MapToIndex(0.3, -1), -1);  // (1/16, 1/4] is bucket -2, (1/4, 1] bucket -1
  EXPECT_EQ(MapToIndex(0.2, -1), -2);
  // Every value lies in (lower, upper] of its bucket (values away from the
  // boundaries by far more than rounding).
  for (int s : {-3, 0, 3, 8, 20}) {
    for (double v : {1e-300, 3e-7, 0.1, 0.7, 1.3, 3.7, 1000.5, 123456.789, 7e200}) {
      const int32_t i = MapToIndex(v, s);
      EXPECT_LT(LowerBoundary(i, s), v) << v << " scale " << s;
      EXPECT_GE(LowerBoundary(int64_t{i} + 1, s) * (1 + 1e-12), v) << v << " scale " << s;
    }
  }
  EXPECT_EQ(LowerBoundary(-(1 << 20), 20), 0.5);
  EXPECT_EQ(LowerBoundary(1 << 20, 20), 2.0);
  EXPECT_EQ(LowerBoundary(3, -2), 4096.0);
}

struct Provider {
  explicit Provider(std::vector<View> views,
                    TemporalityPreference pref = TemporalityPreference::kCumulative,
                    std::optional<HistogramAggregation> def = {}) {
    reader = std::make_shared<ManualReader>(pref);
    MeterProviderOptions o;
    o.readers = {reader};
    o.views = std::move(views);
    o.default_histogram_aggregation = def;
    provider = std::make_unique<MeterProvider>(std::move(o));
  }
  const HistogramPoint& Point(const char* name) {
    rm = ResourceMetrics{};
    EXPECT_TRUE(reader->Collect(&rm));
    const MetricData* m = rm.Find(name);
    EXPECT_NE(m, nullptr) << name;
    static const HistogramPoint kNone{};
    if (m == nullptr) return kNone;
    EXPECT_EQ(m->point_kind, MetricPointKind::kExponentialHistogram);
    EXPECT_EQ(m->histogram_points.size(), 1u);
    return m->histogram_points.at(0);
  }
  std::shared_ptr<ManualReader> reader;
  std::unique_ptr<MeterProvider> provider;
  ResourceMetrics rm;
};

View Exponential(size_t max_size = 160, int max_scale = 20) {
  View v;
  v.selector.name = "h";
  v.aggregation = ViewAggregation::kBase2ExponentialBucketHistogram;
  v.max_size = max_size;
  v.max_scale = max_scale;
  return v;
}

uint64_t Total(const ExponentialBuckets& b) {
  return std::accumulate(b.bucket_counts.begin(), b.bucket_counts.end(), uint64_t{0});
}

TEST(ExpHistogram, RescalesToTheLargestScaleThatFitsMaxSize) {
  // max_size 4: 1 and 2 fit at scale 1 (indices -1, 1); 4 needs scale 0
  // (-1, 0, 1); 8 fits (2); 16 needs scale -1 (base 4: 1 -> -1, 2 and 4 ->
  // 0, 8 and 16 -> 1).
  Provider p({Exponential(4)});
  auto h = p.provider->GetMeter("m").CreateDoubleHistogram("h");
  for (double v : {1.0, 2.0, 4.0, 8.0, 16.0, 2.0, 4.0}) {
    // Interleave: the state must not depend on when scales changed.
    h.Record(v);
  }
  const HistogramPoint& pt = p.Point("h");
  EXPECT_EQ(pt.scale, -1);
  EXPECT_EQ(pt.positive.offset, -1);
  EXPECT_EQ(pt.positive.bucket_counts, (std::vector<uint64_t>{1, 4, 2}));
  EXPECT_TRUE(pt.negative.bucket_counts.empty());
  EXPECT_EQ(pt.count, 7u);
  EXPECT_EQ(pt.sum, 37.0);
  ASSERT_TRUE(pt.has_min_max);
  EXPECT_EQ(pt.min, 1.0);
  EXPECT_EQ(pt.max, 16.0);
}

TEST(ExpHistogram, DefaultMaxSize160KeepsTheFinestScaleForOneToAThousand) {
  Provider p({Exponential()});
  auto h = p.provider->GetMeter("m").CreateInt64Histogram("h");
  for (int64_t v = 1; v <= 1000; ++v) h.Record(v);
  const HistogramPoint& pt = p.Point("h");
  // Scale 4 would need indices -1 .. 159 (161 buckets); scale 3 needs -1 .. 79.
  EXPECT_EQ(pt.scale, 3);
  EXPECT_EQ(pt.positive.offset, -1);
  EXPECT_EQ(pt.positive.bucket_counts.size(), 81u);
  EXPECT_EQ(pt.positive.bucket_counts.front(), 1u);  // (2^-1/8, 1]: the value 1
  EXPECT_EQ(Total(pt.positive), 1000u);
  EXPECT_EQ(pt.count, 1000u);
  EXPECT_EQ(pt.sum, 500500.0);
  EXPECT_EQ(pt.min, 1.0);
  EXPECT_EQ(pt.max, 1000.0);
  // Each bucket holds exactly the integers in (base^i, base^(i+1)].
  for (size_t k = 0; k < pt.positive.bucket_counts.size(); ++k) {
    const int64_t i = pt.positive.offset + static_cast<int64_t>(k);
    uint64_t expect = 0;
    for (int64_t v = 1; v <= 1000; ++v) expect += MapToIndex(static_cast<double>(v), 3) == i;
    EXPECT_EQ(pt.positive.bucket_counts[k], expect) << "bucket " << i;
  }
}

TEST(ExpHistogram, ZeroBucketAndNegativeRange) {
  Provider p({Exponential()});
  auto h = p.provider->GetMeter("m").CreateDoubleHistogram("h");
  for (double v : {0.0, -0.0, -1.0, -3.0, -3.0, 5.0}) h.Record(v);
  const HistogramPoint& pt = p.Point("h");
  EXPECT_EQ(pt.count, 6u);
  EXPECT_EQ(pt.zero_count, 2u);
  EXPECT_EQ(pt.zero_threshold, 0.0);
  EXPECT_EQ(pt.sum, -2.0);
  EXPECT_EQ(pt.min, -3.0);
  EXPECT_EQ(pt.max, 5.0);
  // 1 and 3 in one range: scale 6 (indices -1 .. 101); scale 7 would need 203.
  EXPECT_EQ(pt.scale, 6);
  EXPECT_EQ(Total(pt.negative), 3u);
  EXPECT_EQ(pt.negative.offset, -1);
  EXPECT_EQ(pt.negative.bucket_counts.size(), 103u);
  EXPECT_EQ(pt.negative.bucket_counts.front(), 1u);
  EXPECT_EQ(pt.negative.bucket_counts.back(), 2u);
  EXPECT_EQ(MapToIndex(3.0, 6), 101);
  EXPECT_EQ(pt.positive.offset, MapToIndex(5.0, 6));
  EXPECT_EQ(pt.positive.bucket_counts, (std::vector<uint64_t>{1}));
  // Not finite: discarded (one warning).
  DiagnosticsCapture cap;
  h.Record(std::numeric_limits<double>::infinity());
  h.Record(std::nan(""));
  EXPECT_EQ(p.Point("h").count, 6u);
}

TEST(ExpHistogram, ConcurrentRecordingMergesEveryStripe) {
  Provider p({Exponential(20)});
  auto h = p.provider->GetMeter("m").CreateDoubleHistogram("h");
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> ts;
  std::atomic<int> recording{0};
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      // Each thread its own range, so stripes rescale differently.
      for (int i = 0; i < kEach; ++i) {
        h.Record(std::ldexp(1.0 + (i % 7) / 8.0, t * 6 - 8 + i % 5));
        if (i == 0) recording.fetch_add(1);
      }
    });
  // The series exists once a thread has recorded (a collection before that
  // has no point to look at).
  for (int i = 0; i < 5000 && recording.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_GT(recording.load(), 0);
  uint64_t seen = 0;
  for (int r = 0; r < 20; ++r) {  // collections while recording go on
    const HistogramPoint& pt = p.Point("h");
    EXPECT_EQ(Total(pt.positive), pt.count);
    EXPECT_LE(pt.positive.bucket_counts.size(), 20u);
    EXPECT_GE(pt.count, seen);
    seen = pt.count;
  }
  for (auto& t : ts) t.join();
  const HistogramPoint& pt = p.Point("h");
  EXPECT_EQ(pt.count, uint64_t{kThreads} * kEach);
  EXPECT_EQ(Total(pt.positive), pt.count);
  EXPECT_LE(pt.positive.bucket_counts.size(), 20u);
  EXPECT_EQ(pt.min, 1.0 / 256);
  // The largest scale at which min .. max fits in 20 buckets.
  int expect = 20;
  while (MapToIndex(pt.max, expect) - MapToIndex(pt.min, expect) + 1 > 20) --expect;
  EXPECT_EQ(pt.scale, expect);
}

TEST(ExpHistogram, DeltaTemporalityAcrossARescale) {
  Provider p({Exponential(8)}, TemporalityPreference::kDelta);
  auto h = p.provider->GetMeter("m").CreateDoubleHistogram("h");
  h.Record(1.0);
  h.Record(1.5);
  {
    const HistogramPoint& a = p.Point("h");
    EXPECT_EQ(a.count, 2u);
    EXPECT_EQ(a.scale, 3);  // 1 -> -1, 1.5 -> 4 at scale 3; at scale 4 1.5 is bucket 9
    EXPECT_TRUE(a.has_min_max);
  }
  h.Record(1000.0);  // forces a lower scale: the previous totals are downscaled too
  const HistogramPoint& b = p.Point("h");
  EXPECT_EQ(b.count, 1u);
  EXPECT_EQ(b.sum, 1000.0);
  EXPECT_EQ(b.zero_count, 0u);
  EXPECT_EQ(b.positive.bucket_counts, (std::vector<uint64_t>{1}));
  EXPECT_EQ(b.positive.offset, MapToIndex(1000.0, b.scale));
  EXPECT_EQ(b.scale, -1);  // 1000 is bucket 79 at scale 3, 4 at scale -1
  EXPECT_FALSE(b.has_min_max);  // the interval does not hold every value
  // Nothing new: no point.
  ResourceMetrics rm;
  p.reader->Collect(&rm);
  const MetricData* m = rm.Find("h");
  EXPECT_TRUE(m == nullptr || m->histogram_points.empty());
}

TEST(ExpHistogram, SelectedByTheDefaultAggregationVariableOrOption) {
  {
    setenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
           " Base2_Exponential_Bucket_Histogram", 1);
    Provider p({});
    unsetenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION");
    auto h = p.provider->GetMeter("m").CreateDoubleHistogram(
        "h", "s", "", InstrumentAdvice{{0.1, 1}});  // advice: ignored
    h.Record(0.5, {{"k", "v"}});
    const HistogramPoint& pt = p.Point("h");
    EXPECT_TRUE(pt.boundaries.empty());
    EXPECT_EQ(pt.scale, 20);
    EXPECT_EQ(pt.positive.offset, MapToIndex(0.5, 20));
    ASSERT_EQ(pt.attributes.size(), 1u);
  }
  {
    DiagnosticsCapture cap;
    setenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "exponential", 1);
    Provider p({});
    unsetenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION");
    EXPECT_EQ(cap.Count("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"), 1u) << cap.text();
    auto h = p.provider->GetMeter("m").CreateDoubleHistogram("h");
    h.Record(0.5);
    ResourceMetrics rm;
    ASSERT_TRUE(p.reader->Collect(&rm));
    EXPECT_EQ(rm.Find("h")->point_kind, MetricPointKind::kHistogram);
  }
  {
    // The option wins over the variable; a view wins over both.
    setenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "explicit_bucket_histogram",
           1);
    View v;
    v.selector.name = "explicit";
    v.aggregation = ViewAggregation::kExplicitBucketHistogram;
    Provider p({v}, TemporalityPreference::kCumulative, HistogramAggregation::kBase2Exponential);
    unsetenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION");
    auto m = p.provider->GetMeter("m");
    m.CreateInt64Histogram("h").Record(3);
    m.CreateInt64Histogram("explicit").Record(3);
    const HistogramPoint& pt = p.Point("h");
    EXPECT_EQ(pt.positive.offset, MapToIndex(3.0, 20));
    EXPECT_EQ(p.rm.Find("explicit")->point_kind, MetricPointKind::kHistogram);
  }
}

TEST(ExpHistogram, InvalidViewParametersAreRefusedAndBoundHandlesRecord) {
  DiagnosticsCapture cap;
  Provider p({Exponential(1), Exponential(160, 21), Exponential(2000)});
  EXPECT_EQ(cap.Count("max_size 1 and max_scale 20"), 1u) << cap.text();
  EXPECT_EQ(cap.Count("max_size 160 and max_scale 21"), 1u) << cap.text();
  EXPECT_EQ(cap.Count("max_size 2000"), 1u) << cap.text();
  auto h = p.provider->GetMeter("m").CreateDoubleHistogram("h");
  h.Record(1);
  ResourceMetrics rm;
  ASSERT_TRUE(p.reader->Collect(&rm));
  EXPECT_EQ(rm.Find("h")->point_kind, MetricPointKind::kHistogram);

  Provider q({Exponential(160, 0)});  // a view may start coarser
  auto g = q.provider->GetMeter("m").CreateDoubleHistogram("h");
  auto bound = g.Bind({{"route", "/a"}});
  bound.Record(3);
  bound.Record(0.75);
  g.Record(3, {{"route", "/a"}});
  const HistogramPoint& pt = q.Point("h");
  EXPECT_EQ(pt.scale, 0);
  EXPECT_EQ(pt.positive.offset, -1);
  EXPECT_EQ(pt.positive.bucket_counts, (std::vector<uint64_t>{1, 0, 2}));
}

TEST(ExpHistogram, ConsoleTableShowsScaleZeroAndRanges) {
  Provider p({Exponential(4)});
  auto h = p.provider->GetMeter("m").CreateDoubleHistogram("h", "ms");
  for (double v : {0.0, -2.0, 1.0, 2.0, 4.0, 8.0}) h.Record(v);
  ResourceMetrics rm;
  ASSERT_TRUE(p.reader->Collect(&rm));
  const std::string t = FormatMetricsTable(rm, false);
  EXPECT_NE(t.find("h  (exponential histogram, ms, cumulative)"), std::string::npos) << t;
  EXPECT_NE(t.find("count=6 sum=13 min=-2 max=8"), std::string::npos) << t;
  EXPECT_NE(t.find("scale=0 zero=1 -(1, 2] "), std::string::npos) << t;
  EXPECT_NE(t.find(" +(0.5, 8] "), std::string::npos) << t;
}

}  // namespace
