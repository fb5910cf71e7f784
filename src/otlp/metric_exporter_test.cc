// OTLP metrics through the real transports to the test receiver: every field
// decoded with protos compiled from the published field numbers, exemplar
// trace ids equal to the recording span's, temporality preference, and the
// metrics-specific variables.
#include "otelweb/otlp/metric_exporter.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/trace/span.h"
#include "otlp/testing/otlp_env_util.h"
#include "receiver.h"

namespace {

using namespace std::chrono_literals;
using namespace otelweb;
using namespace otelweb::otlp;
using otelweb::otlp::testing::Receiver;
using otelweb::testing::MemoryTracing;
using otelweb::testing::ScopedEnv;
namespace rxt = otelweb::otlp::testing;
namespace pb = opentelemetry::proto;

OtlpMetricExporterOptions For(const Receiver& r, Protocol p) {
  OtlpMetricExporterOptions o;
  o.otlp.read_environment = false;
  o.otlp.protocol = p;
  o.otlp.endpoint = p == Protocol::kGrpc ? r.grpc_endpoint() : r.http_base() + "/v1/metrics";
  o.otlp.timeout = 10s;
  o.otlp.initial_backoff = 20ms;
  o.otlp.max_backoff = 100ms;
  return o;
}

pb::collector::metrics::v1::ExportMetricsServiceRequest Parse(const rxt::SeenRequest& s) {
  pb::collector::metrics::v1::ExportMetricsServiceRequest req;
  if (s.content_type == "application/json") {
    auto st = google::protobuf::util::JsonStringToMessage(rxt::OtlpJsonToProto3Json(s.body), &req);
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << s.body;
  } else {
    EXPECT_TRUE(req.ParseFromString(s.body));
  }
  return req;
}

const pb::metrics::v1::Metric* FindMetric(
    const pb::collector::metrics::v1::ExportMetricsServiceRequest& r, const std::string& name) {
  for (const auto& rm : r.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics())
        if (m.name() == name) return &m;
  return nullptr;
}

std::string Bytes(const std::array<uint8_t, 16>& a) { return std::string(a.begin(), a.end()); }
std::string Bytes(const std::array<uint8_t, 8>& a) { return std::string(a.begin(), a.end()); }

class MetricTransports : public ::testing::TestWithParam<Protocol> {};

TEST_P(MetricTransports, EveryFieldArrivesAndExemplarsNameTheRecordingSpan) {
  Receiver rx;
  MemoryTracing tracing;
  auto o = For(rx, GetParam());
  o.otlp.headers = Headers{{"x-tenant", "t1"}};
  metrics::PeriodicReaderOptions ro;
  ro.interval = 3600s;  // only the flush exports
  auto reader = std::make_shared<metrics::PeriodicExportingMetricReader>(
      std::make_unique<OtlpMetricExporter>(std::move(o)), ro);
  metrics::MeterProviderOptions mo;
  mo.resource = Resource({{"service.name", OwnedValue(AttributeValue("otlp-metrics-test"))}});
  mo.readers.push_back(reader);
  metrics::MeterProvider provider(std::move(mo));
  auto meter = provider.GetMeter("otlp.test", "2.0");
  auto counter = meter.CreateInt64Counter("orders", "{order}", "Orders");
  auto ratio = meter.CreateDoubleUpDownCounter("ratio");
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries = {0.1, 1, 10};
  auto hist = meter.CreateDoubleHistogram("latency", "s", "Latency", adv);
  auto gauge = meter.CreateInt64Gauge("temp");
  counter.Add(3, {{"region", "eu"}, {"vip", true}});
  ratio.Add(-0.25);
  gauge.Record(-7);
  Span span = tracing.tracer().StartSpan("request");
  SpanContext sc = span.GetContext();
  {
    Scope scope = MakeCurrent(span);
    hist.Record(0.5, {{"route", "/a"}});
  }
  span.End();
  hist.Record(20, {{"route", "/a"}});
  ASSERT_TRUE(reader->ForceFlush(10s).ok());

  auto seen = rx.seen();
  ASSERT_EQ(seen.size(), 1u);
  if (GetParam() == Protocol::kGrpc) {
    EXPECT_EQ(seen[0].path, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export");
  } else {
    EXPECT_EQ(seen[0].path, "/v1/metrics");
  }
  EXPECT_EQ(seen[0].headers.find("x-tenant")->second, "t1");
  auto req = Parse(seen[0]);
  ASSERT_EQ(req.resource_metrics_size(), 1);
  const auto& res = req.resource_metrics(0).resource();
  ASSERT_EQ(res.attributes_size(), 1);
  EXPECT_EQ(res.attributes(0).value().string_value(), "otlp-metrics-test");
  EXPECT_EQ(req.resource_metrics(0).scope_metrics(0).scope().name(), "otlp.test");
  EXPECT_EQ(req.resource_metrics(0).scope_metrics(0).scope().version(), "2.0");

  const auto* orders = FindMetric(req, "orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->unit(), "{order}");
  EXPECT_EQ(orders->description(), "Orders");
  ASSERT_TRUE(orders->has_sum());
  EXPECT_TRUE(orders->sum().is_monotonic());
  EXPECT_EQ(orders->sum().aggregation_temporality(),
            pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_EQ(orders->sum().data_points_size(), 1);
  const auto& op = orders->sum().data_points(0);
  EXPECT_EQ(op.as_int(), 3);
  EXPECT_EQ(op.attributes_size(), 2);
  EXPECT_GT(op.time_unix_nano(), 0u);
  EXPECT_LE(op.start_time_unix_nano(), op.time_unix_nano());

  const auto* r = FindMetric(req, "ratio");
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->sum().is_monotonic());
  EXPECT_DOUBLE_EQ(r->sum().data_points(0).as_double(), -0.25);

  const auto* t = FindMetric(req, "temp");
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->has_gauge());
  EXPECT_EQ(t->gauge().data_points(0).as_int(), -7);

  const auto* l = FindMetric(req, "latency");
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_histogram());
  const auto& hp = l->histogram().data_points(0);
  EXPECT_EQ(hp.count(), 2u);
  EXPECT_DOUBLE_EQ(hp.sum(), 20.5);
  EXPECT_DOUBLE_EQ(hp.min(), 0.5);
  EXPECT_DOUBLE_EQ(hp.max(), 20);
  ASSERT_EQ(hp.explicit_bounds_size(), 3);
  ASSERT_EQ(hp.bucket_counts_size(), 4);
  EXPECT_EQ(hp.bucket_counts(1), 1u);
  EXPECT_EQ(hp.bucket_counts(3), 1u);
  ASSERT_EQ(hp.exemplars_size(), 1);  // only the recording inside the sampled span
  EXPECT_EQ(hp.exemplars(0).trace_id(), Bytes(sc.trace_id().bytes()));
  EXPECT_EQ(hp.exemplars(0).span_id(), Bytes(sc.span_id().bytes()));
  EXPECT_DOUBLE_EQ(hp.exemplars(0).as_double(), 0.5);
  EXPECT_GT(hp.exemplars(0).time_unix_nano(), 0u);
  EXPECT_TRUE(provider.Shutdown(10s).ok());
}

TEST_P(MetricTransports, OversizedCollectionsAreSplitByPointAndOnlyAnOversizedPointIsDropped) {
  Receiver rx;
  auto o = For(rx, GetParam());
  o.otlp.max_request_bytes = 4096;
  metrics::PeriodicReaderOptions ro;
  ro.interval = 3600s;  // only the flush exports
  auto exporter = std::make_unique<OtlpMetricExporter>(std::move(o));
  OtlpMetricExporter* ex = exporter.get();
  auto reader = std::make_shared<metrics::PeriodicExportingMetricReader>(std::move(exporter), ro);
  metrics::MeterProviderOptions mo;
  mo.readers.push_back(reader);
  metrics::MeterProvider provider(std::move(mo));
  auto meter = provider.GetMeter("split.test");
  auto counter = meter.CreateInt64Counter("requests", "{request}", "Requests");
  auto hist = meter.CreateDoubleHistogram("latency", "s");
  for (int i = 0; i < 200; ++i) counter.Add(i + 1, {{"series", "counter-series-" + std::to_string(i)}});
  for (int i = 0; i < 40; ++i) hist.Record(i, {{"series", "histogram-series-" + std::to_string(i)}});
  counter.Add(1, {{"series", std::string(8192, 'z')}});  // over the limit on its own
  rxt::Warnings w;
  (void)reader->ForceFlush(10s);

  auto seen = rx.seen();
  EXPECT_GE(seen.size(), 4u);
  size_t counter_points = 0, histogram_points = 0;
  int64_t counter_total = 0;
  for (const auto& s : seen) {
    if (GetParam() != Protocol::kHttpJson) {
      EXPECT_LE(s.body.size(), 4096u);
    }
    auto req = Parse(s);
    for (const auto& rm : req.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        EXPECT_EQ(sm.scope().name(), "split.test");
        for (const auto& m : sm.metrics()) {
          if (m.name() == "requests") {
            EXPECT_EQ(m.unit(), "{request}");
            EXPECT_TRUE(m.sum().is_monotonic());
            for (const auto& p : m.sum().data_points()) {
              ++counter_points;
              counter_total += p.as_int();
            }
          } else {
            ASSERT_EQ(m.name(), "latency");
            histogram_points += static_cast<size_t>(m.histogram().data_points_size());
          }
        }
      }
    }
  }
  EXPECT_EQ(counter_points, 200u);
  EXPECT_EQ(counter_total, 200 * 201 / 2);
  EXPECT_EQ(histogram_points, 40u);
  EXPECT_EQ(ex->counters().points_exported, 240u);
  EXPECT_EQ(ex->counters().points_dropped, 1u);
  EXPECT_NE(w.text().find("OTEL_CPP_EXPORTER_OTLP_MAX_REQUEST_BYTES"), std::string::npos) << w.text();
  (void)provider.Shutdown(10s);
}

INSTANTIATE_TEST_SUITE_P(All, MetricTransports,
                         ::testing::Values(Protocol::kGrpc, Protocol::kHttpProtobuf,
                                           Protocol::kHttpJson),
                         [](const auto& i) {
                           return i.param == Protocol::kGrpc           ? std::string("Grpc")
                                  : i.param == Protocol::kHttpProtobuf ? std::string("HttpProtobuf")
                                                                       : std::string("HttpJson");
                         });

TEST(OtlpMetrics, MetricsVariablesOverrideTheGeneralOnesAndPickTemporality) {
  ScopedEnv env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"},
                 {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:2/custom/metrics"},
                 {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"},
                 {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"}});
  OtlpMetricExporter e;
  EXPECT_EQ(e.options().signal, Signal::kMetrics);
  EXPECT_EQ(e.options().url, "http://127.0.0.1:2/custom/metrics");
  EXPECT_EQ(e.options().protocol, Protocol::kHttpJson);
  EXPECT_EQ(e.TemporalityFor(metrics::InstrumentKind::kCounter),
            metrics::AggregationTemporality::kDelta);
  EXPECT_EQ(e.TemporalityFor(metrics::InstrumentKind::kUpDownCounter),
            metrics::AggregationTemporality::kCumulative);
}

TEST(OtlpMetrics, GeneralEndpointGetsTheMetricsPath) {
  ScopedEnv env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"},
                 {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "lowmemory"}});
  OtlpMetricExporter e;
  EXPECT_EQ(e.options().url, "http://127.0.0.1:4318/v1/metrics");
  EXPECT_EQ(e.TemporalityFor(metrics::InstrumentKind::kObservableCounter),
            metrics::AggregationTemporality::kCumulative);
  EXPECT_EQ(e.TemporalityFor(metrics::InstrumentKind::kHistogram),
            metrics::AggregationTemporality::kDelta);
}

// Negative scale and offsets (zigzag sint32), zero count, both ranges,
// min/max and an exemplar, decoded by libprotobuf (protobuf and JSON).
TEST_P(MetricTransports, ExponentialHistogramPointsArriveWithEveryField) {
  Receiver rx;
  metrics::PeriodicReaderOptions ro;
  ro.interval = 3600s;
  auto reader = std::make_shared<metrics::PeriodicExportingMetricReader>(
      std::make_unique<OtlpMetricExporter>(For(rx, GetParam())), ro);
  metrics::MeterProviderOptions mo;
  mo.readers.push_back(reader);
  mo.exemplar_filter = metrics::ExemplarFilter::kTraceBased;
  metrics::View v;
  v.selector.name = "sizes";
  v.aggregation = metrics::ViewAggregation::kBase2ExponentialBucketHistogram;
  v.max_size = 2;  // 0.01 and 100 fit in 2 buckets at scale -3 (base 256)
  mo.views.push_back(v);
  metrics::MeterProvider provider(std::move(mo));
  MemoryTracing tracing;
  auto h = provider.GetMeter("m").CreateDoubleHistogram("sizes", "By");
  Span span = tracing.tracer().StartSpan("op");
  {
    Scope scope = MakeCurrent(span);
    h.Record(100, {{"k", "v"}});
  }
  span.End();
  for (double x : {0.01, -0.5, 0.0}) h.Record(x, {{"k", "v"}});
  ASSERT_TRUE(reader->ForceFlush(10s).ok());
  auto seen = rx.seen();
  ASSERT_EQ(seen.size(), 1u);
  auto req = Parse(seen[0]);
  const auto* m = FindMetric(req, "sizes");
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->has_exponential_histogram());
  EXPECT_EQ(m->exponential_histogram().aggregation_temporality(),
            pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_EQ(m->exponential_histogram().data_points_size(), 1);
  const auto& p = m->exponential_histogram().data_points(0);
  EXPECT_EQ(p.count(), 4u);
  EXPECT_DOUBLE_EQ(p.sum(), 99.51);
  EXPECT_EQ(p.scale(), -3);
  EXPECT_EQ(p.zero_count(), 1u);
  EXPECT_EQ(p.zero_threshold(), 0.0);
  EXPECT_EQ(p.positive().offset(), -1);
  ASSERT_EQ(p.positive().bucket_counts_size(), 2);
  EXPECT_EQ(p.positive().bucket_counts(0), 1u);  // (1/256, 1]: 0.01
  EXPECT_EQ(p.positive().bucket_counts(1), 1u);  // (1, 256]: 100
  EXPECT_EQ(p.negative().offset(), -1);
  ASSERT_EQ(p.negative().bucket_counts_size(), 1);
  EXPECT_EQ(p.min(), -0.5);
  EXPECT_EQ(p.max(), 100.0);
  ASSERT_EQ(p.attributes_size(), 1);
  EXPECT_EQ(p.attributes(0).key(), "k");
  ASSERT_EQ(p.exemplars_size(), 1);
  EXPECT_EQ(p.exemplars(0).as_double(), 100.0);
  EXPECT_EQ(p.exemplars(0).trace_id(), Bytes(span.GetContext().trace_id().bytes()));
  EXPECT_EQ(p.exemplars(0).span_id(), Bytes(span.GetContext().span_id().bytes()));
  EXPECT_LE(p.start_time_unix_nano(), p.time_unix_nano());
}

TEST(OtlpMetrics, DeltaExportsCarryOnlyTheInterval) {
  Receiver rx;
  auto o = For(rx, Protocol::kHttpProtobuf);
  o.temporality_preference = metrics::TemporalityPreference::kDelta;
  metrics::PeriodicReaderOptions ro;
  ro.interval = 3600s;
  auto reader = std::make_shared<metrics::PeriodicExportingMetricReader>(
      std::make_unique<OtlpMetricExporter>(std::move(o)), ro);
  metrics::MeterProviderOptions mo;
  mo.readers.push_back(reader);
  metrics::MeterProvider provider(std::move(mo));
  auto c = provider.GetMeter("m").CreateInt64Counter("n");
  c.Add(5);
  ASSERT_TRUE(reader->ForceFlush(10s).ok());
  c.Add(2);
  ASSERT_TRUE(reader->ForceFlush(10s).ok());
  auto seen = rx.seen();
  ASSERT_EQ(seen.size(), 2u);
  auto a = Parse(seen[0]), b = Parse(seen[1]);
  const auto& pa = FindMetric(a, "n")->sum().data_points(0);
  const auto& pb2 = FindMetric(b, "n")->sum().data_points(0);
  EXPECT_EQ(FindMetric(b, "n")->sum().aggregation_temporality(),
            pb::metrics::v1::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_EQ(pa.as_int(), 5);
  EXPECT_EQ(pb2.as_int(), 2);
  EXPECT_EQ(pb2.start_time_unix_nano(), pa.time_unix_nano());
}

}  // namespace
