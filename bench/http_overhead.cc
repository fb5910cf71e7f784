// End-to-end overhead of the cpp-httplib server instrumentation
// (shared/BENCHMARKS.md, "end-to-end overhead"): a hello-world server, the
// same load from wrk with and without instrumentation, server CPU time per
// request (getrusage of this process: every server thread plus the batch
// processor's worker; wrk runs in a child process and is not counted).
//
//   otelweb_http_overhead [--seconds N=2] [--rounds N=12] [--connections N=4] [--wrk PATH] [--pin 1]
//                         [--control 1|0] [--only plain|traced] [--otlp grpc|http/protobuf|none]
//                         [--metrics 1]
//
// --pin 1 puts the server (all its threads) on CPU 0 and wrk on CPU 1: on a
// 2-vCPU VM the CPU cost per request otherwise swings by 2x from round to
// round with how the scheduler mixes the two.
//
// Three arms per round (--control 1, the default), as bench/grpc_overhead.cc:
//   A   plain cpp-httplib server
//   A'  a second plain server, fresh, same settings: the control (A'/A is the
//       noise floor of the machine, measured in the same minutes)
//   B   TracedServer
// Every measurement starts a fresh server. The order of the arms is rotated
// through the six permutations round by round (bench/ratio_stats.h), so that
// drifting machine load and position effects hit every arm alike. Per round
// it prints the three measurements and the ratios B/A and A'/A; at the end
// the per-arm medians, the median of the per-round B/A and of A'/A, each with
// a 95 % confidence interval of the median (order statistics), a verdict
// (inconclusive while A'/A's CI is not within 0.99..1.01) and, last,
// `ratio <median> <min> <max>` of the per-round B/A. Default run time: 12
// rounds x 3 arms x 2 s, about 75 s. --control 0: two arms per round, plain
// and traced alternating which goes first, with the round line
// `round R: plain N req X us/req | traced N req Y us/req | ratio Q` that
// bench/ab18.sh parses. --only plain|traced: one kind only (for profiling),
// no ratio.
//
// Traced = TracedServer + BatchSpanProcessor (default options) + the OTLP
// exporter (gRPC by default) sending to an OTLP receiver that runs in a child
// process (pinned with wrk, so neither is counted). B's measurement ends with
// a ForceFlush, so that the spans of its window are exported inside it.
// --otlp none replaces the
// exporter by one that reads every span and drops it, to separate the
// instrumentation's cost from the export's. --metrics 1 turns the HTTP
// server metrics on as well (a MeterProvider given to the traced server,
// whose periodic reader collects every second and exports over the same OTLP
// protocol to the same receiver, or to a no-op exporter with --otlp none):
// issue 13's "traces + metrics" end-to-end case. Each traced measurement has
// its own meter provider, shut down (last collection exported) inside its
// window, so the reader's work is counted in B only.
// Both servers use TCP_NODELAY and otherwise cpp-httplib's
// defaults (8 worker threads, keep-alive up to 5 requests per connection).
// The OTELWEB_AB_* variables of bench/ab_env.h pick issue 18's A/B arms
// (printed as `arms: ...`; bench/ab18.sh runs them interleaved).
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifdef OTELWEB_HAVE_OTLP
#include "otelweb/otlp/exporter.h"
#include "otelweb/otlp/metric_exporter.h"
#include "receiver_process.h"
#endif

#include "ab_env.h"
#include "bench_common.h"
#include "ratio_stats.h"
#include "otelweb/httplib/server.h"

#include "otelweb/httplib/client.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span_data.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/metrics/metric_reader.h"
#include "otelweb/trace/tracer_provider.h"

namespace {

// Takes the collected metrics and drops them (--otlp none --metrics 1).
class NoopMetricExporter final : public otelweb::metrics::MetricExporter {
 public:
  otelweb::ExportResult Export(const otelweb::metrics::ResourceMetrics&) noexcept override {
    return otelweb::ExportResult::kSuccess;
  }
  otelweb::OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    return otelweb::OperationResult::Ok();
  }
  std::string_view Name() const noexcept override { return "noop"; }
};

bool g_pin = false;  // server on CPU 0, wrk on CPU 1
int g_http_threads = 0;  // cpp-httplib's worker pool, 0: its default (OTELWEB_AB_HTTP_THREADS)


// The value of a count option (>= 1); exits with status 2 otherwise.
int PositiveOption(const std::string& name, const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > 1000000) {
    std::fprintf(stderr, "%s takes a whole number >= 1 (got \"%s\"); see the usage at the top of "
                 "bench/http_overhead.cc\n", name.c_str(), text);
    std::exit(2);
  }
  return static_cast<int>(v);
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Runs wrk against the port; returns the number of requests it completed.
long RunWrk(const std::string& wrk, int port, int seconds, int connections) {
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hello";
  std::string d = std::to_string(seconds) + "s";
  std::string c = std::to_string(connections);
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  // posix_spawn, not fork: no pthread_atfork handler runs (the OTLP/gRPC
  // exporter's would report, in every wrk child, that it cannot export after
  // fork()). The child inherits the calling thread's CPU mask: CPU 1 while
  // spawning, then this thread goes back to CPU 0 with the server.
  cpu_set_t server_cpus;
  if (g_pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(1, &set);
    sched_getaffinity(0, sizeof(server_cpus), &server_cpus);
    sched_setaffinity(0, sizeof(set), &set);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  posix_spawn_file_actions_addclose(&actions, pipefd[1]);
  const std::string t_arg = "-t1", c_arg = "-c" + c, d_arg = "-d" + d;
  char* args[] = {const_cast<char*>(wrk.c_str()), const_cast<char*>(t_arg.c_str()), const_cast<char*>(c_arg.c_str()),
                  const_cast<char*>(d_arg.c_str()), const_cast<char*>(url.c_str()), nullptr};
  pid_t pid = -1;
  const int spawn_error = posix_spawn(&pid, wrk.c_str(), &actions, nullptr, args, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (g_pin) sched_setaffinity(0, sizeof(server_cpus), &server_cpus);
  close(pipefd[1]);
  if (spawn_error != 0) {
    close(pipefd[0]);
    std::fprintf(stderr, "cannot run %s (%s); install the Debian package wrk or give its path with --wrk\n",
                 wrk.c_str(), std::strerror(spawn_error));
    return -1;
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  size_t pos = out.find(" requests in ");
  if (pos == std::string::npos) {
    std::fprintf(stderr, "wrk output not understood:\n%s\n", out.c_str());
    return -1;
  }
  size_t start = out.rfind('\n', pos);
  start = start == std::string::npos ? 0 : start + 1;
  long requests = std::atol(out.c_str() + start);
  if (out.find("Non-2xx") != std::string::npos || out.find("Socket errors") != std::string::npos) {
    std::fprintf(stderr, "wrk reported errors:\n%s\n", out.c_str());
  }
  return requests;
}

void Hello(const httplib::Request&, httplib::Response& res) {
  res.set_content("Hello, World!", "text/plain");
}

struct Result {
  long requests;
  double cpu_us_per_request;
};

// `finish` runs inside the measured window, after the load (the traced arm
// flushes its spans there).
template <typename MakeServer, typename Finish>
Result Measure(MakeServer make, Finish finish, const std::string& wrk, int seconds, int connections) {
  auto server = make();
  if (g_http_threads > 0) {
    const size_t n = static_cast<size_t>(g_http_threads);
    server->new_task_queue = [n] { return new httplib::ThreadPool(n); };
  }
  // Without TCP_NODELAY (cpp-httplib 0.11.4's default) every response waits
  // for the client's delayed ACK (~40 ms) and the run measures idle time.
  server->set_tcp_nodelay(true);
  int port = server->bind_to_any_port("127.0.0.1");
  std::thread t([&] { server->listen_after_bind(); });
  while (!server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double before = CpuSeconds();
  long requests = RunWrk(wrk, port, seconds, connections);
  finish();
  double after = CpuSeconds();
  server->stop();
  t.join();
  return {requests, requests > 0 ? (after - before) * 1e6 / double(requests) : 0.0};
}

}  // namespace

int main(int argc, char** argv) {
  const otelweb::bench::AbArms arms = otelweb::bench::ReadAbArms();
  g_http_threads = arms.http_threads;
  int seconds = 2, rounds = 12, connections = 4;
  bool control = true;  // the A' arm
  std::string wrk = "/usr/bin/wrk";
  std::string only;  // "plain" or "traced": one kind only (for profiling)
  std::string otlp = "grpc";
  bool metrics_on = false;
  if (argc % 2 == 0) {
    std::fprintf(stderr, "option %s has no value; see the usage at the top of bench/http_overhead.cc\n",
                 argv[argc - 1]);
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seconds") seconds = PositiveOption(a, argv[i + 1]);
    else if (a == "--rounds") rounds = PositiveOption(a, argv[i + 1]);
    else if (a == "--connections") connections = PositiveOption(a, argv[i + 1]);
    else if (a == "--control") {
      const std::string v = argv[i + 1];
      if (v != "0" && v != "1") {
        std::fprintf(stderr, "--control takes 1 (the A' arm, default) or 0 (got \"%s\")\n", v.c_str());
        return 2;
      }
      control = v == "1";
    }
    else if (a == "--wrk") wrk = argv[i + 1];
    else if (a == "--pin") g_pin = std::atoi(argv[i + 1]) != 0;
    else if (a == "--only") only = argv[i + 1];
    else if (a == "--otlp") otlp = argv[i + 1];
    else if (a == "--metrics") metrics_on = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "unknown option %s; see the usage at the top of bench/http_overhead.cc\n", a.c_str());
      return 2;
    }
  }
  if (!only.empty() && only != "plain" && only != "traced") {
    std::fprintf(stderr, "--only takes plain or traced (got \"%s\")\n", only.c_str());
    return 2;
  }
  if (!only.empty()) control = false;  // one kind only: no ratio
#ifndef OTELWEB_HAVE_OTLP
  otlp = "none";
#endif
  if (g_pin) {
    // Before any thread exists (the OTLP exporter's and the metric reader's
    // included): every thread of this process inherits CPU 0. The receiver
    // child pins itself to CPU 1, wrk is started on CPU 1 (RunWrk).
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof(set), &set);
  }
  std::unique_ptr<otelweb::SpanExporter> exporter;
  // A new metric exporter for each traced measurement: its meter provider
  // lives only through that measurement (see `traced` below).
  std::function<std::unique_ptr<otelweb::metrics::MetricExporter>()> make_metric_exporter;
  if (arms.exporter == "noop" || arms.exporter == "read") otlp = "none";
  if (otlp == "none") {
    if (arms.exporter == "noop") {
      exporter = std::make_unique<otelweb::bench::NoopExporter>();
    } else {
      exporter = std::make_unique<otelweb::bench::ReadingExporter>();
    }
    if (metrics_on) make_metric_exporter = [] { return std::make_unique<NoopMetricExporter>(); };
  } else {
#ifdef OTELWEB_HAVE_OTLP
    std::string ep = otelweb::bench::StartReceiverProcess(otlp, g_pin ? 1 : -1);
    if (ep.empty()) {
      std::fprintf(stderr, "could not start the OTLP receiver\n");
      return 1;
    }
    otelweb::otlp::OtlpExporterOptions eo;
    eo.read_environment = false;
    eo.protocol = otlp == "grpc" ? otelweb::otlp::Protocol::kGrpc : otelweb::otlp::Protocol::kHttpProtobuf;
    eo.endpoint = ep;
    exporter = std::make_unique<otelweb::otlp::OtlpSpanExporter>(eo);
    if (metrics_on) {
      make_metric_exporter = [eo] {
        otelweb::otlp::OtlpMetricExporterOptions mo;
        mo.otlp = eo;
        return std::make_unique<otelweb::otlp::OtlpMetricExporter>(mo);
      };
    }
#endif
  }
  std::printf("arms: %s\n", arms.description.c_str());
  std::printf("exporter: %s%s\n", otlp == "none" ? (arms.exporter == "noop" ? "counting no-op" : "reading no-op")
                                                  : ("OTLP " + otlp).c_str(),
              metrics_on ? "; HTTP server metrics on, collected and exported every 1 s" : "; metrics off");
  // The load shape, fixed for every round and printed so that runs compare.
  std::printf("load: wrk -t1 -c%d -d%ds (HTTP/1.1 keep-alive), server: cpp-httplib %s pool "
              "(%u worker threads, keep-alive up to 5 requests per connection, TCP_NODELAY), "
              "%d interleaved rounds, pin %s\n",
              connections, seconds, g_http_threads > 0 ? "its" : "default",
              g_http_threads > 0 ? unsigned(g_http_threads) : unsigned(CPPHTTPLIB_THREAD_POOL_COUNT), rounds,
              g_pin ? "server CPU 0 / wrk + receiver CPU 1" : "off");
  if (!only.empty()) {
    std::printf("measurements: %s only, a fresh server each round\n", only.c_str());
  } else if (control) {
    std::printf("arms per round: A plain, A' plain (a second fresh server, the control), B traced; order rotated "
                "through the 6 permutations; %d s of load in all\n",
                rounds * 3 * seconds);
  } else {
    std::printf("arms per round: plain, traced (alternating which goes first; --control 0)\n");
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) {
    std::printf("load average at start: %.2f %.2f %.2f on %ld online CPUs\n", load[0], load[1], load[2],
                sysconf(_SC_NPROCESSORS_ONLN));
  }
  std::fflush(stdout);
  signal(SIGPIPE, SIG_IGN);
  // libstdc++ uses atomic reference counts only once a thread exists: the
  // server has threads anyway, this makes the first measurement like the rest.
  std::thread([] {}).join();

  otelweb::TracerProviderOptions po;
  po.sampler = otelweb::AlwaysOnSampler();
  if (arms.attrs_off) po.limits.attribute_count = 0;
  otelweb::BatchSpanProcessor* bsp = nullptr;
  if (arms.simple_processor) {
    po.processors.push_back(std::make_unique<otelweb::SimpleSpanProcessor>(std::move(exporter)));
  } else {
    auto batch = std::make_unique<otelweb::BatchSpanProcessor>(std::move(exporter));
    bsp = batch.get();
    po.processors.push_back(std::move(batch));
  }
  auto provider = std::make_shared<otelweb::TracerProvider>(std::move(po));
  // --metrics 1: each traced measurement gets its own meter provider, made
  // with the server (before the CPU window opens) and shut down at the end of
  // the window (its last collection and export counted), so that the
  // reader's collections run in the traced arm's window only, never in the
  // plain arms'.
  std::shared_ptr<otelweb::metrics::MeterProvider> meter_provider;
  auto make_meter_provider = [&]() -> std::shared_ptr<otelweb::metrics::MeterProvider> {
    if (!metrics_on) return nullptr;
    otelweb::metrics::PeriodicReaderOptions ro;
    ro.interval = std::chrono::milliseconds(1000);
    otelweb::metrics::MeterProviderOptions mo;
    mo.readers.push_back(
        std::make_shared<otelweb::metrics::PeriodicExportingMetricReader>(make_metric_exporter(), ro));
    return std::make_shared<otelweb::metrics::MeterProvider>(std::move(mo));
  };

  auto plain = [] {
    auto s = std::make_unique<httplib::Server>();
    s->Get("/hello", Hello);
    return s;
  };
  auto traced = [&] {
    otelweb::httplib::ServerOptions o;
    o.tracer_provider = provider;
    meter_provider = make_meter_provider();
    o.meter_provider = meter_provider;
    auto s = std::make_unique<otelweb::httplib::TracedServer>(o);
    s->Get("/hello", Hello);
    return s;
  };
  auto nothing = [] {};
  auto flush = [&] {  // B's spans (and metrics) exported inside B's window
    provider->ForceFlush();
    if (meter_provider) {
      (void)meter_provider->Shutdown(std::chrono::seconds(5));
      meter_provider.reset();
    }
  };
  // arm 0: A plain, 1: A' plain (control), 2: B traced
  auto measure = [&](int arm) {
    return arm == 2 ? Measure(traced, flush, wrk, seconds, connections)
                    : Measure(plain, nothing, wrk, seconds, connections);
  };
  std::vector<double> us[3], ratios, control_ratios;
  for (int r = 0; r < rounds; ++r) {
    if (!only.empty()) {
      Result x = measure(only == "plain" ? 0 : 2);
      std::printf("round %d: %s %ld req %.2f us/req\n", r, only.c_str(), x.requests, x.cpu_us_per_request);
      std::fflush(stdout);
      continue;
    }
    Result res[3];
    std::string order;
    if (control) {
      for (int k : otelweb::bench::kArmOrders[r % 6]) {
        res[k] = measure(k);
        order += order.empty() ? "" : " ";
        order += k == 0 ? "A" : k == 1 ? "A'" : "B";
      }
    } else if (r % 2 == 0) {
      res[0] = measure(0);
      res[2] = measure(2);
    } else {
      res[2] = measure(2);
      res[0] = measure(0);
    }
    if (res[0].requests <= 0 || res[2].requests <= 0 || (control && res[1].requests <= 0)) {
      std::fprintf(stderr, "round %d failed: wrk completed no request (see its output above); check that %s runs\n",
                   r, wrk.c_str());
      return 1;
    }
    for (int k = 0; k < 3; ++k) {
      if (k != 1 || control) us[k].push_back(res[k].cpu_us_per_request);
    }
    ratios.push_back(res[2].cpu_us_per_request / res[0].cpu_us_per_request);
    if (control) {
      control_ratios.push_back(res[1].cpu_us_per_request / res[0].cpu_us_per_request);
      std::printf("round %d (%s): plain %ld req %.2f us/req | plain' %ld req %.2f us/req | traced %ld req %.2f us/req "
                  "| ratio %.3f | control %.3f\n",
                  r, order.c_str(), res[0].requests, res[0].cpu_us_per_request, res[1].requests,
                  res[1].cpu_us_per_request, res[2].requests, res[2].cpu_us_per_request, ratios.back(),
                  control_ratios.back());
    } else {
      std::printf("round %d: plain %ld req %.2f us/req | traced %ld req %.2f us/req | ratio %.3f\n", r,
                  res[0].requests, res[0].cpu_us_per_request, res[2].requests, res[2].cpu_us_per_request,
                  ratios.back());
    }
    std::fflush(stdout);
  }
  provider->ForceFlush();
  if (!only.empty()) return 0;
  using otelweb::bench::Spread;
  if (getloadavg(load, 3) == 3) std::printf("load average at end: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
  // Goals of issue 18: 1.03 with a no-op exporter, 1.05 with OTLP to another process.
  const double goal = otlp == "none" ? 1.03 : 1.05;
  otelweb::ProcessorCounters c = bsp != nullptr ? bsp->counters() : otelweb::ProcessorCounters{};
  const Spread b(ratios);
  std::printf("median: plain %.2f us/req, traced %.2f us/req, ratio %.3f (goal <= %.2f); "
              "spans exported %llu, dropped %llu, failed %llu\n",
              Spread(us[0]).median, Spread(us[2]).median, b.median, goal,
              static_cast<unsigned long long>(c.exported),
              static_cast<unsigned long long>(c.dropped_queue_full),
              static_cast<unsigned long long>(c.export_failed));
  if (control) {
    const Spread a2(control_ratios);
    std::printf("per-arm medians over %d rounds (server CPU us per request): A %.2f  A' %.2f  B %.2f\n", rounds,
                Spread(us[0]).median, Spread(us[1]).median, Spread(us[2]).median);
    std::printf("per-round CPU ratios over %d rounds: median (95 %% CI of the median) [interquartile] min..max\n",
                rounds);
    std::printf("  B/A   traced / plain          %.3f (%.3f-%.3f) [%.3f %.3f] %.3f..%.3f   goal <= %.2f\n", b.median,
                b.lo, b.hi, b.q1, b.q3, b.min, b.max, goal);
    std::printf("  A'/A  plain / plain control   %.3f (%.3f-%.3f) [%.3f %.3f] %.3f..%.3f   two identical arms: the "
                "noise floor, same minutes\n",
                a2.median, a2.lo, a2.hi, a2.q1, a2.q3, a2.min, a2.max);
    std::printf("verdict: %s\n", otelweb::bench::Verdict(b, a2, goal).c_str());
  } else {
    std::printf("verdict: none (--control 0: no A/A control to tell the noise floor)\n");
  }
  // The figure to quote: server CPU per request, traced / plain, median of the rounds.
  std::printf("ratio %.3f %.3f %.3f\n", b.median, b.min, b.max);
  provider->Shutdown();
  return 0;
}
