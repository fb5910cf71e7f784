// The signal-neutral export pipeline: per-signal OTEL_EXPORTER_OTLP_* variable
// resolution for traces, metrics and logs, and ExportClient sending to each
// signal's HTTP path and gRPC method of the real test receiver, with retry.
#include "otlp/export_client.h"

#include <gtest/gtest.h>

#include <string>

#include "otelweb/otlp/exporter.h"
#include "otlp/testing/otlp_env_util.h"
#include "receiver.h"

namespace otelweb::otlp {
namespace {

using namespace std::chrono_literals;
using testing::Receiver;
using testing::ScopedEnv;
using testing::Warnings;

constexpr Signal kSignals[] = {Signal::kTraces, Signal::kMetrics, Signal::kLogs};

std::string Var(Signal s, const std::string& suffix) {
  std::string name(SignalName(s));
  for (char& c : name) c = char(c - 32);
  return "OTEL_EXPORTER_OTLP_" + name + "_" + suffix;
}

TEST(OtlpSignals, NamesPathsAndMethods) {
  EXPECT_EQ(SignalName(Signal::kMetrics), "metrics");
  EXPECT_EQ(SignalHttpPath(Signal::kTraces), "v1/traces");
  EXPECT_EQ(SignalHttpPath(Signal::kMetrics), "v1/metrics");
  EXPECT_EQ(SignalHttpPath(Signal::kLogs), "v1/logs");
  EXPECT_EQ(SignalGrpcMethod(Signal::kTraces), "/opentelemetry.proto.collector.trace.v1.TraceService/Export");
  EXPECT_EQ(SignalGrpcMethod(Signal::kMetrics),
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export");
  EXPECT_EQ(SignalGrpcMethod(Signal::kLogs), "/opentelemetry.proto.collector.logs.v1.LogsService/Export");
}

TEST(OtlpSignals, DefaultsAndTheGeneralEndpointGetTheSignalsPath) {
  ScopedEnv env;
  for (Signal s : kSignals) {
    ResolvedOtlpOptions r = ResolveOptions({}, s);
    EXPECT_EQ(r.signal, s);
    EXPECT_EQ(r.url, "http://localhost:4318/" + std::string(SignalHttpPath(s)));
  }
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/base");
  for (Signal s : kSignals) {
    EXPECT_EQ(ResolveOptions({}, s).url, "http://collector:4318/base/" + std::string(SignalHttpPath(s)));
  }
}

TEST(OtlpSignals, EachSignalReadsItsOwnVariablesFirst) {
  for (Signal s : kSignals) {
    ScopedEnv env;
    Warnings w;
    // General values for everything...
    env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318");
    env.Set("OTEL_EXPORTER_OTLP_HEADERS", "x-general=1");
    env.Set("OTEL_EXPORTER_OTLP_TIMEOUT", "1111");
    env.Set("OTEL_EXPORTER_OTLP_COMPRESSION", "none");
    env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    // ...and this signal's own, which win.
    env.Set(Var(s, "ENDPOINT"), "http://own:9999/custom");
    env.Set(Var(s, "HEADERS"), "x-own=2");
    env.Set(Var(s, "TIMEOUT"), "2222");
    env.Set(Var(s, "COMPRESSION"), "gzip");
    env.Set(Var(s, "PROTOCOL"), "http/json");
    ResolvedOtlpOptions r = ResolveOptions({}, s);
    EXPECT_EQ(r.url, "http://own:9999/custom") << SignalName(s);  // the signal's URL is used as is
    ASSERT_EQ(r.headers.size(), 1u) << SignalName(s);
    EXPECT_EQ(r.headers[0].first, "x-own");
    EXPECT_EQ(r.timeout, 2222ms);
    EXPECT_EQ(r.compression, Compression::kGzip);
    EXPECT_EQ(r.protocol, Protocol::kHttpJson);
    // The other signals see the general values only.
    for (Signal other : kSignals) {
      if (other == s) continue;
      ResolvedOtlpOptions o = ResolveOptions({}, other);
      EXPECT_EQ(o.url, "http://general:4318/" + std::string(SignalHttpPath(other)))
          << SignalName(s) << " leaked into " << SignalName(other);
      ASSERT_EQ(o.headers.size(), 1u);
      EXPECT_EQ(o.headers[0].first, "x-general");
      EXPECT_EQ(o.timeout, 1111ms);
      EXPECT_EQ(o.compression, Compression::kNone);
      EXPECT_EQ(o.protocol, Protocol::kHttpProtobuf);
    }
    // A bad value names the signal's variable.
    env.Set(Var(s, "TIMEOUT"), "soon");
    (void)ResolveOptions({}, s);
    EXPECT_NE(w.text().find(Var(s, "TIMEOUT")), std::string::npos) << w.text();
  }
}

ResolvedOtlpOptions For(const Receiver& rx, Signal s, Protocol p) {
  OtlpExporterOptions o;
  o.read_environment = false;
  o.protocol = p;
  o.endpoint = p == Protocol::kGrpc ? rx.grpc_endpoint() : rx.http_base() + "/" + std::string(SignalHttpPath(s));
  o.initial_backoff = 10ms;
  o.max_backoff = 20ms;
  o.timeout = 5s;
  return ResolveOptions(o, s);
}

TEST(ExportClient, SendsEachSignalToItsPathAndMethod) {
  Receiver rx;
  for (Protocol p : {Protocol::kHttpProtobuf, Protocol::kHttpJson, Protocol::kGrpc}) {
    for (Signal s : kSignals) {
      internal::ExportClient client(For(rx, s, p));
      // An empty request is a valid Export*ServiceRequest in both encodings.
      std::string body = p == Protocol::kHttpJson ? "{}" : "";
      ASSERT_EQ(client.Send(body, 3), ExportResult::kSuccess) << SignalName(s) << " " << ProtocolName(p);
      auto seen = rx.seen();
      ASSERT_FALSE(seen.empty());
      const std::string want = p == Protocol::kGrpc ? std::string(SignalGrpcMethod(s))
                                                    : "/" + std::string(SignalHttpPath(s));
      EXPECT_EQ(seen.back().path, want) << ProtocolName(p);
      EXPECT_EQ(seen.back().transport, p == Protocol::kGrpc ? "grpc" : "http");
      EXPECT_EQ(client.counters().items_exported, 3u);
      EXPECT_EQ(client.counters().requests, 1u);
    }
  }
}

TEST(ExportClient, RetriesGzipsAndCountsForAnySignal) {
  Receiver rx;
  ResolvedOtlpOptions o = For(rx, Signal::kLogs, Protocol::kHttpProtobuf);
  o.compression = Compression::kGzip;
  internal::ExportClient client(o);
  rx.FailNext(2, testing::Fault{.http_status = 503});
  ASSERT_EQ(client.Send("log-request-bytes", 4), ExportResult::kSuccess);
  auto c = client.counters();
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.retries, 2u);
  EXPECT_EQ(c.items_exported, 4u);
  auto seen = rx.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen.back().path, "/v1/logs");
  EXPECT_TRUE(seen.back().gzip);
  EXPECT_EQ(seen.back().body, "log-request-bytes");  // httplib inflates gzip bodies
}

TEST(ExportClient, FailuresNameTheSignalsItems) {
  Receiver rx;
  Warnings w;
  ResolvedOtlpOptions o = For(rx, Signal::kMetrics, Protocol::kHttpProtobuf);
  internal::ExportClient client(o);
  rx.FailNext(1, testing::Fault{.http_status = 400});  // not retryable
  EXPECT_EQ(client.Send("", 7), ExportResult::kFailure);
  EXPECT_EQ(client.counters().items_dropped, 7u);
  EXPECT_NE(w.text().find("dropped 7 data points"), std::string::npos) << w.text();
  EXPECT_EQ(client.Shutdown(1s), OperationResult::Ok());
  EXPECT_FALSE(client.Accepting(2));
  EXPECT_EQ(client.counters().items_dropped, 9u);
}

}  // namespace
}  // namespace otelweb::otlp
