// Statistics of the three-arm end-to-end programs (bench/grpc_overhead.cc,
// bench/http_overhead.cc): arms A (plain), A' (a second plain arm, the
// control) and B (instrumented) run in every round, in an order rotated
// through the six permutations; the figures are the medians of the per-round
// ratios B/A and A'/A with a distribution-free 95 % confidence interval, and a
// verdict that refuses to conclude while A'/A says the machine is too noisy.
// Header-only; every function is pure and thread-safe.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace otelweb::bench {

// The six orders of arms 0, 1, 2: over six rounds each arm is in each
// position twice and each pair of arms runs in both orders equally often.
inline constexpr int kArmOrders[6][3] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}};

// The control's tolerance: the run is conclusive only when the 95 % CI of the
// median A'/A lies within 1 -+ kControlTolerance (0.99..1.01).
inline constexpr double kControlTolerance = 0.01;

// Median, quartiles, min, max and the 95 % CI of the median of a sample.
// `v` must not be empty (the caller checks; an empty sample is a bug).
struct Spread {
  explicit Spread(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    auto at = [&](double q) { return v[static_cast<size_t>(q * double(n - 1) + 0.5)]; };
    median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    q1 = at(0.25);
    q3 = at(0.75);
    min = v.front();
    max = v.back();
    // Distribution-free 95 % confidence interval of the median: the order
    // statistics n/2 -+ 0.98 sqrt(n) (binomial(n, 1/2), normal approximation).
    // Below about 6 values it is min..max.
    const double h = 0.98 * std::sqrt(double(n));
    const double mid = double(n - 1) / 2;
    lo = v[static_cast<size_t>(std::max(0.0, std::floor(mid - h)))];
    hi = v[static_cast<size_t>(std::min(double(n - 1), std::ceil(mid + h)))];
  }
  double median, q1, q3, min, max, lo, hi;
};

// The verdict line's text for B/A against `goal`, given the control A'/A.
inline std::string Verdict(const Spread& b, const Spread& control, double goal) {
  char g[32];
  std::snprintf(g, sizeof(g), "%.2f", goal);
  const bool quiet = control.lo >= 1 - kControlTolerance && control.hi <= 1 + kControlTolerance;
  if (!quiet) {
    char t[160];
    std::snprintf(t, sizeof(t),
                  "inconclusive: the identical arms A and A' differ by more than %.0f %%; rerun on a quieter machine "
                  "or with more rounds",
                  kControlTolerance * 100);
    return t;
  }
  if (b.hi <= goal) return std::string("goal met (B/A's CI below ") + g + ")";
  if (b.lo > goal) return std::string("goal not met (B/A's CI above ") + g + ")";
  return std::string("undecided: B/A's CI straddles ") + g + "; rerun with more rounds";
}

}  // namespace otelweb::bench
