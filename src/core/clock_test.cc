// Now() follows the system wall clock closely, including across re-anchoring.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/internal.h"
#include "otelweb/common.h"

namespace otelweb {
namespace {

int64_t SystemNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

TEST(Clock, TracksTheSystemClockAcrossReanchors) {
  // 1.3 s of samples: past calibration (20 ms) and one re-anchor (1 s).
  int64_t worst = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1300);
  while (std::chrono::steady_clock::now() < end) {
    int64_t before = SystemNs();
    int64_t ours = Now().time_since_epoch().count();
    int64_t after = SystemNs();
    int64_t err = ours < before ? before - ours : (ours > after ? ours - after : 0);
    if (err > worst) worst = err;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_LT(worst, 200000) << "Now() strayed " << worst << " ns from CLOCK_REALTIME";
}

TEST(Clock, DurationsAreNonNegativeAndPlausible) {
  for (int i = 0; i < 50; ++i) {
    auto a = Now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto b = Now();
    auto d = std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
    EXPECT_GE(d, 1900);
    EXPECT_LT(d, 200000);
  }
}

TEST(Clock, SpanEndFromTheStartTscFollowsTheSystemClock) {
  // Past calibration, so that span starts come from the TSC where it is usable.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
  while (std::chrono::steady_clock::now() < until) {
    (void)Now();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int64_t worst = 0;
  for (int i = 0; i < 20; ++i) {
    uint64_t tsc = 0;
    const int64_t start = internal::SpanStartNs(&tsc);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    const int64_t before = SystemNs();
    const int64_t end = internal::SpanEndNs(start, tsc);
    const int64_t after = SystemNs();
    EXPECT_GE(end - start, 2900000) << "a 3 ms span measured " << (end - start) << " ns";
    EXPECT_LT(end - start, 200000000);
    const int64_t err = end < before ? before - end : (end > after ? end - after : 0);
    if (err > worst) worst = err;
  }
  EXPECT_LT(worst, 200000) << "a span's end strayed " << worst << " ns from CLOCK_REALTIME";
}

TEST(Clock, SpanEndWithoutAStartTscReadsTheClockAndNeverPrecedesTheStart) {
  const int64_t now = SystemNs();
  // A start given by the caller (no TSC reading): the end is read from the clock.
  const int64_t end = internal::SpanEndNs(now - 1000000, 0);
  EXPECT_GE(end, now - 1000000);
  EXPECT_LT(end, now + 200000000);
  // A start in the future (a caller's clock ahead of ours): the end is clamped to it.
  const int64_t future = now + int64_t(3600) * 1000000000;
  EXPECT_EQ(internal::SpanEndNs(future, 0), future);
}

}  // namespace
}  // namespace otelweb
