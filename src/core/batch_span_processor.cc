// BatchSpanProcessor: a bounded lock-free queue filled by OnEnd and drained
// by one worker thread; and its options (code > environment > default).
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
#include "core/span_processor_util.h"
#include "otelweb/diagnostics.h"
#include "core/config.h"
#include "otelweb/trace/batch_span_processor.h"

namespace otelweb {

using internal::SpanRecord;
using internal::processor::Add;
using internal::processor::CountExport;
using internal::processor::SafeExport;
using Clock = std::chrono::steady_clock;

ResolvedBatchOptions ResolveBatchOptions(const BatchSpanProcessorOptions& o) {
  ResolvedBatchOptions r;
  auto positive = [](const char* name, int64_t max) -> std::optional<int64_t> {
    return config::GetInt(name, 1, max);
  };
  if (o.max_queue_size && *o.max_queue_size > 0) {
    r.max_queue_size = *o.max_queue_size;
  } else if (auto v = positive("OTEL_BSP_MAX_QUEUE_SIZE", 1 << 26)) {
    r.max_queue_size = static_cast<uint32_t>(*v);
  }
  if (o.schedule_delay && o.schedule_delay->count() > 0) {
    r.schedule_delay = *o.schedule_delay;
  } else if (auto v = positive("OTEL_BSP_SCHEDULE_DELAY", int64_t{1} << 40)) {
    r.schedule_delay = std::chrono::milliseconds(*v);
  }
  if (o.max_export_batch_size && *o.max_export_batch_size > 0) {
    r.max_export_batch_size = *o.max_export_batch_size;
  } else if (auto v = positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1 << 26)) {
    r.max_export_batch_size = static_cast<uint32_t>(*v);
  }
  if (o.export_timeout && o.export_timeout->count() > 0) {
    r.export_timeout = *o.export_timeout;
  } else if (auto v = positive("OTEL_BSP_EXPORT_TIMEOUT", int64_t{1} << 40)) {
    r.export_timeout = std::chrono::milliseconds(*v);
  }
  if (r.max_export_batch_size > r.max_queue_size) {
    Log(LogLevel::kWarning, "batch size " + std::to_string(r.max_export_batch_size) +
                                " is larger than the queue size " + std::to_string(r.max_queue_size) +
                                "; using the queue size");
    r.max_export_batch_size = r.max_queue_size;
  }
  return r;
}


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

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options)
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
