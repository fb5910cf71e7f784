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
using internal::processor::Add;
using internal::processor::CountExport;
using internal::processor::SafeExport;
using Clock = std::chrono::steady_clock;

struct SimpleSpanProcessor::State {
  std::unique_ptr<SpanExporter> exporter;
  std::mutex mu;
  std::atomic<bool> shut_down{false};
  std::atomic<bool> warned_fail{false};
  std::atomic<uint64_t> exported{0}, failed{0}, after_shutdown{0}, not_sampled{0}, calls{0};
  // Successful exports not yet added to the process-wide counter (folded in
  // by GetSdkCounters through the registry below).
  std::atomic<uint64_t> global_share_exported{0};
};

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
    Add(s_->not_sampled, 1);
    return;
  }
  if (s_->shut_down.load(std::memory_order_relaxed) || !s_->exporter) {
    Add(s_->after_shutdown, 1);
    Add(internal::Globals().dropped_after_shutdown, 1);
    return;
  }
  std::lock_guard<std::mutex> lock(s_->mu);
  // Counters are written under the mutex only: plain load+store, no locked
  // instruction on the hot path.
  auto bump = [](std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  };
  bump(s_->calls);
  ExportResult r = SafeExport(*s_->exporter, std::span<EndedSpan>(&span, 1));
  if (r == ExportResult::kSuccess) {
    bump(s_->exported);
    bump(s_->global_share_exported);
  } else {
    CountExport(r, 1, s_->exported, s_->failed, s_->warned_fail, s_->exporter->Name());
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
  std::lock_guard<std::mutex> lock(s_->mu);
  try {
    return s_->exporter->Shutdown(timeout);
  } catch (...) {
    return OperationResult::Failure();
  }
}

ProcessorCounters SimpleSpanProcessor::counters() const noexcept {
  ProcessorCounters c;
  c.exported = s_->exported.load();
  c.export_failed = s_->failed.load();
  c.dropped_after_shutdown = s_->after_shutdown.load();
  c.dropped_not_sampled = s_->not_sampled.load();
  c.export_calls = s_->calls.load();
  return c;
}

}  // namespace otelweb
