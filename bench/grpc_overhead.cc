// Overhead of the gRPC instrumentation (issue 17): unary echo calls over
// loopback, client and server in this process, on a plain server+channel and
// on an instrumented server+channel (batch span processor, no-op exporter,
// always_on), in interleaved rounds. Reports process CPU per RPC (both sides:
// getrusage), the ratio instrumented/plain, the added wall and CPU µs per RPC,
// and the added heap allocations per RPC on the calling (client) thread and
// on all other threads (gRPC's: the server's handler and pollers).
//
//   otelweb_grpc_overhead [calls_per_round=2000] [rounds=10]
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "alloc_counter.h"
#include "bench_common.h"
#include "grpc_echo_service.h"
#include "otelweb/grpc/client.h"
#include "otelweb/grpc/server.h"

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

struct Side {
  Side(bool instrumented, std::shared_ptr<otelweb::TracerProvider> provider) {
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    if (instrumented) {
      otelweb::grpc::ServerOptions so;
      so.tracer_provider = provider;
      if (std::getenv("GRPC_OVERHEAD_EXCLUDE") != nullptr) so.excluded_methods = {"interop.v1.Echo"};
      otelweb::grpc::InstrumentServer(b, so);
    }
    server = b.BuildAndStart();
    const std::string target = "127.0.0.1:" + std::to_string(port);  // bound by BuildAndStart
    std::shared_ptr<::grpc::Channel> ch;
    if (instrumented) {
      otelweb::grpc::ClientOptions co;
      co.tracer_provider = provider;
      if (std::getenv("GRPC_OVERHEAD_EXCLUDE") != nullptr) co.excluded_methods = {"interop.v1.Echo"};
      ch = otelweb::grpc::CreateInstrumentedChannel(target, ::grpc::InsecureChannelCredentials(), {}, co);
    } else {
      ch = ::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials());
    }
    stub = interop::v1::Echo::NewStub(ch);
  }
  struct Result {
    double cpu_s, wall_s;
    uint64_t allocs;        // on the calling (client) thread
    uint64_t other_allocs;  // on every other thread (the server's)
  };
  Result Round(int calls) {
    interop::v1::EchoRequest req;
    req.set_message("hello");
    const uint64_t a0 = otelweb_bench_allocs();
    const uint64_t g0 = otelweb_bench_allocs_all();
    const double c0 = CpuSeconds();
    const auto w0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) {
      ::grpc::ClientContext ctx;
      interop::v1::EchoReply reply;
      ::grpc::Status st = stub->Unary(&ctx, req, &reply);
      if (!st.ok()) {
        std::fprintf(stderr, "grpc_overhead: call failed: %s\n", st.error_message().c_str());
        std::exit(1);
      }
    }
    const auto w1 = std::chrono::steady_clock::now();
    const uint64_t a = otelweb_bench_allocs() - a0;
    return {CpuSeconds() - c0, std::chrono::duration<double>(w1 - w0).count(), a, otelweb_bench_allocs_all() - g0 - a};
  }
  echo_example::EchoService service;
  int port = 0;
  std::unique_ptr<::grpc::Server> server;
  std::unique_ptr<interop::v1::Echo::Stub> stub;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 10;
  auto provider = otelweb::bench::NoopBatchProvider();
  // GRPC_OVERHEAD_NO_PROPAGATION=1: nothing injected (no traceparent metadata).
  if (std::getenv("GRPC_OVERHEAD_NO_PROPAGATION") == nullptr) {
    otelweb::SetTextMapPropagator(std::make_shared<otelweb::W3CTraceContextPropagator>());
  } else {
    otelweb::SetTextMapPropagator(otelweb::MakePropagators("none"));
  }
  // GRPC_OVERHEAD_AA=1: both sides uninstrumented (the noise floor of the
  // machine); GRPC_OVERHEAD_EXCLUDE=1: instrumented, every method excluded
  // (grpc++'s own interceptor machinery without spans).
  Side plain(false, nullptr), inst(std::getenv("GRPC_OVERHEAD_AA") == nullptr, provider);
  plain.Round(calls / 4);  // warm up both
  inst.Round(calls / 4);
  std::vector<double> cpu_p, cpu_i, wall_p, wall_i, ratio;
  uint64_t alloc_p = 0, alloc_i = 0, other_p = 0, other_i = 0;
  for (int r = 0; r < rounds; ++r) {
    // Interleaved, alternating which goes first.
    Side::Result a, b;
    if (r % 2 == 0) {
      a = plain.Round(calls);
      b = inst.Round(calls);
    } else {
      b = inst.Round(calls);
      a = plain.Round(calls);
    }
    cpu_p.push_back(a.cpu_s / calls * 1e6);
    cpu_i.push_back(b.cpu_s / calls * 1e6);
    wall_p.push_back(a.wall_s / calls * 1e6);
    wall_i.push_back(b.wall_s / calls * 1e6);
    ratio.push_back(b.cpu_s / a.cpu_s);
    alloc_p += a.allocs;
    alloc_i += b.allocs;
    other_p += a.other_allocs;
    other_i += b.other_allocs;
  }
  std::printf("unary echo, %d calls x %d interleaved rounds (medians)\n", calls, rounds);
  std::printf("cpu us/rpc   plain %.2f  instrumented %.2f  ratio %.3f  added %.2f\n", Median(cpu_p),
              Median(cpu_i), Median(ratio), Median(cpu_i) - Median(cpu_p));
  std::printf("wall us/rpc  plain %.2f  instrumented %.2f  added %.2f\n", Median(wall_p), Median(wall_i),
              Median(wall_i) - Median(wall_p));
  const double n = double(calls) * rounds;
  std::printf("allocs/rpc client thread  plain %.2f  instrumented %.2f  added %.2f\n", double(alloc_p) / n,
              double(alloc_i) / n, (double(alloc_i) - double(alloc_p)) / n);
  std::printf("allocs/rpc other threads  plain %.2f  instrumented %.2f  added %.2f\n", double(other_p) / n,
              double(other_i) / n, (double(other_i) - double(other_p)) / n);
  return 0;
}
