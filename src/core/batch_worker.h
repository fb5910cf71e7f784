// Private: the signal-neutral half of a batching processor, shared by the
// batch span processor, a batch log-record processor and a periodic metric
// reader.
//
//   internal::ExportCounters  the atomics behind ProcessorCounters (one struct
//                             for the simple and the batching processors of
//                             every signal), plus an optional process-wide
//                             mirror (spans: Globals(), read by GetSdkCounters)
//   internal::BatchWorker<Item>
//                             a bounded lock-free MPSC ring of Item* filled by
//                             TryEnqueue (any thread, never blocks, never
//                             allocates) and drained by one worker thread that
//                             exports batches through a Sink.
//
// Scheduling: the worker sleeps (futex) until the schedule delay passes, a
// batch is full (the producer that fills it wakes the worker: one wake per
// batch, not per item), ForceFlush asks, or Shutdown asks. Shutdown drains
// within its deadline, then shuts the exporter down (which interrupts a stuck
// export) and, if the worker is still stuck, takes the queue over itself:
// every item still queued or held by the stuck export is counted
// dropped_deadline before Shutdown returns, so nothing is lost uncounted.
//
// Using it for another signal (logs): write a Sink that owns the exporter,
// exports `Item** items, n` (Item = the signal's record type) and releases
// them; keep a BatchWorker<Record> member in the processor; OnEmit calls
// TryEnqueue and frees the record itself when the result is not kQueued
// (the drop is already counted). A periodic metric reader uses max_queue_size
// 1, never enqueues, and collects+exports in Sink::OnWake (kScheduled, kFlush,
// kShutdown).
//
// Ownership: the worker owns its Sink (and so the exporter) and the worker
// thread; the Sink lives as long as the thread, which may outlive the
// BatchWorker when a timed-out Shutdown detached it. An item passed to
// TryEnqueue is owned by the worker only when the result is kQueued;
// otherwise the caller still owns it. Items handed to Sink::Export are owned
// by the worker, which passes them to Sink::Release afterwards (also items
// drained without export at a passed deadline).
// Thread-safety: TryEnqueue from any number of threads concurrently;
// ForceFlush/Shutdown/counters() from any thread; Sink methods are called on
// the worker thread only, except ShutdownExporter/ForceFlushExporter (the
// calling thread of Shutdown/ForceFlush, possibly while Export runs) and
// Release (the Shutdown thread, after it took the queue over from a stuck
// worker; never concurrently with another Release).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/diagnostics.h"
#include "core/drop_summary.h"
#include "core/export_counters.h"
#include "core/fork.h"
#include "otelweb/processor_counters.h"

namespace otelweb::internal {

namespace batch_worker_detail {

inline void FutexWake(std::atomic<uint32_t>* a) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

inline void FutexWait(std::atomic<uint32_t>* a, uint32_t expected, std::chrono::steady_clock::duration d) noexcept {
  if (d <= std::chrono::steady_clock::duration::zero()) return;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

inline uint64_t RoundUpPow2(uint64_t v) noexcept {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// The one warning for a full queue (cold: built once per worker).
[[gnu::cold, gnu::noinline]] inline void WarnQueueFull(std::atomic<bool>& warned, const char* what, const char* items,
                                                       uint64_t capacity) noexcept {
  try {
    LogOnce(warned, LogLevel::kWarning,
            std::string(what) + " queue is full (" + std::to_string(capacity) + " " + items + "); dropping " +
                items + ". Later drops are counted (counters(), GetSdkCounters), not logged; raise the queue "
                "size or lower the schedule delay.");
  } catch (...) {
  }
}

}  // namespace batch_worker_detail

// Resolved scheduling options (each signal resolves its own env variables).
struct BatchWorkerOptions {
  uint32_t max_queue_size = 2048;
  std::chrono::milliseconds schedule_delay{5000};  // 0: export as soon as anything is queued
  uint32_t max_export_batch_size = 512;            // <= max_queue_size
  const char* what = "batch processor";            // for messages: "batch span processor"
  const char* items = "items";                     // for messages: "spans", "log records"
  // False: producers never wake the worker, which exports on the schedule
  // delay only (an A/B arm of issue 18, see core/ab_switches.h).
  bool wake_on_batch_full = true;
};

template <class Item>
class BatchWorker : public std::enable_shared_from_this<BatchWorker<Item>>, public ForkAware {
 public:
  enum class Enqueued : uint8_t { kQueued, kQueueFull, kShutDown };
  enum class WakeReason : uint8_t { kScheduled, kBatchFull, kFlush, kShutdown };

  // The signal-specific half, called by the worker (see the file comment for
  // the threads). All methods must not throw.
  class Sink {
   public:
    virtual ~Sink() = default;
    // Exports items[0..n). May rewrite the array in place (for instance with
    // the pointers it wants Release to see). True on success.
    virtual bool Export(Item** items, size_t n) noexcept = 0;
    // Frees items[0..n) (exported or dropped).
    virtual void Release(Item** items, size_t n) noexcept = 0;
    // Called each time the worker wakes, before it drains the queue. A
    // metric reader collects and exports here.
    virtual void OnWake(WakeReason reason) noexcept { (void)reason; }
    virtual OperationResult ForceFlushExporter(std::chrono::milliseconds timeout) noexcept {
      (void)timeout;
      return OperationResult::Ok();
    }
    // Must make a running Export return soon (an exporter's Shutdown does).
    virtual OperationResult ShutdownExporter(std::chrono::milliseconds timeout) noexcept = 0;
    virtual std::string_view ExporterName() const noexcept = 0;
  };

  // Hold a BatchWorker in a std::shared_ptr (std::make_shared, or
  // make_shared of a class derived from it) and call Start() once: the
  // worker thread keeps a reference, so that a timed-out Shutdown can detach
  // it. The owner calls Shutdown before dropping its reference (the
  // destructor does not; the last reference may be the detached thread's).
  // `mirror`: process-wide counters that every count is also added to (may
  // be null; must outlive the worker thread).
  BatchWorker(std::unique_ptr<Sink> sink_in, BatchWorkerOptions options, ExportCounters* mirror_counters = nullptr) {
    opt = options;
    if (opt.max_queue_size == 0) opt.max_queue_size = 1;
    if (opt.max_export_batch_size == 0 || opt.max_export_batch_size > opt.max_queue_size) {
      opt.max_export_batch_size = opt.max_queue_size;
    }
    mirror_ = mirror_counters;
    wake_at = opt.schedule_delay.count() == 0 ? 1 : opt.max_export_batch_size;
    if (!opt.wake_on_batch_full && opt.schedule_delay.count() != 0) wake_at = UINT64_MAX >> 2;
    sink = std::move(sink_in);
    summary_ = std::make_unique<DropSummary>(opt.what, opt.items);
    capacity = batch_worker_detail::RoundUpPow2(opt.max_queue_size);
    mask = capacity - 1;
    slots.reset(new Slot[capacity]);
    for (uint64_t i = 0; i < capacity; ++i) {
      slots[i].seq.store(i, std::memory_order_relaxed);
      slots[i].item = nullptr;
    }
  }
  virtual ~BatchWorker() { UnregisterForFork(this); }

  // Starts the worker thread. With a null sink (or if the thread cannot
  // start) the worker is shut down from the start: every item is counted
  // dropped_after_shutdown.
  void Start() noexcept {
    if (!sink) {
      shut_down.store(true);
      worker_done = true;
      return;
    }
    try {
      std::shared_ptr<BatchWorker> keep = this->shared_from_this();
      worker = std::thread([keep] { keep->Run(); });
      RegisterForFork(this);
    } catch (...) {
      Log(LogLevel::kError, std::string(opt.what) + " could not start its worker thread; " + opt.items +
                                " are dropped (is the process out of threads?)");
      shut_down.store(true);
      std::lock_guard<std::mutex> lock(mu);
      worker_done = true;
    }
  }

  BatchWorker(const BatchWorker&) = delete;
  BatchWorker& operator=(const BatchWorker&) = delete;

  // The hot path: one CAS to claim a slot, one release store to publish it.
  // Never blocks or allocates. A drop is counted (with its reason) here;
  // the caller frees the item when the result is not kQueued.
  Enqueued TryEnqueue(Item* item) noexcept {
    BatchWorker& s = *this;
    if (s.shut_down.load(std::memory_order_relaxed)) {
      CountDropped(s.counters_, s.mirror_, DropReason::kAfterShutdown, 1);
      return Enqueued::kShutDown;
    }
    const uint64_t max_q = s.opt.max_queue_size;
    uint64_t pos = s.tail.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      // Signed: `pos` may be stale (this thread was preempted while others
      // moved tail and the worker moved head past it); unsigned, that
      // difference wraps and looks like a full queue.
      if (static_cast<int64_t>(pos - s.head.load(std::memory_order_acquire)) >= static_cast<int64_t>(max_q)) {
        return Full(s);
      }
      slot = &s.slots[pos & s.mask];
      uint64_t seq = slot->seq.load(std::memory_order_acquire);
      int64_t dif = static_cast<int64_t>(seq - pos);
      if (dif == 0) {
        // seq_cst (the same locked instruction on x86) pairs with the
        // shut_down load below and the worker's final load of tail.
        if (s.tail.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
          break;
        }
      } else if (dif < 0) {
        return Full(s);
      } else {
        pos = s.tail.load(std::memory_order_relaxed);
      }
    }
    if (s.shut_down.load(std::memory_order_seq_cst)) {
      // Shutdown began between the check above and the claim: the worker may
      // already have taken its last look at the queue. Give the slot up (an
      // empty slot is skipped) and count the item, rather than strand it.
      slot->item = nullptr;
      slot->seq.store(pos + 1, std::memory_order_release);
      CountDropped(s.counters_, s.mirror_, DropReason::kAfterShutdown, 1);
      return Enqueued::kShutDown;
    }
    slot->item = item;
    slot->seq.store(pos + 1, std::memory_order_release);
    if (static_cast<int64_t>(pos + 1 - s.head.load(std::memory_order_relaxed)) >=
            static_cast<int64_t>(s.wake_at) &&
        !s.wake_pending.load(std::memory_order_relaxed) && !s.wake_pending.exchange(true, std::memory_order_relaxed)) {
      s.Wake();
    }
    return Enqueued::kQueued;
  }

  // Exports everything queued before the call, then flushes the exporter,
  // within `timeout`. Timeout if the deadline passed first.
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept {
    BatchWorker& s = *this;
    if (s.shut_down.load()) return OperationResult::AlreadyShutDown();
    auto deadline = DeadlineAfter(timeout);
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
    return s.sink->ForceFlushExporter(Left(deadline));
  }

  // Stops taking items, exports what is queued within `timeout`, shuts the
  // exporter down, and joins the worker. If the deadline passes first
  // (typically: an export stuck on a collector that does not answer), the
  // exporter is shut down to interrupt it, the queue and the stuck batch are
  // counted dropped_deadline, a warning says how many, and the worker is
  // detached (it frees what it holds when the export returns). Returns
  // Timeout in that case, AlreadyShutDown on a second call.
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept {
    BatchWorker& s = *this;
    if (s.shut_down.exchange(true)) return OperationResult::AlreadyShutDown();
    auto deadline = DeadlineAfter(timeout);
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
      result = s.sink->ShutdownExporter(Left(deadline));
      s.summary_->AtShutdown(s.counters());
      return result;
    }
    // Take the queue over and count what cannot be exported any more, then
    // interrupt the stuck export (the exporter's Shutdown cancels it).
    uint64_t lost = s.Abandon();
    result = OperationResult::Timeout().Merge(s.sink->ShutdownExporter(std::chrono::milliseconds(0)));
    {
      std::unique_lock<std::mutex> lock(s.mu);
      // A short grace: an interrupted export usually returns at once.
      done = s.cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return s.worker_done; });
    }
    if (done) {
      if (s.worker.joinable()) s.worker.join();
    } else if (s.worker.joinable()) {
      s.worker.detach();
    }
    try {
      Log(LogLevel::kWarning, std::string(s.opt.what) + " shutdown deadline passed (" +
                                  std::to_string(timeout.count()) + " ms) with the exporter '" +
                                  std::string(s.sink->ExporterName()) + "' still busy; " + std::to_string(lost) +
                                  " " + s.opt.items +
                                  " not exported (counted dropped_deadline). Is the collector reachable?");
    } catch (...) {
    }
    s.summary_->AtShutdown(s.counters());
    return result;
  }

  // fork(): the child gets a working pipeline of its own. Its worker thread,
  // its locks and the batch the parent's worker was exporting are the
  // parent's: the locks are constructed anew, the parent's thread and batch
  // forgotten (the parent exports that batch), the items queued before the
  // fork given back to their pools without export and without a count (the
  // parent exports them: nothing is exported twice), the counters start at
  // zero, and a new worker thread starts. A worker already shut down stays
  // shut down. Runs in the child's only thread, inside fork().
  // fork(): no export may be in progress at the moment of fork() (its
  // exporter's locks would stay taken in the child). Waits, bounded by
  // kForkQuiesceLimit, until the worker is between exports, and holds
  // consumer_mu (so that it starts no new one) until fork() returns.
  void BeforeFork() noexcept override {
    const auto limit = Clock::now() + kForkQuiesceLimit;
    for (;;) {
      consumer_mu.lock();
      if (!worker_exporting || Clock::now() >= limit) {
        fork_holds_consumer = true;
        return;
      }
      consumer_mu.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void AfterForkInParent() noexcept override {
    if (fork_holds_consumer) {
      fork_holds_consumer = false;
      consumer_mu.unlock();
    }
  }

  void AfterForkInChild() noexcept override {
    fork_holds_consumer = false;
    worker_exporting = false;  // the parent's worker: its batch stays the parent's
    new (&mu) std::mutex();
    new (&consumer_mu) std::mutex();
    new (&cv) std::condition_variable();
    new (&worker) std::thread();  // the parent's thread does not exist here: forget it
    if (shut_down.load(std::memory_order_relaxed)) {
      worker_done = true;
      return;
    }
    try {
      std::vector<Item*> buf;
      const uint64_t t = tail.load(std::memory_order_relaxed);
      for (uint64_t pos = head.load(std::memory_order_relaxed); pos < t; ++pos) {
        Slot& sl = slots[pos & mask];
        // An unpublished slot was being filled by a thread that is not in
        // the child: its item is the parent's.
        if (sl.seq.load(std::memory_order_relaxed) == pos + 1 && sl.item != nullptr) buf.push_back(sl.item);
      }
      if (!buf.empty()) sink->Release(buf.data(), buf.size());
    } catch (...) {
    }
    for (uint64_t i = 0; i < capacity; ++i) {
      slots[i].seq.store(i, std::memory_order_relaxed);
      slots[i].item = nullptr;
    }
    head.store(0, std::memory_order_relaxed);
    tail.store(0, std::memory_order_relaxed);
    in_flight.store(0, std::memory_order_relaxed);
    abandoned = false;
    wake_pending.store(false, std::memory_order_relaxed);
    stop.store(false, std::memory_order_relaxed);
    flush_requested.store(0, std::memory_order_relaxed);
    flush_done = 0;
    worker_done = false;
    counters_.Reset();
    summary_->ResetAfterFork();
    Start();
  }

  bool is_shut_down() const noexcept { return shut_down.load(std::memory_order_relaxed); }
  ProcessorCounters counters() const noexcept { return counters_.Snapshot(); }
  // For counts the signal keeps itself (dropped_not_sampled).
  ExportCounters& raw_counters() noexcept { return counters_; }
  ExportCounters* mirror() noexcept { return mirror_; }
  const BatchWorkerOptions& options() const noexcept { return opt; }
  size_t queued() const noexcept { return Size(); }

 private:
  using Clock = std::chrono::steady_clock;

  // A deadline from a timeout, saturating (a huge timeout means no limit).
  static Clock::time_point DeadlineAfter(std::chrono::milliseconds timeout) noexcept {
    const auto now = Clock::now();
    if (timeout.count() < 0) return now;
    if (timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now)) {
      return Clock::time_point::max();
    }
    return now + timeout;
  }
  static std::chrono::milliseconds Left(Clock::time_point deadline) noexcept {
    if (deadline == Clock::time_point::max()) return std::chrono::milliseconds::max();
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
                    std::chrono::milliseconds(0));
  }

  BatchWorkerOptions opt;
  std::unique_ptr<Sink> sink;
  ExportCounters* mirror_ = nullptr;

  struct Slot {
    std::atomic<uint64_t> seq;
    Item* item;
  };
  std::unique_ptr<Slot[]> slots;
  uint64_t capacity = 0;
  uint64_t mask = 0;
  // Queue length at which a producer wakes the worker: a full batch, or 1
  // with a zero schedule delay.
  uint64_t wake_at = 512;

  alignas(64) std::atomic<uint64_t> tail{0};  // next position producers claim
  alignas(64) std::atomic<uint64_t> head{0};  // next position the consumer reads
  alignas(64) std::atomic<uint32_t> wake_seq{0};
  std::atomic<bool> wake_pending{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> flush_requested{0};
  std::atomic<int64_t> stop_deadline_ns{0};  // steady clock, for the final drain
  alignas(64) std::atomic<bool> shut_down{false};

  std::mutex mu;  // flush/shutdown hand-shakes
  std::condition_variable cv;
  uint64_t flush_done = 0;   // guarded by mu
  bool worker_done = false;  // guarded by mu
  std::thread worker;

  // The consumer side: held while dequeuing (never during an export), so
  // that a Shutdown that gave up on a stuck worker can drain the queue.
  std::mutex consumer_mu;
  bool fork_holds_consumer = false;    // BeforeFork took consumer_mu (forking thread only)
  bool worker_exporting = false;       // guarded by consumer_mu: from dequeue to release
  bool abandoned = false;              // guarded by consumer_mu
  std::atomic<uint64_t> in_flight{0};  // items in the Export call running now

  std::atomic<bool> warned_drop{false}, warned_fail{false};
  ExportCounters counters_;
  std::unique_ptr<DropSummary> summary_;  // the periodic and shutdown lines

  void Wake() noexcept {
    wake_seq.fetch_add(1, std::memory_order_release);
    batch_worker_detail::FutexWake(&wake_seq);
  }

  uint64_t Size() const noexcept {
    // head is read second and may have passed the tail read first: clamp.
    const uint64_t t = tail.load(std::memory_order_acquire);
    const uint64_t h = head.load(std::memory_order_acquire);
    return t > h ? t - h : 0;
  }

  bool DeadlinePassed() const noexcept {
    return Clock::now().time_since_epoch().count() > stop_deadline_ns.load(std::memory_order_relaxed);
  }

  // Consumer only (consumer_mu held): takes up to max published items.
  size_t Dequeue(Item** out, size_t max) noexcept {
    uint64_t pos = head.load(std::memory_order_relaxed);
    size_t n = 0;
    while (n < max) {
      Slot& sl = slots[pos & mask];
      if (sl.seq.load(std::memory_order_acquire) != pos + 1) break;
      if (sl.item != nullptr) out[n++] = sl.item;  // nullptr: a slot given up at shutdown
      sl.seq.store(pos + capacity, std::memory_order_release);
      ++pos;
    }
    head.store(pos, std::memory_order_release);
    return n;
  }

  // consumer_mu held: frees everything published, counting it dropped_deadline.
  uint64_t DropQueued(std::vector<Item*>& buf) noexcept {
    uint64_t total = 0;
    for (size_t n; (n = Dequeue(buf.data(), buf.size())) != 0;) {
      total += n;
      sink->Release(buf.data(), n);
    }
    if (total != 0) CountDropped(counters_, mirror_, DropReason::kDeadline, total);
    return total;
  }

  // Shutdown's thread, once the worker is stuck past the deadline.
  uint64_t Abandon() noexcept {
    std::lock_guard<std::mutex> lock(consumer_mu);
    abandoned = true;
    uint64_t lost = in_flight.exchange(0, std::memory_order_acq_rel);
    if (lost != 0) CountDropped(counters_, mirror_, DropReason::kDeadline, lost);
    try {
      std::vector<Item*> buf(std::min<size_t>(opt.max_export_batch_size, 4096));
      lost += DropQueued(buf);
    } catch (...) {
    }
    return lost;
  }

  // Dequeues and exports one batch. False when there was nothing to take
  // (or the queue now belongs to an abandoning Shutdown).
  bool ExportOne(std::vector<Item*>& buf) noexcept {
    size_t n;
    {
      std::lock_guard<std::mutex> lock(consumer_mu);
      if (abandoned) return false;
      n = Dequeue(buf.data(), buf.size());
      if (n == 0) return false;
      in_flight.store(n, std::memory_order_release);
      worker_exporting = true;
    }
    bool ok = sink->Export(buf.data(), n);
    // Whoever takes in_flight counts the batch: this thread, or an
    // abandoning Shutdown (then it is already counted dropped_deadline).
    if (in_flight.exchange(0, std::memory_order_acq_rel) != 0) {
      CountExportCall(counters_, mirror_, ok, n, warned_fail, sink->ExporterName(), opt.items);
    }
    sink->Release(buf.data(), n);
    std::lock_guard<std::mutex> lock(consumer_mu);
    worker_exporting = false;
    return true;
  }

  void Run() noexcept {
    const size_t batch = opt.max_export_batch_size;
    std::vector<Item*> buf;
    try {
      buf.resize(batch);
    } catch (...) {
      Log(LogLevel::kError, std::string(opt.what) + ": out of memory for the export buffer");
      std::lock_guard<std::mutex> lock(mu);
      worker_done = true;
      cv.notify_all();
      return;
    }
    // A zero schedule delay: export as soon as anything is queued (the
    // producer of the first item wakes the worker, see wake_at).
    const bool immediate = opt.schedule_delay.count() == 0;
    auto next_delay = [&] { return immediate ? Clock::time_point::max() : Clock::now() + opt.schedule_delay; };
    auto next_export = next_delay();
    uint64_t flush_seen = 0;
    for (;;) {
      // Sleep until a batch is full, the delay passes, or someone asks.
      for (;;) {
        if (stop.load(std::memory_order_acquire)) break;
        if (flush_requested.load(std::memory_order_acquire) != flush_seen) break;
        if (Size() >= wake_at) break;
        auto now = Clock::now();
        if (summary_->Due(now)) summary_->Tick(counters_.Snapshot());
        if (now >= next_export) break;
        wake_pending.store(false, std::memory_order_relaxed);
        uint32_t observed = wake_seq.load(std::memory_order_acquire);
        if (stop.load(std::memory_order_acquire) || Size() >= wake_at ||
            flush_requested.load(std::memory_order_acquire) != flush_seen) {
          break;
        }
        // At most a second per sleep (a wake lost to a race costs that much).
        // and no later than the next drop summary.
        auto wait = std::min<Clock::duration>(
            {next_export - now, std::chrono::seconds(1),
             std::max<Clock::duration>(summary_->NextDue() - now, std::chrono::milliseconds(1))});
        batch_worker_detail::FutexWait(&wake_seq, observed, wait);
      }
      const bool stopping = stop.load(std::memory_order_acquire);
      const uint64_t flush_req = flush_requested.load(std::memory_order_acquire);
      const bool scheduled = Clock::now() >= next_export;
      const bool drain_all = immediate || stopping || flush_req != flush_seen || scheduled;
      sink->OnWake(stopping                  ? WakeReason::kShutdown
                   : flush_req != flush_seen ? WakeReason::kFlush
                   : scheduled               ? WakeReason::kScheduled
                                             : WakeReason::kBatchFull);
      // Export full batches; with drain_all, also the last partial one.
      for (;;) {
        if (stopping && DeadlinePassed()) break;
        if (!drain_all && Size() < batch) break;
        if (!ExportOne(buf)) break;
      }
      next_export = next_delay();
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
    // made after it see shut_down == true and give their slot up, see
    // TryEnqueue): wait for them, export them if the deadline allows, else
    // count them.
    const uint64_t claimed = tail.load(std::memory_order_seq_cst);
    const auto give_up = Clock::now() + std::chrono::milliseconds(100);
    for (uint64_t pos = head.load(std::memory_order_relaxed); pos < claimed;) {
      if (slots[pos & mask].seq.load(std::memory_order_acquire) == pos + 1) {
        ++pos;
      } else if (Clock::now() > give_up && DeadlinePassed()) {
        Log(LogLevel::kWarning, std::string(opt.what) + ": a thread stalled while handing over an item during "
                                                        "shutdown; that item is lost");
        break;
      } else {
        std::this_thread::yield();
      }
    }
    while (!DeadlinePassed() && ExportOne(buf)) {
    }
    // Whatever is left could not be exported within the deadline.
    uint64_t left;
    {
      std::lock_guard<std::mutex> lock(consumer_mu);
      left = DropQueued(buf);
    }
    if (left != 0) {
      try {
        Log(LogLevel::kWarning, std::string(opt.what) + " shut down with " + std::to_string(left) + " " +
                                    opt.items + " not exported (deadline passed; counted dropped_deadline)");
      } catch (...) {
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    worker_done = true;
    cv.notify_all();
  }

  static Enqueued Full(BatchWorker& s) noexcept {
    CountDropped(s.counters_, s.mirror_, DropReason::kQueueFull, 1);
    if (!s.warned_drop.load(std::memory_order_relaxed)) {
      batch_worker_detail::WarnQueueFull(s.warned_drop, s.opt.what, s.opt.items, s.opt.max_queue_size);
    }
    return Enqueued::kQueueFull;
  }

};

}  // namespace otelweb::internal
