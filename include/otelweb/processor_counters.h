// ProcessorCounters: what an export processor did with the items (spans, log
// records, metric exports) it was given. One struct for every signal and for
// both kinds of processor (simple and batching), so that "where did my
// telemetry go" has one answer: every item offered to a processor ends up in
// exactly one of exported, export_failed, dropped_queue_full,
// dropped_after_shutdown, dropped_deadline or dropped_not_sampled.
//
// Ownership: a plain value, a snapshot (see counters() on each processor).
// Thread-safety: snapshots are taken with relaxed loads from any thread; one
// taken while items flow is approximate by the few items in flight. After a
// processor's Shutdown returned, its counters are final except for the items
// a stuck export still holds (counted as dropped_deadline at the time
// Shutdown gave up on them).
#pragma once

#include <cstdint>

namespace otelweb {

struct ProcessorCounters {
  uint64_t exported = 0;                // items in a batch whose Export succeeded
  uint64_t export_failed = 0;           // items in a batch whose Export failed (after the exporter's retries)
  uint64_t dropped_queue_full = 0;      // batching only: offered while the queue was at capacity
  uint64_t dropped_after_shutdown = 0;  // offered after Shutdown began
  uint64_t dropped_deadline = 0;        // queued, but the flush/shutdown deadline passed before export
  uint64_t dropped_not_sampled = 0;     // record-only spans (never exported; not an error)
  uint64_t export_calls = 0;            // Export calls made
  uint64_t export_calls_failed = 0;     // Export calls that failed

  // Items that should have been exported and were not, whatever the reason
  // (dropped_not_sampled is by design, so it is left out).
  constexpr uint64_t not_exported() const noexcept {
    return export_failed + dropped_queue_full + dropped_after_shutdown + dropped_deadline;
  }
};

}  // namespace otelweb
