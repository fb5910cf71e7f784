// Private: A/B switches for the performance experiments of issue 18
// (bench/ab18.sh, docs/performance.md "A/B experiments"). Each one turns one
// suspect of the end-to-end and paced-CPU cost off or swaps its policy, so
// that the same binary runs every arm.
//
// Who sets them: only the benchmark programs (bench/ab_env.h reads the
// OTELWEB_AB_* environment variables once, at start-up, before any provider
// or thread state exists). The library never reads the environment for them,
// and a normal program never changes them: the defaults are today's
// behaviour.
//
// Cost on the normal path: none on the span path. They are read where a
// worker or a thread state is built (wake policy, layout), once per batch on
// the worker thread (hand-back, export off), never per span.
// Thread-safety: set before the first provider is created; read-only after.
#pragma once

#include <cstdint>

namespace otelweb::internal::ab {

// What the batch worker does with the records of an exported batch.
enum class Handback : uint8_t {
  kReturn,  // back to the producing thread's pool (one CAS per pool): today
  kFree,    // deleted by the worker: the producer allocates fresh records
};

// When the batch worker wakes.
enum class Wake : uint8_t {
  kBatchFull,     // the producer that fills a batch wakes it, or the schedule delay: today
  kTimerOnly,     // only the schedule delay (producers never wake the worker)
  kEveryEnqueue,  // every enqueue that finds the worker asleep (as a zero schedule delay)
};

struct Switches {
  Handback handback = Handback::kReturn;
  Wake wake = Wake::kBatchFull;
  // The batch worker takes batches and releases the records but never calls
  // the exporter (export off, as opposed to a no-op exporter).
  bool export_off = false;
  // Record pools and per-thread counters each on their own 64-byte lines
  // (today: packed by malloc, so neighbouring threads' objects can share a
  // line).
  bool padded_thread_state = false;
};

// The process's switches (defaults = normal behaviour).
inline Switches& Get() noexcept {
  static Switches s;
  return s;
}

}  // namespace otelweb::internal::ab
