// MetricReader, ManualReader and PeriodicExportingMetricReader.
#include "otelweb/metrics/metric_reader.h"

#include <algorithm>
#include <condition_variable>
#include <string>

#include "core/config.h"
#include "core/drop_summary.h"
#include "core/export_counters.h"
#include "metrics/provider_state.h"
#include "otelweb/diagnostics.h"

namespace otelweb::metrics {

MetricReader::~MetricReader() = default;

AggregationTemporality MetricReader::TemporalityFor(InstrumentKind) const noexcept {
  return AggregationTemporality::kCumulative;
}

bool MetricReader::Collect(ResourceMetrics* out) noexcept {
  std::shared_ptr<internal::ProviderState> p;
  size_t slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_ || !provider_) return false;
    p = provider_;
    slot = slot_;
  }
  try {
    return p->CollectFor(
        slot, [this](InstrumentKind k) { return TemporalityFor(k); }, out);
  } catch (...) {
    Log(LogLevel::kError,
        "otelweb metrics: a collection failed (out of memory?); the points were not reported.");
    return false;
  }
}

OperationResult MetricReader::ForceFlush(std::chrono::milliseconds) noexcept {
  return OperationResult::Ok();
}

OperationResult MetricReader::Shutdown(std::chrono::milliseconds timeout) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return OperationResult::AlreadyShutDown();
  }
  OperationResult r = OnShutdown(timeout);
  std::lock_guard<std::mutex> lock(mu_);
  shut_down_ = true;
  return r;
}

bool MetricReader::IsShutDown() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return shut_down_;
}

// ---------------------------------------------------------------------------
// PeriodicExportingMetricReader

struct PeriodicExportingMetricReader::Worker {
  std::unique_ptr<MetricExporter> exporter;
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds timeout{30000};
  std::shared_ptr<internal::ProviderState> provider;
  size_t slot = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool flush_pending = false;
  uint64_t started = 0;    // exports begun (periodic ones included)
  uint64_t completed = 0;  // exports finished
  bool stop = false;
  bool finished = false;
  bool shutdown_exporter_when_finished = false;
  std::thread thread;
  std::atomic<uint64_t> exports{0};
  std::atomic<bool> warned_slow{false};
  // Set when Shutdown's deadline passed during a collection (e.g. a callback
  // that does not return): that collection's late points are never exported.
  std::atomic<bool> abandoned{false};
  // Data points by outcome, and the drop summary over them.
  otelweb::internal::ExportCounters counters;
  otelweb::internal::DropSummary summary{"periodic metric reader", "data points"};
  std::atomic<bool> warned_fail{false};

  // The points of the last collection, kept so that the next collection
  // writes into their storage (no per-point allocation once the series are
  // stable); only the worker thread touches it. Holds at most one
  // collection's points between exports.
  ResourceMetrics rm;

  void ExportOnce() noexcept {
    auto t0 = std::chrono::steady_clock::now();
    bool ok = false;
    try {
      ok = provider->CollectFor(
          slot, [this](InstrumentKind k) { return exporter->TemporalityFor(k); }, &rm);
    } catch (...) {
      ok = false;
    }
    const uint64_t points = ok ? rm.PointCount() : 0;
    if (points > 0) {
      if (abandoned.load(std::memory_order_acquire)) {
        otelweb::internal::CountDropped(counters, nullptr, otelweb::internal::DropReason::kDeadline, points);
      } else {
        ExportResult r = ExportResult::kFailure;
        try {
          r = exporter->Export(rm);
        } catch (...) {
        }
        otelweb::internal::CountExportCall(counters, nullptr, r == ExportResult::kSuccess, points, warned_fail,
                                           exporter->Name(), "data points");
      }
    }
    exports.fetch_add(1, std::memory_order_relaxed);
    if (std::chrono::steady_clock::now() - t0 > timeout) {
      LogOnce(
          warned_slow, LogLevel::kWarning,
          "otelweb metrics: a collection and export took longer than OTEL_METRIC_EXPORT_TIMEOUT (" +
              std::to_string(timeout.count()) +
              " ms); check the exporter's endpoint or raise the timeout.");
    }
  }

  void Run() {
    std::unique_lock<std::mutex> lk(mu);
    auto next = std::chrono::steady_clock::now() + interval;
    for (;;) {
      // Wakes for the drop summary too (between exports, no collection).
      cv.wait_until(lk, std::min(next, summary.NextDue()), [&] { return stop || flush_pending; });
      if (!stop && !flush_pending && std::chrono::steady_clock::now() < next) {
        lk.unlock();
        summary.Tick(counters.Snapshot());
        lk.lock();
        continue;
      }
      bool last = stop;
      flush_pending = false;
      ++started;
      lk.unlock();
      ExportOnce();
      summary.Tick(counters.Snapshot());
      lk.lock();
      ++completed;
      next = std::chrono::steady_clock::now() + interval;
      cv.notify_all();
      if (last) break;
    }
    finished = true;
    bool shut = shutdown_exporter_when_finished;
    cv.notify_all();
    lk.unlock();
    if (shut) exporter->Shutdown(timeout);
  }
};

PeriodicExportingMetricReader::PeriodicExportingMetricReader(
    std::unique_ptr<MetricExporter> exporter, PeriodicReaderOptions options)
    : w_(std::make_shared<Worker>()) {
  w_->exporter = std::move(exporter);
  if (options.interval) {
    w_->interval = *options.interval;
  } else if (auto v = config::GetMillis("OTEL_METRIC_EXPORT_INTERVAL")) {
    w_->interval = *v;
  }
  if (options.timeout) {
    w_->timeout = *options.timeout;
  } else if (auto v = config::GetMillis("OTEL_METRIC_EXPORT_TIMEOUT")) {
    w_->timeout = *v;
  }
  if (w_->interval.count() <= 0) {
    Log(LogLevel::kWarning,
        "otelweb metrics: the export interval must be positive; 60000 ms is used. Set "
        "OTEL_METRIC_EXPORT_INTERVAL "
        "to a positive number of milliseconds.");
    w_->interval = std::chrono::milliseconds(60000);
  }
}

PeriodicExportingMetricReader::~PeriodicExportingMetricReader() {
  if (!IsShutDown()) Shutdown();
  if (w_->thread.joinable()) w_->thread.detach();  // Shutdown timed out: it finishes on its own
}

AggregationTemporality PeriodicExportingMetricReader::TemporalityFor(
    InstrumentKind kind) const noexcept {
  return w_->exporter ? w_->exporter->TemporalityFor(kind) : AggregationTemporality::kCumulative;
}

std::chrono::milliseconds PeriodicExportingMetricReader::interval() const noexcept {
  return w_->interval;
}
std::chrono::milliseconds PeriodicExportingMetricReader::timeout() const noexcept {
  return w_->timeout;
}
uint64_t PeriodicExportingMetricReader::exports() const noexcept {
  return w_->exports.load(std::memory_order_relaxed);
}
ProcessorCounters PeriodicExportingMetricReader::counters() const noexcept {
  return w_->counters.Snapshot();
}

void PeriodicExportingMetricReader::OnRegistered() noexcept {
  if (!w_->exporter) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    w_->provider = provider_;
    w_->slot = slot_;
  }
  try {
    auto w = w_;
    w_->thread = std::thread([w] { w->Run(); });
  } catch (...) {
    Log(LogLevel::kError,
        "otelweb metrics: the periodic reader could not start its thread; metrics are not "
        "exported. Check the process's thread limit.");
  }
}

OperationResult PeriodicExportingMetricReader::ForceFlush(
    std::chrono::milliseconds timeout) noexcept {
  if (IsShutDown()) return OperationResult::AlreadyShutDown();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lk(w_->mu);
  if (!w_->thread.joinable() || w_->finished) return OperationResult::Failure();
  // Wait for an export that begins after this request.
  uint64_t target = w_->started + 1;
  w_->flush_pending = true;
  w_->cv.notify_all();
  if (!w_->cv.wait_until(lk, deadline, [&] { return w_->completed >= target || w_->finished; })) {
    return OperationResult::Timeout();
  }
  lk.unlock();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return w_->exporter->ForceFlush(std::max(left, std::chrono::milliseconds(0)));
}

OperationResult PeriodicExportingMetricReader::OnShutdown(
    std::chrono::milliseconds timeout) noexcept {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!w_->thread.joinable()) {
    return w_->exporter ? w_->exporter->Shutdown(timeout) : OperationResult::Ok();
  }
  std::unique_lock<std::mutex> lk(w_->mu);
  w_->stop = true;
  w_->cv.notify_all();
  if (!w_->cv.wait_until(lk, deadline, [&] { return w_->finished; })) {
    w_->shutdown_exporter_when_finished = true;
    w_->abandoned.store(true, std::memory_order_release);
    lk.unlock();
    w_->thread.detach();
    w_->summary.AtShutdown(w_->counters.Snapshot());
    return OperationResult::Timeout();
  }
  lk.unlock();
  w_->thread.join();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  OperationResult r = w_->exporter->Shutdown(std::max(left, std::chrono::milliseconds(0)));
  w_->summary.AtShutdown(w_->counters.Snapshot());
  return r;
}

}  // namespace otelweb::metrics
