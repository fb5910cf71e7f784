// Private: the drop summary, one bounded line that says what a processor
// (any signal: spans, log records, metric data points) did not export and
// why. Said periodically (every OTEL_CPP_DROP_SUMMARY_INTERVAL, default
// 30 s, only when something was not exported since the last line) and once
// at shutdown. The OTLP exporter's failures are part of it: the exporter logs
// its first failure with the reason at once, then only notes the latest
// reason here (NoteExportFailure) while a processor reports summaries for the
// same kind of item, so a failing collector is reported once per interval,
// not twice.
//
// Ownership: a DropSummary is a member of its processor; the failure notes
// are process-wide (one per kind of item).
// Thread-safety: Tick and AtShutdown from any thread (a try-lock keeps two
// callers from reporting the same window twice); NoteExportFailure and
// LastExportFailure from any thread (a mutex per kind of item).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "otelweb/processor_counters.h"

namespace otelweb::internal {

inline constexpr const char* kEnvDropSummaryInterval = "OTEL_CPP_DROP_SUMMARY_INTERVAL";
inline constexpr std::chrono::milliseconds kDefaultDropSummaryInterval{30000};

// OTEL_CPP_DROP_SUMMARY_INTERVAL (ms, 0 = no periodic line; the shutdown line
// stays), else 30 s. Read when a processor is created.
std::chrono::milliseconds ResolveDropSummaryInterval() noexcept;

// The latest export failure's reason for `items` ("spans", "log records",
// "data points"), kept for the next summary line (cut to 300 bytes).
void NoteExportFailure(std::string_view items, std::string_view why) noexcept;
std::string LastExportFailure(std::string_view items);
// How many processors report periodic summaries of `items` now: an exporter
// that sees one stays quiet after its first failure.
int SummaryReporters(std::string_view items) noexcept;

class DropSummary {
 public:
  using Clock = std::chrono::steady_clock;

  // `what`: "batch span processor"; `items`: "spans" (both static strings).
  DropSummary(const char* what, const char* items) noexcept;
  ~DropSummary();
  DropSummary(const DropSummary&) = delete;
  DropSummary& operator=(const DropSummary&) = delete;

  std::chrono::milliseconds interval() const noexcept { return interval_; }
  // True when a periodic line may be due (one clock read, one relaxed load).
  bool Due(Clock::time_point now = Clock::now()) const noexcept {
    return interval_.count() > 0 && now.time_since_epoch().count() >= next_ns_.load(std::memory_order_relaxed);
  }
  // When the next periodic line may be due (Clock::time_point::max() if never).
  Clock::time_point NextDue() const noexcept;
  // If due: one warning line when anything was not exported since the last
  // line (by reason, with the export failures and the latest reason), then
  // the next window starts. `now` is the processor's counters.
  void Tick(const ProcessorCounters& now) noexcept;
  // The shutdown line (once): a warning with the losses by reason and the
  // latest export failure when anything was not exported, else a debug line.
  void AtShutdown(const ProcessorCounters& total) noexcept;
  // fork(): the child's counters start at zero, so does its window.
  void ResetAfterFork() noexcept;

 private:
  const char* what_;
  const char* items_;
  std::chrono::milliseconds interval_;
  std::atomic<int64_t> next_ns_{0};
  std::mutex mu_;            // one reporter at a time
  ProcessorCounters last_;   // guarded by mu_: the counters at the last line
  std::atomic<bool> shutdown_reported_{false};
};

}  // namespace otelweb::internal
