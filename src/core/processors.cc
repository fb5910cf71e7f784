// Simple and batch span processors.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/internal.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"

namespace otelweb {

using internal::SpanRecord;
using Clock = std::chrono::steady_clock;

namespace {

void Add(std::atomic<uint64_t>& c, uint64_t n) { c.fetch_add(n, std::memory_order_relaxed); }

// Calls Export, turning an exception into a failure.
ExportResult SafeExport(SpanExporter& e, std::span<EndedSpan> batch) noexcept {
  static std::atomic<bool> warned{false};
  try {
    return e.Export(batch);
  } catch (...) {
    LogOnce(warned, LogLevel::kError, "a span exporter threw from Export; the batch counts as failed");
    return ExportResult::kFailure;
  }
}

void CountExport(ExportResult r, size_t n, std::atomic<uint64_t>& exported, std::atomic<uint64_t>& failed,
                 std::atomic<bool>& warned, std::string_view exporter_name) {
  auto& g = internal::Globals();
  if (r == ExportResult::kSuccess) {
    Add(exported, n);
    Add(g.exported, n);
  } else {
    Add(failed, n);
    Add(g.export_failed, n);
    Add(g.export_calls_failed, 1);
    if (!warned.load(std::memory_order_relaxed) && !warned.exchange(true)) {
      Log(LogLevel::kWarning, "exporter '" + std::string(exporter_name) +
                                  "' failed to export a batch of " + std::to_string(n) +
                                  " spans (later failures are counted, not logged)");
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Simple

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

// ---------------------------------------------------------------------------
// Batch

namespace {

void FutexWake(std::atomic<uint32_t>* a) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void FutexWait(std::atomic<uint32_t>* a, uint32_t expected, Clock::duration d) noexcept {
  if (d <= Clock::duration::zero()) return;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

uint64_t RoundUpPow2(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

struct BatchSpanProcessor::State {
  ResolvedBatchOptions opt;
  std::unique_ptr<SpanExporter> exporter;

  struct Slot {
    std::atomic<uint64_t> seq;
    SpanRecord* rec;
  };
  std::unique_ptr<Slot[]> slots;
  uint64_t capacity = 0;
  uint64_t mask = 0;

  alignas(64) std::atomic<uint64_t> tail{0};  // next position producers claim
  alignas(64) std::atomic<uint64_t> head{0};  // next position the worker reads
  alignas(64) std::atomic<uint32_t> wake_seq{0};
  std::atomic<bool> wake_pending{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> flush_requested{0};
  std::atomic<int64_t> stop_deadline_ns{0};  // steady clock, for the final drain
  alignas(64) std::atomic<bool> shut_down{false};

  std::mutex mu;  // flush/shutdown hand-shakes
  std::condition_variable cv;
  uint64_t flush_done = 0;  // guarded by mu
  bool worker_done = false;  // guarded by mu
  std::thread worker;

  std::atomic<bool> warned_drop{false}, warned_fail{false};
  std::atomic<uint64_t> exported{0}, failed{0}, dropped_full{0}, after_shutdown{0}, not_sampled{0},
      calls{0};

  void Wake() noexcept {
    wake_seq.fetch_add(1, std::memory_order_release);
    FutexWake(&wake_seq);
  }

  uint64_t Size() const noexcept {
    // head is read second and may have passed the tail read first: clamp.
    const uint64_t t = tail.load(std::memory_order_acquire);
    const uint64_t h = head.load(std::memory_order_acquire);
    return t > h ? t - h : 0;
  }

  // Worker only: takes up to max published records.
  size_t Dequeue(SpanRecord** out, size_t max) noexcept {
    uint64_t pos = head.load(std::memory_order_relaxed);
    size_t n = 0;
    while (n < max) {
      Slot& s = slots[pos & mask];
      if (s.seq.load(std::memory_order_acquire) != pos + 1) break;
      if (s.rec != nullptr) out[n++] = s.rec;  // nullptr: a slot given up at shutdown
      s.seq.store(pos + capacity, std::memory_order_release);
      ++pos;
    }
    head.store(pos, std::memory_order_release);
    return n;
  }

  void ExportBatch(std::vector<SpanRecord*>& recs, std::vector<EndedSpan>& handles, size_t n) {
    handles.clear();
    for (size_t i = 0; i < n; ++i) handles.emplace_back(recs[i]);
    Add(calls, 1);
    ExportResult r = SafeExport(*exporter, std::span<EndedSpan>(handles.data(), n));
    CountExport(r, n, exported, failed, warned_fail, exporter->Name());
    // Hand the storage back in bulk (one CAS per producing thread).
    for (size_t i = 0; i < n; ++i) recs[i] = handles[i].release_record();
    internal::UnrefRecords(recs.data(), n);
  }

  void Run() {
    const size_t batch = opt.max_export_batch_size;
    std::vector<SpanRecord*> recs(batch);
    std::vector<EndedSpan> handles;
    handles.reserve(batch);
    auto next_export = Clock::now() + opt.schedule_delay;
    uint64_t flush_seen = 0;
    for (;;) {
      // Sleep until a batch is full, the delay passes, or someone asks.
      for (;;) {
        if (stop.load(std::memory_order_acquire)) break;
        if (flush_requested.load(std::memory_order_acquire) != flush_seen) break;
        if (Size() >= batch) break;
        auto now = Clock::now();
        if (now >= next_export) break;
        wake_pending.store(false, std::memory_order_relaxed);
        uint32_t observed = wake_seq.load(std::memory_order_acquire);
        if (stop.load(std::memory_order_acquire) || Size() >= batch ||
            flush_requested.load(std::memory_order_acquire) != flush_seen) {
          break;
        }
        FutexWait(&wake_seq, observed, next_export - now);
      }
      const bool stopping = stop.load(std::memory_order_acquire);
      const uint64_t flush_req = flush_requested.load(std::memory_order_acquire);
      const bool drain_all = stopping || flush_req != flush_seen || Clock::now() >= next_export;
      // Export full batches; with drain_all, also the last partial one.
      for (;;) {
        if (stopping) {
          int64_t dl = stop_deadline_ns.load(std::memory_order_relaxed);
          if (Clock::now().time_since_epoch().count() > dl) break;
        }
        if (!drain_all && Size() < batch) break;
        size_t n = Dequeue(recs.data(), batch);
        if (n == 0) break;
        ExportBatch(recs, handles, n);
      }
      next_export = Clock::now() + opt.schedule_delay;
      if (flush_req != flush_seen) {
        flush_seen = flush_req;
        std::lock_guard<std::mutex> lock(mu);
        flush_done = flush_req;
        cv.notify_all();
      }
      if (stopping) break;
    }
    // A producer that read shut_down == false just before Shutdown may have
    // claimed a slot that it has not published yet. Every claim made before
    // this load of `tail` gets published within a few instructions (claims
    // made after it see shut_down == true and give their slot up, see OnEnd):
    // wait for them, export them if the deadline allows, else count them.
    const uint64_t claimed = tail.load(std::memory_order_seq_cst);
    const int64_t dl = stop_deadline_ns.load(std::memory_order_relaxed);
    const auto give_up = Clock::now() + std::chrono::milliseconds(100);
    for (uint64_t pos = head.load(std::memory_order_relaxed); pos < claimed;) {
      if (slots[pos & mask].seq.load(std::memory_order_acquire) == pos + 1) {
        ++pos;
      } else if (Clock::now() > give_up && Clock::now().time_since_epoch().count() > dl) {
        Log(LogLevel::kWarning, "batch span processor: a thread ending a span stalled during shutdown; "
                                "its span is lost");
        break;
      } else {
        std::this_thread::yield();
      }
    }
    for (size_t m; Clock::now().time_since_epoch().count() <= dl && (m = Dequeue(recs.data(), batch)) != 0;) {
      ExportBatch(recs, handles, m);
    }
    // Whatever is left could not be exported within the deadline.
    size_t n;
    uint64_t left = 0;
    while ((n = Dequeue(recs.data(), batch)) != 0) {
      left += n;
      for (size_t i = 0; i < n; ++i) internal::UnrefRecord(recs[i]);
    }
    if (left != 0) {
      Add(after_shutdown, left);
      Add(internal::Globals().dropped_after_shutdown, left);
      Log(LogLevel::kWarning, "batch span processor shut down with " + std::to_string(left) +
                                  " spans not exported (deadline passed)");
    }
    std::lock_guard<std::mutex> lock(mu);
    worker_done = true;
    cv.notify_all();
  }
};

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchOptions options)
    : s_(std::make_shared<State>()) {
  s_->opt = ResolveBatchOptions(options);
  s_->exporter = std::move(exporter);
  s_->capacity = RoundUpPow2(s_->opt.max_queue_size);
  s_->mask = s_->capacity - 1;
  s_->slots.reset(new State::Slot[s_->capacity]);
  for (uint64_t i = 0; i < s_->capacity; ++i) {
    s_->slots[i].seq.store(i, std::memory_order_relaxed);
    s_->slots[i].rec = nullptr;
  }
  if (!s_->exporter) {
    Log(LogLevel::kWarning, "BatchSpanProcessor created without an exporter; spans are dropped");
    s_->shut_down.store(true);
    s_->worker_done = true;
    return;
  }
  try {
    std::shared_ptr<State> st = s_;
    s_->worker = std::thread([st] { st->Run(); });
  } catch (...) {
    Log(LogLevel::kError, "BatchSpanProcessor could not start its worker thread; spans are dropped");
    s_->shut_down.store(true);
    s_->worker_done = true;
  }
}

BatchSpanProcessor::~BatchSpanProcessor() {
  if (!s_->shut_down.load()) Shutdown(s_->opt.export_timeout);
  if (s_->worker.joinable()) s_->worker.detach();
}

void BatchSpanProcessor::OnEnd(EndedSpan span) noexcept {
  State& s = *s_;
  SpanRecord* r = span.release_record();
  if (!r->context_.sampled()) {
    Add(s.not_sampled, 1);
    internal::UnrefRecord(r);
    return;
  }
  if (s.shut_down.load(std::memory_order_relaxed)) {
    Add(s.after_shutdown, 1);
    Add(internal::Globals().dropped_after_shutdown, 1);
    internal::UnrefRecord(r);
    return;
  }
  const uint64_t max_q = s.opt.max_queue_size;
  uint64_t pos = s.tail.load(std::memory_order_relaxed);
  State::Slot* slot;
  for (;;) {
    // Signed: `pos` may be stale (this thread was preempted while others
    // moved tail and the worker moved head past it); unsigned, that
    // difference wraps and looked like a full queue, dropping a span.
    if (static_cast<int64_t>(pos - s.head.load(std::memory_order_acquire)) >= static_cast<int64_t>(max_q)) {
      goto full;
    }
    slot = &s.slots[pos & s.mask];
    {
      uint64_t seq = slot->seq.load(std::memory_order_acquire);
      int64_t dif = static_cast<int64_t>(seq - pos);
      if (dif == 0) {
        // seq_cst (the same locked instruction on x86) pairs with the
        // shut_down load below and the worker's final load of tail.
        if (s.tail.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
          break;
        }
      } else if (dif < 0) {
        goto full;
      } else {
        pos = s.tail.load(std::memory_order_relaxed);
      }
    }
  }
  if (s.shut_down.load(std::memory_order_seq_cst)) {
    // Shutdown began between the check above and the claim: the worker may
    // already have taken its last look at the queue. Give the slot up (an
    // empty slot is skipped) and count the span, rather than strand it.
    slot->rec = nullptr;
    slot->seq.store(pos + 1, std::memory_order_release);
    Add(s.after_shutdown, 1);
    Add(internal::Globals().dropped_after_shutdown, 1);
    internal::UnrefRecord(r);
    return;
  }
  slot->rec = r;
  slot->seq.store(pos + 1, std::memory_order_release);
  if (static_cast<int64_t>(pos + 1 - s.head.load(std::memory_order_relaxed)) >=
          static_cast<int64_t>(s.opt.max_export_batch_size) &&
      !s.wake_pending.load(std::memory_order_relaxed) &&
      !s.wake_pending.exchange(true, std::memory_order_relaxed)) {
    s.Wake();
  }
  return;
full:
  Add(s.dropped_full, 1);
  Add(internal::Globals().dropped_queue_full, 1);
  if (!s.warned_drop.load(std::memory_order_relaxed)) {  // build the message only once
    LogOnce(s.warned_drop, LogLevel::kWarning,
            "batch span processor queue is full (" + std::to_string(max_q) +
                " spans); dropping spans. Later drops are counted (GetSdkCounters), not logged.");
  }
  internal::UnrefRecord(r);
}

OperationResult BatchSpanProcessor::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  State& s = *s_;
  if (s.shut_down.load()) return OperationResult::AlreadyShutDown();
  auto deadline = Clock::now() + timeout;
  uint64_t my;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    my = s.flush_requested.fetch_add(1, std::memory_order_acq_rel) + 1;
  }
  s.Wake();
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.cv.wait_until(lock, deadline, [&] { return s.flush_done >= my || s.worker_done; })) {
      return OperationResult::Timeout();
    }
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  try {
    return s.exporter->ForceFlush(std::max(left, std::chrono::milliseconds(0)));
  } catch (...) {
    return OperationResult::Failure();
  }
}

OperationResult BatchSpanProcessor::Shutdown(std::chrono::milliseconds timeout) noexcept {
  State& s = *s_;
  if (s.shut_down.exchange(true)) return OperationResult::AlreadyShutDown();
  auto deadline = Clock::now() + timeout;
  s.stop_deadline_ns.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
  s.stop.store(true, std::memory_order_release);
  s.Wake();
  bool done;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    done = s.cv.wait_until(lock, deadline, [&] { return s.worker_done; });
  }
  OperationResult result = OperationResult::Ok();
  if (done) {
    if (s.worker.joinable()) s.worker.join();
  } else {
    result = OperationResult::Timeout();
    Log(LogLevel::kWarning, "batch span processor shutdown timed out; the worker is left to finish");
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  try {
    // Also interrupts an export the worker may still be stuck in.
    result = result.Merge(s.exporter->Shutdown(std::max(left, std::chrono::milliseconds(0))));
  } catch (...) {
    result = result.Merge(OperationResult::Failure());
  }
  if (!done && s.worker.joinable()) s.worker.detach();
  return result;
}

ProcessorCounters BatchSpanProcessor::counters() const noexcept {
  ProcessorCounters c;
  c.exported = s_->exported.load();
  c.export_failed = s_->failed.load();
  c.dropped_queue_full = s_->dropped_full.load();
  c.dropped_after_shutdown = s_->after_shutdown.load();
  c.dropped_not_sampled = s_->not_sampled.load();
  c.export_calls = s_->calls.load();
  return c;
}

const ResolvedBatchOptions& BatchSpanProcessor::options() const noexcept { return s_->opt; }

}  // namespace otelweb
