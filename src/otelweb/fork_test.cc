// fork() after setup (issue 11, "Process and context lifecycle"): the child
// gets a working pipeline of its own (new worker threads, new locks, a new
// OTLP connection), the parent is unaffected, items queued before the fork
// are exported by the parent only and nothing is exported twice. Real
// fork(), a real OTLP receiver in the parent, the child's outcome in its
// exit status.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "otelweb/diagnostics.h"
#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otlp/testing/otlp_env_util.h"
#if __has_include("receiver.h")
#include "receiver.h"
#define OTELWEB_HAVE_RECEIVER 1
#endif

namespace otelweb {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Waits for `pid` up to `limit`; a child still running then is killed (by
// its pid) and reported as -1: a deadlock in the child fails the test
// instead of hanging it.
int WaitChild(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  int status = 0;
  while (Clock::now() < end) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
    std::this_thread::sleep_for(10ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

#ifdef OTELWEB_HAVE_RECEIVER
std::map<std::string, int> SpanNames(const otlp::testing::Receiver& receiver) {
  std::map<std::string, int> names;
  for (const auto& req : receiver.requests()) {
    for (const auto& rs : req.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) ++names[s.name()];
      }
    }
  }
  return names;
}

// Each variant: the exporter's transport, the schedule delay (a long one
// keeps the parent's spans queued at the fork; a zero one has the parent's
// worker busy exporting while it forks).
struct ForkCase {
  const char* protocol;
  const char* delay;
};

class ForkAfterSetup : public ::testing::TestWithParam<ForkCase> {};

TEST_P(ForkAfterSetup, ChildExportsItsOwnSpansAndTheParentKeepsItsQueue) {
  otlp::testing::Receiver receiver;
  otlp::testing::ScopedEnv env;
  const bool grpc = std::string(GetParam().protocol) == "grpc";
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", grpc ? receiver.grpc_endpoint() : receiver.http_base());
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", GetParam().protocol);
  env.Set("OTEL_BSP_SCHEDULE_DELAY", GetParam().delay);
  TracingOptions o;
  o.exporter_name = "otlp";
  o.sampler = AlwaysOnSampler();
  o.shutdown_timeout = 5s;
  auto tracing = InstallTracing(std::move(o));
  Tracer tracer = GetTracer("fork-test");
  // A thread ending spans while the fork happens: whatever it held is the
  // parent's.
  std::atomic<bool> stop{false};
  std::atomic<int> busy_spans{0};
  std::thread busy([&] {
    while (!stop.load()) {
      tracer.StartSpan("busy").End();
      busy_spans.fetch_add(1);
      std::this_thread::sleep_for(1ms);
    }
  });
  for (int i = 0; i < 5; ++i) tracer.StartSpan("before-fork").End();
  std::this_thread::sleep_for(20ms);
  testing::DiagnosticsCapture diag;  // inherited by the child
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: its own spans reach the receiver, its shutdown is prompt
    // and everything it ended is exported.
    for (int i = 0; i < 3; ++i) tracer.StartSpan("child-span").End();
    const auto t0 = Clock::now();
    const SdkCounters before = GetSdkCounters();
    const OperationResult r = tracing.Shutdown();
    const bool prompt = Clock::now() - t0 < 3s;
    const SdkCounters after = GetSdkCounters();
    const uint64_t exported = after.spans_exported - before.spans_exported;
    const uint64_t failed = after.spans_export_failed - before.spans_export_failed;
    if (grpc) {
      _exit(!prompt ? 3 : failed != 3 ? 4 : diag.Count("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf") != 1 ? 5 : 0);
    }
    _exit(!r.ok() ? 2 : !prompt ? 3 : exported != 3 ? 6 : 0);
  }
  const int child = WaitChild(pid, 10s);
  stop.store(true);
  busy.join();
  for (int i = 0; i < 2; ++i) tracer.StartSpan("parent-after").End();
  EXPECT_TRUE(tracing.Shutdown().ok());
  EXPECT_EQ(child, 0) << "2: the child's shutdown failed, 3: it was slow, 4: not counted failed, 5: no hint, 6: not counted "
                        "exported, -1: it hung";
  auto names = SpanNames(receiver);
  // gRPC cannot work in the child (its threads stay in the parent): the
  // child's spans are dropped at once and counted, with a message saying
  // what to do, instead of a hung shutdown.
  EXPECT_EQ(names["child-span"], grpc ? 0 : 3);
  EXPECT_EQ(names["before-fork"], 5);  // the parent's, exported once
  EXPECT_EQ(names["parent-after"], 2);
  EXPECT_EQ(names["busy"], busy_spans.load());  // the parent's, none twice
  EXPECT_EQ(diag.Count("fork"), 0u) << diag.text();  // the parent is unaffected
}

INSTANTIATE_TEST_SUITE_P(Transports, ForkAfterSetup,
                         ::testing::Values(ForkCase{"http/protobuf", "60000"}, ForkCase{"http/protobuf", "0"},
                                           ForkCase{"http/json", "60000"}, ForkCase{"grpc", "60000"}),
                         [](const auto& info) {
                           std::string n = std::string(info.param.protocol) + "_delay" + info.param.delay;
                           for (char& ch : n) {
                             if (ch == '/') ch = '_';
                           }
                           return n;
                         });
#endif

// The log records' batch processor (the same worker as the spans' and the
// metric reader's): the child exports only its own records, the parent's
// queued ones stay with the parent.
TEST(ForkAfterSetup, BatchLogRecordProcessorWorksInTheChild) {
  auto exporter = std::make_unique<logs::InMemoryLogRecordExporter>();
  logs::InMemoryLogRecordExporter* mem = exporter.get();
  logs::BatchLogRecordProcessorOptions bo;
  bo.schedule_delay = 60s;
  auto proc = std::make_shared<logs::BatchLogRecordProcessor>(std::move(exporter), bo);
  // The worker thread allocates its export buffer when it starts. Under
  // ASan (gcc 12's allocator takes no lock around fork()), a fork() during
  // that allocation leaves the allocator's lock taken in the child, and the
  // child's worker then blocks in malloc: glibc's malloc is fork-safe, ASan's
  // is not. A flush of the empty queue returns once the worker runs.
  ASSERT_TRUE(proc->ForceFlush(2s).ok());
  logs::LogRecord rec;
  for (int i = 0; i < 4; ++i) proc->OnEmit(rec);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    proc->OnEmit(rec);
    proc->OnEmit(rec);
    const bool flushed = proc->ForceFlush(2s).ok();
    const size_t n = mem->records().size();
    const auto c = proc->counters();
    const bool shut = proc->Shutdown(2s).ok();
    _exit(!flushed ? 2 : n != 2 ? 10 + static_cast<int>(n) : c.exported != 2 ? 4 : !shut ? 5 : 0);
  }
  EXPECT_EQ(WaitChild(pid, 10s), 0) << "2: flush timed out, 1x: x records exported, -1: it hung";
  EXPECT_TRUE(proc->ForceFlush(2s).ok());
  EXPECT_EQ(mem->records().size(), 4u);
  EXPECT_EQ(proc->counters().exported, 4u);
  proc->Shutdown(2s);
}

}  // namespace
}  // namespace otelweb
