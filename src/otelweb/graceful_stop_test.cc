// StopGracefullyOnSignals with real processes: a forked child installs
// tracing and the opt-in, blocks like a server in listen(), and the parent
// sends SIGTERM / SIGINT. The child's exporter writes span names to a pipe
// the parent reads.
#include "otelweb/graceful_stop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "otelweb/otelweb.h"

namespace otelweb {
namespace {

using namespace std::chrono_literals;

// Writes "<name>\n" per exported span to a file descriptor.
class PipeExporter final : public SpanExporter {
 public:
  explicit PipeExporter(int fd) : fd_(fd) {}
  ExportResult Export(std::span<EndedSpan> batch) noexcept override {
    for (auto& s : batch) {
      std::string line = std::string(s->name()) + "\n";
      if (write(fd_, line.data(), line.size()) < 0) return ExportResult::kFailure;
    }
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "pipe"; }

 private:
  int fd_;
};

std::string ReadAll(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::atomic<bool> g_app_handler_ran{false};
std::atomic<bool> g_stop{false};

struct Child {
  pid_t pid;
  int out;  // read end: exported span names, then "exit\n" when main returns
};

// mode: "flush" (no stop callback), "stop" (a stop callback ends the loop),
// "chain" (the app had its own SIGTERM handler).
Child Start(const char* mode) {
  int p[2];
  EXPECT_EQ(pipe(p), 0);
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    close(ready[0]);
    const std::string m = mode;
    if (m == "chain") {
      signal(SIGTERM, [](int) {
        g_app_handler_ran = true;
        g_stop = true;
      });
    }
    {
      TracingOptions o;
      o.exporter = std::make_unique<PipeExporter>(p[1]);
      o.sampler = AlwaysOnSampler();
      o.batch.schedule_delay = 60s;  // nothing leaves before the signal
      auto tracing = InstallTracing(std::move(o));
      if (m == "stop") {
        StopGracefullyOnSignals([] { g_stop = true; });
      } else {
        StopGracefullyOnSignals();
      }
      GetTracer("child").StartSpan("before-signal").End();
      if (write(ready[1], "r", 1) != 1) _exit(3);
      // "listen()": until stopped (flush mode: the signal ends the process).
      while (!g_stop.load()) std::this_thread::sleep_for(2ms);
      if (g_app_handler_ran && write(p[1], "app-handler\n", 12) < 0) _exit(4);
    }  // the handle flushes here
    if (write(p[1], "exit\n", 5) < 0) _exit(5);
    _exit(0);
  }
  close(p[1]);
  close(ready[1]);
  char c;
  EXPECT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  return {pid, p[0]};
}

TEST(GracefulStop, WithoutAStopCallbackSigtermFlushesThenTerminatesAsBefore) {
  Child c = Start("flush");
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  std::string out = ReadAll(c.out);
  close(c.out);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  EXPECT_EQ(out, "before-signal\n");
  ASSERT_TRUE(WIFSIGNALED(status));  // the default action still happens, after the flush
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST(GracefulStop, WithAStopCallbackSigintEndsTheLoopAndTheHandleFlushes) {
  Child c = Start("stop");
  ASSERT_EQ(kill(c.pid, SIGINT), 0);
  std::string out = ReadAll(c.out);
  close(c.out);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  EXPECT_EQ(out, "before-signal\nexit\n");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(GracefulStop, ChainsWithTheApplicationsOwnHandler) {
  Child c = Start("chain");
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  std::string out = ReadAll(c.out);
  close(c.out);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  // The app's handler ran (it ended the loop); our flush ran too: the span
  // is there even if the process was terminated by the re-raised signal.
  EXPECT_NE(out.find("before-signal\n"), std::string::npos) << out;
  EXPECT_TRUE(out.find("app-handler\n") != std::string::npos || WIFSIGNALED(status)) << out;
}

}  // namespace
}  // namespace otelweb
