// Overhead of the gRPC instrumentation (issue 17): unary echo calls over
// loopback, blocking client and sync server in this process, in three arms
// measured in the same run:
//
//   A   plain server + plain channel
//   A'  a second plain server + channel, identical to A (the control: A'/A is
//       the noise floor of the machine, measured in the same minutes)
//   B   instrumented server (InstrumentServer) + channel
//       (CreateInstrumentedChannel); batch span processor, no-op exporter,
//       always_on, W3C propagation
//
// Many short rounds; in each round every arm makes `calls` RPCs, in an order
// that cycles through all six permutations (each arm in each position, each
// pair in both orders, equally often). Per round it takes the process CPU per
// RPC (getrusage: client, server, gRPC's pollers and the batch worker
// together; B's round ends with a ForceFlush so that its spans are exported
// inside its own window) and the ratios B/A and A'/A of that round. The
// figure quoted is the median of the per-round ratios: a load change slower
// than a round (a few hundred ms) hits the three arms of a round alike and
// cancels in the ratio, where a ratio of per-arm medians would keep it. The
// spread is the interquartile range and min/max of the per-round ratios; the
// A'/A line beside it says how far two identical arms differ on this machine
// now. Last line: `ratio <median> <min> <max>` of B/A (as the HTTP program).
//
//   otelweb_grpc_overhead [calls_per_round=400] [rounds=150] [max_seconds=150]
//
// Stops early (fewer rounds, printed) once max_seconds of wall time have gone
// by, so the default finishes within 3 minutes even on a loaded machine.
//
// Instructions per RPC per arm, in one run (A and A' give the spread):
//   valgrind --tool=callgrind build/bench/otelweb_grpc_overhead 300 3
// dumps every measured round as a part callgrind.out.<pid>.<n> whose `desc:`
// line names it grpc_overhead:<arm>:<calls> (instructions of every thread in
// that round's window); the program prints the command that sums them.
// Environment:
//   GRPC_OVERHEAD_PIN=<n>        the whole process (every gRPC thread) on CPU n;
//                                default: the lowest CPU the process may use (0
//                                unless under taskset); GRPC_OVERHEAD_PIN=off: not pinned
//   GRPC_OVERHEAD_AA=1           B uninstrumented too (three plain arms; for the
//                                callgrind A/A baseline)
//   GRPC_OVERHEAD_EXCLUDE=1      B instrumented with every method excluded
//                                (grpc++'s interceptor machinery, no spans)
//   GRPC_OVERHEAD_NO_PROPAGATION=1  B records spans, injects nothing
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define OTELWEB_GRPC_OVERHEAD_CALLGRIND 1
#endif

#include "alloc_counter.h"
#include "bench_common.h"
#include "grpc_echo_service.h"
#include "otelweb/grpc/client.h"
#include "otelweb/grpc/server.h"
#include "ratio_stats.h"

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

bool Env(const char* name) { return std::getenv(name) != nullptr; }

struct Arm {
  Arm(const char* arm_name, bool instrumented, std::shared_ptr<otelweb::TracerProvider> p)
      : name(arm_name), provider(std::move(p)) {
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    if (instrumented) {
      otelweb::grpc::ServerOptions so;
      so.tracer_provider = provider;
      if (Env("GRPC_OVERHEAD_EXCLUDE")) so.excluded_methods = {"interop.v1.Echo"};
      otelweb::grpc::InstrumentServer(b, so);
    }
    server = b.BuildAndStart();
    if (!server || port == 0) {
      std::fprintf(stderr, "grpc_overhead: could not start a server on 127.0.0.1 (is loopback up?)\n");
      std::exit(1);
    }
    const std::string target = "127.0.0.1:" + std::to_string(port);  // bound by BuildAndStart
    std::shared_ptr<::grpc::Channel> ch;
    if (instrumented) {
      otelweb::grpc::ClientOptions co;
      co.tracer_provider = provider;
      if (Env("GRPC_OVERHEAD_EXCLUDE")) co.excluded_methods = {"interop.v1.Echo"};
      ch = otelweb::grpc::CreateInstrumentedChannel(target, ::grpc::InsecureChannelCredentials(), {}, co);
    } else {
      provider.reset();  // nothing to flush
      ch = ::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials());
    }
    stub = interop::v1::Echo::NewStub(ch);
  }
  struct Result {
    double cpu_s = 0, wall_s = 0;
    uint64_t allocs = 0;        // on the calling (client) thread
    uint64_t other_allocs = 0;  // on every other thread (the server's, the batch worker's)
  };
  // `measured`: under callgrind, the instructions of every thread since the
  // previous dump (this round's window: the rounds follow each other) are
  // dumped as one part, named "grpc_overhead:<arm>:<calls>".
  Result Round(int calls, bool measured = false) {
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
        std::fprintf(stderr, "grpc_overhead: call failed (%d: %s); the loopback server of arm %s stopped answering\n",
                     static_cast<int>(st.error_code()), st.error_message().c_str(), name);
        std::exit(1);
      }
    }
    // The spans of this round are exported (by the batch worker) inside it.
    if (provider) provider->ForceFlush();
    const auto w1 = std::chrono::steady_clock::now();
    const double c1 = CpuSeconds();
#ifdef OTELWEB_GRPC_OVERHEAD_CALLGRIND
    if (measured && RUNNING_ON_VALGRIND) {
      // A' is "A2" here: the name goes through a shell-quoted awk program.
      const std::string part = "grpc_overhead:" + std::string(name[1] == '\'' ? "A2" : name) + ":" + std::to_string(calls);
      CALLGRIND_DUMP_STATS_AT(part.c_str());
    }
#endif
    const uint64_t a = otelweb_bench_allocs() - a0;
    return {c1 - c0, std::chrono::duration<double>(w1 - w0).count(), a, otelweb_bench_allocs_all() - g0 - a};
  }
  const char* name;
  std::shared_ptr<otelweb::TracerProvider> provider;
  echo_example::EchoService service;
  int port = 0;
  std::unique_ptr<::grpc::Server> server;
  std::unique_ptr<interop::v1::Echo::Stub> stub;
};

using otelweb::bench::Spread;

int ParseCount(const char* text, const char* what, int lo) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > 100000000) {
    std::fprintf(stderr,
                 "grpc_overhead: %s must be an integer >= %d (got \"%s\"); usage: "
                 "otelweb_grpc_overhead [calls_per_round=400] [rounds=150] [max_seconds=150]\n",
                 what, lo, text);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? ParseCount(argv[1], "calls_per_round", 1) : 400;
  const int rounds = argc > 2 ? ParseCount(argv[2], "rounds", 1) : 150;
  const int max_seconds = argc > 3 ? ParseCount(argv[3], "max_seconds", 1) : 150;

  // Pinned by default: client, server and gRPC's threads on one CPU. On a
  // 2-vCPU guest, unpinned, the scheduler's placement of the client and
  // server threads (same CPU or not, and the wake-ups between) moved the
  // plain/plain ratio of a round by +-40 %; pinned, by +-2 %. Default: the
  // lowest CPU this process may run on (0 unless started under taskset).
  int pin_cpu = 0;
  if (cpu_set_t allowed; sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    while (pin_cpu < CPU_SETSIZE - 1 && !CPU_ISSET(pin_cpu, &allowed)) ++pin_cpu;
  }
  const char* pin_env = std::getenv("GRPC_OVERHEAD_PIN");
  if (pin_env != nullptr && std::string(pin_env) == "off") {
    pin_cpu = -1;
  } else if (pin_env != nullptr && *pin_env != '\0') {
    pin_cpu = ParseCount(pin_env, "GRPC_OVERHEAD_PIN (a CPU number, or off)", 0);
  }
  if (pin_cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pin_cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {  // before any gRPC thread: they inherit it
      std::fprintf(stderr, "grpc_overhead: cannot pin to CPU %d (GRPC_OVERHEAD_PIN); give a CPU this machine has\n",
                   pin_cpu);
      return 2;
    }
  }
  // libstdc++ switches to atomic reference counts once a thread exists; gRPC
  // starts threads anyway, this makes the first round like the others.
  std::thread([] {}).join();

  auto provider = otelweb::bench::NoopBatchProvider();
  if (!Env("GRPC_OVERHEAD_NO_PROPAGATION")) {
    otelweb::SetTextMapPropagator(std::make_shared<otelweb::W3CTraceContextPropagator>());
  } else {
    otelweb::SetTextMapPropagator(otelweb::MakePropagators("none"));
  }
  const bool b_instrumented = !Env("GRPC_OVERHEAD_AA");
  const char* b_kind = !b_instrumented                        ? "plain (GRPC_OVERHEAD_AA=1)"
                       : Env("GRPC_OVERHEAD_EXCLUDE")         ? "instrumented, every method excluded (GRPC_OVERHEAD_EXCLUDE=1)"
                       : Env("GRPC_OVERHEAD_NO_PROPAGATION") ? "instrumented, nothing injected (GRPC_OVERHEAD_NO_PROPAGATION=1)"
                                                              : "instrumented (spans on both sides, W3C traceparent injected)";
  const char* b_short = !b_instrumented                        ? "plain (AA)"
                        : Env("GRPC_OVERHEAD_EXCLUDE")         ? "excluded"
                        : Env("GRPC_OVERHEAD_NO_PROPAGATION") ? "no-inject"
                                                               : "instrumented";
  std::array<Arm, 3> arms{Arm("A", false, nullptr), Arm("A'", false, nullptr), Arm("B", b_instrumented, provider)};

  std::printf("gRPC unary echo overhead (bench/grpc_overhead.cc): client and sync server in one process, 127.0.0.1\n");
  std::printf("arms: A plain, A' plain (identical control), B %s; batch span processor -> no-op exporter, always_on\n",
              b_kind);
  std::printf("%d calls per arm per round, up to %d rounds (stops after %d s), arm order rotated through all 6 "
              "permutations; CPU = getrusage of the whole process; pin: %s\n",
              calls, rounds, max_seconds,
              pin_cpu < 0 ? "off (GRPC_OVERHEAD_PIN=off)"
                          : ("every thread on CPU " + std::to_string(pin_cpu) + " (GRPC_OVERHEAD_PIN=off: not pinned)").c_str());
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) {
    std::printf("load average at start: %.2f %.2f %.2f on %ld online CPUs (the ratio is trustworthy when A'/A "
                "below is close to 1 with a narrow spread)\n",
                load[0], load[1], load[2], sysconf(_SC_NPROCESSORS_ONLN));
  }
  std::fflush(stdout);

  // Warm-up: connections, gRPC's thread pools, the span records' free lists.
  for (int w = 0; w < 2; ++w) {
    for (Arm& a : arms) a.Round(calls);
  }

#ifdef OTELWEB_GRPC_OVERHEAD_CALLGRIND
  // Start-up and warm-up in a part of their own (a dump resets the counters
  // of every thread; CALLGRIND_ZERO_STATS only the calling thread's).
  if (RUNNING_ON_VALGRIND) CALLGRIND_DUMP_STATS_AT("grpc_overhead-setup");
#endif
  std::vector<double> cpu[3], wall[3], ratio_b, ratio_c, added_cpu, added_wall;
  uint64_t allocs[3] = {0, 0, 0}, other[3] = {0, 0, 0};
  const auto start = std::chrono::steady_clock::now();
  int done = 0;
  for (int r = 0; r < rounds; ++r) {
    if (r > 0 && std::chrono::steady_clock::now() - start > std::chrono::seconds(max_seconds)) break;
    Arm::Result res[3];
    for (int k : otelweb::bench::kArmOrders[r % 6]) res[k] = arms[static_cast<size_t>(k)].Round(calls, true);
    for (int k = 0; k < 3; ++k) {
      cpu[k].push_back(res[k].cpu_s / calls * 1e6);
      wall[k].push_back(res[k].wall_s / calls * 1e6);
      allocs[k] += res[k].allocs;
      other[k] += res[k].other_allocs;
    }
    ratio_b.push_back(res[2].cpu_s / res[0].cpu_s);
    ratio_c.push_back(res[1].cpu_s / res[0].cpu_s);
    added_cpu.push_back(cpu[2].back() - cpu[0].back());
    added_wall.push_back(wall[2].back() - wall[0].back());
    ++done;
  }
#ifdef OTELWEB_GRPC_OVERHEAD_CALLGRIND
  if (RUNNING_ON_VALGRIND) {
    std::printf(
        "under callgrind: every measured round was dumped (callgrind.out.%d.<n>, named grpc_overhead:<arm>:<calls>, "
        "A' as A2); instructions per RPC per arm, all threads:\n"
        "  awk '/^desc: Trigger: Client Request: grpc_overhead:/{split($5,p,\":\")} /^totals:/{if(p[2]!=\"\")"
        "{i[p[2]]+=$2;n[p[2]]+=p[3];p[2]=\"\"}} END{a=i[\"A\"]/n[\"A\"];c=i[\"A2\"]/n[\"A2\"];b=i[\"B\"]/n[\"B\"];"
        "printf \"instructions per RPC: A %%.0f  A2 %%.0f  B %%.0f  B-A %%.0f  B/A %%.4f  A2/A %%.4f\\n\", a, c, b, b-a, "
        "b/a, c/a}' callgrind.out.%d.*\n",
        static_cast<int>(getpid()), static_cast<int>(getpid()));
  }
#endif
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (getloadavg(load, 3) == 3) std::printf("load average at end: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
  std::printf("%d rounds in %.0f s%s\n\n", done, elapsed, done < rounds ? " (stopped by max_seconds)" : "");

  std::printf("per-arm medians over the rounds       A        A'       B\n");
  std::printf("  CPU us per RPC (process)       %8.2f %8.2f %8.2f\n", Spread(cpu[0]).median, Spread(cpu[1]).median,
              Spread(cpu[2]).median);
  std::printf("  wall us per RPC                %8.2f %8.2f %8.2f\n", Spread(wall[0]).median,
              Spread(wall[1]).median, Spread(wall[2]).median);
  const double n = double(calls) * done;
  std::printf("  allocations per RPC, client    %8.2f %8.2f %8.2f\n", double(allocs[0]) / n, double(allocs[1]) / n,
              double(allocs[2]) / n);
  std::printf("  allocations per RPC, others    %8.2f %8.2f %8.2f\n\n", double(other[0]) / n,
              double(other[1]) / n, double(other[2]) / n);

  const Spread b(ratio_b), c(ratio_c), ac(added_cpu), aw(added_wall);
  std::printf("per-round CPU ratios over %d rounds: median (95 %% CI of the median) [interquartile] min..max\n", done);
  std::printf("  B/A   %-12s / plain   %.3f (%.3f-%.3f) [%.3f %.3f] %.3f..%.3f   goal <= 1.03\n", b_short,
              b.median, b.lo, b.hi, b.q1, b.q3, b.min, b.max);
  std::printf("  A'/A  plain / plain control  %.3f (%.3f-%.3f) [%.3f %.3f] %.3f..%.3f   two identical arms: the noise "
              "floor, same minutes\n",
              c.median, c.lo, c.hi, c.q1, c.q3, c.min, c.max);
  std::printf("  (ratio of the per-arm medians above: B/A %.3f, A'/A %.3f)\n",
              Spread(cpu[2]).median / Spread(cpu[0]).median, Spread(cpu[1]).median / Spread(cpu[0]).median);
  std::printf("added per RPC by B (per-round B - A, median [interquartile]): CPU %.2f [%.2f %.2f] us, wall %.2f "
              "[%.2f %.2f] us, allocations client %+.2f, others %+.2f\n",
              ac.median, ac.q1, ac.q3, aw.median, aw.q1, aw.q3, (double(allocs[2]) - double(allocs[0])) / n,
              (double(other[2]) - double(other[0])) / n);
  // Conclusive when the two identical arms agree within 1 % (the control's
  // CI inside 0.99..1.01); then B/A's CI against the goal.
  std::printf("verdict: %s\n", otelweb::bench::Verdict(b, c, 1.03).c_str());
  std::printf("ratio %.3f %.3f %.3f\n", b.median, b.min, b.max);
  return 0;
}
