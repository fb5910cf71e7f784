// StopGracefullyOnSignals: SIGTERM/SIGINT wake a helper thread (through a
// pipe: write() is async-signal-safe) that stops the app or flushes.
#include "otelweb/graceful_stop.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "otelweb/diagnostics.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb {

namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT};

struct GracefulState {
  std::mutex mu;
  std::function<void()> stop;  // guarded by mu
  std::chrono::milliseconds flush_timeout{5000};
  bool installed = false;
  int pipe_w = -1, pipe_r = -1;
  struct sigaction previous[2]{};
  std::atomic<int> pending{0};  // the first signal taken
};

GracefulState& G() {
  static GracefulState* g = new GracefulState;  // never destroyed: the handler may run at exit
  return *g;
}

int IndexOf(int sig) { return sig == SIGTERM ? 0 : 1; }

// Restores the previous action of `sig` and raises it again.
void TakePreviousAction(int sig) {
  GracefulState& g = G();
  sigaction(sig, &g.previous[IndexOf(sig)], nullptr);
  const struct sigaction& p = g.previous[IndexOf(sig)];
  if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler == SIG_IGN) return;
  raise(sig);
}

void Handler(int sig, siginfo_t* info, void* uctx) {
  GracefulState& g = G();
  const int saved_errno = errno;
  // Chain: a handler the application installed before ours.
  const struct sigaction& p = g.previous[IndexOf(sig)];
  if (p.sa_flags & SA_SIGINFO) {
    if (p.sa_sigaction != nullptr) p.sa_sigaction(sig, info, uctx);
  } else if (p.sa_handler != SIG_DFL && p.sa_handler != SIG_IGN && p.sa_handler != nullptr) {
    p.sa_handler(sig);
  }
  int expected = 0;
  if (!g.pending.compare_exchange_strong(expected, sig)) {
    // A second signal while stopping: the previous action, now.
    signal(sig, p.sa_flags & SA_SIGINFO ? SIG_DFL : p.sa_handler);
    if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler == SIG_IGN) return;
    raise(sig);
    errno = saved_errno;
    return;
  }
  char c = static_cast<char>(sig);
  ssize_t n = write(g.pipe_w, &c, 1);
  (void)n;
  errno = saved_errno;
}

void Helper() {
  GracefulState& g = G();
  char c;
  for (;;) {
    ssize_t n = read(g.pipe_r, &c, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    return;
  }
  const int sig = static_cast<unsigned char>(c);
  std::function<void()> stop;
  std::chrono::milliseconds timeout;
  {
    std::lock_guard<std::mutex> lock(g.mu);
    stop = g.stop;
    timeout = g.flush_timeout;
  }
  Log(LogLevel::kInfo, std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                           (stop ? ": stopping the application; telemetry is flushed as its handles shut down"
                                 : ": flushing telemetry before the signal's default action"));
  if (stop) {
    try {
      stop();
    } catch (...) {
      Log(LogLevel::kError, "the stop callback given to StopGracefullyOnSignals threw; flushing and exiting");
      stop = nullptr;
    }
    if (stop) return;
  }
  OperationResult r = GetTracerProvider()->ForceFlush(timeout);
  if (!r.ok()) {
    Log(LogLevel::kWarning, "flush on " + std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + " did not finish: " +
                                std::string(r.ToString()));
  }
  TakePreviousAction(sig);
}

}  // namespace

void StopGracefullyOnSignals(std::function<void()> stop, std::chrono::milliseconds flush_timeout) {
  GracefulState& g = G();
  std::lock_guard<std::mutex> lock(g.mu);
  g.stop = std::move(stop);
  g.flush_timeout = flush_timeout;
  if (g.installed) return;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    Log(LogLevel::kWarning, std::string("StopGracefullyOnSignals: pipe failed (") + std::strerror(errno) +
                                "); SIGTERM/SIGINT keep their default action, so the last spans may be lost");
    return;
  }
  g.pipe_r = fds[0];
  g.pipe_w = fds[1];
  try {
    std::thread(Helper).detach();
  } catch (...) {
    Log(LogLevel::kWarning, "StopGracefullyOnSignals: could not start its thread; SIGTERM/SIGINT keep their "
                            "default action");
    return;
  }
  for (int sig : kSignals) {
    struct sigaction cur {};
    sigaction(sig, nullptr, &cur);
    g.previous[IndexOf(sig)] = cur;
    // An ignored signal stays ignored (nohup, a supervisor's choice).
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_sigaction = Handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &g.previous[IndexOf(sig)]) != 0) {
      Log(LogLevel::kWarning, std::string("StopGracefullyOnSignals: sigaction failed (") + std::strerror(errno) +
                                  ")");
    }
  }
  g.installed = true;
}

}  // namespace otelweb
