// Now() follows the system wall clock closely, including across re-anchoring.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "core/internal.h"
#include "otelweb/common.h"

namespace otelweb {
namespace {

// Whether clock.cc may use the TSC here (its own rule: x86-64, an invariant
// TSC in /proc/cpuinfo, OTELWEB_TSC not 0).
bool TscExpected() {
#if defined(__x86_64__)
  const char* env = std::getenv("OTELWEB_TSC");
  if (env != nullptr && std::string(env) == "0") return false;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0)
      return line.find(" constant_tsc") != std::string::npos && line.find(" nonstop_tsc") != std::string::npos;
  }
#endif
  return false;
}

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

TEST(Clock, ARateIsTakenOnlyOverAWindowLongAgainstItsAnchorsUncertainty) {
  // Usual anchors: a few tens of ticks each, over the first 20 ms window.
  EXPECT_TRUE(internal::RateWindowTrustworthy(50000000, 40, 40));
  // An anchor whose two TSC reads were 4 ms (about 10 M ticks) apart: a
  // preemption between them. Its rate could be off by 20 %: refused.
  EXPECT_FALSE(internal::RateWindowTrustworthy(50000000, 5000000, 40));
  EXPECT_FALSE(internal::RateWindowTrustworthy(50000000, 40, 5000000));
  // The bound is 0.1 % of the window: at it, accepted; one tick over, refused.
  EXPECT_TRUE(internal::RateWindowTrustworthy(1000000, 500, 500));
  EXPECT_FALSE(internal::RateWindowTrustworthy(1000000, 500, 501));
  // The largest errors do not wrap around into an acceptance.
  EXPECT_FALSE(internal::RateWindowTrustworthy(~uint64_t{0}, ~uint64_t{0} / 2, ~uint64_t{0} / 2));
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
  int from_tsc = 0;
  for (int i = 0; i < 20; ++i) {
    uint64_t tsc = 0;
    const int64_t start = internal::SpanStartNs(&tsc);
    if (tsc != 0) ++from_tsc;
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
  // Where the TSC is usable, calibration has given a rate by now (a rate
  // refused every time would leave every span on the system clock).
  if (TscExpected()) {
    EXPECT_GT(from_tsc, 0) << "no span start came from the TSC after 60 ms";
  }
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
