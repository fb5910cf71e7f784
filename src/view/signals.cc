// otelweb-view's logs, metrics and service-map API (see signals.h).
#include "view/signals.h"

#include <google/protobuf/arena.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <type_traits>
#include <unordered_map>

#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "view/otlp_json.h"
#include "view/rollup.h"

namespace otelweb::view {

namespace {

using Json = nlohmann::json;
namespace pb_logs = otlp_pb::logs::v1;
namespace pb_metrics = otlp_pb::metrics::v1;

constexpr const char* kJson = "application/json; charset=utf-8";  // not compressed: see server.cc

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void Error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(Dump(Json{{"error", message}}), kJson);
}

// One prepared statement on the readers' connection.
class Query {
 public:
  Query(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db);
      s_ = nullptr;
    }
  }
  ~Query() { sqlite3_finalize(s_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  bool ok() const { return s_ != nullptr; }
  const std::string& error() const { return error_; }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  void Blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  bool Step() { return s_ && sqlite3_step(s_) == SQLITE_ROW; }
  void Reset() { sqlite3_reset(s_); }
  sqlite3_stmt* stmt() { return s_; }
  int64_t Col(int i) { return sqlite3_column_int64(s_, i); }
  std::string Bytes(int i) {
    const void* p = sqlite3_column_blob(s_, i);
    return p ? std::string(static_cast<const char*>(p), size_t(sqlite3_column_bytes(s_, i)))
             : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  std::string error_;
};

// Binds in order of appearance: (is_int, value).
struct Binds {
  std::vector<std::pair<bool, std::string>> v;
  void Int(int64_t x) { v.emplace_back(true, std::to_string(x)); }
  void Text(std::string x) { v.emplace_back(false, std::move(x)); }
  void Blob(std::string x) { v.emplace_back(false, std::move(x)); }
  void Apply(Query& q, const std::vector<bool>& blob) const {
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].first)
        q.Int(int(i + 1), std::stoll(v[i].second));
      else if (i < blob.size() && blob[i])
        q.Blob(int(i + 1), v[i].second);
      else
        q.Text(int(i + 1), v[i].second);
    }
  }
};

bool ParseNonNegative(const std::string& s, int64_t* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && *v >= 0;
}

// An optional integer parameter; false after answering 400.
bool IntParam(const httplib::Request& req, httplib::Response& res, const char* name, int64_t* out) {
  if (!req.has_param(name)) return true;
  std::string v = req.get_param_value(name);
  if (!ParseNonNegative(v, out)) {
    Error(res, 400,
          std::string(name) + "=" + v +
              ": use a non-negative integer (nanoseconds for times and steps)");
    return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(uint8_t(c)));
  return s;
}

struct Context {
  Json resource = Json::object();
  Json scope = {{"name", ""}, {"version", ""}};
  std::string service;
};

// The resource and scope of a stored context (bytes of a ResourceSpans), cached per query.
const Context& ContextOf(std::unordered_map<std::string, Context>& cache, const std::string& bytes,
                         const std::string& service) {
  auto it = cache.find(bytes);
  if (it != cache.end()) return it->second;
  Context c;
  c.service = service;
  otlp_pb::trace::v1::ResourceSpans rs;
  if (rs.ParseFromString(bytes)) {
    c.resource = {{"attributes", ToJson(rs.resource().attributes())}};
    if (rs.scope_spans_size()) {
      c.scope = {{"name", rs.scope_spans(0).scope().name()},
                 {"version", rs.scope_spans(0).scope().version()}};
    }
  }
  return cache.emplace(bytes, std::move(c)).first->second;
}

// --- logs ------------------------------------------------------------------------

// severity=NAME|NUMBER: the lowest severity number kept (OTLP ranges: TRACE 1,
// DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21).
bool SeverityParam(const std::string& v, int64_t* out) {
  static const std::pair<const char*, int> names[] = {{"trace", 1}, {"debug", 5},    {"info", 9},
                                                      {"warn", 13}, {"warning", 13}, {"error", 17},
                                                      {"fatal", 21}};
  std::string l = Lower(v);
  for (const auto& [n, number] : names) {
    if (l == n) {
      *out = number;
      return true;
    }
  }
  return ParseNonNegative(v, out) && *out <= 24;
}

std::string ValueText(const otlp_pb::common::v1::AnyValue& v) {
  if (v.has_string_value()) return v.string_value();
  return Dump(ToJson(v));
}

Json LogJson(const pb_logs::LogRecord& r, const Context& c) {
  return {{"timeUnixNano",
           std::to_string(r.time_unix_nano() ? r.time_unix_nano() : r.observed_time_unix_nano())},
          {"observedTimeUnixNano", std::to_string(r.observed_time_unix_nano())},
          {"severityNumber", int(r.severity_number())},
          {"severityText", r.severity_text()},
          {"body", r.has_body() ? ToJson(r.body()) : Json("")},
          {"attributes", ToJson(r.attributes())},
          {"droppedAttributesCount", r.dropped_attributes_count()},
          {"traceId", Hex(r.trace_id())},
          {"spanId", Hex(r.span_id())},
          {"eventName", r.event_name()},
          {"service", c.service},
          {"resource", c.resource},
          {"scope", c.scope}};
}

struct LogFilter {
  std::string service, text, trace_id, span_id;  // ids as bytes
  int64_t min_severity = -1, start = -1, end = -1;
  int64_t limit = 100;
  bool oldest_first = false;
};

// Matching records, newest first (or oldest first); `*more` when the limit cut the list.
bool QueryLogs(Store* store, const LogFilter& f, Json* out, bool* more, std::string* error) {
  std::string sql =
      "SELECT l.data, c.bytes, c.service FROM logs l JOIN contexts c ON c.id = l.ctx WHERE 1";
  Binds b;
  std::vector<bool> blob;
  auto add = [&](const char* clause, auto value, bool is_blob) {
    sql += clause;
    if constexpr (std::is_same_v<decltype(value), int64_t>)
      b.Int(value);
    else
      b.Text(value);
    blob.push_back(is_blob);
  };
  if (!f.trace_id.empty()) add(" AND l.trace_id = ?", f.trace_id, true);
  if (!f.span_id.empty()) add(" AND l.span_id = ?", f.span_id, true);
  if (!f.service.empty()) add(" AND c.service = ?", f.service, false);
  if (f.min_severity >= 0) add(" AND l.severity >= ?", f.min_severity, false);
  if (f.start >= 0) add(" AND l.time >= ?", f.start, false);
  if (f.end >= 0) add(" AND l.time <= ?", f.end, false);
  sql += f.oldest_first ? " ORDER BY l.time, l.id" : " ORDER BY l.time DESC, l.id DESC";
  std::string needle = Lower(f.text);
  bool ok = true;
  *out = Json::array();
  *more = false;
  store->Read([&](sqlite3* db) {
    Query q(db, sql);
    if (!q.ok()) {
      ok = false;
      *error = q.error();
      return;
    }
    b.Apply(q, blob);
    std::unordered_map<std::string, Context> ctxs;
    int64_t scanned = 0;
    while (q.Step()) {
      if (++scanned > 500000) {  // a text search over a huge store: answer what was found
        *more = true;
        break;
      }
      pb_logs::LogRecord r;
      if (!r.ParseFromString(q.Bytes(0))) continue;
      if (!needle.empty()) {
        std::string hay = ValueText(r.body());
        for (const auto& kv : r.attributes()) hay += "\n" + kv.key() + "=" + ValueText(kv.value());
        if (Lower(hay).find(needle) == std::string::npos) continue;
      }
      if (int64_t(out->size()) >= f.limit) {
        *more = true;
        break;
      }
      out->push_back(LogJson(r, ContextOf(ctxs, q.Bytes(1), q.Bytes(2))));
    }
  });
  return ok;
}

bool HexParam(const httplib::Request& req, httplib::Response& res, const char* name, size_t bytes,
              std::string* out) {
  if (!req.has_param(name)) return true;
  std::string v = Lower(req.get_param_value(name));
  if (v.empty()) return true;
  if (!FromHex(v, bytes, out)) {
    Error(res, 400,
          std::string(name) + "=" + v + ": use the " + std::to_string(bytes * 2) +
              " hex digits of the id");
    return false;
  }
  return true;
}

void HandleLogs(Store* store, const httplib::Request& req, httplib::Response& res) {
  LogFilter f;
  f.service = req.get_param_value("service");
  f.text = req.get_param_value("text");
  if (!HexParam(req, res, "traceId", 16, &f.trace_id) ||
      !HexParam(req, res, "spanId", 8, &f.span_id))
    return;
  if (req.has_param("severity") && !req.get_param_value("severity").empty() &&
      !SeverityParam(req.get_param_value("severity"), &f.min_severity)) {
    Error(res, 400,
          "severity=" + req.get_param_value("severity") +
              ": use TRACE, DEBUG, INFO, WARN, ERROR, FATAL or a severity number 1 to 24");
    return;
  }
  if (!IntParam(req, res, "start", &f.start) || !IntParam(req, res, "end", &f.end) ||
      !IntParam(req, res, "limit", &f.limit)) {
    return;
  }
  if (f.limit < 1 || f.limit > 10000)
    return Error(res, 400, "limit=" + std::to_string(f.limit) + ": use 1 to 10000");
  f.oldest_first = req.get_param_value("order") == "oldest";
  Json logs;
  bool more = false;
  std::string error;
  if (!QueryLogs(store, f, &logs, &more, &error)) return Error(res, 500, "query failed: " + error);
  res.set_content(Dump(Json{{"logs", std::move(logs)}, {"more", more}}), kJson);
}

// --- service map -------------------------------------------------------------------

void HandleServiceMap(Store* store, const httplib::Request& req, httplib::Response& res) {
  int64_t start = -1, end = -1, limit = 2000;
  if (!IntParam(req, res, "start", &start) || !IntParam(req, res, "end", &end) ||
      !IntParam(req, res, "limit", &limit)) {
    return;
  }
  if (limit < 1 || limit > 100000)
    return Error(res, 400, "limit=" + std::to_string(limit) + ": use 1 to 100000");
  std::string where = " WHERE 1";
  Binds b;
  if (start >= 0) {
    where += " AND start >= ?";
    b.Int(start);
  }
  if (end >= 0) {
    where += " AND start <= ?";
    b.Int(end);
  }
  b.Int(limit);
  // Spans of the newest `limit` traces in the window, grouped by trace.
  std::string sql =
      "SELECT s.tid, s.data, c.service FROM spans s JOIN contexts c ON c.id = s.ctx WHERE s.tid IN "
      "(SELECT id FROM traces" +
      where + " ORDER BY start DESC LIMIT ?) ORDER BY s.tid";
  struct Edge {
    int64_t calls = 0, errors = 0, duration = 0;
  };
  struct Node {
    int64_t spans = 0, errors = 0;
    std::set<int64_t> traces;
  };
  std::map<std::pair<std::string, std::string>, Edge> edges;
  std::map<std::string, Node> nodes;
  int64_t traces = 0;
  std::string error;
  store->Read([&](sqlite3* db) {
    Query q(db, sql);
    if (!q.ok()) {
      error = q.error();
      return;
    }
    b.Apply(q, {});
    struct S {
      std::string parent, service;
      bool error;
      int64_t duration;
    };
    std::unordered_map<std::string, S> spans;  // of the current trace, by span id
    int64_t tid = -1;
    auto flush = [&] {
      for (const auto& [id, s] : spans) {
        auto p = spans.find(s.parent);
        if (p == spans.end() || p->second.service == s.service) continue;
        Edge& e = edges[{p->second.service, s.service}];
        ++e.calls;
        e.errors += s.error;
        e.duration += s.duration;
      }
      spans.clear();
    };
    while (q.Step()) {
      if (q.Col(0) != tid) {
        flush();
        tid = q.Col(0);
        ++traces;
      }
      otlp_pb::trace::v1::Span sp;
      if (!sp.ParseFromString(q.Bytes(1))) continue;
      std::string service = q.Bytes(2);
      bool err = sp.status().code() == otlp_pb::trace::v1::Status::STATUS_CODE_ERROR;
      Node& n = nodes[service];
      ++n.spans;
      n.errors += err;
      n.traces.insert(tid);
      spans[sp.span_id()] = S{sp.parent_span_id(), service, err,
                              int64_t(sp.end_time_unix_nano() - sp.start_time_unix_nano())};
    }
    flush();
  });
  if (!error.empty()) return Error(res, 500, "query failed: " + error);
  Json jn = Json::array(), je = Json::array();
  for (const auto& [name, n] : nodes) {
    jn.push_back({{"service", name},
                  {"spans", n.spans},
                  {"errors", n.errors},
                  {"traces", int64_t(n.traces.size())}});
  }
  for (const auto& [k, e] : edges) {
    je.push_back({{"parent", k.first},
                  {"child", k.second},
                  {"calls", e.calls},
                  {"errors", e.errors},
                  {"errorRate", e.calls ? double(e.errors) / double(e.calls) : 0.0},
                  {"meanDurationNano", e.calls ? e.duration / e.calls : 0}});
  }
  res.set_content(Dump(Json{{"services", jn}, {"edges", je}, {"traces", traces}}), kJson);
}

// --- metrics -----------------------------------------------------------------------

void HandleMetrics(Store* store, const httplib::Request&, httplib::Response& res) {
  Json list = Json::array();
  std::string error;
  store->Read([&](sqlite3* db) {
    std::map<std::string, std::set<std::string>> services;
    Query s(
        db,
        "SELECT DISTINCT m.name, c.service FROM metric_points m JOIN contexts c ON c.id = m.ctx");
    while (s.Step()) services[s.Bytes(0)].insert(s.Bytes(1));
    Query q(db,
            "SELECT name, count(*), min(time), max(time), max(id) FROM metric_points GROUP BY name "
            "ORDER BY name");
    Query last(db, "SELECT data FROM metric_points WHERE id = ?");
    if (!q.ok() || !last.ok()) {
      error = q.ok() ? last.error() : q.error();
      return;
    }
    while (q.Step()) {
      pb_metrics::Metric m;
      last.Int(1, q.Col(4));
      if (last.Step()) m.ParseFromString(last.Bytes(0));
      last.Reset();
      std::string name = q.Bytes(0);
      Json j = {{"name", name},
                {"type", MetricTypeName(m)},
                {"unit", m.unit()},
                {"description", m.description()},
                {"services", services[name]},
                {"exports", q.Col(1)},
                {"startTimeUnixNano", std::to_string(q.Col(2))},
                {"endTimeUnixNano", std::to_string(q.Col(3))}};
      if (m.has_sum()) {
        j["monotonic"] = m.sum().is_monotonic();
        j["temporality"] =
            m.sum().aggregation_temporality() == pb_metrics::AGGREGATION_TEMPORALITY_DELTA
                ? "delta"
                : "cumulative";
      }
      if (m.has_histogram()) {
        j["temporality"] =
            m.histogram().aggregation_temporality() == pb_metrics::AGGREGATION_TEMPORALITY_DELTA
                ? "delta"
                : "cumulative";
      }
      if (m.has_exponential_histogram()) {
        j["temporality"] = m.exponential_histogram().aggregation_temporality() ==
                                   pb_metrics::AGGREGATION_TEMPORALITY_DELTA
                               ? "delta"
                               : "cumulative";
      }
      list.push_back(std::move(j));
    }
  });
  if (!error.empty()) return Error(res, 500, "query failed: " + error);
  res.set_content(Dump(Json{{"metrics", list}}), kJson);
}

// The value at fraction q of the observations of one bucket-count vector
// (linear within a bucket; the open buckets take their finite bound).
double Quantile(const std::vector<double>& counts, const std::vector<double>& bounds, double q) {
  double total = 0;
  for (double c : counts) total += c;
  if (total <= 0) return NAN;
  double want = q * total, acc = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (acc + counts[i] >= want && counts[i] > 0) {
      if (bounds.empty()) return 0;
      // More counts than bounds + 1 (a malformed or mixed row): the
      // buckets past the last bound take it.
      double lo = i == 0 ? std::min(0.0, bounds[0]) : bounds[std::min(i - 1, bounds.size() - 1)];
      double hi = i < bounds.size() ? bounds[i] : bounds.back();
      if (i == counts.size() - 1) return hi;
      return lo + (hi - lo) * (want - acc) / counts[i];
    }
    acc += counts[i];
  }
  return bounds.empty() ? 0 : bounds.back();
}

// The default step: at least 1 s and range / maxPoints, rounded up to one of
// these (seconds), so that it is a whole number of a rollup resolution.
int64_t NiceStep(int64_t min_ns) {
  static const int64_t kSteps[] = {1,   2,    5,    10,   15,    30,    60,    120,   300,
                                   600, 900,  1800, 3600, 7200,  10800, 21600, 43200, 86400};
  for (int64_t s : kSteps)
    if (s * 1000000000 >= min_ns) return s * 1000000000;
  int64_t day = int64_t(86400) * 1000000000;
  return (min_ns + day - 1) / day * day;
}

void HandleSeries(Store* store, const httplib::Request& req, httplib::Response& res) {
  std::string name = req.get_param_value("name");
  if (name.empty())
    return Error(res, 400, "name is missing: use name=<instrument name> (see /api/metrics)");
  std::string source = req.get_param_value("source");
  if (!source.empty() && source != "rollups" && source != "points")
    return Error(res, 400, "source=" + source + ": use rollups (the default) or points");
  int64_t start = -1, end = -1, step = 0, max_points = 120;
  if (!IntParam(req, res, "start", &start) || !IntParam(req, res, "end", &end) ||
      !IntParam(req, res, "step", &step) || !IntParam(req, res, "maxPoints", &max_points)) {
    return;
  }
  if (max_points < 1 || max_points > 20000) {
    return Error(res, 400, "maxPoints=" + std::to_string(max_points) + ": use 1 to 20000");
  }
  std::string error;
  SeriesWindow w;
  w.name = name;
  w.service = req.get_param_value("service");
  SeriesAnswer answer;
  store->Read([&](sqlite3* db) {
    if (start < 0 || end < 0) {
      Query r(db, "SELECT min(time), max(time) FROM metric_points WHERE name = ?");
      r.Text(1, name);
      if (r.Step()) {
        if (start < 0) start = r.Col(0);
        if (end < 0) end = r.Col(1);
      }
    }
    if (end < start) end = start;
    if (step <= 0) step = NiceStep(std::max<int64_t>(1000000000, (end - start) / max_points + 1));
    if ((end - start) / step > 20000) step = NiceStep((end - start) / 20000 + 1);
    // The buckets start at a multiple of the rollup resolution read (the
    // answer's startTimeUnixNano says where).
    w.res = RollupResolutionFor(step);
    w.step = step;
    w.start = w.res ? start - start % (w.res * 1000000000) : start;
    w.n = size_t((end - w.start) / step + 1);
    bool ok = w.res && source != "points" ? QueryRollups(db, w, &answer, &error)
                                          : QueryPoints(db, w, &answer, &error);
    if (!ok && error.empty()) error = "unknown";
  });
  if (!error.empty()) return Error(res, 500, "query failed: " + error);
  // Written by hand: 200 series of 3 600 points through nlohmann-json's
  // values cost seconds.
  std::vector<std::pair<std::string, BucketedSeries*>> sorted;
  std::vector<Json> attributes(answer.series.size());
  for (size_t i = 0; i < answer.series.size(); ++i) {
    BucketedSeries& v = answer.series[i];
    pb_metrics::NumberDataPoint holder;
    holder.ParseFromString(v.attrs);
    attributes[i] = ToJson(holder.attributes());
    sorted.emplace_back(v.service + "\n" + Dump(attributes[i]), &v);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string body = Dump(Json{{"name", name},
                               {"type", answer.type},
                               {"unit", answer.unit},
                               {"temporality", answer.temporality},
                               {"startTimeUnixNano", std::to_string(w.start)},
                               {"stepNano", w.step},
                               {"source", w.res && source != "points" ? "rollups" : "points"},
                               {"rollupSeconds", w.res}});
  body.pop_back();  // the closing brace
  body += ",\"series\":[";
  auto num = [&body](double v) {
    if (!std::isfinite(v)) {
      body += "null";
      return;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    body.append(buf, r.ptr);
  };
  auto array = [&body](const char* field, size_t n, const auto& each) {
    body += ",\"";
    body += field;
    body += "\":[";
    for (size_t i = 0; i < n; ++i) {
      if (i) body += ',';
      each(i);
    }
    body += ']';
  };
  bool first = true;
  for (auto& [k, sp] : sorted) {
    BucketedSeries& s = *sp;
    if (!first) body += ',';
    first = false;
    Json exemplars = Json::array();
    for (const std::string& bytes : s.exemplars) {
      pb_metrics::Exemplar e;
      if (!e.ParseFromString(bytes)) continue;
      exemplars.push_back(
          {{"timeUnixNano", std::to_string(e.time_unix_nano())},
           {"value",
            e.value_case() == pb_metrics::Exemplar::kAsInt ? double(e.as_int()) : e.as_double()},
           {"traceId", Hex(e.trace_id())},
           {"spanId", Hex(e.span_id())},
           {"filteredAttributes", ToJson(e.filtered_attributes())}});
    }
    body += "{\"service\":" + Dump(s.service) +
            ",\"attributes\":" + Dump(attributes[size_t(sp - answer.series.data())]) +
            ",\"exemplars\":" + Dump(exemplars);
    array("values", s.value.size(),
          [&](size_t i) { s.has[i] ? num(s.value[i]) : void(body += "null"); });
    if (!s.count.empty()) {
      size_t n = s.count.size();
      array("counts", n, [&](size_t i) { num(s.count[i]); });
      array("sums", n, [&](size_t i) { num(s.sum[i]); });
      array("p50", n, [&](size_t i) { num(Quantile(s.buckets[i], s.bounds, 0.5)); });
      array("p90", n, [&](size_t i) { num(Quantile(s.buckets[i], s.bounds, 0.9)); });
      array("p99", n, [&](size_t i) { num(Quantile(s.buckets[i], s.bounds, 0.99)); });
      array("bounds", s.bounds.size(), [&](size_t i) { num(s.bounds[i]); });
      array("buckets", n, [&](size_t i) {
        body += '[';
        for (size_t b = 0; b < s.buckets[i].size(); ++b) {
          if (b) body += ',';
          num(s.buckets[i][b]);
        }
        body += ']';
      });
    }
    body += '}';
  }
  body += "]}";
  res.set_content(body, kJson);
}

}  // namespace

void RegisterSignalsApi(httplib::Server& srv, Store* store) {
  srv.Get("/api/logs", [store](const httplib::Request& req, httplib::Response& res) {
    HandleLogs(store, req, res);
  });
  srv.Get(
      R"(/api/traces/([^/]+)/logs)", [store](const httplib::Request& req, httplib::Response& res) {
        LogFilter f;
        std::string hex = Lower(req.matches[1]);
        if (!FromHex(hex, 16, &f.trace_id))
          return Error(res, 400, "trace id \"" + hex + "\": use the 32 hex digits of a trace id");
        f.limit = 10000;
        f.oldest_first = true;
        Json logs;
        bool more = false;
        std::string error;
        if (!QueryLogs(store, f, &logs, &more, &error))
          return Error(res, 500, "query failed: " + error);
        res.set_content(Dump(Json{{"logs", std::move(logs)}, {"more", more}}), kJson);
      });
  srv.Get("/api/service-map", [store](const httplib::Request& req, httplib::Response& res) {
    HandleServiceMap(store, req, res);
  });
  srv.Get("/api/metrics", [store](const httplib::Request& req, httplib::Response& res) {
    HandleMetrics(store, req, res);
  });
  srv.Get("/api/metrics/series", [store](const httplib::Request& req, httplib::Response& res) {
    HandleSeries(store, req, res);
  });
}

}  // namespace otelweb::view
