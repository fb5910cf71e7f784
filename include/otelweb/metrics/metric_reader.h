// Metric readers (spec: metrics SDK "MetricReader"): the ManualReader that
// collects on demand (tests, pull exporters) and the
// PeriodicExportingMetricReader that collects and pushes to a MetricExporter
// on an interval.
//
// Several readers may be registered on one MeterProvider; each has its own
// temporality, its own delta state and its own exemplar window, and none
// affects another.
//
// Ownership: the MeterProvider shares ownership of its readers
// (std::shared_ptr); a reader keeps a reference to the provider's state, so
// Collect after the provider is gone returns nothing instead of dangling.
// Thread-safety: Collect, ForceFlush and Shutdown may be called from any
// thread; collections of one reader are serialised.
// Errors: Collect on a reader that is not registered, or after Shutdown,
// returns false and leaves *out empty.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "otelweb/common.h"
#include "otelweb/metrics/metric_data.h"
#include "otelweb/processor_counters.h"

namespace otelweb::metrics {

namespace internal {
struct ProviderState;
}

class MetricReader {
 public:
  virtual ~MetricReader();
  MetricReader(const MetricReader&) = delete;
  MetricReader& operator=(const MetricReader&) = delete;

  // Collects every instrument of the provider this reader is registered with
  // (observable callbacks run now) into *out, replacing what it held.
  // Returns false when not registered or shut down. Passing the same
  // ResourceMetrics to each Collect reuses the storage of its previous points
  // (their attribute strings and bucket vectors): once the set of series is
  // stable, a collection then allocates nothing per point.
  bool Collect(ResourceMetrics* out) noexcept;
  virtual AggregationTemporality TemporalityFor(InstrumentKind kind) const noexcept;
  virtual OperationResult ForceFlush(
      std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  virtual OperationResult Shutdown(
      std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  bool IsShutDown() const noexcept;

 protected:
  MetricReader() = default;
  // Called once when the provider registers this reader.
  virtual void OnRegistered() noexcept {}
  virtual OperationResult OnShutdown(std::chrono::milliseconds) noexcept {
    return OperationResult::Ok();
  }

  // Set by the provider at registration (guarded by mu_).
  mutable std::mutex mu_;
  std::shared_ptr<internal::ProviderState> provider_;
  size_t slot_ = 0;

 private:
  friend class MeterProvider;
  bool shut_down_ = false;
};

// Collects when asked (spec: "ManualReader" is the name other SDKs use for
// it). Temporality: cumulative unless given.
class ManualReader final : public MetricReader {
 public:
  explicit ManualReader(
      TemporalityPreference preference = TemporalityPreference::kCumulative) noexcept
      : pref_(preference) {}
  AggregationTemporality TemporalityFor(InstrumentKind kind) const noexcept override {
    return metrics::TemporalityFor(pref_, kind);
  }

 private:
  TemporalityPreference pref_;
};

struct PeriodicReaderOptions {
  // Default: OTEL_METRIC_EXPORT_INTERVAL, else 60000 ms.
  std::optional<std::chrono::milliseconds> interval{};
  // Deadline of one collection + export. Default: OTEL_METRIC_EXPORT_TIMEOUT,
  // else 30000 ms.
  std::optional<std::chrono::milliseconds> timeout{};
};

// Collects every interval on its own thread and hands the result to the
// exporter. Exports never overlap. ForceFlush collects and exports now and
// waits (within its deadline); Shutdown does a last export, then shuts the
// exporter down; both return Timeout when the deadline passes (the worker
// then finishes on its own and the exporter is shut down after it).
class PeriodicExportingMetricReader final : public MetricReader {
 public:
  explicit PeriodicExportingMetricReader(std::unique_ptr<MetricExporter> exporter,
                                         PeriodicReaderOptions options = {});
  ~PeriodicExportingMetricReader() override;

  AggregationTemporality TemporalityFor(InstrumentKind kind) const noexcept override;
  OperationResult ForceFlush(
      std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  std::chrono::milliseconds interval() const noexcept;
  std::chrono::milliseconds timeout() const noexcept;
  // Number of exports done so far (each a full collection).
  uint64_t exports() const noexcept;
  // What happened to the collected data points (otelweb/processor_counters.h):
  // exported, export_failed (the exporter said so), dropped_deadline (a
  // collection Shutdown gave up on); export_calls counts Export calls. The
  // same drop summary as the span and log processors reports them
  // (periodically and at shutdown; docs/troubleshooting.md).
  ProcessorCounters counters() const noexcept;

 protected:
  void OnRegistered() noexcept override;
  OperationResult OnShutdown(std::chrono::milliseconds timeout) noexcept override;

 private:
  struct Worker;
  std::shared_ptr<Worker> w_;
};

}  // namespace otelweb::metrics
