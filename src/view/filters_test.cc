// otelweb-view: every combination of the trace list's filters and sorts,
// under each query plan, against a brute-force evaluation of the same data.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "view_test_util.h"

namespace otelweb::view::testing {
namespace {

struct Truth {
  std::string id;  // 16 bytes
  std::set<std::string> services, names, attrs;
  int64_t errors = 0, start = 0, duration = 0;
};

class Filters : public ::testing::TestWithParam<int64_t> {};

TEST_P(Filters, EveryCombinationMatchesBruteForce) {
  StoreOptions so;
  so.drive_below = GetParam();
  std::string error;
  auto store = Store::Open(so, &error);
  ASSERT_TRUE(store) << error;
  std::mt19937_64 rng(1234);
  const uint64_t t0 = 1700000000000000000ull;
  const char* services[] = {"a", "a", "a", "b", "b", "c"};
  std::vector<Truth> truth;
  std::vector<SpanSpec> specs;
  const int traces = 400;
  for (int i = 0; i < traces; ++i) {
    Truth t;
    std::string hex = TraceHex(uint64_t(10000 + i));
    FromHex(hex, 16, &t.id);
    int n = 1 + int(rng() % 4);
    bool has_root = rng() % 5 != 0;  // some traces' roots were never received
    int64_t start = int64_t(t0 + uint64_t(i) * 1000003 + rng() % 1000);
    int64_t root_duration = int64_t(1000000 + rng() % 100000000) + i;
    int64_t min_start = INT64_MAX, max_end = INT64_MIN;
    for (int k = 0; k < n; ++k) {
      SpanSpec s;
      s.trace_hex = hex;
      s.span_hex = SpanHex(uint64_t(k));
      s.parent_hex = k == 0 ? (has_root ? "" : SpanHex(99)) : SpanHex(0);
      s.service = rng() % 40 == 0 ? "rare" : services[rng() % 6];
      s.name = "n" + std::to_string(rng() % 6);
      s.start = uint64_t(start + (k == 0 ? 0 : int64_t(rng() % 500000)));
      s.duration = k == 0 ? uint64_t(root_duration) : uint64_t(1000 + rng() % 150000000);
      s.error = rng() % 6 == 0;
      if (rng() % 3 == 0) s.attrs.push_back({"http.route", "/route/{id}"});
      if (rng() % 2 == 0) s.attrs.push_back({"region", rng() % 2 ? "eu" : "us"});
      if (rng() % 2 == 0) s.attrs.push_back({"user", std::to_string(rng() % 10)});
      t.services.insert(s.service);
      t.names.insert(s.name);
      for (const auto& [k2, v] : s.attrs) {
        if (k2 == "http.route") t.names.insert(v);
        t.attrs.insert(k2 + "=" + v);
      }
      t.errors += s.error;
      min_start = std::min(min_start, int64_t(s.start));
      max_end = std::max(max_end, int64_t(s.start + s.duration));
      specs.push_back(s);
    }
    t.start = min_start;
    t.duration = has_root ? root_duration : max_end - min_start;
    truth.push_back(t);
  }
  // In several requests, the spans of a trace split over two of them.
  for (size_t at = 0; at < specs.size(); at += 97) {
    std::vector<SpanSpec> part(specs.begin() + long(at),
                               specs.begin() + long(std::min(specs.size(), at + 97)));
    ASSERT_EQ(store->AddTraces(MakeRequest(part)), Admit::kStored);
  }
  ASSERT_TRUE(store->Flush(10s));

  const int64_t mid = int64_t(t0) + 150 * 1000003;
  std::vector<std::string> svc = {"", "a", "rare"}, name = {"", "n1", "/route/{id}"};
  std::vector<std::vector<std::string>> attrs = {{}, {"region=eu"}, {"region=eu", "user=3"}};
  int checked = 0, nonempty = 0;
  for (const auto& s : svc)
    for (const auto& nm : name)
      for (bool err : {false, true})
        for (int64_t mind : {int64_t(-1), int64_t(30000000)})
          for (int64_t maxd : {int64_t(-1), int64_t(90000000)})
            for (bool window : {false, true})
              for (const auto& at : attrs)
                for (bool by_duration : {false, true}) {
                  std::vector<const Truth*> want;
                  for (const Truth& t : truth) {
                    bool ok = (s.empty() || t.services.count(s)) &&
                              (nm.empty() || t.names.count(nm)) && (!err || t.errors > 0) &&
                              (mind < 0 || t.duration >= mind) &&
                              (maxd < 0 || t.duration <= maxd) &&
                              (!window || (t.start >= mid && t.start <= mid + 150 * 1000003));
                    for (const auto& a : at) ok = ok && t.attrs.count(a);
                    if (ok) want.push_back(&t);
                  }
                  std::sort(want.begin(), want.end(), [&](const Truth* x, const Truth* y) {
                    return by_duration ? x->duration > y->duration : x->start > y->start;
                  });
                  for (int limit : {1000, 3}) {
                    TraceQuery q;
                    q.service = s;
                    q.name = nm;
                    q.error_only = err;
                    q.min_duration = mind;
                    q.max_duration = maxd;
                    if (window) {
                      q.start = mid;
                      q.end = mid + 150 * 1000003;
                    }
                    q.attrs = at;
                    q.sort_by_duration = by_duration;
                    q.limit = limit;
                    std::vector<TraceSummary> got;
                    int64_t total = -1;
                    std::string e;
                    ASSERT_TRUE(store->QueryTraces(q, &got, &total, &e)) << e;
                    std::string what =
                        "service=" + s + " name=" + nm + " error=" + std::to_string(err) +
                        " min=" + std::to_string(mind) + " max=" + std::to_string(maxd) +
                        " window=" + std::to_string(window) +
                        " attrs=" + std::to_string(at.size()) +
                        " duration=" + std::to_string(by_duration) +
                        " limit=" + std::to_string(limit);
                    ASSERT_EQ(total, int64_t(want.size())) << what;
                    ASSERT_EQ(got.size(), std::min(want.size(), size_t(limit))) << what;
                    for (size_t k = 0; k < got.size(); ++k) {
                      ASSERT_EQ(Hex(got[k].trace_id), Hex(want[k]->id)) << what << " row " << k;
                      ASSERT_EQ(got[k].error_count, want[k]->errors) << what;
                      ASSERT_EQ(got[k].duration, want[k]->duration) << what;
                    }
                    ++checked;
                  }
                  nonempty += !want.empty();
                }
  EXPECT_EQ(checked, 3 * 3 * 2 * 2 * 2 * 2 * 3 * 2 * 2);
  EXPECT_GT(nonempty, 200);  // the data makes most combinations match something
}

// 0: the start or duration index is walked and every value probed; 1 << 30:
// the smallest value range drives. error=1 drives under either when the error
// traces are fewer than the smallest value range ("rare" is rarer than them).
INSTANTIATE_TEST_SUITE_P(Plans, Filters, ::testing::Values(int64_t(0), int64_t(1) << 30),
                         [](const auto& info) {
                           return info.param ? std::string("Driven") : std::string("IndexWalk");
                         });

}  // namespace
}  // namespace otelweb::view::testing
