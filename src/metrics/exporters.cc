// In-memory and console metric exporters.
#include "otelweb/metrics/exporters.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <string>

#include "metrics/exp_histogram.h"

namespace otelweb::metrics {

std::vector<ResourceMetrics> InMemoryMetricStorage::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(items_, {});
}
std::vector<ResourceMetrics> InMemoryMetricStorage::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_;
}
void InMemoryMetricStorage::Add(const ResourceMetrics& rm) {
  std::lock_guard<std::mutex> lock(mu_);
  items_.push_back(rm);
}
size_t InMemoryMetricStorage::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

ExportResult InMemoryMetricExporter::Export(const ResourceMetrics& metrics) noexcept {
  try {
    storage_->Add(metrics);
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;
  }
}

namespace {

std::string Num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string Attrs(const std::vector<OwnedKeyValue>& a) {
  if (a.empty()) return "{}";
  std::vector<const OwnedKeyValue*> sorted;
  for (const auto& kv : a) sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->key < y->key; });
  std::string s = "{";
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i) s += ", ";
    s += sorted[i]->key;
    s += '=';
    s += sorted[i]->value.type == AttributeType::kString ? sorted[i]->value.s
                                                         : sorted[i]->value.ToString();
  }
  return s + "}";
}

// Eight levels of a bar, one character per bucket (UTF-8 block elements).
std::string Bars(const std::vector<uint64_t>& counts) {
  static const char* kLevels[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                  "\u2585", "\u2586", "\u2587", "\u2588"};
  uint64_t mx = 0;
  for (uint64_t c : counts) mx = std::max(mx, c);
  std::string s = "[";
  for (uint64_t c : counts) {
    size_t lvl = mx == 0 || c == 0 ? 0 : 1 + static_cast<size_t>((c * 7 + mx - 1) / mx);
    s += kLevels[std::min<size_t>(lvl, 8)];
  }
  return s + "]";
}

std::string Exemplars(const std::vector<Exemplar>& ex) {
  std::string s;
  for (const auto& e : ex) {
    if (!e.trace_id.IsValid()) continue;
    s += s.empty() ? "  exemplar trace_id=" : ",";
    s += e.trace_id.ToHex();
  }
  return s;
}

std::string Iso(Timestamp t) {
  auto ns = t.time_since_epoch().count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char b[96];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((ns / 1000000) % 1000));
  return b;
}

}  // namespace

std::string FormatMetricsTable(const ResourceMetrics& rm, bool show_empty) {
  std::string out;
  Timestamp when{};
  for (const auto& sm : rm.scope_metrics)
    for (const auto& m : sm.metrics) {
      for (const auto& p : m.number_points) when = std::max(when, p.time);
      for (const auto& p : m.histogram_points) when = std::max(when, p.time);
    }
  out +=
      "metrics of " + std::string(rm.resource.service_name().empty() ? "unknown_service"
                                                                     : rm.resource.service_name());
  out += " collected " + Iso(when) + "\n";
  for (const auto& sm : rm.scope_metrics) {
    out += "  scope " + sm.scope.name + (sm.scope.version.empty() ? "" : " " + sm.scope.version) +
           "\n";
    for (const auto& m : sm.metrics) {
      std::string kind = m.point_kind == MetricPointKind::kHistogram ? "histogram"
                         : m.point_kind == MetricPointKind::kExponentialHistogram
                             ? "exponential histogram"
                         : m.point_kind == MetricPointKind::kGauge   ? "gauge"
                         : m.monotonic                               ? "counter"
                                                                     : "updowncounter";
      out += "    " + m.name + "  (" + kind + (m.unit.empty() ? "" : ", " + m.unit) + ", " +
             std::string(TemporalityName(m.temporality)) + ")\n";
      for (const auto& p : m.number_points) {
        if (!show_empty && m.point_kind == MetricPointKind::kSum && p.as_int == 0 &&
            p.as_double == 0)
          continue;
        out += "      " + Attrs(p.attributes) + "  " +
               (p.is_int ? std::to_string(p.as_int) : Num(p.as_double)) + Exemplars(p.exemplars) +
               "\n";
      }
      for (const auto& p : m.histogram_points) {
        if (!show_empty && p.count == 0) continue;
        out += "      " + Attrs(p.attributes) + "  count=" + std::to_string(p.count) +
               " sum=" + Num(p.sum);
        if (p.has_min_max) out += " min=" + Num(p.min) + " max=" + Num(p.max);
        if (m.point_kind == MetricPointKind::kExponentialHistogram) {
          // scale, zero bucket, then each range as (lowest, highest] and bars.
          out += "  scale=" + std::to_string(p.scale);
          if (p.zero_count != 0) out += " zero=" + std::to_string(p.zero_count);
          auto range = [&](const char* sign, const ExponentialBuckets& b) {
            if (b.bucket_counts.empty()) return;
            const int64_t lo = b.offset, hi = lo + static_cast<int64_t>(b.bucket_counts.size());
            out += std::string(" ") + sign + "(" +
                   Num(internal::exph::LowerBoundary(lo, p.scale)) + ", " +
                   Num(internal::exph::LowerBoundary(hi, p.scale)) + "] " + Bars(b.bucket_counts);
          };
          range("-", p.negative);
          range("+", p.positive);
          out += Exemplars(p.exemplars) + "\n";
          continue;
        }
        out += "  " + Bars(p.bucket_counts) + Exemplars(p.exemplars) + "\n";
      }
    }
  }
  return out;
}

ExportResult ConsoleMetricExporter::Export(const ResourceMetrics& metrics) noexcept {
  try {
    std::string s = FormatMetricsTable(metrics, o_.show_empty);
    std::lock_guard<std::mutex> lock(mu_);
    std::fwrite(s.data(), 1, s.size(), o_.out);
    std::fflush(o_.out);
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;
  }
}

}  // namespace otelweb::metrics
