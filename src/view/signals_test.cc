// The logs, metrics and service-map API of otelweb-view (issue 16;
// src/view/signals.cc): every filter of /api/logs and the per-trace logs,
// the service map's edges, the metric list and series (cumulative sums
// differenced, resets, histograms merged with percentiles, exemplars, gauges),
// and the 400 answers. In process, real sockets and SQLite.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "view/rollup.h"
#include "view/view_test_util.h"

namespace otelweb::view {
namespace {

using namespace testing;
namespace lsvc = ::opentelemetry::proto::collector::logs::v1;
namespace msvc = ::opentelemetry::proto::collector::metrics::v1;
namespace pbm = ::opentelemetry::proto::metrics::v1;

constexpr uint64_t kT0 = 1700000000000000000ull;
constexpr uint64_t kSec = 1000000000ull;

std::string Bin(const std::string& hex, size_t n) {
  std::string b;
  FromHex(hex, n, &b);
  return b;
}

void SetService(::opentelemetry::proto::resource::v1::Resource* r, const std::string& service) {
  auto* kv = r->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
}

struct LogSpec {
  std::string service, body, trace_hex, span_hex;
  int severity;
  uint64_t time;
  std::string attr_key, attr_value;
};

lsvc::ExportLogsServiceRequest Logs(const std::vector<LogSpec>& specs) {
  lsvc::ExportLogsServiceRequest req;
  for (const auto& s : specs) {
    auto* rl = req.add_resource_logs();
    SetService(rl->mutable_resource(), s.service);
    auto* lr = rl->add_scope_logs()->add_log_records();
    lr->set_time_unix_nano(s.time);
    lr->set_severity_number(::opentelemetry::proto::logs::v1::SeverityNumber(s.severity));
    lr->mutable_body()->set_string_value(s.body);
    if (!s.trace_hex.empty()) lr->set_trace_id(Bin(s.trace_hex, 16));
    if (!s.span_hex.empty()) lr->set_span_id(Bin(s.span_hex, 8));
    if (!s.attr_key.empty()) {
      auto* kv = lr->add_attributes();
      kv->set_key(s.attr_key);
      kv->mutable_value()->set_string_value(s.attr_value);
    }
  }
  return req;
}

class Signals : public ::testing::Test {
 protected:
  void SetUp() override {
    v_ = std::make_unique<Running>();
    ASSERT_EQ(v_->store->AddLogs(Logs({
                  {"a", "GET /items -> 200", TraceHex(1), SpanHex(10), 9, kT0 + 1, "user", "42"},
                  {"a", "backend call failed", TraceHex(1), SpanHex(11), 17, kT0 + 2},
                  {"b", "slow disk", "", "", 13, kT0 + 3},
                  {"b", "noise", "", "", 5, kT0 + 4},
              })),
              Admit::kStored);
    ASSERT_TRUE(v_->store->Flush(std::chrono::seconds(5)));
  }
  std::vector<std::string> Bodies(const std::string& query, bool* more = nullptr) {
    auto a = Get(v_->server->ui_port(), "/api/logs" + query);
    EXPECT_EQ(a.status, 200) << query << ": " << a.body;
    std::vector<std::string> out;
    for (const auto& l : a.json["logs"]) out.push_back(l["body"].get<std::string>());
    if (more) *more = a.json["more"].get<bool>();
    return out;
  }
  using V = std::vector<std::string>;
  std::unique_ptr<Running> v_;
};

TEST_F(Signals, LogFilters) {
  EXPECT_EQ(Bodies(""),
            (V{"noise", "slow disk", "backend call failed", "GET /items -> 200"}));  // newest first
  EXPECT_EQ(Bodies("?severity=WARN"), (V{"slow disk", "backend call failed"}));
  EXPECT_EQ(Bodies("?severity=error"), (V{"backend call failed"}));
  EXPECT_EQ(Bodies("?severity=13"), (V{"slow disk", "backend call failed"}));
  EXPECT_EQ(Bodies("?text=ITEMS"), (V{"GET /items -> 200"}));
  EXPECT_EQ(Bodies("?text=user%3D42"), (V{"GET /items -> 200"}));  // an attribute's key=value
  EXPECT_EQ(Bodies("?service=b"), (V{"noise", "slow disk"}));
  EXPECT_EQ(Bodies("?traceId=" + TraceHex(1)), (V{"backend call failed", "GET /items -> 200"}));
  EXPECT_EQ(Bodies("?spanId=" + SpanHex(11)), (V{"backend call failed"}));
  EXPECT_EQ(Bodies("?start=" + std::to_string(kT0 + 2) + "&end=" + std::to_string(kT0 + 3)),
            (V{"slow disk", "backend call failed"}));
  EXPECT_EQ(Bodies("?service=b&severity=WARN"), (V{"slow disk"}));
  bool more = false;
  EXPECT_EQ(Bodies("?limit=1", &more), (V{"noise"}));
  EXPECT_TRUE(more);
  Bodies("?limit=4", &more);
  EXPECT_FALSE(more);
  auto one = Get(v_->server->ui_port(), "/api/logs?spanId=" + SpanHex(10)).json["logs"][0];
  EXPECT_EQ(one["traceId"], TraceHex(1));
  EXPECT_EQ(one["spanId"], SpanHex(10));
  EXPECT_EQ(one["service"], "a");
  EXPECT_EQ(one["severityNumber"], 9);
  EXPECT_EQ(one["attributes"]["user"], "42");
  EXPECT_EQ(one["timeUnixNano"], std::to_string(kT0 + 1));
  EXPECT_EQ(one["resource"]["attributes"]["service.name"], "a");
}

TEST_F(Signals, TraceLogsOldestFirstAndBadParameters) {
  auto a = Get(v_->server->ui_port(), "/api/traces/" + TraceHex(1) + "/logs");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.json["logs"].size(), 2u);
  EXPECT_EQ(a.json["logs"][0]["body"], "GET /items -> 200");
  EXPECT_EQ(a.json["logs"][1]["body"], "backend call failed");
  EXPECT_EQ(Get(v_->server->ui_port(), "/api/traces/" + TraceHex(7) + "/logs").json["logs"].size(),
            0u);
  for (const char* bad : {"/api/logs?severity=LOUD", "/api/logs?traceId=xyz", "/api/logs?limit=0",
                          "/api/logs?start=-5", "/api/traces/nothex/logs", "/api/metrics/series",
                          "/api/metrics/series?name=x&maxPoints=0", "/api/service-map?limit=0"}) {
    auto r = Get(v_->server->ui_port(), bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(r.json.contains("error")) << bad;
    EXPECT_NE(r.json["error"].get<std::string>().find("use"), std::string::npos)
        << bad << ": " << r.body;
  }
}

TEST_F(Signals, ServiceMapCountsCrossServiceCallsAndErrors) {
  // Trace 1: a -> b twice (one ERROR), a -> a; trace 2 (10 s later): b -> c.
  std::vector<SpanSpec> specs = {
      {TraceHex(1), SpanHex(1), "", "GET /", "a", 2, kT0, 9000000},
      {TraceHex(1), SpanHex(2), SpanHex(1), "call b", "a", 3, kT0 + 10, 4000000},
      {TraceHex(1), SpanHex(3), SpanHex(2), "serve", "b", 2, kT0 + 20, 2000000},
      {TraceHex(1), SpanHex(4), SpanHex(1), "serve again", "b", 2, kT0 + 5000000, 4000000, true},
      {TraceHex(1), SpanHex(5), SpanHex(1), "local", "a", 1, kT0 + 30, 1000},
      {TraceHex(2), SpanHex(6), "", "job", "b", 2, kT0 + 10 * kSec, 1000},
      {TraceHex(2), SpanHex(7), SpanHex(6), "store", "c", 2, kT0 + 10 * kSec, 1000},
  };
  ASSERT_EQ(v_->store->AddTraces(MakeRequest(specs)), Admit::kStored);
  ASSERT_TRUE(v_->store->Flush(std::chrono::seconds(5)));
  auto m = Get(v_->server->ui_port(), "/api/service-map").json;
  ASSERT_EQ(m["edges"].size(), 2u) << m.dump();
  EXPECT_EQ(m["edges"][0]["parent"], "a");
  EXPECT_EQ(m["edges"][0]["child"], "b");
  EXPECT_EQ(m["edges"][0]["calls"], 2);
  EXPECT_EQ(m["edges"][0]["errors"], 1);
  EXPECT_DOUBLE_EQ(m["edges"][0]["errorRate"].get<double>(), 0.5);
  EXPECT_EQ(m["edges"][0]["meanDurationNano"], 3000000);
  EXPECT_EQ(m["edges"][1]["parent"], "b");
  EXPECT_EQ(m["edges"][1]["child"], "c");
  EXPECT_EQ(m["traces"], 2);
  ASSERT_EQ(m["services"].size(), 3u);
  EXPECT_EQ(m["services"][0]["service"], "a");
  EXPECT_EQ(m["services"][0]["spans"], 3);
  // The window keeps trace 1 only.
  auto w = Get(v_->server->ui_port(), "/api/service-map?end=" + std::to_string(kT0 + kSec)).json;
  ASSERT_EQ(w["edges"].size(), 1u);
  EXPECT_EQ(w["edges"][0]["child"], "b");
}

msvc::ExportMetricsServiceRequest Metrics(uint64_t t, double sum_value, uint64_t sum_start,
                                          uint64_t count, std::vector<uint64_t> buckets,
                                          double hist_sum, double gauge,
                                          const std::string& exemplar_trace = "") {
  msvc::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  SetService(rm->mutable_resource(), "svc");
  auto* sm = rm->add_scope_metrics();
  auto* s = sm->add_metrics();
  s->set_name("requests");
  s->set_unit("{request}");
  s->mutable_sum()->set_is_monotonic(true);
  s->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* sp = s->mutable_sum()->add_data_points();
  sp->set_start_time_unix_nano(sum_start);
  sp->set_time_unix_nano(t);
  sp->set_as_double(sum_value);
  auto* h = sm->add_metrics();
  h->set_name("duration");
  h->set_unit("s");
  h->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_start_time_unix_nano(kT0 - kSec / 2);
  hp->set_time_unix_nano(t);
  hp->set_count(count);
  hp->set_sum(hist_sum);
  hp->add_explicit_bounds(1);
  hp->add_explicit_bounds(2);
  for (uint64_t b : buckets) hp->add_bucket_counts(b);
  auto* kv = hp->add_attributes();
  kv->set_key("http.route");
  kv->mutable_value()->set_string_value("/items");
  if (!exemplar_trace.empty()) {
    auto* e = hp->add_exemplars();
    e->set_time_unix_nano(t - 10);
    e->set_as_double(1.5);
    e->set_trace_id(Bin(exemplar_trace, 16));
    e->set_span_id(Bin(SpanHex(5), 8));
  }
  auto* g = sm->add_metrics();
  g->set_name("queue");
  auto* gp = g->mutable_gauge()->add_data_points();
  gp->set_time_unix_nano(t);
  gp->set_as_int(int64_t(gauge));
  return req;
}

TEST_F(Signals, MetricSeries) {
  // Three collections one second apart; the sum resets (new start) at the third.
  ASSERT_EQ(v_->store->AddMetrics(Metrics(kT0, 10, kT0 - kSec / 2, 2, {1, 1, 0}, 2.5, 7)),
            Admit::kStored);
  ASSERT_EQ(v_->store->AddMetrics(
                Metrics(kT0 + kSec, 15, kT0 - kSec / 2, 5, {1, 3, 1}, 9, 3, TraceHex(9))),
            Admit::kStored);
  ASSERT_EQ(v_->store->AddMetrics(Metrics(kT0 + 2 * kSec, 4, kT0 + kSec + 1, 5, {1, 3, 1}, 9, 5)),
            Admit::kStored);
  ASSERT_TRUE(v_->store->Flush(std::chrono::seconds(5)));
  int port = v_->server->ui_port();

  auto list = Get(port, "/api/metrics").json["metrics"];
  ASSERT_EQ(list.size(), 3u) << list.dump();
  EXPECT_EQ(list[0]["name"], "duration");
  EXPECT_EQ(list[0]["type"], "histogram");
  EXPECT_EQ(list[1]["name"], "queue");
  EXPECT_EQ(list[1]["type"], "gauge");
  EXPECT_EQ(list[2]["type"], "sum");
  EXPECT_EQ(list[2]["monotonic"], true);
  EXPECT_EQ(list[2]["exports"], 3);
  EXPECT_EQ(list[2]["services"], Json::array({"svc"}));

  auto sum = Get(port, "/api/metrics/series?name=requests&step=1000000000").json;
  EXPECT_EQ(sum["type"], "sum");
  EXPECT_EQ(sum["stepNano"], 1000000000);
  EXPECT_EQ(sum["startTimeUnixNano"], std::to_string(kT0));
  ASSERT_EQ(sum["series"].size(), 1u);
  // Started in the window: all 10 new; then +5; then a reset: 4 new.
  EXPECT_EQ(sum["series"][0]["values"], Json::array({10.0, 5.0, 4.0})) << sum.dump();

  auto hist = Get(port, "/api/metrics/series?name=duration&step=1000000000").json["series"][0];
  EXPECT_EQ(hist["attributes"]["http.route"], "/items");
  EXPECT_EQ(hist["counts"], Json::array({2.0, 3.0, 0.0}));
  EXPECT_EQ(hist["buckets"][1], Json::array({0.0, 2.0, 1.0}));
  EXPECT_EQ(hist["bounds"], Json::array({1.0, 2.0}));
  EXPECT_DOUBLE_EQ(hist["sums"][1].get<double>(), 6.5);
  // 3 observations, the 1.5th in bucket (1, 2] holding 2: 1 + 1 * 1.5 / 2.
  EXPECT_DOUBLE_EQ(hist["p50"][1].get<double>(), 1.75);
  EXPECT_TRUE(hist["p50"][2].is_null());
  ASSERT_EQ(hist["exemplars"].size(), 1u);
  EXPECT_EQ(hist["exemplars"][0]["traceId"], TraceHex(9));
  EXPECT_EQ(hist["exemplars"][0]["spanId"], SpanHex(5));
  EXPECT_DOUBLE_EQ(hist["exemplars"][0]["value"].get<double>(), 1.5);

  auto gauge = Get(port, "/api/metrics/series?name=queue&step=1000000000").json["series"][0];
  EXPECT_EQ(gauge["values"], Json::array({7.0, 3.0, 5.0}));
  // One 3-second bucket: the gauge's last value; the sum's rate per second.
  EXPECT_EQ(Get(port, "/api/metrics/series?name=queue&step=3000000000").json["series"][0]["values"],
            Json::array({5.0}));
  auto wide =
      Get(port, "/api/metrics/series?name=requests&step=3000000000").json["series"][0]["values"];
  EXPECT_DOUBLE_EQ(wide[0].get<double>(), 19.0 / 3);
  // A window: the point before it is the base of the first difference.
  auto later = Get(port, "/api/metrics/series?name=requests&step=1000000000&start=" +
                             std::to_string(kT0 + kSec))
                   .json;
  EXPECT_EQ(later["series"][0]["values"], Json::array({5.0, 4.0}));
  EXPECT_EQ(Get(port, "/api/metrics/series?name=nothing").json["series"].size(), 0u);
}

// A mixed feed for the rollups: a gauge of two series, a cumulative sum that
// resets, a delta sum and a cumulative histogram with exemplars, 90 points
// 700 ms apart from two services.
void FeedMixed(Store* store, uint64_t t0) {
  for (int i = 0; i < 90; ++i) {
    uint64_t t = t0 + uint64_t(i) * 700000000ull + 123;
    for (const char* service : {"web", "worker"}) {
      msvc::ExportMetricsServiceRequest req;
      auto* rm = req.add_resource_metrics();
      SetService(rm->mutable_resource(), service);
      auto* sm = rm->add_scope_metrics();
      auto* g = sm->add_metrics();
      g->set_name("mix.gauge");
      g->set_unit("1");
      for (int k = 0; k < 2; ++k) {
        auto* gp = g->mutable_gauge()->add_data_points();
        gp->set_time_unix_nano(t);
        gp->set_as_double(std::sin(i * 0.3 + k) * 10 + k);
        auto* kv = gp->add_attributes();
        kv->set_key("k");
        kv->mutable_value()->set_int_value(k);
      }
      auto* c = sm->add_metrics();
      c->set_name("mix.cumulative");
      c->mutable_sum()->set_is_monotonic(true);
      c->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
      auto* cp = c->mutable_sum()->add_data_points();
      bool after_reset = i >= 50;
      cp->set_start_time_unix_nano(after_reset ? t0 + 35 * kSec : t0 - kSec);
      cp->set_time_unix_nano(t);
      cp->set_as_int(after_reset ? (i - 50) * 3 + 1 : i * i);
      auto* d = sm->add_metrics();
      d->set_name("mix.delta");
      d->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
      auto* dp = d->mutable_sum()->add_data_points();
      dp->set_time_unix_nano(t);
      dp->set_as_double(0.5 * (i % 7));
      auto* h = sm->add_metrics();
      h->set_name("mix.duration");
      h->set_unit("s");
      h->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
      auto* hp = h->mutable_histogram()->add_data_points();
      hp->set_start_time_unix_nano(t0 - kSec);
      hp->set_time_unix_nano(t);
      uint64_t n = uint64_t(i) * 3;
      hp->set_count(n + n / 2 + n / 3);
      hp->set_sum(double(n) * 0.4);
      for (double b : {0.1, 0.5, 2.0}) hp->add_explicit_bounds(b);
      for (uint64_t b : {n, n / 2, n / 3, uint64_t(0)}) hp->add_bucket_counts(b);
      auto* kv = hp->add_attributes();
      kv->set_key("http.route");
      kv->mutable_value()->set_string_value("/items");
      auto* x = sm->add_metrics();
      x->set_name("mix.exponential");
      x->set_unit("s");
      auto* xh = x->mutable_exponential_histogram();
      xh->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
      auto* xp = xh->add_data_points();
      xp->set_start_time_unix_nano(t0 - kSec);
      xp->set_time_unix_nano(t);
      xp->set_scale(3);
      xp->set_zero_count(uint64_t(i));
      xp->mutable_positive()->set_offset(-56 + (i % 5));  // a moving offset
      uint64_t xcount = uint64_t(i);
      for (int k = 0; k < 12; ++k) {
        xp->mutable_positive()->add_bucket_counts(uint64_t(i) * uint64_t(k % 3) + uint64_t(i % 5 == 0));
        xcount += uint64_t(i) * uint64_t(k % 3) + uint64_t(i % 5 == 0);
      }
      xp->set_count(xcount);
      xp->set_sum(0.01 * double(xcount));
      auto* e = hp->add_exemplars();
      e->set_time_unix_nano(t - 5);
      e->set_as_double(0.01 * i);
      e->set_trace_id(Bin(TraceHex(100 + uint64_t(i)), 16));
      e->set_span_id(Bin(SpanHex(200 + uint64_t(i)), 8));
      ASSERT_EQ(store->AddMetrics(req), Admit::kStored);
    }
  }
  ASSERT_TRUE(store->Flush(std::chrono::seconds(10)));
}

// The answer from the rollups equals the one recomputed from the stored
// points (source=points), for every type, step and window; exemplars are
// the same at 1 s and a subset beyond (at most 4 per rollup row).
void ExpectRollupsMatchPoints(int port, const std::string& query) {
  auto r = Get(port, "/api/metrics/series?" + query);
  auto p = Get(port, "/api/metrics/series?" + query + "&source=points");
  ASSERT_EQ(r.status, 200) << query << ": " << r.body;
  ASSERT_EQ(p.status, 200) << query << ": " << p.body;
  const Json& a = r.json;
  const Json& b = p.json;
  EXPECT_EQ(a["source"], "rollups") << query;
  EXPECT_EQ(b["source"], "points") << query;
  for (const char* f : {"type", "unit", "temporality", "startTimeUnixNano", "stepNano"})
    EXPECT_EQ(a[f], b[f]) << query << " " << f;
  ASSERT_EQ(a["series"].size(), b["series"].size()) << query;
  ASSERT_GT(a["series"].size(), 0u) << query;
  auto near = [&](const Json& x, const Json& y, const std::string& what) {
    ASSERT_EQ(x.is_null(), y.is_null()) << query << " " << what << ": " << x << " vs " << y;
    if (x.is_null()) return;
    double u = x.get<double>(), v = y.get<double>();
    EXPECT_NEAR(u, v, 1e-9 * std::max(1.0, std::abs(v))) << query << " " << what;
  };
  for (size_t i = 0; i < a["series"].size(); ++i) {
    const Json& x = a["series"][i];
    const Json& y = b["series"][i];
    EXPECT_EQ(x["service"], y["service"]) << query;
    EXPECT_EQ(x["attributes"], y["attributes"]) << query;
    for (const char* f : {"values", "counts", "sums", "p50", "p90", "p99"}) {
      if (!y.contains(f)) {
        EXPECT_FALSE(x.contains(f)) << query << " " << f;
        continue;
      }
      ASSERT_EQ(x[f].size(), y[f].size()) << query << " " << f;
      for (size_t k = 0; k < y[f].size(); ++k)
        near(x[f][k], y[f][k], std::string(f) + "[" + std::to_string(k) + "]");
    }
    if (y.contains("buckets")) {
      EXPECT_EQ(x["bounds"], y["bounds"]) << query;
      ASSERT_EQ(x["buckets"].size(), y["buckets"].size()) << query;
      for (size_t k = 0; k < y["buckets"].size(); ++k) {
        ASSERT_EQ(x["buckets"][k].size(), y["buckets"][k].size()) << query << " bucket " << k;
        for (size_t j = 0; j < y["buckets"][k].size(); ++j)
          near(x["buckets"][k][j], y["buckets"][k][j], "buckets");
      }
    }
    if (a["stepNano"] == 1000000000) {
      EXPECT_EQ(x["exemplars"], y["exemplars"]) << query;
    } else {
      for (const Json& e : x["exemplars"])
        EXPECT_NE(std::find(y["exemplars"].begin(), y["exemplars"].end(), e), y["exemplars"].end())
            << query << " " << e;
    }
  }
}

TEST(SignalsRollups, RollupsAnswerAsThePointsDo) {
  Running v;
  FeedMixed(v.store.get(), kT0);
  int port = v.server->ui_port();
  const std::string mid = std::to_string(kT0 + 17300000000ull), late = std::to_string(kT0 + 50 * kSec);
  for (const char* name :
       {"mix.gauge", "mix.cumulative", "mix.delta", "mix.duration", "mix.exponential"}) {
    std::string n = std::string("name=") + name;
    for (const std::string& q :
         {n, n + "&maxPoints=7", n + "&step=1000000000", n + "&step=2000000000",
          n + "&step=5000000000", n + "&step=10000000000", n + "&step=60000000000",
          n + "&step=1000000000&start=" + mid, n + "&step=5000000000&start=" + mid + "&end=" + late,
          n + "&service=worker&step=1000000000", n + "&service=web&maxPoints=3"}) {
      ExpectRollupsMatchPoints(port, q);
    }
  }
  // The cumulative sum's reset: the first point after it counts whole (1).
  auto c = Get(port, "/api/metrics/series?name=mix.cumulative&service=web&step=1000000000").json;
  double total = 0;
  for (const Json& x : c["series"][0]["values"])
    if (!x.is_null()) total += x.get<double>();
  EXPECT_DOUBLE_EQ(total, 49.0 * 49 + 39 * 3 + 1);
  // At most four exemplars per rollup row: the largest values.
  auto wide = Get(port, "/api/metrics/series?name=mix.duration&service=web&step=3600000000000").json;
  ASSERT_EQ(wide["series"].size(), 1u);
  ASSERT_EQ(wide["series"][0]["exemplars"].size(), 4u) << wide.dump();
  EXPECT_DOUBLE_EQ(wide["series"][0]["exemplars"][0]["value"].get<double>(), 0.86);
  // A step that is not whole seconds is answered from the points.
  auto odd = Get(port, "/api/metrics/series?name=mix.gauge&step=1500000000").json;
  EXPECT_EQ(odd["source"], "points");
  EXPECT_EQ(Get(port, "/api/metrics/series?name=mix.gauge&source=nope").status, 400);
}

TEST(SignalsRollups, ExponentialHistogramOnExplicitBounds) {
  Running v;
  auto point = [](uint64_t t, int scale, int offset, std::vector<uint64_t> counts, uint64_t zero) {
    msvc::ExportMetricsServiceRequest req;
    auto* rm = req.add_resource_metrics();
    SetService(rm->mutable_resource(), "svc");
    auto* x = rm->add_scope_metrics()->add_metrics();
    x->set_name("latency");
    x->set_unit("s");
    x->mutable_exponential_histogram()->set_aggregation_temporality(
        pbm::AGGREGATION_TEMPORALITY_DELTA);
    auto* p = x->mutable_exponential_histogram()->add_data_points();
    p->set_time_unix_nano(t);
    p->set_scale(scale);
    p->set_zero_count(zero);
    p->mutable_positive()->set_offset(offset);
    uint64_t n = zero;
    for (uint64_t c : counts) {
      p->mutable_positive()->add_bucket_counts(c);
      n += c;
    }
    p->mutable_negative()->add_bucket_counts(1);  // one negative observation: with the zeros
    p->set_count(n + 1);
    return req;
  };
  // Scale 3 (eight buckets per power of two) merged down to four: indexes 0,1
  // -> canonical 0, 2,3 -> 1. Scale 1 (two per power of two): index 1 ->
  // canonical 2 (its first quarter-octave).
  ASSERT_EQ(v.store->AddMetrics(point(kT0, 3, 0, {1, 2, 3, 4}, 2)), Admit::kStored);
  ASSERT_EQ(v.store->AddMetrics(point(kT0 + kSec, 1, 1, {5}, 0)), Admit::kStored);
  ASSERT_TRUE(v.store->Flush(std::chrono::seconds(5)));
  int port = v.server->ui_port();
  for (const char* source : {"", "&source=points"}) {
    auto a = Get(port, std::string("/api/metrics/series?name=latency&step=1000000000") + source).json;
    EXPECT_EQ(a["type"], "exponentialHistogram");
    ASSERT_EQ(a["series"].size(), 1u) << a.dump();
    const Json& s = a["series"][0];
    ASSERT_EQ(s["bounds"].size(), 4u) << s.dump();
    EXPECT_EQ(s["bounds"][0], 0.0);
    EXPECT_DOUBLE_EQ(s["bounds"][1].get<double>(), std::exp2(0.25));
    EXPECT_DOUBLE_EQ(s["bounds"][2].get<double>(), std::exp2(0.5));
    EXPECT_DOUBLE_EQ(s["bounds"][3].get<double>(), std::exp2(0.75));
    EXPECT_EQ(s["buckets"][0], Json::array({3.0, 3.0, 7.0, 0.0, 0.0})) << source;
    EXPECT_EQ(s["buckets"][1], Json::array({1.0, 0.0, 0.0, 5.0, 0.0})) << source;
    EXPECT_EQ(s["counts"], Json::array({13.0, 6.0}));
    // The 7th of 13 observations: in canonical bucket 1, (2^0.25, 2^0.5].
    double p50 = s["p50"][0].get<double>();
    EXPECT_GT(p50, std::exp2(0.25));
    EXPECT_LE(p50, std::exp2(0.5));
  }
}

TEST(SignalsRollups, OlderFilesAreBackfilledAndPruningDropsRollups) {
  std::string path = ::testing::TempDir() + "/rollups_backfill_" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  std::string want;
  int64_t fed_bytes = 0;
  {
    StoreOptions so;
    so.path = path;
    Running v(so);
    FeedMixed(v.store.get(), kT0);
    want = Get(v.server->ui_port(), "/api/metrics/series?name=mix.duration&step=5000000000").body;
    fed_bytes = v.store->Stats().db_bytes;
  }
  ASSERT_GT(fed_bytes, 0);
  {
    // A file of before the rollups: the tables dropped.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE metric_rollup; DROP TABLE metric_series; DROP TABLE metric_prev; "
                           "DROP TABLE rollup_meta;", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  {
    StoreOptions so;
    so.path = path;
    Running v(so);
    auto got = Get(v.server->ui_port(), "/api/metrics/series?name=mix.duration&step=5000000000");
    EXPECT_EQ(got.json["source"], "rollups");
    EXPECT_EQ(got.body, want);
  }
  {
    // A cap under two feeds: pruning deletes the oldest metric points (not
    // all), and the rollups of the intervals before the oldest point left.
    StoreOptions so;
    so.path = path;
    so.max_bytes = fed_bytes * 3 / 2;
    Running v(so);
    FeedMixed(v.store.get(), kT0 + 1000 * kSec);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    auto scalar = [&](const char* sql) {
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
      int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
      sqlite3_finalize(s);
      return v;
    };
    int64_t oldest = scalar("SELECT coalesce(min(time), 9000000000000000000) FROM metric_points");
    EXPECT_EQ(scalar(("SELECT count(*) FROM metric_rollup WHERE (bucket + 1) * res * 1000000000 <= " +
                      std::to_string(oldest)).c_str()),
              0);
    EXPECT_LT(scalar("SELECT count(*) FROM metric_points"), 2 * 90 * 2 * 5) << "nothing pruned";
    // The points left still have their rollups.
    ASSERT_GT(scalar("SELECT count(*) FROM metric_points"), 0);
    EXPECT_GT(scalar(("SELECT count(*) FROM metric_rollup WHERE bucket * res * 1000000000 >= " +
                      std::to_string(oldest - 3600 * int64_t(kSec))).c_str()),
              0);
    EXPECT_EQ(scalar("SELECT count(*) FROM rollup_meta WHERE key = 'built'"), 1);
    sqlite3_close(db);
  }
  std::remove(path.c_str());
}

// One cumulative point per request: a sum, or a histogram of bounds {1, 10}.
msvc::ExportMetricsServiceRequest Cumulative(const std::string& name, const std::string& instance,
                                             uint64_t start, uint64_t t, double value,
                                             bool histogram) {
  msvc::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  SetService(rm->mutable_resource(), "svc");
  auto* kv = rm->mutable_resource()->add_attributes();
  kv->set_key("service.instance.id");
  kv->mutable_value()->set_string_value(instance);
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name(name);
  if (histogram) {
    m->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
    auto* p = m->mutable_histogram()->add_data_points();
    p->set_start_time_unix_nano(start);
    p->set_time_unix_nano(t);
    p->set_count(uint64_t(value));
    p->set_sum(value);
    p->add_explicit_bounds(1);
    p->add_explicit_bounds(10);
    for (uint64_t c : {uint64_t(value), uint64_t(0), uint64_t(0)}) p->add_bucket_counts(c);
  } else {
    m->mutable_sum()->set_is_monotonic(true);
    m->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
    auto* p = m->mutable_sum()->add_data_points();
    p->set_start_time_unix_nano(start);
    p->set_time_unix_nano(t);
    p->set_as_double(value);
  }
  return req;
}

// The sum over the buckets of an answer's series (rates times the step, or
// histogram counts).
double Total(int port, const std::string& query) {
  auto a = Get(port, "/api/metrics/series?" + query);
  EXPECT_EQ(a.status, 200) << a.body;
  double total = 0;
  for (const Json& s : a.json["series"]) {
    const Json& v = s.contains("counts") ? s["counts"] : s["values"];
    for (const Json& x : v)
      if (!x.is_null()) total += x.get<double>();
  }
  return total;
}

TEST(SignalsRollups, FirstPointOfASeriesStartedEarlierIsItsBase) {
  Running v;
  // A counter that ran an hour before the viewer saw it: its first point is
  // the base, not an increase of a million in one second.
  for (bool histogram : {false, true}) {
    std::string name = histogram ? "old.histogram" : "old.sum";
    uint64_t start = kT0 - 3600 * kSec;
    ASSERT_EQ(v.store->AddMetrics(Cumulative(name, "a", start, kT0, 1e6, histogram)), Admit::kStored);
    ASSERT_EQ(v.store->AddMetrics(Cumulative(name, "a", start, kT0 + kSec, 1e6 + 7, histogram)),
              Admit::kStored);
    // One that began with its first point counts whole.
    std::string fresh = name + ".fresh";
    ASSERT_EQ(v.store->AddMetrics(Cumulative(fresh, "a", kT0 - 2 * kSec, kT0, 5, histogram)),
              Admit::kStored);
    ASSERT_TRUE(v.store->Flush(std::chrono::seconds(5)));
    for (const char* source : {"", "&source=points"}) {
      std::string q = "start=" + std::to_string(kT0) + "&step=1000000000" + source + "&name=";
      EXPECT_DOUBLE_EQ(Total(v.server->ui_port(), q + name), 7.0) << name << source;
      EXPECT_DOUBLE_EQ(Total(v.server->ui_port(), q + fresh), 5.0) << fresh << source;
      // A window after the first point: the base is read from before it.
      std::string later = "start=" + std::to_string(kT0 + kSec) + "&step=1000000000" + source + "&name=";
      EXPECT_DOUBLE_EQ(Total(v.server->ui_port(), later + name), 7.0) << name << source;
    }
  }
}

TEST(SignalsRollups, InstancesOfAServiceDifferenceTheirOwnPoints) {
  Running v;
  // Two instances of "svc" (other service.instance.id, other start times)
  // alternate their points: the sum's increase is both instances'.
  for (bool histogram : {false, true}) {
    std::string name = histogram ? "two.histogram" : "two.sum";
    for (int i = 0; i < 4; ++i) {
      uint64_t t = kT0 + uint64_t(i) * 2 * kSec;
      ASSERT_EQ(v.store->AddMetrics(Cumulative(name, "a", kT0 - kSec, t, 10.0 * i, histogram)),
                Admit::kStored);
      ASSERT_EQ(v.store->AddMetrics(Cumulative(name, "b", kT0 - 2 * kSec, t + kSec, 3.0 * i, histogram)),
                Admit::kStored);
    }
    ASSERT_TRUE(v.store->Flush(std::chrono::seconds(5)));
    for (const char* source : {"", "&source=points"}) {
      std::string q = "name=" + name + "&start=" + std::to_string(kT0) + "&step=1000000000" + source;
      EXPECT_DOUBLE_EQ(Total(v.server->ui_port(), q), 30.0 + 9.0) << name << source;
      auto a = Get(v.server->ui_port(), "/api/metrics/series?" + q).json;
      EXPECT_EQ(a["series"].size(), 1u) << "one series per service and attributes: " << a.dump();
    }
  }
}

TEST(SignalsRollups, DiscardForgetsWhatARollbackTookBack) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  std::string error;
  ASSERT_TRUE(CreateRollupTables(db, &error)) << error;
  pbm::Metric m;
  m.set_name("g");
  auto* p = m.mutable_gauge()->add_data_points();
  p->set_time_unix_nano(kT0);
  p->set_as_double(4);
  {
    MetricRollups r(db);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    r.Add("svc", 1, m.SerializeAsString());
    EXPECT_TRUE(r.Flush());
    ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    r.Discard();
    ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    r.Add("svc", 1, m.SerializeAsString());
    EXPECT_TRUE(r.Flush());
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  SeriesWindow w;
  w.name = "g";
  w.start = int64_t(kT0 / kSec * kSec);
  w.step = int64_t(kSec);
  w.n = 1;
  w.res = 1;
  SeriesAnswer out;
  ASSERT_TRUE(QueryRollups(db, w, &out, &error)) << error;
  ASSERT_EQ(out.series.size(), 1u) << "the rows point at the series row rolled back";
  EXPECT_EQ(out.series[0].value[0], 4.0);
  sqlite3_close(db);
}

TEST(SignalsRollups, MalformedHistogramsAreSkippedAndIndexesBounded) {
  Running v;
  auto histogram = [](uint64_t t, std::vector<double> bounds, std::vector<uint64_t> counts) {
    msvc::ExportMetricsServiceRequest req;
    auto* rm = req.add_resource_metrics();
    SetService(rm->mutable_resource(), "svc");
    auto* m = rm->add_scope_metrics()->add_metrics();
    m->set_name("h");
    m->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
    auto* p = m->mutable_histogram()->add_data_points();
    p->set_start_time_unix_nano(kT0 - kSec);
    p->set_time_unix_nano(t);
    uint64_t n = 0;
    for (uint64_t c : counts) n += c, p->add_bucket_counts(c);
    for (double b : bounds) p->add_explicit_bounds(b);
    p->set_count(n);
    return req;
  };
  ASSERT_EQ(v.store->AddMetrics(histogram(kT0, {1, 2}, {1, 1, 1})), Admit::kStored);
  ASSERT_EQ(v.store->AddMetrics(histogram(kT0 + kSec, {1, 2}, {5, 5, 5, 5, 5, 5})), Admit::kStored);  // malformed
  ASSERT_EQ(v.store->AddMetrics(histogram(kT0 + 2 * kSec, {1, 2}, {2, 1, 1})), Admit::kStored);
  // Other bounds: a reset (counted whole), not a difference of other buckets.
  ASSERT_EQ(v.store->AddMetrics(histogram(kT0 + 3 * kSec, {5}, {4, 4})), Admit::kStored);
  // An exponential histogram at the edge of its index range.
  msvc::ExportMetricsServiceRequest x;
  auto* rm = x.add_resource_metrics();
  SetService(rm->mutable_resource(), "svc");
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name("x");
  m->mutable_exponential_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
  for (int offset : {-100000, 100000}) {
    auto* p = m->mutable_exponential_histogram()->add_data_points();
    p->set_time_unix_nano(kT0);
    p->set_scale(0);
    p->mutable_positive()->set_offset(offset);
    p->mutable_positive()->add_bucket_counts(1);
    p->set_count(1);
  }
  ASSERT_EQ(v.store->AddMetrics(x), Admit::kStored);
  ASSERT_TRUE(v.store->Flush(std::chrono::seconds(5)));
  int port = v.server->ui_port();
  for (const char* source : {"", "&source=points"}) {
    std::string q = std::string("start=") + std::to_string(kT0) + "&step=1000000000" + source;
    auto h = Get(port, "/api/metrics/series?name=h&" + q).json;
    ASSERT_EQ(h["series"].size(), 1u) << h.dump();
    EXPECT_EQ(h["series"][0]["counts"], Json::array({3.0, 0.0, 1.0, 8.0})) << source;
    auto e = Get(port, "/api/metrics/series?name=x&" + q).json;
    ASSERT_EQ(e["series"].size(), 1u) << e.dump();
    const Json& b = e["series"][0]["bounds"];
    ASSERT_LT(b.size(), 10000u) << source;
    for (const Json& bound : b) ASSERT_TRUE(bound.is_number() && std::isfinite(bound.get<double>())) << bound;
    EXPECT_EQ(e["series"][0]["counts"][0], 2.0);
  }
}

TEST(SignalsRollups, AFileOfSummariesIsFoldedOnce) {
  std::string path = ::testing::TempDir() + "/rollups_summary_" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  StoreOptions so;
  so.path = path;
  {
    Running v(so);
    msvc::ExportMetricsServiceRequest req;
    auto* rm = req.add_resource_metrics();
    SetService(rm->mutable_resource(), "svc");
    auto* m = rm->add_scope_metrics()->add_metrics();
    m->set_name("q");
    auto* p = m->mutable_summary()->add_data_points();
    p->set_time_unix_nano(kT0);
    p->set_count(1);
    ASSERT_EQ(v.store->AddMetrics(req), Admit::kStored);
    ASSERT_TRUE(v.store->Flush(std::chrono::seconds(5)));
  }
  {
    // A file of before the rollups (only summary points: nothing to fold).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM rollup_meta", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  for (int open = 0; open < 2; ++open) {
    ::testing::internal::CaptureStderr();
    {
      Running v(so);
      // Stop right after Start can hang (ViewServer: a stop before the
      // listener runs); one answer first.
      EXPECT_EQ(Get(v.server->ui_port(), "/api/stats").status, 200);
    }
    std::string said = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(said.find("folding the stored metric points") == std::string::npos, open == 1)
        << "open " << open << ": " << said;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace otelweb::view
