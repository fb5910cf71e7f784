// The three-arm programs' statistics (bench/ratio_stats.h): the median, the
// order statistics of its 95 % confidence interval, and the verdict.
#include "ratio_stats.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otelweb::bench {
namespace {

TEST(RatioStatsTest, MedianQuartilesAndExtremesOfAnUnsortedSample) {
  const Spread s({1.05, 0.98, 1.20, 1.01, 0.90});
  EXPECT_DOUBLE_EQ(s.median, 1.01);
  EXPECT_DOUBLE_EQ(s.min, 0.90);
  EXPECT_DOUBLE_EQ(s.max, 1.20);
  EXPECT_DOUBLE_EQ(s.q1, 0.98);
  EXPECT_DOUBLE_EQ(s.q3, 1.05);
}

TEST(RatioStatsTest, EvenSampleMedianIsTheMeanOfTheMiddleTwo) {
  const Spread s({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(s.median, 2.5);
}

TEST(RatioStatsTest, ConfidenceIntervalIsTheOrderStatisticsAroundTheMedian) {
  // n = 12: (n-1)/2 -+ 0.98 sqrt(12) = 5.5 -+ 3.39: the 3rd and the 10th value.
  std::vector<double> v;
  for (int i = 0; i < 12; ++i) v.push_back(1.0 + 0.01 * i);
  const Spread s(v);
  EXPECT_DOUBLE_EQ(s.lo, 1.02);
  EXPECT_DOUBLE_EQ(s.hi, 1.09);
  // n = 100: 49.5 -+ 9.8: the 40th and the 60th value (indexes 39 and 60).
  std::vector<double> w;
  for (int i = 0; i < 100; ++i) w.push_back(double(i));
  const Spread t(w);
  EXPECT_DOUBLE_EQ(t.lo, 39);
  EXPECT_DOUBLE_EQ(t.hi, 60);
}

TEST(RatioStatsTest, FewValuesGiveMinToMax) {
  const Spread one({1.5});
  EXPECT_DOUBLE_EQ(one.lo, 1.5);
  EXPECT_DOUBLE_EQ(one.hi, 1.5);
  const Spread three({1.0, 3.0, 2.0});
  EXPECT_DOUBLE_EQ(three.lo, 1.0);
  EXPECT_DOUBLE_EQ(three.hi, 3.0);
}

TEST(RatioStatsTest, VerdictNeedsTheControlWithinOnePercent) {
  const Spread quiet({0.995, 1.0, 1.005});
  const Spread noisy({0.98, 1.0, 1.005});
  const Spread low({1.00, 1.01, 1.02});
  const Spread high({1.06, 1.07, 1.08});
  const Spread straddle({1.02, 1.03, 1.04});
  EXPECT_EQ(Verdict(low, noisy, 1.03).rfind("inconclusive", 0), 0u);
  EXPECT_EQ(Verdict(low, quiet, 1.03), "goal met (B/A's CI below 1.03)");
  EXPECT_EQ(Verdict(high, quiet, 1.05), "goal not met (B/A's CI above 1.05)");
  EXPECT_EQ(Verdict(straddle, quiet, 1.03).rfind("undecided", 0), 0u);
}

TEST(RatioStatsTest, OrdersAreTheSixPermutations) {
  int seen[3][3] = {};  // arm, position
  for (const auto& order : kArmOrders) {
    for (int pos = 0; pos < 3; ++pos) ++seen[order[pos]][pos];
  }
  for (const auto& arm : seen) {
    for (int count : arm) EXPECT_EQ(count, 2);
  }
}

}  // namespace
}  // namespace otelweb::bench
