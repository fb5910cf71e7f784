// BatchLogRecordProcessor: a bounded ring of preallocated records filled by
// OnEmit (one CAS and a copy of the used bytes) and drained by one worker.
// The same scheme as the batch span processor (src/core/batch_span_processor.cc);
// the slots hold whole records instead of pooled pointers, so a slot is given
// back only after the Export that read it.
#include "otelweb/logs/batch_log_record_processor.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "logs/internal.h"
#include "otelweb/diagnostics.h"
#include "otelweb/logs/logger.h"

namespace otelweb::logs {

using internal::Add;
using Clock = std::chrono::steady_clock;

ResolvedBatchLogOptions ResolveBatchLogOptions(const BatchLogRecordProcessorOptions& o) {
  ResolvedBatchLogOptions r;
  if (o.max_queue_size && *o.max_queue_size > 0) {
    r.max_queue_size = *o.max_queue_size;
  } else if (auto v = config::GetInt("OTEL_BLRP_MAX_QUEUE_SIZE", 1, 1 << 24)) {
    r.max_queue_size = static_cast<uint32_t>(*v);
  }
  if (o.schedule_delay && o.schedule_delay->count() > 0) {
    r.schedule_delay = *o.schedule_delay;
  } else if (auto v = config::GetInt("OTEL_BLRP_SCHEDULE_DELAY", 1, int64_t{1} << 40)) {
    r.schedule_delay = std::chrono::milliseconds(*v);
  }
  if (o.max_export_batch_size && *o.max_export_batch_size > 0) {
    r.max_export_batch_size = *o.max_export_batch_size;
  } else if (auto v = config::GetInt("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", 1, 1 << 24)) {
    r.max_export_batch_size = static_cast<uint32_t>(*v);
  }
  if (o.export_timeout && o.export_timeout->count() > 0) {
    r.export_timeout = *o.export_timeout;
  } else if (auto v = config::GetInt("OTEL_BLRP_EXPORT_TIMEOUT", 1, int64_t{1} << 40)) {
    r.export_timeout = std::chrono::milliseconds(*v);
  }
  if (r.max_export_batch_size > r.max_queue_size) {
    Log(LogLevel::kWarning, "log batch size " + std::to_string(r.max_export_batch_size) +
                                " is larger than the queue size " + std::to_string(r.max_queue_size) +
                                "; using the queue size (OTEL_BLRP_MAX_EXPORT_BATCH_SIZE)");
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

struct BatchLogRecordProcessor::State {
  ResolvedBatchLogOptions opt;
  std::unique_ptr<LogRecordExporter> exporter;

  struct Slot {
    std::atomic<uint64_t> seq;
    bool filled;  // false: given up at shutdown
    LogRecord rec;
  };
  std::unique_ptr<Slot[]> slots;
  uint64_t capacity = 0;
  uint64_t mask = 0;

  alignas(64) std::atomic<uint64_t> tail{0};  // next position producers claim
  alignas(64) std::atomic<uint64_t> head{0};  // first position not yet exported
  alignas(64) std::atomic<uint32_t> wake_seq{0};
  std::atomic<bool> wake_pending{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> flush_requested{0};
  std::atomic<int64_t> stop_deadline_ns{0};
  alignas(64) std::atomic<bool> shut_down{false};

  std::mutex mu;
  std::condition_variable cv;
  uint64_t flush_done = 0;   // guarded by mu
  bool worker_done = false;  // guarded by mu
  std::thread worker;

  std::atomic<bool> warned_drop{false}, warned_fail{false};
  std::atomic<uint64_t> exported{0}, failed{0}, dropped_full{0}, after_shutdown{0}, calls{0};

  void Wake() noexcept {
    wake_seq.fetch_add(1, std::memory_order_release);
    FutexWake(&wake_seq);
  }

  uint64_t Size() const noexcept {
    const uint64_t t = tail.load(std::memory_order_acquire);
    const uint64_t h = head.load(std::memory_order_acquire);
    return t > h ? t - h : 0;
  }

  // Worker only: exports up to `batch` published records from head, then
  // gives their slots back. Returns how many slots it consumed.
  size_t ExportFromHead(std::vector<const LogRecord*>& recs, size_t batch) {
    const uint64_t start = head.load(std::memory_order_relaxed);
    uint64_t pos = start;
    recs.clear();
    while (pos - start < batch) {
      Slot& s = slots[pos & mask];
      if (s.seq.load(std::memory_order_acquire) != pos + 1) break;
      if (s.filled) recs.push_back(&s.rec);
      ++pos;
    }
    const size_t n = static_cast<size_t>(pos - start);
    if (n == 0) return 0;
    if (!recs.empty()) {
      Add(calls, 1);
      ExportResult r;
      try {
        r = exporter->Export(std::span<const LogRecord* const>(recs.data(), recs.size()));
      } catch (...) {
        r = ExportResult::kFailure;
      }
      if (r == ExportResult::kSuccess) {
        Add(exported, recs.size());
      } else {
        Add(failed, recs.size());
        if (!warned_fail.load(std::memory_order_relaxed)) {
          LogOnce(warned_fail, LogLevel::kWarning,
                  "log exporter '" + std::string(exporter->Name()) + "' failed to export a batch of " +
                      std::to_string(recs.size()) +
                      " records (later failures are counted, not logged); check its endpoint");
        }
      }
    }
    for (uint64_t p = start; p < pos; ++p) slots[p & mask].seq.store(p + capacity, std::memory_order_release);
    head.store(pos, std::memory_order_release);
    return n;
  }

  void Run() {
    // Whatever the exporter (or anything it calls) logs on this thread
    // through a bridged logger is dropped by the recursion guard.
    SuppressLogEmitScope no_emit;
    const size_t batch = opt.max_export_batch_size;
    std::vector<const LogRecord*> recs;
    recs.reserve(batch);
    auto next_export = Clock::now() + opt.schedule_delay;
    uint64_t flush_seen = 0;
    for (;;) {
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
      for (;;) {
        if (stopping && Clock::now().time_since_epoch().count() > stop_deadline_ns.load()) break;
        if (!drain_all && Size() < batch) break;
        if (ExportFromHead(recs, batch) == 0) break;
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
    // Claims made before shut_down was set get published within a few
    // instructions: wait for them (see the span processor for the argument).
    const uint64_t claimed = tail.load(std::memory_order_seq_cst);
    const int64_t dl = stop_deadline_ns.load();
    const auto give_up = Clock::now() + std::chrono::milliseconds(100);
    for (uint64_t pos = head.load(std::memory_order_relaxed); pos < claimed;) {
      if (slots[pos & mask].seq.load(std::memory_order_acquire) == pos + 1) {
        ++pos;
      } else if (Clock::now() > give_up) {
        break;
      } else {
        std::this_thread::yield();
      }
    }
    while (Clock::now().time_since_epoch().count() <= dl && ExportFromHead(recs, batch) != 0) {
    }
    const uint64_t left = Size();
    if (left != 0) {
      Add(after_shutdown, left);
      Log(LogLevel::kWarning, "batch log record processor shut down with " + std::to_string(left) +
                                  " records not exported (deadline passed; raise the shutdown timeout)");
    }
    std::lock_guard<std::mutex> lock(mu);
    worker_done = true;
    cv.notify_all();
  }
};

BatchLogRecordProcessor::BatchLogRecordProcessor(std::unique_ptr<LogRecordExporter> exporter,
                                                 BatchLogRecordProcessorOptions options)
    : s_(std::make_shared<State>()) {
  s_->opt = ResolveBatchLogOptions(options);
  s_->exporter = std::move(exporter);
  s_->capacity = RoundUpPow2(s_->opt.max_queue_size);
  s_->mask = s_->capacity - 1;
  s_->slots.reset(new State::Slot[s_->capacity]);
  for (uint64_t i = 0; i < s_->capacity; ++i) {
    s_->slots[i].seq.store(i, std::memory_order_relaxed);
    s_->slots[i].filled = false;
  }
  if (!s_->exporter) {
    Log(LogLevel::kWarning, "BatchLogRecordProcessor created without an exporter; records are dropped");
    s_->shut_down.store(true);
    s_->worker_done = true;
    return;
  }
  try {
    std::shared_ptr<State> st = s_;
    s_->worker = std::thread([st] { st->Run(); });
  } catch (...) {
    Log(LogLevel::kError, "BatchLogRecordProcessor could not start its worker thread; records are dropped");
    s_->shut_down.store(true);
    s_->worker_done = true;
  }
}

BatchLogRecordProcessor::~BatchLogRecordProcessor() {
  if (!s_->shut_down.load()) Shutdown(s_->opt.export_timeout);
  if (s_->worker.joinable()) s_->worker.detach();
}

void BatchLogRecordProcessor::OnEmit(LogRecord& record) noexcept {
  State& s = *s_;
  if (s.shut_down.load(std::memory_order_relaxed)) {
    Add(s.after_shutdown, 1);
    return;
  }
  const uint64_t max_q = s.opt.max_queue_size;
  uint64_t pos = s.tail.load(std::memory_order_relaxed);
  State::Slot* slot;
  for (;;) {
    if (static_cast<int64_t>(pos - s.head.load(std::memory_order_acquire)) >= static_cast<int64_t>(max_q)) {
      goto full;
    }
    slot = &s.slots[pos & s.mask];
    {
      const uint64_t seq = slot->seq.load(std::memory_order_acquire);
      const int64_t dif = static_cast<int64_t>(seq - pos);
      if (dif == 0) {
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
    slot->filled = false;
    slot->seq.store(pos + 1, std::memory_order_release);
    Add(s.after_shutdown, 1);
    return;
  }
  slot->rec.CopyFrom(record);
  slot->filled = true;
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
  if (!s.warned_drop.load(std::memory_order_relaxed)) {
    LogOnce(s.warned_drop, LogLevel::kWarning,
            "batch log record processor queue is full (" + std::to_string(max_q) +
                " records); dropping records. Later drops are counted (GetLogsSdkCounters), not logged; "
                "raise OTEL_BLRP_MAX_QUEUE_SIZE or check the exporter.");
  }
}

OperationResult BatchLogRecordProcessor::ForceFlush(std::chrono::milliseconds timeout) noexcept {
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

OperationResult BatchLogRecordProcessor::Shutdown(std::chrono::milliseconds timeout) noexcept {
  State& s = *s_;
  if (s.shut_down.exchange(true)) return OperationResult::AlreadyShutDown();
  auto deadline = Clock::now() + timeout;
  s.stop_deadline_ns.store(deadline.time_since_epoch().count());
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
    Log(LogLevel::kWarning, "batch log record processor shutdown timed out; the worker is left to finish");
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  try {
    result = result.Merge(s.exporter->Shutdown(std::max(left, std::chrono::milliseconds(0))));
  } catch (...) {
    result = result.Merge(OperationResult::Failure());
  }
  if (!done && s.worker.joinable()) s.worker.detach();
  return result;
}

LogProcessorCounters BatchLogRecordProcessor::counters() const noexcept {
  LogProcessorCounters c;
  c.exported = s_->exported.load();
  c.export_failed = s_->failed.load();
  c.dropped_queue_full = s_->dropped_full.load();
  c.dropped_after_shutdown = s_->after_shutdown.load();
  c.export_calls = s_->calls.load();
  return c;
}

const ResolvedBatchLogOptions& BatchLogRecordProcessor::options() const noexcept { return s_->opt; }

}  // namespace otelweb::logs
