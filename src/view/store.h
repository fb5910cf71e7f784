// The viewer's storage: received OTLP traces, logs and metric points in
// SQLite (a file, or memory), written by one writer thread in batched
// transactions, with a size cap (first-received traces pruned first) and a bounded
// queue in front of the writer (a full queue is reported to the receiver,
// which then asks the sender to retry: nothing accepted is dropped).
//
// Tables (storage version 3): `traces` (one summary row per trace: counts,
// start, duration, root name and service, its services; indexed for the trace
// list's sorts and ranges), `trace_values` (posting lists: per span name or
// http.route, attribute "key=value" and service — as 64-bit hashes — and per
// write transaction, the ids of the traces that have it), `services`, `spans`
// (each span's OTLP protobuf bytes keyed by its trace and span id: a span a
// sender resends is stored once), `contexts` (the resource and scope of a
// batch, shared by its spans, logs and points), `logs` (each log record's
// bytes, with time and ids) and `metric_points` (each Metric's bytes, with
// time and name: raw enough for the logs and metrics pages). A file of
// another storage version is refused (Open's error says what to do).
//
// Ownership: a Store owns its connections and its writer thread; the
// destructor commits what was queued and stops the thread.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

struct sqlite3;

namespace otelweb::view {

namespace otlp_pb = ::opentelemetry::proto;

struct StoreOptions {
  std::string path;                        // "" = in memory
  int64_t max_bytes = int64_t(512) << 20;  // cap of the data stored (pages in use)
  size_t max_queued_items = 262144;        // spans + log records + metrics waiting for the writer
  // Trace-list plan: when the service/name/attribute filters match fewer
  // traces than this, each match is looked up by id; otherwise the start or
  // duration index is walked, each trace tested against the matches.
  int64_t drive_below = 20000;
};

struct StoreStats {
  int64_t traces = 0, spans = 0, logs = 0, metric_points = 0;
  int64_t db_bytes = 0, cap_bytes = 0;
  uint64_t generation = 0;
  int64_t duplicate_spans = 0;  // spans received again (same trace and span id) and not stored twice, since start
};

struct TraceQuery {
  std::string service, name;
  bool error_only = false;
  int64_t min_duration = -1, max_duration = -1;  // ns, < 0 none
  int64_t start = -1, end = -1;                  // bounds of the trace's start, ns, < 0 none
  std::vector<std::string> attrs;                // "key=value", all must match
  bool sort_by_duration = false;
  int limit = 50, offset = 0;
};

struct TraceSummary {
  std::string trace_id;  // 16 bytes
  std::string root_name, root_service;
  std::vector<std::string> services;
  int64_t span_count = 0, error_count = 0, start = 0, duration = 0;
};

// An empty context (no resource, no scope), shared: a StoredSpan's default.
inline const std::shared_ptr<const otlp_pb::trace::v1::ResourceSpans>& EmptyContext() {
  static const auto empty = std::make_shared<const otlp_pb::trace::v1::ResourceSpans>();
  return empty;
}

// One stored span with the resource and scope it came with.
struct StoredSpan {
  // Resource and one scope_spans with its scope, no spans; shared by the
  // spans of a trace that came with it (GetTrace parses each once). Never null.
  std::shared_ptr<const otlp_pb::trace::v1::ResourceSpans> context = EmptyContext();
  otlp_pb::trace::v1::Span span;
  int64_t context_id = 0;  // spans with the same (non-zero) id share resource and scope
};

enum class Admit { kStored, kQueueFull, kStopped };

class Store {
 public:
  // nullptr and `*error` set when the database cannot be opened or created.
  static std::unique_ptr<Store> Open(const StoreOptions& options, std::string* error);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Queue a request for the writer (its rows are made on the calling thread).
  // kQueueFull: the writer is behind; the sender should retry later.
  Admit AddTraces(const otlp_pb::collector::trace::v1::ExportTraceServiceRequest& request);
  Admit AddLogs(const otlp_pb::collector::logs::v1::ExportLogsServiceRequest& request);
  Admit AddMetrics(const otlp_pb::collector::metrics::v1::ExportMetricsServiceRequest& request);

  // Waits until everything queued so far is committed (true) or the timeout.
  bool Flush(std::chrono::milliseconds timeout);

  StoreStats Stats();
  std::vector<std::string> Services();
  // Matching traces (newest first, or longest first) and the number of all matches.
  bool QueryTraces(const TraceQuery& query, std::vector<TraceSummary>* out, int64_t* total,
                   std::string* error);
  // The spans of one trace sorted by start; false when the trace is unknown.
  bool GetTrace(const std::string& trace_id, std::vector<StoredSpan>* out);
  // Runs `fn` with the readers' connection, locked: the logs, metrics and
  // service-map queries of view/signals.h read the tables through it.
  void Read(const std::function<void(sqlite3*)>& fn);

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelweb::view
