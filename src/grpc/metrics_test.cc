// gRPC call-duration metrics on real calls: rpc.server.duration /
// rpc.client.duration (ms) by default, rpc.{server,client}.call.duration (s)
// under OTEL_SEMCONV_STABILITY_OPT_IN=rpc, both with rpc/dup; the duration
// equals the span's and its exemplar names the call's span.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include "grpc_echo_service.h"
#include "otelweb/grpc/client.h"
#include "otelweb/grpc/server.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/metrics/metric_reader.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/testing/span_readers.h"

namespace otelweb::grpc {
namespace {

using namespace otelweb::metrics;

std::string Str(const std::vector<OwnedKeyValue>& a, std::string_view k) {
  for (const auto& kv : a)
    if (kv.key == k) return kv.value.type == AttributeType::kInt ? std::to_string(kv.value.i) : kv.value.s;
  return "<absent>";
}

struct CallsRun {
  explicit CallsRun(const char* optin) : env("OTEL_SEMCONV_STABILITY_OPT_IN", optin) {
    MeterProviderOptions o;
    o.readers.push_back(reader);
    o.resource = Resource();
    provider = std::make_shared<MeterProvider>(std::move(o));
    ServerOptions so;
    so.meter_provider = provider;
    echo_example::EchoService service;
    ::grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    InstrumentServer(b, so);
    auto server = b.BuildAndStart();
    ClientOptions co;
    co.meter_provider = provider;
    auto stub = interop::v1::Echo::NewStub(CreateInstrumentedChannel(
        "127.0.0.1:" + std::to_string(port), ::grpc::InsecureChannelCredentials(), {}, co));
    for (int code : {0, 13}) {
      ::grpc::ClientContext ctx;
      interop::v1::EchoRequest req;
      req.set_message("m");
      req.set_status_code(code);
      interop::v1::EchoReply reply;
      stub->Unary(&ctx, req, &reply);
    }
    EXPECT_TRUE(t.WaitFor(4));
    server->Shutdown(std::chrono::system_clock::now());
    reader->Collect(&rm);
    this->port = port;
  }
  otelweb::testing::ScopedEnv env;
  otelweb::testing::MemoryTracing t;
  std::shared_ptr<ManualReader> reader = std::make_shared<ManualReader>();
  std::shared_ptr<MeterProvider> provider;
  ResourceMetrics rm;
  int port = 0;
};

TEST(GrpcMetrics, OldNamesInMillisecondsWithExemplarsNamingTheSpans) {
  CallsRun r("");
  EXPECT_EQ(r.rm.Find("rpc.server.call.duration"), nullptr);
  for (const char* name : {"rpc.server.duration", "rpc.client.duration"}) {
    const MetricData* d = r.rm.Find(name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(d->unit, "ms");
    ASSERT_EQ(d->histogram_points.size(), 2u);
    const bool server = std::string_view(name) == "rpc.server.duration";
    for (const auto& p : d->histogram_points) {
      EXPECT_EQ(Str(p.attributes, "rpc.system"), "grpc");
      EXPECT_EQ(Str(p.attributes, "rpc.service"), "interop.v1.Echo");
      EXPECT_EQ(Str(p.attributes, "rpc.method"), "Unary");
      EXPECT_EQ(Str(p.attributes, "server.address"), "127.0.0.1");
      EXPECT_EQ(Str(p.attributes, "server.port"), std::to_string(r.port));
      const std::string code = Str(p.attributes, "rpc.grpc.status_code");
      ASSERT_TRUE(code == "0" || code == "13") << code;
      // The exemplar names this call's span, whose duration it is.
      ASSERT_EQ(p.exemplars.size(), 1u);
      const SpanData* span = nullptr;
      for (const SpanData* s : r.t.spans())
        if (s->span_id() == p.exemplars[0].span_id) span = s;
      ASSERT_NE(span, nullptr) << name;
      EXPECT_EQ(span->kind(), server ? SpanKind::kServer : SpanKind::kClient);
      EXPECT_EQ(std::to_string(otelweb::testing::IntAttr(span, "rpc.grpc.status_code")), code);
      const double span_ms =
          std::chrono::duration<double, std::milli>(span->end_time() - span->start_time()).count();
      EXPECT_NEAR(p.sum, span_ms, 1e-6);
    }
  }
}

TEST(GrpcMetrics, NewNamesInSecondsUnderOptInAndBothWithDup) {
  {
    CallsRun r("rpc");
    EXPECT_EQ(r.rm.Find("rpc.server.duration"), nullptr);
    const MetricData* d = r.rm.Find("rpc.server.call.duration");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->unit, "s");
    ASSERT_EQ(d->histogram_points.size(), 2u);
    for (const auto& p : d->histogram_points) {
      EXPECT_EQ(Str(p.attributes, "rpc.system.name"), "grpc");
      EXPECT_EQ(Str(p.attributes, "rpc.method"), "interop.v1.Echo/Unary");
      const std::string code = Str(p.attributes, "rpc.response.status_code");
      EXPECT_EQ(Str(p.attributes, "error.type"), code == "INTERNAL" ? "INTERNAL" : "<absent>");
      EXPECT_EQ(p.exemplars.size(), 1u);
    }
    ASSERT_NE(r.rm.Find("rpc.client.call.duration"), nullptr);
  }
  {
    CallsRun r("rpc/dup");
    for (const char* name : {"rpc.server.duration", "rpc.client.duration", "rpc.server.call.duration",
                             "rpc.client.call.duration"})
      EXPECT_NE(r.rm.Find(name), nullptr) << name;
    EXPECT_EQ(Str(r.rm.Find("rpc.server.duration")->histogram_points.at(0).attributes, "rpc.method"), "Unary");
  }
}

}  // namespace
}  // namespace otelweb::grpc
