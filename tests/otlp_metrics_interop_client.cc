// C++ peer of tests/js/otlp_metrics_interop.mjs: exports one collection of
// metrics (a counter, an up-down counter, a gauge, a histogram whose value
// was recorded inside a sampled span, and a base-2 exponential histogram,
// max size 4, of 0, -2, 1, 2, 4 and 8: scale 0 after two rescalings) with OtlpMetricExporter over the given
// transport, then prints "EXPECT {json}" with what it sent for the JS side to
// compare with what it decoded.
//   otelweb_otlp_metrics_interop_client <grpc|http/protobuf|http/json> <endpoint> <gzip 0|1>
#include <cstdio>
#include <string>

#include "otelweb/metrics/meter_provider.h"
#include "otelweb/otlp/metric_exporter.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/span.h"

int main(int argc, char** argv) {
  using namespace otelweb;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <grpc|http/protobuf|http/json> <endpoint> <gzip 0|1>\n",
                 argv[0]);
    return 2;
  }
  std::string proto = argv[1];
  otlp::OtlpMetricExporterOptions o;
  o.otlp.read_environment = false;
  o.otlp.protocol = proto == "grpc"        ? otlp::Protocol::kGrpc
                    : proto == "http/json" ? otlp::Protocol::kHttpJson
                                           : otlp::Protocol::kHttpProtobuf;
  o.otlp.endpoint = argv[2];
  o.otlp.compression =
      std::string(argv[3]) == "1" ? otlp::Compression::kGzip : otlp::Compression::kNone;
  o.otlp.timeout = std::chrono::seconds(10);
  metrics::PeriodicReaderOptions ro;
  ro.interval = std::chrono::hours(1);
  auto reader = std::make_shared<metrics::PeriodicExportingMetricReader>(
      std::make_unique<otlp::OtlpMetricExporter>(std::move(o)), ro);
  metrics::MeterProviderOptions mo;
  mo.resource = Resource({{"service.name", OwnedValue(AttributeValue("metrics-interop"))}});
  mo.readers.push_back(reader);
  metrics::View exp_view;
  exp_view.selector.name = "sizes";
  exp_view.aggregation = metrics::ViewAggregation::kBase2ExponentialBucketHistogram;
  exp_view.max_size = 4;
  mo.views.push_back(exp_view);
  metrics::MeterProvider provider(std::move(mo));
  testing::MemoryTracing tracing;

  auto meter = provider.GetMeter("interop.meter", "3.1");
  meter.CreateInt64Counter("orders", "{order}", "Orders placed")
      .Add(3, {{"region", "eu"}, {"vip", true}});
  meter.CreateDoubleUpDownCounter("balance", "EUR").Add(-2.5);
  meter.CreateInt64Gauge("temperature", "Cel").Record(21, {{"room", 7}});
  metrics::InstrumentAdvice adv;
  adv.explicit_bucket_boundaries = {0.1, 1, 10};
  auto h = meter.CreateDoubleHistogram("latency", "s", "", adv);
  Span span = tracing.tracer().StartSpan("request");
  {
    Scope scope = MakeCurrent(span);
    h.Record(0.5);
  }
  auto sizes = meter.CreateDoubleHistogram("sizes", "By");
  for (double v : {0.0, -2.0, 1.0, 2.0, 4.0, 8.0}) sizes.Record(v, {{"kind", "exp"}});
  span.End();
  h.Record(20);
  if (!reader->ForceFlush(std::chrono::seconds(10)).ok()) {
    std::fprintf(stderr, "export failed\n");
    return 1;
  }
  std::printf("EXPECT {\"traceId\":\"%s\",\"spanId\":\"%s\"}\n",
              span.GetContext().trace_id().ToHex().c_str(),
              span.GetContext().span_id().ToHex().c_str());
  provider.Shutdown(std::chrono::seconds(5));
  return 0;
}
