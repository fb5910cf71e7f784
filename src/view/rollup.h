// Metric rollups of otelweb-view (issue 16; docs/view.md "Storage"): each
// stored Metric's points are also folded, at ingest, into per-series rows at
// fixed resolutions (1 s, 5 s, 30 s, 5 min, 1 h), so that
// /api/metrics/series reads a few rows per time bucket instead of parsing
// every stored point.
//
// Tables (created next to the Store's):
//   metric_series(id, name, service, attrs, type, unit, temporality, bounds)
//                 -- one row per instrument, service and attribute set (the
//                 instances of a service share it);
//   metric_rollup(series, res, bucket, data) -- res in seconds, bucket =
//                 time / res; data: the points of that interval folded (a
//                 gauge's last value and its time, a sum's increase, a
//                 histogram's count, sum and per-bucket counts, at most
//                 kExemplarsPerRow exemplars: the largest values).
//   metric_prev(series, ctx, start, prev) -- the last cumulative point of a
//                 series from one context (resource and scope, the Store's
//                 contexts.id): the base of the next difference (so a restart
//                 continues it, and two instances of a service each
//                 difference their own points);
//   rollup_meta(key, value) -- 'built': the rollups hold every stored point.
// A cumulative point's increase is its value minus the previous point's of
// the same series, context and start time. The first point of a series (no
// base) counts whole when its start time lies within a minute of it (the
// series began there), else it is the base (increase 0); one after a reset
// (another start time, a lower value, other bucket bounds) counts whole.
// Histogram points whose bucket counts are not one more than their bounds
// are skipped (malformed()).
//
// Ownership: a MetricRollups borrows the writer's connection (which must
// outlive it). Thread-safety: none; the Store's writer thread calls it inside
// its transactions. The query functions run on the readers' connection under
// Store::Read.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "opentelemetry/proto/metrics/v1/metrics.pb.h"

namespace otelweb::view {

// The resolutions kept, in seconds (finest first).
inline constexpr int64_t kRollupResolutions[] = {1, 5, 30, 300, 3600};
inline constexpr size_t kExemplarsPerRow = 4;

// The type of a Metric as the API names it: "gauge", "sum", "histogram",
// "exponentialHistogram", "summary" or "unknown".
const char* MetricTypeName(const ::opentelemetry::proto::metrics::v1::Metric& m);

// The tables above (CREATE IF NOT EXISTS); false and `*error` on failure.
bool CreateRollupTables(sqlite3* db, std::string* error);

class MetricRollups {
 public:
  explicit MetricRollups(sqlite3* db);
  ~MetricRollups();
  MetricRollups(const MetricRollups&) = delete;
  MetricRollups& operator=(const MetricRollups&) = delete;

  // Folds the points of one Metric (its OTLP protobuf bytes) received from
  // `service` in context `ctx` (the Store's contexts.id: resource and
  // scope); written by Flush. Metrics whose bytes do not parse, and
  // summaries, are skipped.
  void Add(const std::string& service, int64_t ctx, const std::string& metric_bytes);
  // Writes what Add folded (call inside the writer's transaction). False
  // (and a line on stderr) when a write failed.
  bool Flush();
  // The transaction Flush wrote into was rolled back: forgets every cached
  // series id, base and unwritten row (they are read again from the file).
  void Discard();
  // Files without the 'built' meta row: folds every stored point, oldest
  // first, in its own transaction, when there are points and no rollups (a
  // file written before the rollups), then records 'built' so that this
  // runs once per file. Returns the points folded; failures go to stderr.
  int64_t BackfillIfEmpty();
  // Deletes the rows whose interval ends before the oldest of the 1 000
  // first-received stored points (after the Store pruned metric_points), and
  // series left without rows. False
  // (and a line on stderr) on a failed write.
  bool Prune();
  // Histogram points skipped as malformed since construction.
  int64_t malformed() const;

  struct State;

 private:
  sqlite3* db_;
  std::unique_ptr<State> s_;
};

// One series of /api/metrics/series, bucketed in time.
struct BucketedSeries {
  std::string service;
  std::string attrs;          // a serialized NumberDataPoint holding only the attributes
  std::vector<double> value;  // per bucket: gauge last value, sum rate (/s), histogram rate (/s)
  std::vector<bool> has;      // a point in that bucket
  std::vector<int64_t> value_time;  // gauge: the time of `value`
  std::vector<double> count, sum;   // histogram: observations and their sum per bucket
  std::vector<std::vector<double>> buckets;  // histogram: bucket counts per time bucket
  std::vector<double> bounds;
  std::vector<std::string> exemplars;  // serialized Exemplars, unique by time and span id
};

struct SeriesWindow {
  std::string name, service;  // service "" = every service
  int64_t start = 0, step = 0;  // ns; start and step multiples of `res` seconds
  size_t n = 0;                 // buckets
  int64_t res = 1;              // the rollup resolution read, seconds
};

struct SeriesAnswer {
  std::string type = "unknown", unit, temporality;
  std::vector<BucketedSeries> series;
};

// The largest resolution (seconds) dividing `step_ns`; 0 when the step is not
// a whole number of seconds (the points are read instead).
int64_t RollupResolutionFor(int64_t step_ns);

// Reads the rollups of `w` (res set) into `out`; false and `*error` on a
// query error.
bool QueryRollups(sqlite3* db, const SeriesWindow& w, SeriesAnswer* out, std::string* error);

// Recomputes the same answer from the stored points (source=points): every
// point of the instrument is read so that the cumulative differences are the
// rollups'.
bool QueryPoints(sqlite3* db, const SeriesWindow& w, SeriesAnswer* out, std::string* error);

}  // namespace otelweb::view
