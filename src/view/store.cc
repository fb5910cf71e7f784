// SQLite storage of otelweb-view (see store.h).
#include "view/store.h"

#include "view/rollup.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

namespace otelweb::view {

namespace {

using otlp_pb::common::v1::AnyValue;
using otlp_pb::common::v1::KeyValue;

constexpr size_t kMaxIndexedValue = 256;  // longer "key=value" strings are not indexed for `attr`

// The name and attribute indexes hold 64-bit FNV-1a hashes of the strings
// (small integer keys: the writer's B-tree inserts are the ingest's cost). A
// collision (about 1 in 10^19 per pair) could only add a trace to a list.
uint64_t Fnv1aMore(uint64_t h, std::string_view s) {
  for (char c : s) {
    h ^= uint8_t(c);
    h *= 1099511628211ull;
  }
  return h;
}
int64_t Fnv1a(std::string_view s) { return int64_t(Fnv1aMore(1469598103934665603ull, s)); }
// Fnv1a(key + "=" + value) without building the string: an attribute value.
int64_t Fnv1aPair(std::string_view key, std::string_view value) {
  return int64_t(Fnv1aMore(Fnv1aMore(Fnv1aMore(1469598103934665603ull, key), "="), value));
}
// A span name (or http.route) and a service, each in a namespace of its own:
// the three kinds share the posting lists' table.
int64_t NameHash(std::string_view name) {
  return int64_t(Fnv1aMore(Fnv1aMore(1469598103934665603ull, "\x1fname\x1f"), name));
}
int64_t ServiceHash(std::string_view service) {
  return int64_t(Fnv1aMore(Fnv1aMore(1469598103934665603ull, "\x1fservice\x1f"), service));
}

// A posting list: trace ids sorted and unique, as LEB128 varints of the
// differences (the first from 0).
std::string EncodeIds(const std::vector<int64_t>& ids) {
  std::string out;
  out.reserve(ids.size() * 2);
  int64_t prev = 0;
  for (int64_t id : ids) {
    uint64_t d = uint64_t(id - prev);
    prev = id;
    while (d >= 0x80) {
      out += char(uint8_t(d) | 0x80);
      d >>= 7;
    }
    out += char(uint8_t(d));
  }
  return out;
}
// Appends the ids >= `floor` of one encoded list (a truncated list ends early).
void DecodeIds(const void* data, int size, int64_t floor, std::vector<int64_t>* out) {
  const auto* p = static_cast<const uint8_t*>(data);
  const auto* end = p + (size > 0 ? size : 0);
  int64_t prev = 0;
  while (p < end) {
    uint64_t d = 0;
    int shift = 0;
    while (p < end && (*p & 0x80) && shift < 63) {
      d |= uint64_t(*p++ & 0x7f) << shift;
      shift += 7;
    }
    if (p == end) return;
    d |= uint64_t(*p++) << shift;
    prev += int64_t(d);
    if (prev >= floor) out->push_back(prev);
  }
}

// The services of a trace as the `traces.services` column holds them: sorted,
// unique, separated by U+001F (a service name holding that byte is split).
constexpr char kServiceSeparator = '\x1f';
std::vector<std::string> SplitServices(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    size_t at = joined.find(kServiceSeparator);
    out.emplace_back(joined.substr(0, at));
    if (at == std::string_view::npos) break;
    joined.remove_prefix(at + 1);
  }
  return out;
}

std::string ServiceOf(const otlp_pb::resource::v1::Resource& r) {
  for (const auto& kv : r.attributes()) {
    if (kv.key() == "service.name" && kv.value().has_string_value()) return kv.value().string_value();
  }
  return "unknown_service";
}

// The value of an attribute as the `attr` filter compares it ("" = not indexed).
bool ScalarText(const AnyValue& v, std::string* out) {
  switch (v.value_case()) {
    case AnyValue::kStringValue: *out = v.string_value(); return true;
    case AnyValue::kBoolValue: *out = v.bool_value() ? "true" : "false"; return true;
    case AnyValue::kIntValue: *out = std::to_string(v.int_value()); return true;
    case AnyValue::kDoubleValue: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.double_value());
      *out = buf;
      return true;
    }
    default: return false;
  }
}

struct SpanRow {
  std::string trace_id, span_id, data, name, route;
  std::vector<int64_t> kvs;  // Fnv1a("key=value")
  int64_t start = 0, end = 0;
  bool root = false, error = false;
  size_t ctx = 0;
};
struct LogRow {
  std::string trace_id, span_id, data;
  int64_t time = 0;
  int severity = 0;
  size_t ctx = 0;
};
struct PointRow {
  std::string name, data;
  int64_t time = 0;
  size_t ctx = 0;
};
struct Batch {
  std::vector<std::string> ctxs;      // serialized Resource*/scope wrappers
  std::vector<std::string> services;  // service.name of each ctx
  std::vector<SpanRow> spans;
  std::vector<LogRow> logs;
  std::vector<PointRow> points;
  size_t items() const { return spans.size() + logs.size() + points.size(); }
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "otelweb-view: SQL error %s in %s\n", sqlite3_errmsg(db), sql);
      std::abort();
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  sqlite3_stmt* get() { return s_; }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Bound without a copy: `v` must stay valid until the statement is reset.
  Stmt& BlobNoCopy(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), int(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& Null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  bool Step() { return sqlite3_step(s_) == SQLITE_ROW; }
  void Run() {
    sqlite3_step(s_);
    sqlite3_reset(s_);
  }
  void Reset() { sqlite3_reset(s_); }
  int64_t Col(int i) { return sqlite3_column_int64(s_, i); }
  std::string ColText(int i) {
    const void* p = sqlite3_column_blob(s_, i);
    return p ? std::string(static_cast<const char*>(p), size_t(sqlite3_column_bytes(s_, i))) : std::string();
  }
  bool ColNull(int i) { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Storage version 3. The writer's cost is its B-tree inserts, so a trace
// costs few: its row (and the trace id, start and duration indexes), one row
// per span keyed by (trace, span id) — which also stores a resent span once —
// and its services in a column. The filter values (span names and routes,
// attribute `key=value`, services) are posting lists: one `trace_values` row
// per distinct value per write transaction, holding the ids of the traces of
// that transaction with the value (a list of 500 traces is one insert where
// version 2 made 500). Pruning deletes the first-received traces (the lowest
// ids), so a list's ids below the lowest stored id are ignored when read.
constexpr int64_t kStorageVersion = 3;
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS contexts(id INTEGER PRIMARY KEY, bytes BLOB UNIQUE, service TEXT);
CREATE TABLE IF NOT EXISTS traces(id INTEGER PRIMARY KEY, trace_id BLOB UNIQUE, span_count INT, error_count INT,
  start INT, end_ INT, duration INT, root_name TEXT, root_service TEXT, root_start INT, root_end INT,
  first_name TEXT, first_service TEXT, services TEXT);
CREATE INDEX IF NOT EXISTS traces_start ON traces(start);
CREATE INDEX IF NOT EXISTS traces_duration ON traces(duration);
CREATE INDEX IF NOT EXISTS traces_error ON traces(start) WHERE error_count > 0;
CREATE INDEX IF NOT EXISTS traces_error_duration ON traces(duration) WHERE error_count > 0;
CREATE TABLE IF NOT EXISTS trace_values(h INT, txn INT, last INT, tids BLOB, PRIMARY KEY(h, txn)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS services(service TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS spans(tid INT, span_id BLOB, start INT, ctx INT, data BLOB, PRIMARY KEY(tid, span_id))
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs(id INTEGER PRIMARY KEY, time INT, trace_id BLOB, span_id BLOB, severity INT, ctx INT,
  data BLOB);
CREATE INDEX IF NOT EXISTS logs_trace ON logs(trace_id);
CREATE TABLE IF NOT EXISTS metric_points(id INTEGER PRIMARY KEY, time INT, name TEXT, ctx INT, data BLOB);
CREATE INDEX IF NOT EXISTS metric_points_name ON metric_points(name, time);
)";

}  // namespace

struct Store::Impl {
  StoreOptions options;
  sqlite3* wdb = nullptr;  // the writer's connection
  sqlite3* rdb = nullptr;  // readers' connection (== wdb in memory)
  std::mutex rd_mu;        // readers' connection (and wdb's transactions when shared)

  std::mutex mu;
  std::condition_variable cv, idle_cv;
  std::deque<Batch> queue;
  size_t queued_items = 0;
  uint64_t enqueued = 0, committed = 0;  // batches
  bool stopping = false;
  std::thread writer;

  // Counters (under mu), kept in step with the tables.
  StoreStats stats;
  std::unordered_map<std::string, int64_t> ctx_ids;  // writer thread only
  std::unique_ptr<MetricRollups> rollups;            // writer thread only (after Open)
  int64_t txn = 0;                                    // last trace_values.txn written (writer thread)
  uint64_t synthetic_span_ids = 0;                    // keys of spans without an id (writer thread)

  // The trace ids a value query matched, for `otelweb_in_set(id)` (under rd_mu).
  int64_t set_base = 0;
  std::vector<uint64_t> set_bits;

  ~Impl() {
    if (rdb && rdb != wdb) sqlite3_close_v2(rdb);
    if (wdb) sqlite3_close_v2(wdb);
  }

  bool Exec(sqlite3* db, const char* sql, std::string* error = nullptr) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      if (error) *error = msg ? msg : "SQLite error";
      sqlite3_free(msg);
      return false;
    }
    return true;
  }

  int64_t Scalar(sqlite3* db, const char* sql) {
    Stmt s(db, sql);
    return s.Step() ? s.Col(0) : 0;
  }

  int64_t UsedBytes(sqlite3* db) {
    return (Scalar(db, "PRAGMA page_count") - Scalar(db, "PRAGMA freelist_count")) *
           Scalar(db, "PRAGMA page_size");
  }

  Admit Enqueue(Batch b) {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) return Admit::kStopped;
    size_t n = b.items();
    if (n == 0 && b.ctxs.empty()) return Admit::kStored;
    if (!queue.empty() && queued_items + n > options.max_queued_items) return Admit::kQueueFull;
    queued_items += n;
    queue.push_back(std::move(b));
    ++enqueued;
    cv.notify_one();
    return Admit::kStored;
  }

  void Run();
  void Write(std::vector<Batch>& batches, struct Writer& w);
  void Prune(struct Writer& w);
};

struct Writer {
  explicit Writer(sqlite3* db)
      : ctx_insert(db, "INSERT OR IGNORE INTO contexts(bytes, service) VALUES(?1, ?2)"),
        ctx_select(db, "SELECT id FROM contexts WHERE bytes = ?1"),
        // A trace new to the store: one plain insert (no conflict clause,
        // no RETURNING); a known one: one update by its id.
        trace_insert(db,
                     "INSERT INTO traces(trace_id, span_count, error_count, start, end_, duration, root_name, "
                     "root_service, root_start, root_end, first_name, first_service, services) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, coalesce(?9 - ?8, ?5 - ?4), ?6, ?7, ?8, ?9, ?10, ?11, ?13)"),
        trace_update(db,
                     "UPDATE traces SET span_count = span_count + ?2, error_count = error_count + ?3, "
                     "start = min(start, ?4), end_ = max(end_, ?5), "
                     "duration = coalesce(coalesce(?9, root_end) - coalesce(?8, root_start), "
                     "max(end_, ?5) - min(start, ?4)), "
                     "root_name = coalesce(?6, root_name), root_service = coalesce(?7, root_service), "
                     "root_start = coalesce(?8, root_start), root_end = coalesce(?9, root_end), "
                     "first_name = CASE WHEN ?4 < start THEN ?10 ELSE first_name END, "
                     "first_service = CASE WHEN ?4 < start THEN ?11 ELSE first_service END, "
                     "services = ?13 WHERE id = ?12"),
        service_insert(db, "INSERT OR IGNORE INTO services(service) VALUES(?1)"),
        value_insert(db, "INSERT INTO trace_values(h, txn, last, tids) VALUES(?1, ?2, ?3, ?4)"),
        trace_find(db, "SELECT id, services FROM traces WHERE trace_id = ?1"),
        span_insert(db, "INSERT OR IGNORE INTO spans(tid, span_id, start, ctx, data) VALUES(?1, ?2, ?3, ?4, ?5)"),
        log_insert(db, "INSERT INTO logs(time, trace_id, span_id, severity, ctx, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"),
        point_insert(db, "INSERT INTO metric_points(time, name, ctx, data) VALUES(?1, ?2, ?3, ?4)") {}
  Stmt ctx_insert, ctx_select, trace_insert, trace_update, service_insert, value_insert, trace_find, span_insert,
      log_insert, point_insert;
};

void Store::Impl::Run() {
  Writer w(wdb);
  for (;;) {
    std::vector<Batch> batches;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;
      for (auto& b : queue) batches.push_back(std::move(b));
      queue.clear();
    }
    Write(batches, w);
  }
}

void Store::Impl::Write(std::vector<Batch>& batches, Writer& w) {
  std::unique_lock<std::mutex> shared_lock(rd_mu, std::defer_lock);
  if (rdb == wdb) shared_lock.lock();
  // Another process holding the file's lock (e.g. an sqlite3 shell) delays
  // the writer, never loses a batch: the queue fills and senders are told to
  // retry.
  std::string err;
  while (!Exec(wdb, "BEGIN IMMEDIATE", &err)) {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping && err.find("locked") == std::string::npos) break;
  }
  struct Agg {
    int64_t count = 0, errors = 0, start = INT64_MAX, end = INT64_MIN, root_start = 0, root_end = 0;
    std::string root_name, root_service, first_name, first_service;
    bool root = false;
    std::vector<std::string_view> services;  // sorted and unique once complete
    std::vector<int64_t> names, kvs;
  };
  int64_t new_traces = 0, spans = 0, logs = 0, points = 0, duplicates = 0;
  size_t items = 0;
  // This transaction's posting lists (value hash -> trace ids) and services.
  std::unordered_map<int64_t, std::vector<int64_t>> postings;
  std::set<std::string> services;
  for (auto& b : batches) {
    items += b.items();
    std::vector<int64_t> ctx(b.ctxs.size());
    for (size_t i = 0; i < b.ctxs.size(); ++i) {
      auto it = ctx_ids.find(b.ctxs[i]);
      if (it != ctx_ids.end()) {
        ctx[i] = it->second;
        continue;
      }
      w.ctx_insert.Blob(1, b.ctxs[i]).Text(2, b.services[i]).Run();
      w.ctx_select.Blob(1, b.ctxs[i]);
      ctx[i] = w.ctx_select.Step() ? w.ctx_select.Col(0) : 0;
      w.ctx_select.Reset();
      if (ctx_ids.size() > 100000) ctx_ids.clear();
      ctx_ids.emplace(b.ctxs[i], ctx[i]);
    }
    // A sender that timed out resends spans already stored (same trace id and
    // span id): those are stored once and counted once. The trace's known
    // spans are found by the spans' unique (trace, span id) index; repeats
    // within a batch by the span id.
    std::map<std::string_view, std::vector<const SpanRow*>> by_trace;
    for (const SpanRow& r : b.spans) by_trace[r.trace_id].push_back(&r);
    for (auto& [id, rows] : by_trace) {
      int64_t tid = 0;
      std::string known_services;
      w.trace_find.Blob(1, id);
      if (w.trace_find.Step()) {
        tid = w.trace_find.Col(0);
        known_services = w.trace_find.ColText(1);
      }
      w.trace_find.Reset();
      auto insert_span = [&](const SpanRow& r, int64_t t) {
        w.span_insert.Int(1, t);
        std::string synthetic;
        if (r.span_id.empty()) {  // no id (invalid OTLP): a key of its own, 9 bytes, never an 8-byte id
          uint64_t n = ++synthetic_span_ids;
          synthetic.assign(1, '\xff');
          synthetic.append(reinterpret_cast<const char*>(&n), sizeof n);
          w.span_insert.Blob(2, synthetic);
        } else {
          w.span_insert.Blob(2, r.span_id);
        }
        w.span_insert.Int(3, r.start).Int(4, ctx[r.ctx]).BlobNoCopy(5, r.data).Run();
        return sqlite3_changes(wdb) > 0;
      };
      std::vector<const SpanRow*> fresh;
      fresh.reserve(rows.size());
      if (tid != 0) {
        for (const SpanRow* r : rows) {
          if (insert_span(*r, tid)) fresh.push_back(r);
        }
      } else {
        std::set<std::string_view> seen;
        for (const SpanRow* r : rows) {
          if (r->span_id.empty() || seen.insert(r->span_id).second) fresh.push_back(r);
        }
      }
      duplicates += int64_t(rows.size() - fresh.size());
      if (fresh.empty()) continue;
      Agg a;
      for (const SpanRow* r : fresh) {
        ++a.count;
        a.errors += r->error;
        if (r->start < a.start) {
          a.start = r->start;
          a.first_name = r->name;
          a.first_service = b.services[r->ctx];
        }
        a.end = std::max(a.end, r->end);
        if (r->root) {
          a.root = true;
          a.root_name = r->name;
          a.root_service = b.services[r->ctx];
          a.root_start = r->start;
          a.root_end = r->end;
        }
        a.services.push_back(b.services[r->ctx]);
        a.names.push_back(NameHash(r->name));
        if (!r->route.empty()) a.names.push_back(NameHash(r->route));
        a.kvs.insert(a.kvs.end(), r->kvs.begin(), r->kvs.end());
      }
      auto unique = [](auto& v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
      };
      const std::vector<std::string> known = SplitServices(known_services);  // outlives a.services
      a.services.insert(a.services.end(), known.begin(), known.end());
      unique(a.services);
      unique(a.names);
      unique(a.kvs);
      std::string joined;
      for (std::string_view svc : a.services) {
        if (!joined.empty()) joined += kServiceSeparator;
        joined += svc;
      }
      Stmt& t = tid == 0 ? w.trace_insert : w.trace_update;
      t.Blob(1, id).Int(2, a.count).Int(3, a.errors).Int(4, a.start).Int(5, a.end);
      if (a.root) {
        t.Text(6, a.root_name).Text(7, a.root_service).Int(8, a.root_start).Int(9, a.root_end);
      } else {
        t.Null(6).Null(7).Null(8).Null(9);
      }
      t.Text(10, a.first_name).Text(11, a.first_service).Text(13, joined);
      if (tid != 0) {
        t.Int(12, tid).Run();
      } else {
        t.Run();
        tid = sqlite3_last_insert_rowid(wdb);
        ++new_traces;
        for (const SpanRow* r : fresh) insert_span(*r, tid);
      }
      for (std::string_view svc : a.services) {
        postings[ServiceHash(svc)].push_back(tid);
        if (services.size() < 10000) services.emplace(svc);
      }
      for (int64_t h : a.names) postings[h].push_back(tid);
      for (int64_t h : a.kvs) postings[h].push_back(tid);
      spans += a.count;
    }
    for (const LogRow& r : b.logs) {
      w.log_insert.Int(1, r.time).Int(5, ctx[r.ctx]).Int(4, r.severity).Blob(6, r.data);
      if (r.trace_id.empty()) w.log_insert.Null(2); else w.log_insert.Blob(2, r.trace_id);
      if (r.span_id.empty()) w.log_insert.Null(3); else w.log_insert.Blob(3, r.span_id);
      w.log_insert.Run();
      ++logs;
    }
    for (const PointRow& r : b.points) {
      w.point_insert.Int(1, r.time).Text(2, r.name).Int(3, ctx[r.ctx]).Blob(4, r.data).Run();
      rollups->Add(b.services[r.ctx], ctx[r.ctx], r.data);
      ++points;
    }
  }
  if (!postings.empty()) {
    ++txn;
    for (auto& [h, ids] : postings) {
      std::sort(ids.begin(), ids.end());  // a known trace's id may come after newer ones
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      w.value_insert.Int(1, h).Int(2, txn).Int(3, ids.back()).Blob(4, EncodeIds(ids)).Run();
    }
  }
  for (const std::string& svc : services) w.service_insert.Text(1, svc).Run();
  rollups->Flush();
  while (!Exec(wdb, "COMMIT", &err)) {
    if (err.find("locked") == std::string::npos && err.find("busy") == std::string::npos) {
      std::fprintf(stderr, "otelweb-view: cannot store a batch: %s (is the disk full?)\n", err.c_str());
      Exec(wdb, "ROLLBACK");
      // The cached context ids and the rollups' series, bases and rows may
      // name rows of the transaction rolled back.
      ctx_ids.clear();
      rollups->Discard();
      break;
    }
  }
  int64_t used = UsedBytes(wdb);
  bool prune = used > options.max_bytes;
  {
    std::lock_guard<std::mutex> lock(mu);
    stats.traces += new_traces;
    stats.spans += spans;
    stats.duplicate_spans += duplicates;
    stats.logs += logs;
    stats.metric_points += points;
    stats.db_bytes = used;
    ++stats.generation;
    queued_items -= items;
    committed += batches.size();
  }
  if (prune) Prune(w);
  idle_cv.notify_all();
}

// Deletes the first-received traces (the lowest ids), logs and metric
// points, a tenth at a time, until the data is under the cap again. A
// posting list whose last id is gone goes too; the ids below the lowest
// stored trace in the others are skipped when read. A service left on no
// stored trace leaves the services table.
void Store::Impl::Prune(Writer&) {
  for (int round = 0; round < 20; ++round) {
    Exec(wdb, "BEGIN");
    Exec(wdb,
         "CREATE TEMP TABLE IF NOT EXISTS cut(id INTEGER);"
         "DELETE FROM cut;"
         "INSERT INTO cut SELECT min(id) + max(1, (max(id) - min(id)) / 10) FROM traces;"
         "DELETE FROM spans WHERE tid < (SELECT id FROM cut);"
         "DELETE FROM trace_values WHERE last < (SELECT id FROM cut);"
         "DELETE FROM traces WHERE id < (SELECT id FROM cut);"
         "DELETE FROM logs WHERE id <= (SELECT min(id) + max(1, (max(id) - min(id)) / 10) FROM logs);"
         "DELETE FROM metric_points WHERE id <= "
         "(SELECT min(id) + max(1, (max(id) - min(id)) / 10) FROM metric_points);");
    {
      std::vector<std::string> gone;
      Stmt all(wdb, "SELECT service FROM services");
      Stmt used(wdb, "SELECT 1 FROM trace_values WHERE h = ?1 LIMIT 1");
      while (all.Step()) {
        std::string svc = all.ColText(0);
        used.Int(1, ServiceHash(svc));
        if (!used.Step()) gone.push_back(svc);
        used.Reset();
      }
      all.Reset();
      Stmt del(wdb, "DELETE FROM services WHERE service = ?1");
      for (const auto& svc : gone) del.Text(1, svc).Run();
    }
    Exec(wdb, "COMMIT");
    rollups->Prune();
    int64_t traces = Scalar(wdb, "SELECT count(*) FROM traces");
    int64_t spans = Scalar(wdb, "SELECT count(*) FROM spans");
    int64_t logs = Scalar(wdb, "SELECT count(*) FROM logs");
    int64_t points = Scalar(wdb, "SELECT count(*) FROM metric_points");
    int64_t used = UsedBytes(wdb);
    {
      std::lock_guard<std::mutex> lock(mu);
      stats.traces = traces;
      stats.spans = spans;
      stats.logs = logs;
      stats.metric_points = points;
      stats.db_bytes = used;
      ++stats.generation;
    }
    if (used <= options.max_bytes * 9 / 10 || traces + logs + points == 0) break;
  }
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Store> Store::Open(const StoreOptions& options, std::string* error) {
  // SQLite's memory statistics take a global mutex on every allocation; the
  // viewer never reads them. Only possible before SQLite is initialized (a
  // process that already used SQLite keeps its setting).
  static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();
  (void)configured;
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  bool memory = options.path.empty();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(memory ? ":memory:" : options.path.c_str(), &impl->wdb, flags, nullptr) != SQLITE_OK) {
    *error = "cannot open the database " + options.path + ": " +
             (impl->wdb ? sqlite3_errmsg(impl->wdb) : "out of memory") +
             " (check the path and its directory's permissions, or leave --db out for an in-memory store)";
    return nullptr;
  }
  sqlite3_busy_timeout(impl->wdb, 5000);
  std::string err;
  if (!memory && !impl->Exec(impl->wdb, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", &err)) {
    *error = "cannot use the database " + options.path + ": " + err +
             " (is it an SQLite file written by otelweb-view?)";
    return nullptr;
  }
  // The storage version: a file of another version is refused, not misread
  // (version 2 added the spans' ids, so that a resent span is stored once;
  // version 3 the posting lists, see kSchema).
  constexpr int64_t kVersion = kStorageVersion;
  int64_t version = impl->Scalar(impl->wdb, "PRAGMA user_version");
  if (version != 0 && version < kVersion) {
    *error = options.path + " holds otelweb-view data of an older storage version (" + std::to_string(version) +
             "; this program reads and writes version " + std::to_string(kVersion) +
             " only): start with another --db path, or delete or move that file to start afresh "
             "(an older otelweb-view still opens it)";
    return nullptr;
  }
  if (version > kVersion) {
    *error = options.path + " holds otelweb-view data of a newer storage version (" + std::to_string(version) +
             "; this program reads and writes version " + std::to_string(kVersion) +
             " only): open it with that newer otelweb-view, or start with another --db path";
    return nullptr;
  }
  if (!impl->Exec(impl->wdb, kSchema, &err)) {
    *error = "cannot create the tables in " + (memory ? std::string("memory") : options.path) + ": " + err +
             " (is it an SQLite file written by otelweb-view? Use another --db path)";
    return nullptr;
  }
  if (!CreateRollupTables(impl->wdb, &err)) {
    *error = "cannot create the metric rollup tables in " + (memory ? std::string("memory") : options.path) +
             ": " + err + " (use another --db path)";
    return nullptr;
  }
  impl->rollups = std::make_unique<MetricRollups>(impl->wdb);
  impl->rollups->BackfillIfEmpty();  // a file written before the rollups existed
  if (version == 0) impl->Exec(impl->wdb, ("PRAGMA user_version=" + std::to_string(kVersion)).c_str());
  impl->Exec(impl->wdb, memory ? "PRAGMA cache_size=-65536; PRAGMA journal_mode=OFF" : "PRAGMA cache_size=-65536");
  if (memory) {
    impl->rdb = impl->wdb;
  } else {
    if (sqlite3_open_v2(options.path.c_str(), &impl->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      *error = "cannot open the database " + options.path + " for reading";
      return nullptr;
    }
    sqlite3_busy_timeout(impl->rdb, 5000);
  }
  impl->txn = impl->Scalar(impl->wdb, "SELECT max(txn) FROM trace_values");
  // Unique per run without reading the spans: the start time in nanoseconds.
  impl->synthetic_span_ids = uint64_t(std::chrono::system_clock::now().time_since_epoch().count());
  // otelweb_in_set(id): whether a value query matched trace `id` (QueryTraces).
  auto in_set = [](sqlite3_context* c, int, sqlite3_value** v) {
    const Impl* im = static_cast<const Impl*>(sqlite3_user_data(c));
    int64_t k = sqlite3_value_int64(v[0]) - im->set_base;
    bool hit = k >= 0 && uint64_t(k) < im->set_bits.size() * 64 && (im->set_bits[size_t(k) / 64] >> (k % 64) & 1);
    sqlite3_result_int(c, hit);
  };
  sqlite3_create_function_v2(impl->rdb, "otelweb_in_set", 1, SQLITE_UTF8 | SQLITE_INNOCUOUS, impl.get(), in_set,
                             nullptr, nullptr, nullptr);
  auto& s = impl->stats;
  s.traces = impl->Scalar(impl->wdb, "SELECT count(*) FROM traces");
  s.spans = impl->Scalar(impl->wdb, "SELECT count(*) FROM spans");
  s.logs = impl->Scalar(impl->wdb, "SELECT count(*) FROM logs");
  s.metric_points = impl->Scalar(impl->wdb, "SELECT count(*) FROM metric_points");
  s.db_bytes = impl->UsedBytes(impl->wdb);
  s.cap_bytes = options.max_bytes;
  s.generation = 1;
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  if (impl_->writer.joinable()) impl_->writer.join();
}

namespace {

template <typename Scope>
std::string ContextBytes(const otlp_pb::resource::v1::Resource& resource, const std::string& schema_url,
                         const Scope& scope) {
  // A ResourceSpans with one scope_spans holding the scope only: the same
  // bytes for the logs' and metrics' contexts (their field numbers match).
  otlp_pb::trace::v1::ResourceSpans rs;
  *rs.mutable_resource() = resource;
  rs.set_schema_url(schema_url);
  auto* ss = rs.add_scope_spans();
  *ss->mutable_scope() = scope.scope();
  ss->set_schema_url(scope.schema_url());
  return rs.SerializeAsString();
}

}  // namespace

Admit Store::AddTraces(const otlp_pb::collector::trace::v1::ExportTraceServiceRequest& request) {
  Batch b;
  for (const auto& rs : request.resource_spans()) {
    std::string service = ServiceOf(rs.resource());
    for (const auto& ss : rs.scope_spans()) {
      b.ctxs.push_back(ContextBytes(rs.resource(), rs.schema_url(), ss));
      b.services.push_back(service);
      for (const auto& sp : ss.spans()) {
        SpanRow r;
        r.trace_id = sp.trace_id();
        r.span_id = sp.span_id();
        r.name = sp.name();
        r.start = int64_t(sp.start_time_unix_nano());
        r.end = int64_t(sp.end_time_unix_nano());
        r.root = sp.parent_span_id().empty();
        r.error = sp.status().code() == otlp_pb::trace::v1::Status::STATUS_CODE_ERROR;
        r.ctx = b.ctxs.size() - 1;
        std::string text;
        for (const auto& kv : sp.attributes()) {
          if (kv.key() == "http.route" && kv.value().has_string_value()) r.route = kv.value().string_value();
          if (ScalarText(kv.value(), &text) && kv.key().size() + text.size() < kMaxIndexedValue) {
            r.kvs.push_back(Fnv1aPair(kv.key(), text));
          }
        }
        r.data = sp.SerializeAsString();
        b.spans.push_back(std::move(r));
      }
    }
  }
  return impl_->Enqueue(std::move(b));
}

Admit Store::AddLogs(const otlp_pb::collector::logs::v1::ExportLogsServiceRequest& request) {
  Batch b;
  for (const auto& rl : request.resource_logs()) {
    std::string service = ServiceOf(rl.resource());
    for (const auto& sl : rl.scope_logs()) {
      b.ctxs.push_back(ContextBytes(rl.resource(), rl.schema_url(), sl));
      b.services.push_back(service);
      for (const auto& lr : sl.log_records()) {
        LogRow r;
        r.time = int64_t(lr.time_unix_nano() ? lr.time_unix_nano() : lr.observed_time_unix_nano());
        r.trace_id = lr.trace_id();
        r.span_id = lr.span_id();
        r.severity = int(lr.severity_number());
        r.ctx = b.ctxs.size() - 1;
        r.data = lr.SerializeAsString();
        b.logs.push_back(std::move(r));
      }
    }
  }
  return impl_->Enqueue(std::move(b));
}

Admit Store::AddMetrics(const otlp_pb::collector::metrics::v1::ExportMetricsServiceRequest& request) {
  Batch b;
  for (const auto& rm : request.resource_metrics()) {
    std::string service = ServiceOf(rm.resource());
    for (const auto& sm : rm.scope_metrics()) {
      b.ctxs.push_back(ContextBytes(rm.resource(), rm.schema_url(), sm));
      b.services.push_back(service);
      for (const auto& m : sm.metrics()) {
        PointRow r;
        r.name = m.name();
        // The time of the metric's first data point (all share the collection time).
        uint64_t t = 0;
        if (m.has_sum() && m.sum().data_points_size()) t = m.sum().data_points(0).time_unix_nano();
        if (m.has_gauge() && m.gauge().data_points_size()) t = m.gauge().data_points(0).time_unix_nano();
        if (m.has_histogram() && m.histogram().data_points_size()) t = m.histogram().data_points(0).time_unix_nano();
        if (m.has_exponential_histogram() && m.exponential_histogram().data_points_size())
          t = m.exponential_histogram().data_points(0).time_unix_nano();
        if (m.has_summary() && m.summary().data_points_size()) t = m.summary().data_points(0).time_unix_nano();
        r.time = int64_t(t);
        r.ctx = b.ctxs.size() - 1;
        r.data = m.SerializeAsString();
        b.points.push_back(std::move(r));
      }
    }
  }
  return impl_->Enqueue(std::move(b));
}

bool Store::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  uint64_t target = impl_->enqueued;
  return impl_->idle_cv.wait_for(lock, timeout, [&] { return impl_->committed >= target; });
}

StoreStats Store::Stats() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

std::vector<std::string> Store::Services() {
  std::lock_guard<std::mutex> lock(impl_->rd_mu);
  Stmt s(impl_->rdb, "SELECT service FROM services ORDER BY service");
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.ColText(0));
  return out;
}

namespace {

// The summary columns of a trace row, from column `c` on (see kSummaryColumns).
constexpr const char* kSummaryColumns =
    "trace_id, span_count, error_count, start, duration, coalesce(root_name, first_name), "
    "coalesce(root_service, first_service), services";
TraceSummary ReadSummary(Stmt& s, int c) {
  TraceSummary t;
  t.trace_id = s.ColText(c);
  t.span_count = s.Col(c + 1);
  t.error_count = s.Col(c + 2);
  t.start = s.Col(c + 3);
  t.duration = s.Col(c + 4);
  t.root_name = s.ColText(c + 5);
  t.root_service = s.ColText(c + 6);
  t.services = SplitServices(s.ColText(c + 7));
  return t;
}

}  // namespace

bool Store::QueryTraces(const TraceQuery& q, std::vector<TraceSummary>* out, int64_t* total, std::string* error) {
  // The value filters (service, name, attributes) are posting lists, read and
  // intersected in memory. Then, when the matches are fewer than
  // `drive_below` (and other filters are given, or the matches are too
  // sparse for a walk to fill the page soon), each is looked up by id and the
  // other filters, the sort and the page are applied here; otherwise the start or duration index is
  // walked (the error traces' partial index when they are fewer) with
  // otelweb_in_set(id) testing the matches, so a page fills without reading
  // them all. Without value filters, the index walk alone.
  std::vector<int64_t> hashes;
  if (!q.service.empty()) hashes.push_back(ServiceHash(q.service));
  if (!q.name.empty()) hashes.push_back(NameHash(q.name));
  for (const auto& kv : q.attrs) hashes.push_back(Fnv1a(kv));  // == Fnv1aPair(key, value)
  std::lock_guard<std::mutex> lock(impl_->rd_mu);
  sqlite3* db = impl_->rdb;

  std::string where = " WHERE 1";
  std::vector<int64_t> binds;
  if (q.error_only) where += " AND error_count > 0";
  auto bound = [&](int64_t v, const char* condition) {  // v < 0: no bound
    if (v < 0) return;
    where += condition;
    binds.push_back(v);
  };
  bound(q.min_duration, " AND duration >= ?");
  bound(q.max_duration, " AND duration <= ?");
  bound(q.start, " AND start >= ?");
  bound(q.end, " AND start <= ?");
  const bool others = q.error_only || !binds.empty();
  auto bind_all = [&](Stmt& s) {
    int i = 1;
    for (int64_t v : binds) s.Int(i++, v);
    return i;
  };
  auto prepare = [&](const std::string& sql, Stmt* s) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      *error = sqlite3_errmsg(db);
      return false;
    }
    sqlite3_finalize(raw);
    *s = Stmt(db, sql.c_str());
    return true;
  };
  const std::string order = q.sort_by_duration ? " ORDER BY duration DESC" : " ORDER BY start DESC";
  auto error_index = [&] {
    return std::string(q.sort_by_duration ? " INDEXED BY traces_error_duration" : " INDEXED BY traces_error");
  };
  // Walks the index in the sort order; `matches` (when >= 0) is the number of
  // traces the value filters matched.
  auto walk = [&](const std::string& from, int64_t matches) {
    Stmt s;
    if (!prepare(std::string("SELECT ") + kSummaryColumns + from + where + order + " LIMIT ? OFFSET ?", &s))
      return false;
    int i = bind_all(s);
    s.Int(i, q.limit).Int(i + 1, q.offset);
    while (s.Step()) out->push_back(ReadSummary(s, 0));
    if (q.offset == 0 && int64_t(out->size()) < q.limit) {
      *total = int64_t(out->size());
    } else if (matches >= 0 && !others) {
      *total = matches;
    } else {
      Stmt c;
      if (!prepare("SELECT count(*)" + from + where, &c)) return false;
      bind_all(c);
      *total = c.Step() ? c.Col(0) : 0;
    }
    return true;
  };
  auto error_traces = [&] {
    Stmt c(db, "SELECT count(*) FROM traces INDEXED BY traces_error WHERE error_count > 0");
    return c.Step() ? c.Col(0) : 0;
  };

  if (hashes.empty()) return walk(" FROM traces" + (q.error_only ? error_index() : std::string()), -1);

  *total = 0;
  Stmt low(db, "SELECT min(id) FROM traces");
  if (!low.Step() || low.ColNull(0)) return true;
  const int64_t floor = low.Col(0);  // lists may still name pruned traces below it
  std::vector<std::vector<int64_t>> lists;
  {
    Stmt r(db, "SELECT tids FROM trace_values WHERE h = ?1");
    for (int64_t h : hashes) {
      std::vector<int64_t> ids;
      r.Int(1, h);
      while (r.Step()) DecodeIds(sqlite3_column_blob(r.get(), 0), sqlite3_column_bytes(r.get(), 0), floor, &ids);
      r.Reset();
      if (!std::is_sorted(ids.begin(), ids.end())) std::sort(ids.begin(), ids.end());  // several transactions
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      if (ids.empty()) return true;
      lists.push_back(std::move(ids));
    }
  }
  std::sort(lists.begin(), lists.end(), [](const auto& a, const auto& b) { return a.size() < b.size(); });
  std::vector<int64_t> set = std::move(lists[0]);
  for (size_t i = 1; i < lists.size() && !set.empty(); ++i) {
    std::vector<int64_t> kept;
    std::set_intersection(set.begin(), set.end(), lists[i].begin(), lists[i].end(), std::back_inserter(kept));
    set = std::move(kept);
  }
  if (set.empty()) return true;

  // Looking a match up costs about four index steps of a walk; without other
  // filters the walk stops after about (offset + limit) * traces / matches
  // steps, and the total is the number of matches.
  int64_t stored = 0;
  {
    std::lock_guard<std::mutex> stats_lock(impl_->mu);
    stored = impl_->stats.traces;
  }
  const double n = double(set.size());
  const bool walk_is_shorter = !others && 4 * n * n > double(q.offset + q.limit) * double(stored);
  if (int64_t(set.size()) < impl_->options.drive_below && !walk_is_shorter) {
    // Few matches: each looked up by id.
    Stmt p(db, "SELECT error_count, duration, start FROM traces WHERE id = ?1");
    std::vector<std::pair<int64_t, int64_t>> keyed;  // (sort key, id)
    keyed.reserve(set.size());
    for (int64_t id : set) {
      p.Int(1, id);
      if (p.Step()) {
        int64_t errors = p.Col(0), duration = p.Col(1), start = p.Col(2);
        if ((!q.error_only || errors > 0) && (q.min_duration < 0 || duration >= q.min_duration) &&
            (q.max_duration < 0 || duration <= q.max_duration) && (q.start < 0 || start >= q.start) &&
            (q.end < 0 || start <= q.end)) {
          keyed.emplace_back(q.sort_by_duration ? duration : start, id);
        }
      }
      p.Reset();
    }
    *total = int64_t(keyed.size());
    size_t from = std::min(keyed.size(), size_t(std::max(q.offset, 0)));
    size_t to = std::min(keyed.size(), from + size_t(std::max(q.limit, 0)));
    std::partial_sort(keyed.begin(), keyed.begin() + long(to), keyed.end(), std::greater<>());
    Stmt row(db, (std::string("SELECT ") + kSummaryColumns + " FROM traces WHERE id = ?1").c_str());
    for (size_t k = from; k < to; ++k) {
      row.Int(1, keyed[k].second);
      if (row.Step()) out->push_back(ReadSummary(row, 0));
      row.Reset();
    }
    return true;
  }
  // Many matches: the index walked, each row tested against the set.
  impl_->set_base = set.front();
  impl_->set_bits.assign(size_t((set.back() - set.front()) / 64 + 1), 0);
  for (int64_t id : set) impl_->set_bits[size_t(id - set.front()) / 64] |= uint64_t(1) << ((id - set.front()) % 64);
  where += " AND otelweb_in_set(id)";
  bool error_drives = q.error_only && error_traces() < int64_t(set.size());
  bool ok = walk(" FROM traces" + (error_drives ? error_index() : std::string()), int64_t(set.size()));
  impl_->set_bits.clear();
  return ok;
}

void Store::Read(const std::function<void(sqlite3*)>& fn) {
  std::lock_guard<std::mutex> lock(impl_->rd_mu);
  fn(impl_->rdb);
}

bool Store::GetTrace(const std::string& trace_id, std::vector<StoredSpan>* out) {
  std::lock_guard<std::mutex> lock(impl_->rd_mu);
  Stmt s(impl_->rdb, "SELECT s.ctx, s.data FROM spans s WHERE s.tid = (SELECT id FROM traces WHERE trace_id = ?1)");
  s.Blob(1, trace_id);
  // Each context (resource and scope) is parsed once per trace.
  std::unordered_map<int64_t, std::shared_ptr<const otlp_pb::trace::v1::ResourceSpans>> contexts;
  Stmt c(impl_->rdb, "SELECT bytes FROM contexts WHERE id = ?1");
  std::vector<StoredSpan> spans;
  while (s.Step()) {
    StoredSpan sp;
    sp.context_id = s.Col(0);
    const void* data = sqlite3_column_blob(s.get(), 1);
    if (!sp.span.ParseFromArray(data, sqlite3_column_bytes(s.get(), 1))) continue;
    auto it = contexts.find(sp.context_id);
    if (it == contexts.end()) {
      auto rs = std::make_shared<otlp_pb::trace::v1::ResourceSpans>();
      c.Int(1, sp.context_id);
      bool ok = c.Step() && rs->ParseFromArray(sqlite3_column_blob(c.get(), 0), sqlite3_column_bytes(c.get(), 0));
      c.Reset();
      if (!ok) continue;
      it = contexts.emplace(sp.context_id, std::move(rs)).first;
    }
    sp.context = it->second;
    spans.push_back(std::move(sp));
  }
  if (spans.empty()) return false;
  // Sorted by start; equal start times (clocks of coarse resolution): parents
  // before children. Each span's depth is computed once (linear in the spans,
  // also for a chain thousands deep; a cycle of parent ids ends the walk).
  const size_t n = spans.size();
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(n);
  for (size_t i = 0; i < n; ++i) index.emplace(spans[i].span.span_id(), i);
  constexpr int kUnknown = -1, kOnPath = -2;
  std::vector<int> depth(n, kUnknown);
  std::vector<size_t> path;
  for (size_t i = 0; i < n; ++i) {
    path.clear();
    int base = -1;  // depth of the first ancestor already known
    for (size_t j = i;;) {
      if (depth[j] >= 0) {
        base = depth[j];
        break;
      }
      if (depth[j] == kOnPath) break;  // a cycle
      depth[j] = kOnPath;
      path.push_back(j);
      const std::string& parent = spans[j].span.parent_span_id();
      auto it = parent.empty() ? index.end() : index.find(parent);
      if (it == index.end()) break;
      j = it->second;
    }
    for (size_t k = path.size(); k-- > 0;) depth[path[k]] = ++base;
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    uint64_t sa = spans[a].span.start_time_unix_nano(), sb = spans[b].span.start_time_unix_nano();
    return sa != sb ? sa < sb : depth[a] < depth[b];
  });
  out->reserve(out->size() + n);
  for (size_t i : order) out->push_back(std::move(spans[i]));
  return true;
}

}  // namespace otelweb::view
