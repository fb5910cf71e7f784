// The metric exporters that need no transport: in-memory (tests) and console
// (a readable table per collection: one row per point, histograms as a
// compact bar of their bucket counts, exemplar trace ids shown).
//
// Ownership: exporters are owned by the reader they are given to; an
// InMemoryMetricExporter's storage is shared with the handle returned by
// storage(), so a test can read it after handing the exporter over.
// Thread-safety: Export may run on the reader's thread while a test reads the
// storage; both lock the storage's mutex.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "otelweb/metrics/metric_data.h"

namespace otelweb::metrics {

// What an InMemoryMetricExporter has received, one ResourceMetrics per export.
class InMemoryMetricStorage {
 public:
  std::vector<ResourceMetrics> Take();
  std::vector<ResourceMetrics> Snapshot() const;
  void Add(const ResourceMetrics& rm);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<ResourceMetrics> items_;
};

class InMemoryMetricExporter final : public MetricExporter {
 public:
  explicit InMemoryMetricExporter(
      TemporalityPreference preference = TemporalityPreference::kCumulative)
      : pref_(preference), storage_(std::make_shared<InMemoryMetricStorage>()) {}
  ExportResult Export(const ResourceMetrics& metrics) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    return OperationResult::Ok();
  }
  AggregationTemporality TemporalityFor(InstrumentKind k) const noexcept override {
    return metrics::TemporalityFor(pref_, k);
  }
  std::string_view Name() const noexcept override { return "in_memory"; }
  std::shared_ptr<InMemoryMetricStorage> storage() const { return storage_; }

 private:
  TemporalityPreference pref_;
  std::shared_ptr<InMemoryMetricStorage> storage_;
};

struct ConsoleMetricExporterOptions {
  FILE* out = stdout;
  // Show points with a zero value/count (a counter that never moved).
  bool show_empty = false;
};

class ConsoleMetricExporter final : public MetricExporter {
 public:
  explicit ConsoleMetricExporter(ConsoleMetricExporterOptions options = {}) : o_(options) {}
  ExportResult Export(const ResourceMetrics& metrics) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    return OperationResult::Ok();
  }
  std::string_view Name() const noexcept override { return "console"; }

 private:
  ConsoleMetricExporterOptions o_;
  std::mutex mu_;
};

// The table the console exporter prints, as a string (the demo and tests
// use it directly).
std::string FormatMetricsTable(const ResourceMetrics& metrics, bool show_empty = false);

}  // namespace otelweb::metrics
