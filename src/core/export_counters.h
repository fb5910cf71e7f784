// Private: the atomics behind ProcessorCounters (otelweb/processor_counters.h),
// one struct for the simple and batching processors of every signal, and the
// helpers that count an export call or a drop by reason, in a processor's
// counters and in an optional process-wide mirror (spans: internal::Globals(),
// read by GetSdkCounters).
// Ownership: plain data owned by the processor (or the batch worker).
// Thread-safety: relaxed atomic adds from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/drop_summary.h"
#include "otelweb/diagnostics.h"
#include "otelweb/processor_counters.h"

namespace otelweb::internal {

inline void Add(std::atomic<uint64_t>& c, uint64_t n) noexcept { c.fetch_add(n, std::memory_order_relaxed); }

// Why an item was not exported (ProcessorCounters has one field per reason).
enum class DropReason : uint8_t { kQueueFull, kAfterShutdown, kDeadline, kExportFailed, kNotSampled };

// The counters of one processor (any signal). Written with relaxed atomic
// adds (or, by a writer that is serialised by a lock, plain load+store).
struct ExportCounters {
  std::atomic<uint64_t> exported{0};
  std::atomic<uint64_t> export_failed{0};
  std::atomic<uint64_t> export_calls{0};
  std::atomic<uint64_t> export_calls_failed{0};
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> dropped_after_shutdown{0};
  std::atomic<uint64_t> dropped_deadline{0};
  std::atomic<uint64_t> dropped_not_sampled{0};

  // Back to zero (a child process after fork() starts its own counts).
  void Reset() noexcept {
    for (auto* c : {&exported, &export_failed, &export_calls, &export_calls_failed, &dropped_queue_full,
                    &dropped_after_shutdown, &dropped_deadline, &dropped_not_sampled}) {
      c->store(0, std::memory_order_relaxed);
    }
  }
  ProcessorCounters Snapshot() const noexcept {
    ProcessorCounters c;
    c.exported = exported.load(std::memory_order_relaxed);
    c.export_failed = export_failed.load(std::memory_order_relaxed);
    c.export_calls = export_calls.load(std::memory_order_relaxed);
    c.export_calls_failed = export_calls_failed.load(std::memory_order_relaxed);
    c.dropped_queue_full = dropped_queue_full.load(std::memory_order_relaxed);
    c.dropped_after_shutdown = dropped_after_shutdown.load(std::memory_order_relaxed);
    c.dropped_deadline = dropped_deadline.load(std::memory_order_relaxed);
    c.dropped_not_sampled = dropped_not_sampled.load(std::memory_order_relaxed);
    return c;
  }

  std::atomic<uint64_t>& For(DropReason r) noexcept {
    switch (r) {
      case DropReason::kQueueFull: return dropped_queue_full;
      case DropReason::kAfterShutdown: return dropped_after_shutdown;
      case DropReason::kDeadline: return dropped_deadline;
      case DropReason::kExportFailed: return export_failed;
      case DropReason::kNotSampled: break;
    }
    return dropped_not_sampled;
  }
};

// Counts n items not exported for `reason` here and in `mirror` (may be null).
inline void CountDropped(ExportCounters& c, ExportCounters* mirror, DropReason reason, uint64_t n) noexcept {
  Add(c.For(reason), n);
  if (mirror != nullptr) Add(mirror->For(reason), n);
}

// The failure half of CountExportCall (cold, out of the callers' fast path).
[[gnu::cold, gnu::noinline]] inline void CountFailedExport(ExportCounters& c, ExportCounters* mirror, uint64_t n,
                                                           std::atomic<bool>& warned, std::string_view exporter_name,
                                                           std::string_view items) noexcept {
  Add(c.export_failed, n);
  Add(c.export_calls_failed, 1);
  if (mirror != nullptr) {
    Add(mirror->export_failed, n);
    Add(mirror->export_calls_failed, 1);
  }
  // An exporter that reported the failure with its reason (the OTLP one
  // does) is not echoed here; the processor's drop summary sums up the rest.
  if (!warned.load(std::memory_order_relaxed) && !warned.exchange(true) && LastExportFailure(items).empty()) {
    try {
      Log(LogLevel::kWarning, "exporter '" + std::string(exporter_name) + "' failed to export a batch of " +
                                  std::to_string(n) + " " + std::string(items) +
                                  " (later failures are counted in the processor's counters() and summed up every " +
                                  kEnvDropSummaryInterval + ", 30 s by default)");
    } catch (...) {
    }
  }
}

// Counts one Export call of n items. `warned`: the first failure is reported
// once (later ones are counted, not logged).
inline void CountExportCall(ExportCounters& c, ExportCounters* mirror, bool ok, uint64_t n, std::atomic<bool>& warned,
                            std::string_view exporter_name, std::string_view items) noexcept {
  Add(c.export_calls, 1);
  if (mirror != nullptr) Add(mirror->export_calls, 1);
  if (ok) {
    Add(c.exported, n);
    if (mirror != nullptr) Add(mirror->exported, n);
    return;
  }
  CountFailedExport(c, mirror, n, warned, exporter_name, items);
}

}  // namespace otelweb::internal
