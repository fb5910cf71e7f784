// SimpleSpanProcessor: exports each span as it ends, on the ending thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/internal.h"
#include "core/span_processor_util.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/simple_span_processor.h"

namespace otelweb {

using internal::SpanRecord;
using internal::Add;
using internal::DropReason;
using internal::processor::SafeExport;

namespace {

// Serialises exports. Uncontended, lock and unlock are one atomic instruction
// each (pthread_mutex_lock and unlock cost about 55 instructions per span);
// a contended lock sleeps in the kernel (a futex, through std::atomic::wait),
// so a thread waiting for a slow exporter does not spin.
// State: 0 free, 1 locked, 2 locked and maybe waited for.
class ExportLock {
 public:
  void lock() noexcept {
    int c = 0;
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    if (c != 2) c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      state_.wait(2, std::memory_order_relaxed);
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) state_.notify_one();
  }

 private:
  std::atomic<int> state_{0};
};

}  // namespace

struct SimpleSpanProcessor::State {
  [[gnu::cold, gnu::noinline]] friend void CountFailed(State& s) noexcept {
    internal::CountFailedExport(s.counters, &internal::Globals(), 1, s.warned_fail, s.exporter->Name(), "spans");
    s.summary.Tick(s.counters.Snapshot());  // a periodic line, when due
  }
  std::unique_ptr<SpanExporter> exporter;
  ExportLock mu;
  std::atomic<bool> shut_down{false};
  std::atomic<bool> warned_fail{false};
  internal::ExportCounters counters;
  internal::DropSummary summary{"simple span processor", "spans"};
  // Successful exports not yet added to the process-wide counter (folded in
  // by GetSdkCounters through the registry below).
  std::atomic<uint64_t> global_share_exported{0};
};

namespace {

// Out of OnEnd's fast path (keeps its register use as small as before).
[[gnu::cold, gnu::noinline]] void CountAfterShutdown(internal::ExportCounters& c) noexcept {
  internal::CountDropped(c, &internal::Globals(), DropReason::kAfterShutdown, 1);
}

}  // namespace

SimpleSpanProcessor::SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter) : s_(new State) {
  s_->exporter = std::move(exporter);
  internal::RegisterExportedShard(&s_->global_share_exported);
}

SimpleSpanProcessor::~SimpleSpanProcessor() {
  if (!s_->shut_down.load()) Shutdown();
  internal::UnregisterExportedShard(&s_->global_share_exported);
}

void SimpleSpanProcessor::OnEnd(EndedSpan span) noexcept {
  if (!span->context().sampled()) {
    Add(s_->counters.dropped_not_sampled, 1);
    return;
  }
  if (s_->shut_down.load(std::memory_order_relaxed) || !s_->exporter) {
    CountAfterShutdown(s_->counters);
    return;
  }
  std::lock_guard<ExportLock> lock(s_->mu);
  // Counters are written under the mutex only: plain load+store, no locked
  // instruction on the hot path.
  auto bump = [](std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  };
  ExportResult r = SafeExport(*s_->exporter, std::span<EndedSpan>(&span, 1));
  if (r == ExportResult::kSuccess) {
    bump(s_->counters.export_calls);
    bump(s_->counters.exported);
    bump(s_->global_share_exported);
  } else {
    bump(s_->counters.export_calls);
    CountFailed(*s_);
  }
}

OperationResult SimpleSpanProcessor::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  if (s_->shut_down.load()) return OperationResult::AlreadyShutDown();
  if (!s_->exporter) return OperationResult::Ok();
  try {
    return s_->exporter->ForceFlush(timeout);
  } catch (...) {
    return OperationResult::Failure();
  }
}

OperationResult SimpleSpanProcessor::Shutdown(std::chrono::milliseconds timeout) noexcept {
  if (s_->shut_down.exchange(true)) return OperationResult::AlreadyShutDown();
  if (!s_->exporter) return OperationResult::Ok();
  // Wait for an export in progress, then shut the exporter down.
  OperationResult r;
  {
    std::lock_guard<ExportLock> lock(s_->mu);
    try {
      r = s_->exporter->Shutdown(timeout);
    } catch (...) {
      r = OperationResult::Failure();
    }
  }
  s_->summary.AtShutdown(counters());
  return r;
}

ProcessorCounters SimpleSpanProcessor::counters() const noexcept { return s_->counters.Snapshot(); }

}  // namespace otelweb
