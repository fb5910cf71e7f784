// gRPC metadata floods against an instrumented grpc++ server (issue 12 §1,
// §2, §3): many or huge metadata entries, baggage and tracestate floods,
// malformed traceparent and grpc-trace-bin values, sent by a plain
// (uninstrumented) client as an internet client would. Each hostile call's
// process CPU and server span size are compared with a benign call carrying
// the same bytes in one inert entry, in the same run. The server accepts
// 256 KiB of metadata (gRPC's default is 8 KiB), so that what reaches the
// instrumentation is large. Kept to a few seconds.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "grpc_echo_service.h"
#include "otelweb/grpc/server.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/memory_tracing.h"
#include "support/hostile_requests.h"

namespace otelweb::grpc {
namespace {

using interop::v1::EchoReply;
using interop::v1::EchoRequest;
using otelweb::testing::MemoryTracing;
using otelweb::testing::hostile::ProcessCpuSeconds;
using otelweb::testing::hostile::SpanBytes;
using Metadata = std::vector<std::pair<std::string, std::string>>;

constexpr int kMaxMetadata = 256 * 1024;

otelweb::testing::MemoryTracingOptions ParentBased() {
  otelweb::testing::MemoryTracingOptions o;
  o.sampler = ParentBasedSampler(AlwaysOnSampler());
  return o;
}

class GrpcHostile : public ::testing::Test {
 protected:
  GrpcHostile() {
    service_.on_call = [this](const char*) {
      std::lock_guard<std::mutex> l(mu_);
      seen_ = GetCurrentSpan().GetContext();
      seen_recording_ = GetCurrentSpan().IsRecording();
    };
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port_);
    b.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kMaxMetadata);
    b.RegisterService(&service_);
    ServerOptions o;
    o.tracer_provider = t_.provider;
    InstrumentServer(b, std::move(o));
    server_ = b.BuildAndStart();
    ::grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, kMaxMetadata);
    stub_ = interop::v1::Echo::NewStub(::grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(port_), ::grpc::InsecureChannelCredentials(), args));
  }
  ~GrpcHostile() override { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200)); }

  struct Cost {
    double cpu = 1e9;
    size_t span = 0;
    bool ok = false;
    const SpanData* last = nullptr;
  };

  Cost Call(const Metadata& md, int runs = 3) {
    Cost c;
    for (int i = 0; i < runs; ++i) {
      const size_t before = t_.spans().size();
      ::grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      for (const auto& [k, v] : md) ctx.AddMetadata(k, v);
      EchoRequest req;
      req.set_message("m");
      EchoReply reply;
      const double t0 = ProcessCpuSeconds();
      c.ok = stub_->Unary(&ctx, req, &reply).ok();
      c.cpu = std::min(c.cpu, ProcessCpuSeconds() - t0);
      if (t_.WaitFor(before + 1, std::chrono::milliseconds(500))) {
        c.last = t_.spans()[before];
        c.span = SpanBytes(*c.last);
      }
    }
    return c;
  }

  static size_t Bytes(const Metadata& md) {
    size_t n = 0;
    for (const auto& [k, v] : md) n += k.size() + v.size() + 2;
    return n;
  }

  // `md` against one inert entry of the same size.
  void ExpectBounded(const char* kind, const Metadata& md, size_t span_slack, double cpu_factor = 4.0) {
    const Cost b = Call({{"x-pad", std::string(std::max<size_t>(Bytes(md), 8), 'p')}});
    const Cost h = Call(md);
    SCOPED_TRACE(kind);
    ASSERT_TRUE(b.ok);
    EXPECT_TRUE(h.ok) << kind << ": the call failed";
    EXPECT_LT(h.cpu, cpu_factor * b.cpu + 0.02)
        << kind << ": " << Bytes(md) << " bytes of metadata cost " << h.cpu << " s of CPU against " << b.cpu;
    EXPECT_LE(h.span, b.span + span_slack) << kind << ": span of " << h.span << " bytes against " << b.span;
  }

  MemoryTracing t_{ParentBased()};
  std::mutex mu_;
  SpanContext seen_;  // the handler's current span context, last call
  bool seen_recording_ = false;
  echo_example::EchoService service_;
  int port_ = 0;
  std::unique_ptr<::grpc::Server> server_;
  std::unique_ptr<interop::v1::Echo::Stub> stub_;
};

std::string List(const char* prefix, size_t bytes) {
  return otelweb::testing::hostile::List([prefix](int i) { return prefix + std::to_string(i) + "=v"; }, bytes);
}

TEST_F(GrpcHostile, ManyAndHugeMetadataEntries) {
  ASSERT_GT(port_, 0);
  Metadata many;
  for (int i = 0; i < 4000; ++i) many.emplace_back("x-m" + std::to_string(i), "v");
  ExpectBounded("4000 entries", many, 0);
  ExpectBounded("one 100 KB entry", {{"x-huge", std::string(100 * 1024, 'h')}}, 0);
  Metadata agents;
  for (int i = 0; i < 200; ++i) agents.emplace_back("user-agent", std::string(500, 'u'));
  ExpectBounded("200 user-agent entries", agents, 8 * 1024);
}

TEST_F(GrpcHostile, BaggageAndTracestateFloods) {
  ASSERT_GT(port_, 0);
  Metadata baggage;
  for (int i = 0; i < 16; ++i) baggage.emplace_back("baggage", List("k", 4000));
  ExpectBounded("baggage flood", baggage, 0);
  Metadata ts = {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  for (int i = 0; i < 16; ++i) ts.emplace_back("tracestate", List("v", 4000));
  ExpectBounded("tracestate flood", ts, 0);
}

TEST_F(GrpcHostile, MalformedContextStartsANewTrace) {
  ASSERT_GT(port_, 0);
  std::vector<Metadata> bad;
  for (const std::string& tp : otelweb::testing::hostile::MalformedTraceparents()) bad.push_back({{"traceparent", tp}});
  bad.push_back({{"grpc-trace-bin", std::string("\x00\x01\x02garbage", 10)}});
  bad.push_back({{"grpc-trace-bin", std::string(4000, '\xff')}});
  bad.push_back({{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                 {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203332-01"}});
  for (const Metadata& md : bad) {
    const Cost c = Call(md, 1);
    ASSERT_TRUE(c.ok) << md[0].first;
    ASSERT_NE(c.last, nullptr);
    if (md.size() == 1) {
      EXPECT_FALSE(c.last->parent_span_id().IsValid()) << "'" << md[0].second.substr(0, 80) << "' was accepted";
    }
  }
  ExpectBounded("long malformed traceparent", {{"traceparent", std::string(8000, 'f')}}, 0);
}

// Issue 11 §2 for gRPC: an unsampled call (traceparent ...-00) has a
// non-recording server span whose valid context the handler can read.
TEST_F(GrpcHostile, UnsampledCallCarriesItsContextIntoTheHandler) {
  ASSERT_GT(port_, 0);
  const size_t before = t_.spans().size();
  ::grpc::ClientContext ctx;
  ctx.AddMetadata("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  EchoRequest req;
  req.set_message("m");
  EchoReply reply;
  ASSERT_TRUE(stub_->Unary(&ctx, req, &reply).ok());
  std::lock_guard<std::mutex> l(mu_);
  EXPECT_FALSE(seen_recording_);
  ASSERT_TRUE(seen_.IsValid());
  EXPECT_EQ(seen_.trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_NE(seen_.span_id().ToHex(), "b7ad6b7169203331");
  EXPECT_FALSE(seen_.sampled());
  EXPECT_EQ(t_.spans().size(), before);
}

}  // namespace
}  // namespace otelweb::grpc
