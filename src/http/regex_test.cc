// User patterns (excluded URLs, header capture and sanitize) are RE2: a
// client choosing the URL or the header names cannot make a pattern cost
// super-linear CPU (issue 12 §1), and a pattern RE2 rejects is a warning
// naming the setting, then skipped — never a crash.
#include <gtest/gtest.h>
#include <time.h>

#include <functional>
#include <string>

#include "otelweb/http/headers.h"
#include "otelweb/http/url.h"
#include "otelweb/testing/diagnostics_capture.h"

namespace otelweb::http {
namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs `benign` and then `hostile` `n` times each on this thread and expects
// the hostile runs to cost at most `factor` times the benign ones (CPU time of
// the same run) plus 20 ms of measurement slack. The hostile loop gives up as
// soon as it is over that budget, so a backtracking engine (seconds per call)
// fails in about a second instead of hanging the suite.
void ExpectComparableCost(const char* what, int n, double factor,
                          const std::function<bool()>& benign,
                          const std::function<bool()>& hostile, bool expect_hostile_result) {
  double t0 = ThreadCpuSeconds();
  for (int i = 0; i < n; ++i) (void)benign();
  const double benign_s = ThreadCpuSeconds() - t0;
  const double budget = factor * benign_s + 0.02;
  t0 = ThreadCpuSeconds();
  int done = 0;
  bool result = !expect_hostile_result;
  for (; done < n; ++done) {
    result = hostile();
    // The clock is a system call: read it every 64 calls (a backtracking
    // engine is caught on the first one, which takes seconds).
    if ((done % 64 == 0 || done < 64) && ThreadCpuSeconds() - t0 > budget) break;
  }
  const double hostile_s = ThreadCpuSeconds() - t0;
  EXPECT_EQ(done, n) << what << ": the hostile input went over its CPU budget after " << done
                     << " of " << n << " calls (" << hostile_s << " s against " << benign_s
                     << " s for the benign input)";
  EXPECT_LE(hostile_s, budget) << what;
  EXPECT_EQ(result, expect_hostile_result) << what;
}

// "(a+)+$" against "aaa...a!" is the classic catastrophic-backtracking pair:
// 2^n steps for n 'a's in ECMAScript std::regex (about 3 s for n = 26 on this
// machine's class of CPU), linear in RE2. The benign input is the same
// without the final '!': it matches at once, backtracking or not.
TEST(LinearRegex, PathologicalExcludedUrlPatternCostsLikeABenignOne) {
  UrlExcluder ex("(a+)+$");
  const std::string hostile = "http://h/" + std::string(26, 'a') + "!";
  const std::string benign = "http://h/" + std::string(27, 'a');
  ExpectComparableCost(
      "excluded URL", 20000, 8.0, [&] { return ex.Matches(benign); },
      [&] { return ex.Matches(hostile); }, false);
}

TEST(LinearRegex, PathologicalCaptureAndSanitizePatternsCostLikeBenignOnes) {
  HeaderCapture cap({"x-(a+)+y"}, {"(b+)+c$"}, "http.request.header.");
  const std::string hostile_name = "x-" + std::string(26, 'a');
  const std::string benign_name = "x-" + std::string(25, 'a') + "y";
  ExpectComparableCost(
      "capture", 20000, 8.0, [&] { return cap.Matches(benign_name); },
      [&] { return cap.Matches(hostile_name); }, false);
  const std::string hostile_s = "x-" + std::string(26, 'b') + "d";
  const std::string benign_s = "x-" + std::string(26, 'b') + "c";
  ExpectComparableCost(
      "sanitize", 20000, 8.0, [&] { return cap.IsSensitive(benign_s); },
      [&] { return cap.IsSensitive(hostile_s); }, false);
}

// Linear in the input's length: a 64 times longer URL costs about 64 times
// more, not 64² (with a bounded slack for the fixed per-call cost).
TEST(LinearRegex, CostGrowsLinearlyWithTheUrl) {
  UrlExcluder ex("^/static/.*\\.js$,(x+x+)+y");
  const std::string small = "/" + std::string(1024, 'x');
  const std::string large = "/" + std::string(64 * 1024, 'x');
  double t0 = ThreadCpuSeconds();
  for (int i = 0; i < 6400; ++i) (void)ex.Matches(small);
  const double small_s = ThreadCpuSeconds() - t0;
  t0 = ThreadCpuSeconds();
  for (int i = 0; i < 100; ++i) (void)ex.Matches(large);
  const double large_s = ThreadCpuSeconds() - t0;
  // Same number of bytes matched in both loops.
  EXPECT_LE(large_s, 4.0 * small_s + 0.02) << small_s << " s vs " << large_s << " s";
}

TEST(LinearRegex, RejectedPatternsAreAWarningNamingTheSettingAndAreSkipped) {
  otelweb::testing::DiagnosticsCapture diag(LogLevel::kWarning);
  UrlExcluder ex("^/api/(?!public),(a)\\1,/health");
  EXPECT_TRUE(ex.Matches("http://h/health"));
  EXPECT_FALSE(ex.Matches("http://h/api/private"));  // the lookahead entry is skipped
  EXPECT_EQ(diag.Count("excluded URL pattern"), 2u) << diag.text();
  EXPECT_EQ(diag.Count("OTEL_CPP_EXCLUDED_URLS"), 2u) << diag.text();
  EXPECT_EQ(diag.Count("without backreferences"), 2u) << diag.text();
  EXPECT_EQ(diag.Count("'^/api/(?!public)'"), 1u) << diag.text();

  diag.Clear();
  HeaderCapture cap({"x-(?=a)", "x-tenant", "x-re-.*"}, {"(?<=x)priv"}, "p.");
  EXPECT_TRUE(cap.Matches("X-Tenant"));
  EXPECT_TRUE(cap.Matches("x-re-1"));
  EXPECT_FALSE(cap.Matches("x-a"));
  EXPECT_FALSE(cap.IsSensitive("x-priv-ish"));  // the sanitize entry is skipped
  EXPECT_EQ(diag.Count("header capture pattern"), 1u) << diag.text();
  EXPECT_EQ(diag.Count("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS"), 1u)
      << diag.text();
  EXPECT_EQ(diag.Count("docs/httplib.md"), 2u) << diag.text();
}

// The syntax users relied on still works: classes, \d \w \b, anchors,
// alternation, counted repetition; capture is case-insensitive, excluded URLs
// are not.
TEST(LinearRegex, CommonSyntaxKeepsItsMeaning) {
  UrlExcluder ex("^/files/\\d{3}$,\\bstatic\\b,/[Hh]ealth(z)?$");
  EXPECT_TRUE(ex.Matches("/files/123"));
  EXPECT_FALSE(ex.Matches("/files/1234"));
  EXPECT_TRUE(ex.Matches("/a/static/b"));
  EXPECT_FALSE(ex.Matches("/a/statics/b"));
  EXPECT_TRUE(ex.Matches("/Healthz"));
  EXPECT_FALSE(ex.Matches("/HEALTH"));
  HeaderCapture cap({"x-[a-z]+-\\w+"}, {}, "p.");
  EXPECT_TRUE(cap.Matches("X-Tenant-Id"));
  EXPECT_FALSE(cap.Matches("x-tenant"));
}

}  // namespace
}  // namespace otelweb::http
