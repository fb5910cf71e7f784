// Now() follows the system wall clock closely, including across re-anchoring.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdlib>
#include <thread>

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

}  // namespace
}  // namespace otelweb
