// The drop summary (core/drop_summary.h): periodic and shutdown lines, and
// the process-wide latest export failure per kind of item.
#include "core/drop_summary.h"

#include <new>
#include <string>

#include "core/config.h"
#include "otelweb/diagnostics.h"

namespace otelweb::internal {

namespace {

constexpr size_t kMaxReasonBytes = 300;

// One slot per kind of item; "spans", "log records", "data points" and one
// for anything else.
struct FailureNote {
  std::mutex mu;
  std::string why;  // guarded by mu
  std::atomic<int> reporters{0};
};

FailureNote& NoteFor(std::string_view items) noexcept {
  static FailureNote notes[4];
  if (items == "spans") return notes[0];
  if (items == "log records") return notes[1];
  if (items == "data points") return notes[2];
  return notes[3];
}

uint64_t Since(uint64_t now, uint64_t then) noexcept { return now >= then ? now - then : now; }

// "100 queue full, 20 export failed" (parts that are zero left out).
void AppendReasons(std::string& m, const ProcessorCounters& c) {
  const char* sep = "";
  auto part = [&](uint64_t n, const char* reason) {
    if (n == 0) return;
    m += sep + std::to_string(n) + " " + reason;
    sep = ", ";
  };
  part(c.dropped_queue_full, "queue full");
  part(c.dropped_after_shutdown, "ended after shutdown");
  part(c.dropped_deadline, "shutdown deadline passed");
  part(c.export_failed, "export failed");
}

void AppendFailures(std::string& m, const ProcessorCounters& c, std::string_view items) {
  if (c.export_calls_failed == 0) return;
  m += "; " + std::to_string(c.export_calls_failed) + " of " + std::to_string(c.export_calls) +
       " export calls failed";
  std::string why = LastExportFailure(items);
  if (!why.empty()) m += ", latest: " + why;
}

}  // namespace

std::chrono::milliseconds ResolveDropSummaryInterval() noexcept {
  try {
    if (auto v = config::GetMillis(kEnvDropSummaryInterval)) return *v;
  } catch (...) {
  }
  return kDefaultDropSummaryInterval;
}

void NoteExportFailure(std::string_view items, std::string_view why) noexcept {
  FailureNote& n = NoteFor(items);
  try {
    std::lock_guard<std::mutex> lock(n.mu);
    n.why.assign(why.substr(0, kMaxReasonBytes));
    if (why.size() > kMaxReasonBytes) n.why += "...";
  } catch (...) {
  }
}

std::string LastExportFailure(std::string_view items) {
  FailureNote& n = NoteFor(items);
  std::lock_guard<std::mutex> lock(n.mu);
  return n.why;
}

int SummaryReporters(std::string_view items) noexcept {
  return NoteFor(items).reporters.load(std::memory_order_relaxed);
}

DropSummary::DropSummary(const char* what, const char* items) noexcept
    : what_(what), items_(items), interval_(ResolveDropSummaryInterval()) {
  if (interval_.count() > 0) {
    next_ns_.store((Clock::now() + interval_).time_since_epoch().count(), std::memory_order_relaxed);
    NoteFor(items_).reporters.fetch_add(1, std::memory_order_relaxed);
  }
}

DropSummary::~DropSummary() {
  if (interval_.count() > 0) NoteFor(items_).reporters.fetch_sub(1, std::memory_order_relaxed);
}

DropSummary::Clock::time_point DropSummary::NextDue() const noexcept {
  if (interval_.count() <= 0) return Clock::time_point::max();
  return Clock::time_point(Clock::duration(next_ns_.load(std::memory_order_relaxed)));
}

void DropSummary::Tick(const ProcessorCounters& now) noexcept {
  const auto t = Clock::now();
  if (!Due(t)) return;
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || !Due(t)) return;
  next_ns_.store((t + interval_).time_since_epoch().count(), std::memory_order_relaxed);
  ProcessorCounters d;
  d.exported = Since(now.exported, last_.exported);
  d.export_failed = Since(now.export_failed, last_.export_failed);
  d.dropped_queue_full = Since(now.dropped_queue_full, last_.dropped_queue_full);
  d.dropped_after_shutdown = Since(now.dropped_after_shutdown, last_.dropped_after_shutdown);
  d.dropped_deadline = Since(now.dropped_deadline, last_.dropped_deadline);
  d.export_calls = Since(now.export_calls, last_.export_calls);
  d.export_calls_failed = Since(now.export_calls_failed, last_.export_calls_failed);
  if (d.not_exported() == 0) return;  // the window starts again; nothing to say
  last_ = now;
  try {
    std::string m = std::string(what_) + ", last " + std::to_string(interval_.count()) + " ms: " +
                    std::to_string(d.not_exported()) + " " + items_ + " not exported (";
    AppendReasons(m, d);
    m += "), " + std::to_string(d.exported) + " exported";
    AppendFailures(m, d, items_);
    m += ". Totals: " + std::to_string(now.exported) + " exported, " + std::to_string(now.not_exported()) +
         " not exported (counters(); docs/troubleshooting.md, \"Telemetry is missing\")";
    Log(LogLevel::kWarning, m);
  } catch (...) {
  }
}

void DropSummary::AtShutdown(const ProcessorCounters& c) noexcept {
  if (shutdown_reported_.exchange(true)) return;
  try {
    const uint64_t lost = c.not_exported();
    std::string m = std::string(what_) + " shut down: " + std::to_string(c.exported) + " " + items_ + " exported";
    if (lost == 0) {
      Log(LogLevel::kDebug, m + ", none lost");
      return;
    }
    m += ", " + std::to_string(lost) + " not exported (";
    AppendReasons(m, c);
    m += ")";
    AppendFailures(m, c, items_);
    m += "; see the processor's counters() and docs/configuration.md (Deadlines)";
    Log(LogLevel::kWarning, m);
  } catch (...) {
  }
}

void DropSummary::ResetAfterFork() noexcept {
  new (&mu_) std::mutex();
  last_ = ProcessorCounters{};
  shutdown_reported_.store(false, std::memory_order_relaxed);
  if (interval_.count() > 0) {
    next_ns_.store((Clock::now() + interval_).time_since_epoch().count(), std::memory_order_relaxed);
  }
}

}  // namespace otelweb::internal
