// Observable (asynchronous) instruments: callbacks once per collection per
// reader, cumulative and delta temporality, cardinality limit, callback
// exceptions, unregistration, and a callback that never returns.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/metrics/exporters.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/diagnostics_capture.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;
using otelweb::testing::DiagnosticsCapture;

const NumberPoint* PointWith(const MetricData& m, std::string_view key, std::string_view value) {
  for (const auto& p : m.number_points)
    for (const auto& kv : p.attributes)
      if (kv.key == key && kv.value.s == value) return &p;
  return nullptr;
}

struct Provider {
  explicit Provider(size_t limit = 2000) {
    cumulative = std::make_shared<ManualReader>(TemporalityPreference::kCumulative);
    delta = std::make_shared<ManualReader>(TemporalityPreference::kDelta);
    MeterProviderOptions o;
    o.readers = {cumulative, delta};
    o.cardinality_limit = limit;
    provider = std::make_unique<MeterProvider>(std::move(o));
    meter = provider->GetMeter("obs.test");
  }
  static ResourceMetrics Collect(const std::shared_ptr<ManualReader>& r) {
    ResourceMetrics rm;
    EXPECT_TRUE(r->Collect(&rm));
    return rm;
  }
  std::shared_ptr<ManualReader> cumulative, delta;
  std::unique_ptr<MeterProvider> provider;
  Meter meter;
};

TEST(ObservableMetrics, CounterIsCalledOncePerCollectionPerReaderWithCumulativeAndDelta) {
  Provider p;
  std::atomic<int> calls{0};
  int64_t total = 10;
  auto c = p.meter.CreateInt64ObservableCounter(
      "cpu.time", "ms", "CPU time", [&](ObserverResult<int64_t>& r) {
        calls.fetch_add(1);
        r.Observe(total, {{"cpu", "0"}});
        r.Observe(total * 2, {{"cpu", "1"}});
      });
  ASSERT_TRUE(c.Enabled());
  auto a = Provider::Collect(p.cumulative);
  EXPECT_EQ(calls.load(), 1);
  auto d = Provider::Collect(p.delta);
  EXPECT_EQ(calls.load(), 2);
  const MetricData* m = a.Find("cpu.time");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->instrument_kind, InstrumentKind::kObservableCounter);
  EXPECT_EQ(m->point_kind, MetricPointKind::kSum);
  EXPECT_TRUE(m->monotonic);
  EXPECT_EQ(m->temporality, AggregationTemporality::kCumulative);
  EXPECT_EQ(PointWith(*m, "cpu", "0")->as_int, 10);
  EXPECT_EQ(PointWith(*m, "cpu", "1")->as_int, 20);
  m = d.Find("cpu.time");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->temporality, AggregationTemporality::kDelta);
  EXPECT_EQ(PointWith(*m, "cpu", "0")->as_int, 10);  // first: since the start
  const Timestamp first_start = PointWith(*m, "cpu", "0")->start_time;

  total = 25;
  a = Provider::Collect(p.cumulative);
  d = Provider::Collect(p.delta);
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(PointWith(*a.Find("cpu.time"), "cpu", "0")->as_int, 25);
  EXPECT_EQ(PointWith(*a.Find("cpu.time"), "cpu", "1")->as_int, 50);
  const NumberPoint* dp = PointWith(*d.Find("cpu.time"), "cpu", "0");
  EXPECT_EQ(dp->as_int, 15);  // the difference from the previous observation
  EXPECT_EQ(PointWith(*d.Find("cpu.time"), "cpu", "1")->as_int, 30);
  EXPECT_GT(dp->start_time, first_start);  // the start advances
  EXPECT_LT(dp->start_time, dp->time);
}

TEST(ObservableMetrics, GaugeAndUpDownCounterReportOnlyWhatWasObservedThisTime) {
  Provider p;
  bool second = false;
  p.meter.CreateDoubleObservableGauge("room.temperature", "Cel", {},
                                      [&](ObserverResult<double>& r) {
                                        r.Observe(second ? 19.5 : 21.25, {{"room", "a"}});
                                        if (!second) r.Observe(18.0, {{"room", "b"}});
                                      });
  auto q = p.meter.CreateInt64ObservableUpDownCounter("queue.length", "{item}");
  auto reg = q.AddCallback([&](ObserverResult<int64_t>& r) { r.Observe(second ? 3 : 7); });
  EXPECT_TRUE(reg.Registered());
  auto a = Provider::Collect(p.cumulative);
  const MetricData* g = a.Find("room.temperature");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->point_kind, MetricPointKind::kGauge);
  ASSERT_EQ(g->number_points.size(), 2u);
  EXPECT_DOUBLE_EQ(PointWith(*g, "room", "a")->as_double, 21.25);
  EXPECT_EQ(a.Find("queue.length")->number_points.at(0).as_int, 7);
  EXPECT_FALSE(a.Find("queue.length")->monotonic);

  second = true;
  a = Provider::Collect(p.cumulative);
  g = a.Find("room.temperature");
  ASSERT_EQ(g->number_points.size(), 1u);  // room b was not observed: not reported
  EXPECT_DOUBLE_EQ(g->number_points[0].as_double, 19.5);
  // An up-down counter goes down; a delta preference keeps it cumulative
  // (spec), so the delta reader reports the total too.
  EXPECT_EQ(a.Find("queue.length")->number_points.at(0).as_int, 3);
  auto d = Provider::Collect(p.delta);
  EXPECT_EQ(d.Find("queue.length")->temporality, AggregationTemporality::kCumulative);
  EXPECT_EQ(d.Find("queue.length")->number_points.at(0).as_int, 3);
}

TEST(ObservableMetrics, UnregisteredCallbacksAreNoLongerCalled) {
  Provider p;
  std::atomic<int> calls{0};
  auto c = p.meter.CreateDoubleObservableCounter("bytes.read", "By");
  auto reg = c.AddCallback([&](ObserverResult<double>& r) {
    calls.fetch_add(1);
    r.Observe(1.5);
  });
  auto reg2 = c.AddCallback([&](ObserverResult<double>& r) { r.Observe(2.5, {{"k", "v"}}); });
  auto a = Provider::Collect(p.cumulative);
  EXPECT_EQ(a.Find("bytes.read")->number_points.size(), 2u);
  EXPECT_TRUE(reg.Unregister());
  EXPECT_FALSE(reg.Unregister());  // once
  EXPECT_FALSE(reg.Registered());
  a = Provider::Collect(p.cumulative);
  EXPECT_EQ(calls.load(), 1);
  ASSERT_EQ(a.Find("bytes.read")->number_points.size(), 1u);
  EXPECT_DOUBLE_EQ(a.Find("bytes.read")->number_points[0].as_double, 2.5);
  reg2.Unregister();
  a = Provider::Collect(p.cumulative);
  EXPECT_EQ(a.Find("bytes.read"), nullptr);  // nothing observed, nothing reported
  // A disabled instrument hands out unregistered handles.
  auto bad = p.meter.CreateInt64ObservableGauge("1nvalid");
  EXPECT_FALSE(bad.Enabled());
  EXPECT_FALSE(bad.AddCallback([](ObserverResult<int64_t>&) {}).Registered());
}

TEST(ObservableMetrics, CardinalityLimitSendsExtraSetsToOneOverflowSeriesThatAddsThemUp) {
  Provider p(/*limit=*/3);
  p.meter.CreateInt64ObservableCounter("conns", "{connection}", {},
                                       [](ObserverResult<int64_t>& r) {
                                         for (int i = 0; i < 6; ++i)
                                           r.Observe(10 + i, {{"peer", std::to_string(i)}});
                                       });
  auto a = Provider::Collect(p.cumulative);
  const MetricData* m = a.Find("conns");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->number_points.size(), 4u);  // 3 sets + the overflow series
  int64_t total = 0, overflow = -1;
  for (const auto& pt : m->number_points) {
    total += pt.as_int;
    for (const auto& kv : pt.attributes)
      if (kv.key == "otel.metric.overflow") overflow = pt.as_int;
  }
  EXPECT_EQ(total, 10 + 11 + 12 + 13 + 14 + 15);  // nothing lost, nothing twice
  EXPECT_EQ(overflow, 13 + 14 + 15);
}

TEST(ObservableMetrics, AThrowingCallbackIsReportedOnceAndOthersStillCount) {
  DiagnosticsCapture diag(LogLevel::kWarning);
  Provider p;
  auto c = p.meter.CreateInt64ObservableGauge("workers", "{worker}");
  c.AddCallback([](ObserverResult<int64_t>& r) {
    r.Observe(99, {{"pool", "bad"}});  // discarded with the exception
    throw std::runtime_error("boom");
  });
  c.AddCallback([](ObserverResult<int64_t>& r) { r.Observe(4, {{"pool", "good"}}); });
  for (int i = 0; i < 3; ++i) {
    auto a = Provider::Collect(p.cumulative);
    const MetricData* m = a.Find("workers");
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(m->number_points.size(), 1u);
    EXPECT_EQ(m->number_points[0].as_int, 4);
  }
  EXPECT_EQ(diag.Count("threw an exception"), 1u) << diag.text();
}

TEST(ObservableMetrics, NegativeOrNonFiniteCounterObservationsAreDiscarded) {
  DiagnosticsCapture diag(LogLevel::kWarning);
  Provider p;
  p.meter.CreateDoubleObservableCounter("energy", "J", {}, [](ObserverResult<double>& r) {
    r.Observe(-1.0, {{"k", "neg"}});
    r.Observe(std::numeric_limits<double>::quiet_NaN(), {{"k", "nan"}});
    r.Observe(3.0, {{"k", "ok"}});
  });
  auto a = Provider::Collect(p.cumulative);
  ASSERT_EQ(a.Find("energy")->number_points.size(), 1u);
  EXPECT_EQ(diag.Count("discarded"), 1u) << diag.text();  // one warning per instrument
}

TEST(ObservableMetrics, ACallbackThatNeverReturnsDoesNotHangShutdownOrOtherReaders) {
  auto exporter = std::make_unique<InMemoryMetricExporter>();
  auto storage = exporter->storage();
  PeriodicReaderOptions ro;
  ro.interval = std::chrono::milliseconds(20);
  auto periodic = std::make_shared<PeriodicExportingMetricReader>(std::move(exporter), ro);
  auto manual = std::make_shared<ManualReader>();
  MeterProviderOptions o;
  o.readers = {periodic, manual};
  MeterProvider provider(std::move(o));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> entered{0};
  auto g = provider.GetMeter("m").CreateInt64ObservableGauge("stuck");
  g.AddCallback([&](ObserverResult<int64_t>& r) {
    entered.fetch_add(1);
    released.wait();  // blocks the periodic reader's worker
    r.Observe(1);
  });
  provider.GetMeter("m").CreateInt64ObservableGauge("fine", {}, {},
                                                    [](ObserverResult<int64_t>& r) { r.Observe(2); });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (entered.load() == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(entered.load(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // now considered stuck
  // The other reader skips the stuck callback and still reports the others.
  ResourceMetrics rm;
  ASSERT_TRUE(manual->Collect(&rm));
  EXPECT_EQ(rm.Find("stuck"), nullptr);
  ASSERT_NE(rm.Find("fine"), nullptr);
  EXPECT_EQ(entered.load(), 1);
  // Shutdown returns at its deadline.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(provider.Shutdown(std::chrono::milliseconds(200)), OperationResult::Timeout());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  size_t exported = storage->size();
  release.set_value();  // the callback returns late: its collection is not exported
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(storage->size(), exported);
}

const NumberPoint* OnlyPoint(const ResourceMetrics& rm, std::string_view name) {
  const MetricData* m = rm.Find(name);
  if (m == nullptr || m->number_points.size() != 1) return nullptr;
  return &m->number_points[0];
}

// A cumulative series keeps one start time for as long as it lives (a changed
// start is a reset to a backend), and a point never starts after its time:
// an observable series is created by the collection's callbacks, after the
// collection read its time; a synchronous series can be created (here by a
// recording inside an earlier instrument's callback) after that time too.
TEST(ObservableMetrics, CumulativeStartTimeIsStableAndNeverAfterThePointTime) {
  auto reader = std::make_shared<ManualReader>(TemporalityPreference::kCumulative);
  MeterProviderOptions o;
  o.readers = {reader};
  MeterProvider provider(std::move(o));
  Meter meter = provider.GetMeter("start.test");
  // The observable instrument is collected first: its callback creates the
  // synchronous series after the collection read its time, before the
  // counter is collected.
  Counter<int64_t>* counter = nullptr;
  bool first = true;
  auto observed = meter.CreateInt64ObservableCounter(
      "obs.bytes", "By", "", [&](ObserverResult<int64_t>& r) {
        r.Observe(5, {{"k", "v"}});
        if (first && counter != nullptr) counter->Add(1, {{"route", "/a"}});
        first = false;
      });
  auto sync_counter = meter.CreateInt64Counter("sync.requests");
  counter = &sync_counter;
  std::vector<Timestamp> obs_start, sync_start;
  for (int i = 0; i < 3; ++i) {
    ResourceMetrics rm;
    ASSERT_TRUE(reader->Collect(&rm));
    const NumberPoint* ob = OnlyPoint(rm, "obs.bytes");
    const NumberPoint* sy = OnlyPoint(rm, "sync.requests");
    ASSERT_NE(ob, nullptr);
    ASSERT_NE(sy, nullptr);
    EXPECT_LE(ob->start_time, ob->time) << "collection " << i;
    EXPECT_LE(sy->start_time, sy->time) << "collection " << i;
    EXPECT_EQ(sy->as_int, 1);
    obs_start.push_back(ob->start_time);
    sync_start.push_back(sy->start_time);
  }
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(obs_start[i], obs_start[0]) << "observable, collection " << i;
    EXPECT_EQ(sync_start[i], sync_start[0]) << "synchronous, collection " << i;
  }
}

}  // namespace
