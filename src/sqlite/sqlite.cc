// SQLite instrumentation: sqlite3_auto_extension + sqlite3_trace_v2, errors
// from SQLITE_CONFIG_LOG (see include/otelweb/sqlite.h).
//
// Locking: per-connection state is touched only with the connection's mutex
// held (SQLite holds it while calling the trace callback; the public per-db
// functions take it with sqlite3_db_mutex). In SQLITE_OPEN_NOMUTEX mode there
// is no mutex and the application already guarantees one thread at a time per
// connection. Lock order: connection mutex, then the registry mutex.
#include "otelweb/sqlite/sqlite.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "otelweb/context.h"
#include "otelweb/diagnostics.h"
#include "otelweb/instrumentation.h"
#include "metrics/instrument_cache.h"
#include "otelweb/semconv.h"
#include "sqlite/sql_text.h"

// Present (non-null) when the program is linked with
// -Wl,--wrap=sqlite3_trace_v2: then it is SQLite's own function, and a plain
// sqlite3_trace_v2 reference would be our wrapper.
extern "C" int __real_sqlite3_trace_v2(sqlite3*, unsigned, int (*)(unsigned, void*, void*, void*),
                                       void*) __attribute__((weak));

namespace otelweb::sqlite {

namespace {

using TraceFn = int (*)(unsigned, void*, void*, void*);

int RealTraceV2(sqlite3* db, unsigned mask, TraceFn cb, void* ctx) {
  if (&__real_sqlite3_trace_v2 != nullptr) return __real_sqlite3_trace_v2(db, mask, cb, ctx);
  return sqlite3_trace_v2(db, mask, cb, ctx);
}

// db.client.operation.duration (semantic conventions, database metrics).
struct DbMetrics {
  metrics::Histogram<double> duration;
  bool enabled = false;
  static DbMetrics Create(metrics::MeterProvider& provider, std::string_view scope) {
    DbMetrics m;
    metrics::InstrumentAdvice adv;
    adv.explicit_bucket_boundaries.assign(std::begin(kDbDurationBuckets), std::end(kDbDurationBuckets));
    m.duration = provider.GetMeter(scope, kVersion)
                     .CreateDoubleHistogram("db.client.operation.duration", "s",
                                            "Duration of database client operations.", adv);
    m.enabled = m.duration.Enabled();
    return m;
  }
};

struct Config {
  explicit Config(Options o)
      : options(std::move(o)),
        tracer(kScopeName, kVersion, options.tracer_provider),
        metrics(options.meter_provider, std::string(kScopeName)) {}
  Options options;
  // The explicit provider's tracer, else the global one's, followed across
  // re-installs of the global provider.
  instrumentation::InstrumentationTracer tracer;
  // Likewise for the meter provider.
  metrics::internal::InstrumentCache<DbMetrics> metrics;
};

// Configs are kept (never freed): a trace callback on another thread may still
// be reading the previous one (a few hundred bytes per Install call).
instrumentation::Published<Config>& Configs() {
  static auto* c = new instrumentation::Published<Config>;  // hooks may run during exit
  return *c;
}
std::atomic<const Config*> g_log_config{nullptr};  // kept across Uninstall, for log_callback
std::mutex g_install_mu;
std::atomic<bool> g_log_ours{false};
bool g_log_attempted = false;  // under g_install_mu
std::atomic<uint64_t> g_error_seq{0};
std::atomic<bool> g_warned_log{false};
std::atomic<bool> g_warned_hook{false};
std::atomic<bool> g_warned_log_cb{false};

// The last error SQLite logged on this thread. SQLite logs a failing
// statement's error on the stepping thread right before the PROFILE event.
struct PendingError {
  uint64_t seq = 0;
  int code = 0;
  bool consumed = true;
  char message[512] = {};
};
thread_local PendingError t_error;

struct StatementText;

struct OpenStatement {
  sqlite3_stmt* stmt;
  Span span;
  uint64_t start_seq;
  int64_t rows;
  // Metrics (null: none): the span's start time, and the statement's text
  // analysis (kept alive even if the cache evicts it meanwhile).
  const DbMetrics* metrics = nullptr;
  Timestamp start{};
  std::shared_ptr<const StatementText> text{};
};

// {db.query.summary}, else the namespace, else the system (semantic conventions).
std::string SpanName(const internal::SqlInfo& info, std::string_view db_namespace) {
  if (!info.summary.empty()) return info.summary;
  if (!db_namespace.empty()) return std::string(db_namespace);
  return "sqlite";
}

// What a statement's text gives its span, computed once per prepared
// statement (a statement runs many times; tokenizing it each time cost more
// than the span).
struct StatementText {
  sqlite3_stmt* stmt = nullptr;
  std::string sql;  // to recognise a new statement at a reused address
  Options::QueryText mode = Options::QueryText::kOff;
  std::string name, operation, summary, query;
};
constexpr size_t kStatementCacheSize = 64;

struct ConnState {
  sqlite3* db = nullptr;
  std::string db_namespace;
  bool detached = false;
  bool count_rows = false;
  unsigned user_mask = 0;
  TraceFn user_cb = nullptr;
  void* user_ctx = nullptr;
  std::vector<OpenStatement> open;
  // At most kStatementCacheSize; an evicted entry is replaced, not reused, as
  // a running statement's metrics may still point into it.
  std::vector<std::shared_ptr<StatementText>> texts;
  size_t next_evict = 0;

  const std::shared_ptr<StatementText>& TextFor(sqlite3_stmt* stmt, const char* sql,
                                                Options::QueryText mode) {
    for (const std::shared_ptr<StatementText>& t : texts) {
      if (t->stmt == stmt && t->mode == mode && t->sql == sql) return t;
    }
    std::shared_ptr<StatementText>* slot;
    if (texts.size() < kStatementCacheSize) {
      slot = &texts.emplace_back();
    } else {
      slot = &texts[next_evict++ % kStatementCacheSize];
    }
    *slot = std::make_shared<StatementText>();
    StatementText* t = slot->get();
    t->stmt = stmt;
    t->sql = sql;
    t->mode = mode;
    internal::SqlInfo info = internal::AnalyzeSql(t->sql);
    t->name = SpanName(info, db_namespace);
    t->operation = std::move(info.operation);
    t->summary = std::move(info.summary);
    t->query.clear();
    if (mode == Options::QueryText::kSanitized) {
      internal::SanitizeSql(t->sql, &t->query);
    } else if (mode == Options::QueryText::kRaw) {
      t->query = t->sql;
    }
    return *slot;
  }
};

std::mutex& RegistryMutex() {
  static auto* m = new std::mutex;
  return *m;
}
std::unordered_map<sqlite3*, ConnState*>& Registry() {
  static auto* r = new std::unordered_map<sqlite3*, ConnState*>;
  return *r;
}

ConnState* Lookup(sqlite3* db) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto it = Registry().find(db);
  return it == Registry().end() ? nullptr : it->second;
}

class DbLock {
 public:
  explicit DbLock(sqlite3* db) : m_(sqlite3_db_mutex(db)) { sqlite3_mutex_enter(m_); }
  ~DbLock() { sqlite3_mutex_leave(m_); }
  DbLock(const DbLock&) = delete;
  DbLock& operator=(const DbLock&) = delete;

 private:
  sqlite3_mutex* m_;
};

// The status description of a failed statement: SQLite's message without the
// statement text. The log line embeds the SQL (with its literals), so only a
// part we can cut out with certainty is used; anything else gives an empty
// result and the caller falls back to sqlite3_errstr (never raw SQL).
//   "abort at <pc> in [<sql>]: <message>"          (3.40, VDBE aborts)
//   "statement aborts at <pc>: [<sql>] <message>"   (3.40, step errors)
//   "statement aborts at <pc>: <message>; [<sql>]"  (later releases)
// SQLite formats log lines into a 210-byte buffer: a longer line lost its
// end, and with it the part after the SQL, so it is not used at all.
std::string_view ErrorDescription(std::string_view msg) {
  constexpr size_t kMaybeTruncated = 200;
  if (msg.starts_with("abort at ")) {
    size_t open = msg.find(" in [");
    size_t p = msg.rfind("]: ");
    if (msg.size() < kMaybeTruncated && open != std::string_view::npos && p != std::string_view::npos &&
        p > open) {
      return msg.substr(p + 3);
    }
  } else if (msg.starts_with("statement aborts at ")) {
    size_t colon = msg.find(": ");
    if (colon == std::string_view::npos) return {};
    if (msg.substr(colon + 2).starts_with("[")) {
      size_t p = msg.rfind("] ");
      if (msg.size() < kMaybeTruncated && p != std::string_view::npos && p > colon) return msg.substr(p + 2);
    } else {
      size_t open = msg.find("; [");
      if (open != std::string_view::npos && open > colon && msg.ends_with(']')) {
        return msg.substr(colon + 2, open - colon - 2);
      }
    }
  }
  return {};
}

// A prepare error's message ("near \"'x'\": syntax error") may quote a
// token of the statement: kept only when raw query text is allowed or when it
// quotes nothing.
std::string_view PrepareErrorDescription(std::string_view message, bool raw_allowed) {
  if (raw_allowed || message.find_first_of("'\"") == std::string_view::npos) return message;
  return {};
}

void MarkError(SpanRef span, int code, std::string_view description,
               std::string_view name = {}) noexcept {
  try {
    if (description.empty()) description = sqlite3_errstr(code);
    std::string own;
    if (name.empty()) name = own = internal::SqliteCodeName(code);
    instrumentation::SetInstrumentationAttribute(span, semconv::kErrorType, name);
    instrumentation::SetInstrumentationAttribute(span, semconv::kDbResponseStatusCode, std::to_string(code));
    span.SetStatus(StatusCode::kError, description);
  } catch (...) {
  }
}

void OnStatementStart(ConnState* cs, const Config* cfg, sqlite3_stmt* stmt, const char* x) {
  const char* sql = sqlite3_sql(stmt);
  // A trigger sub-program reports "-- TRIGGER name" (and its own statements)
  // for the same sqlite3_stmt: only the top-level text is the statement's.
  if (sql == nullptr || x != sql) return;
  for (size_t i = 0; i < cs->open.size(); ++i) {
    if (cs->open[i].stmt == stmt) {  // a stale span (its end was never reported)
      cs->open[i] = std::move(cs->open.back());
      cs->open.pop_back();
      break;
    }
  }
  if (Context::Current().instrumentation_suppressed()) return;
  const instrumentation::ResolvedTracer& resolved = cfg->tracer.Resolve();
  const DbMetrics* m = cfg->metrics.Get();
  if (!resolved.live && m == nullptr) return;  // no provider: skip the statement text work

  const std::shared_ptr<StatementText>& text_ptr = cs->TextFor(stmt, sql, cfg->options.query_text);
  const StatementText& text = *text_ptr;
  // One start time for the span and the duration.
  const Timestamp start = m != nullptr ? Now() : Timestamp{};
  if (!resolved.live) {
    cs->open.push_back({stmt, Span(), g_error_seq.load(std::memory_order_relaxed), 0, m, start, text_ptr});
    return;
  }
  instrumentation::AttrList<5> attrs;
  attrs.Add(semconv::kDbSystemName, semconv::kDbSystemNameSqlite);
  attrs.AddIfNotEmpty(semconv::kDbNamespace, cs->db_namespace);
  attrs.AddIfNotEmpty(semconv::kDbOperationName, text.operation);
  attrs.AddIfNotEmpty(semconv::kDbQuerySummary, text.summary);
  if (text.mode != Options::QueryText::kOff) attrs.Add(semconv::kDbQueryText, text.query);
  SpanOptions so;
  so.kind = SpanKind::kClient;
  so.attributes = attrs.attributes();
  so.start_time = start;
  Span span = cfg->tracer.StartSpan(resolved, text.name, so);
  if (!span.GetContext().IsValid() && m == nullptr) return;  // provider shut down (reported by the kit)
  if (cfg->options.statement_hook && span.GetContext().IsValid()) {
    instrumentation::RunGuarded(
        g_warned_hook, "otelweb::sqlite statement_hook", [&] { cfg->options.statement_hook(span.Ref(), stmt); },
        cfg->options.hook_exceptions);
  }
  cs->open.push_back({stmt, std::move(span), g_error_seq.load(std::memory_order_relaxed), 0, m, start,
                      m != nullptr ? text_ptr : nullptr});
}

// db.client.operation.duration of one execution, recorded while its span is
// current (the exemplar names it).
void RecordDuration(const ConnState* cs, const OpenStatement& o, Timestamp end, int error_code,
                    std::string_view error_name) noexcept {
  KeyValue kv[6];
  size_t n = 0;
  kv[n++] = {semconv::kDbSystemName, semconv::kDbSystemNameSqlite};
  if (!cs->db_namespace.empty()) kv[n++] = {semconv::kDbNamespace, std::string_view(cs->db_namespace)};
  if (o.text != nullptr && !o.text->operation.empty())
    kv[n++] = {semconv::kDbOperationName, std::string_view(o.text->operation)};
  // db.query.summary rather than db.collection.name: the conventions say not
  // to parse the collection out of query text that may name several tables
  // (as the spans do); the summary ("SELECT items") is the low-cardinality
  // description they recommend on this metric instead.
  if (o.text != nullptr && !o.text->summary.empty())
    kv[n++] = {semconv::kDbQuerySummary, std::string_view(o.text->summary)};
  char code_buf[12];
  if (!error_name.empty()) {
    kv[n++] = {semconv::kErrorType, error_name};
    const int len = std::snprintf(code_buf, sizeof code_buf, "%d", error_code);
    kv[n++] = {semconv::kDbResponseStatusCode, std::string_view(code_buf, static_cast<size_t>(len))};
  }
  const double seconds = std::chrono::duration<double>(end - o.start).count();
  const Attributes attrs(kv, n);
  if (o.span.IsRecording()) {
    Scope current(o.span.AsContext());
    o.metrics->duration.Record(seconds < 0 ? 0 : seconds, attrs);
  } else {
    o.metrics->duration.Record(seconds < 0 ? 0 : seconds, attrs);
  }
}

void OnStatementEnd(ConnState* cs, sqlite3_stmt* stmt) {
  for (size_t i = 0; i < cs->open.size(); ++i) {
    if (cs->open[i].stmt != stmt) continue;
    OpenStatement o = std::move(cs->open[i]);
    if (i + 1 != cs->open.size()) cs->open[i] = std::move(cs->open.back());
    cs->open.pop_back();
    PendingError& e = t_error;
    int error_code = 0;
    std::string error_name;
    if (!e.consumed && e.seq > o.start_seq) {
      e.consumed = true;
      error_code = e.code;
      error_name = internal::SqliteCodeName(e.code);
      MarkError(o.span, e.code, ErrorDescription(e.message), error_name);
    }
    if (cs->count_rows) {
      instrumentation::SetInstrumentationAttribute(o.span, semconv::kDbResponseReturnedRows, o.rows);
    }
    Timestamp end{};
    if (o.metrics != nullptr) {
      end = Now();
      RecordDuration(cs, o, end, error_code, error_name);
    }
    o.span.End(end);
    return;
  }
}

int OnTrace(unsigned type, void* ctx, void* p, void* x) noexcept {
  auto* cs = static_cast<ConnState*>(ctx);
  if (!cs->detached) {
    try {
      switch (type) {
        case SQLITE_TRACE_STMT:
          if (const Config* cfg = Configs().Get()) {
            OnStatementStart(cs, cfg, static_cast<sqlite3_stmt*>(p), static_cast<const char*>(x));
          }
          break;
        case SQLITE_TRACE_PROFILE:
          if (!cs->open.empty()) OnStatementEnd(cs, static_cast<sqlite3_stmt*>(p));
          break;
        case SQLITE_TRACE_ROW:
          for (OpenStatement& o : cs->open) {
            if (o.stmt == p) ++o.rows;
          }
          break;
        case SQLITE_TRACE_CLOSE:
          cs->open.clear();  // ends what is left
          break;
        default:
          break;
      }
    } catch (...) {
    }
  }
  if (cs->user_cb != nullptr && (cs->user_mask & type) != 0) {
    return cs->user_cb(type, cs->user_ctx, p, x);
  }
  return 0;
}

int ApplyMask(ConnState* cs) {
  unsigned mask = SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE | SQLITE_TRACE_CLOSE;
  if (cs->count_rows) mask |= SQLITE_TRACE_ROW;
  if (cs->user_cb != nullptr) mask |= cs->user_mask;
  return RealTraceV2(cs->db, mask, OnTrace, cs);
}

// The connection owns its state through a function registration: SQLite
// calls this destructor when the connection closes (or when the registration
// fails), whatever happened to the trace callback meanwhile.
void DestroyState(void* p) {
  auto* cs = static_cast<ConnState*>(p);
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    auto it = Registry().find(cs->db);
    if (it != Registry().end() && it->second == cs) Registry().erase(it);
  }
  delete cs;
}

void NullFunction(sqlite3_context* ctx, int, sqlite3_value**) { sqlite3_result_null(ctx); }

std::string Basename(const char* path) {
  if (path == nullptr) return {};
  std::string_view p(path);
  size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

bool Attach(sqlite3* db, const Config* cfg) {
  DbLock lock(db);
  ConnState* cs = Lookup(db);
  if (cs == nullptr) {
    cs = new ConnState;
    cs->db = db;
    cs->db_namespace = Basename(sqlite3_db_filename(db, "main"));
    {
      std::lock_guard<std::mutex> reg(RegistryMutex());
      Registry()[db] = cs;
    }
    int rc = sqlite3_create_function_v2(db, "otelweb_sqlite_connection", 0, SQLITE_UTF8, cs,
                                        NullFunction, nullptr, nullptr, DestroyState);
    if (rc != SQLITE_OK) return false;  // SQLite called DestroyState already
  }
  cs->detached = false;
  cs->count_rows = cfg != nullptr && cfg->options.count_rows;
  return ApplyMask(cs) == SQLITE_OK;
}

void EmitConnectSpan(const Config* cfg, sqlite3* db) noexcept {
  try {
    if (Context::Current().instrumentation_suppressed()) return;
    std::string ns = Basename(sqlite3_db_filename(db, "main"));
    instrumentation::AttrList<2> attrs;
    attrs.Add(semconv::kDbSystemName, semconv::kDbSystemNameSqlite);
    attrs.AddIfNotEmpty(semconv::kDbNamespace, ns);
    SpanOptions so;
    so.kind = SpanKind::kClient;
    so.attributes = attrs.attributes();
    Span span = cfg->tracer.StartSpan(ns.empty() ? "connect" : "connect " + ns, so);
    span.End();
  } catch (...) {
  }
}

// A statement that failed to prepare: SQLite logs "<message> in \"<sql>\"".
void EmitPrepareErrorSpan(const Config* cfg, int code, std::string_view msg) noexcept {
  try {
    size_t in = msg.find(" in \"");
    if (in == std::string_view::npos || msg.size() < in + 6 || msg.back() != '"') return;
    if (Context::Current().instrumentation_suppressed()) return;
    const instrumentation::ResolvedTracer& resolved = cfg->tracer.Resolve();
    if (!resolved.live) return;
    std::string_view sql = msg.substr(in + 5, msg.size() - in - 6);
    internal::SqlInfo info = internal::AnalyzeSql(sql);
    std::string query;
    const bool want_text = cfg->options.query_text != Options::QueryText::kOff;
    if (cfg->options.query_text == Options::QueryText::kSanitized) {
      internal::SanitizeSql(sql, &query);
    } else if (want_text) {
      query.assign(sql);
    }
    instrumentation::AttrList<4> attrs;
    attrs.Add(semconv::kDbSystemName, semconv::kDbSystemNameSqlite);
    attrs.AddIfNotEmpty(semconv::kDbOperationName, info.operation);
    attrs.AddIfNotEmpty(semconv::kDbQuerySummary, info.summary);
    if (want_text) attrs.Add(semconv::kDbQueryText, query);
    SpanOptions so;
    so.kind = SpanKind::kClient;
    so.attributes = attrs.attributes();
    Span span = cfg->tracer.StartSpan(resolved, SpanName(info, {}), so);
    MarkError(span, code,
              PrepareErrorDescription(msg.substr(0, in), cfg->options.query_text == Options::QueryText::kRaw));
    span.End();
  } catch (...) {
  }
}

void OnLog(void*, int code, const char* message) noexcept {
  if (message == nullptr) message = "";
  if (const Config* lc = g_log_config.load(std::memory_order_acquire);
      lc && lc->options.log_callback) {
    instrumentation::RunGuarded(
        g_warned_log_cb, "otelweb::sqlite log_callback", [&] { lc->options.log_callback(code, message); },
        lc->options.hook_exceptions);
  }
  const int primary = code & 0xff;
  if (primary == SQLITE_OK || primary == SQLITE_NOTICE || primary == SQLITE_WARNING ||
      primary == SQLITE_SCHEMA || primary == SQLITE_ROW || primary == SQLITE_DONE) {
    return;
  }
  std::string_view msg(message);
  PendingError& e = t_error;
  e.seq = g_error_seq.fetch_add(1, std::memory_order_relaxed) + 1;
  e.code = code;
  size_t len = std::min(msg.size(), sizeof(e.message) - 1);
  std::memcpy(e.message, msg.data(), len);
  e.message[len] = '\0';
  const bool runtime = msg.starts_with("abort at ") || msg.starts_with("statement aborts at ");
  e.consumed = !runtime && msg.find(" in \"") != std::string_view::npos && msg.ends_with('"');
  if (e.consumed) {  // a prepare error: it belongs to no running statement
    const Config* cfg = Configs().Get();
    if (cfg != nullptr && cfg->options.trace_prepare_errors) EmitPrepareErrorSpan(cfg, code, msg);
  }
}

extern "C" int OtelwebSqliteAutoExtension(sqlite3* db, const char**, const sqlite3_api_routines*) {
  const Config* cfg = Configs().Get();
  if (cfg == nullptr) return SQLITE_OK;
  Attach(db, cfg);
  if (cfg->options.trace_connection_open) EmitConnectSpan(cfg, db);
  return SQLITE_OK;  // never fail the application's open
}

void (*AutoExtensionEntry())(void) {
  return reinterpret_cast<void (*)(void)>(&OtelwebSqliteAutoExtension);
}

}  // namespace

bool Install(Options options) {
  std::lock_guard<std::mutex> lock(g_install_mu);
  if (!g_log_attempted || !g_log_ours.load()) {
    g_log_attempted = true;
    // Only possible before SQLite initializes (sqlite3_auto_extension below
    // initializes it).
    int rc = sqlite3_config(SQLITE_CONFIG_LOG, &OnLog, nullptr);
    g_log_ours.store(rc == SQLITE_OK);
    if (rc != SQLITE_OK) {
      LogOnce(g_warned_log, LogLevel::kWarning,
              "otelweb::sqlite::Install was called after SQLite initialized (a database was "
              "opened earlier). Connections opened before Install are not traced: call "
              "otelweb::sqlite::Instrument(db) on each of them, or call Install before the first "
              "sqlite3_open. Also, failed statements are not marked as errors on their spans (SQLite's "
              "error log can only be set before it initializes).");
    }
  }
  const Config* cfg = Configs().Publish(std::make_unique<Config>(std::move(options)));
  g_log_config.store(cfg, std::memory_order_release);
  return sqlite3_auto_extension(AutoExtensionEntry()) == SQLITE_OK;
}

void Uninstall() {
  std::lock_guard<std::mutex> lock(g_install_mu);
  sqlite3_cancel_auto_extension(AutoExtensionEntry());
  Configs().Withdraw();
}

bool IsInstalled() { return Configs().Get() != nullptr; }

bool ErrorDetailsAvailable() { return g_log_ours.load(); }

bool Instrument(sqlite3* db) {
  if (db == nullptr) return false;
  return Attach(db, Configs().Get());
}

void Uninstrument(sqlite3* db) {
  if (db == nullptr) return;
  DbLock lock(db);
  ConnState* cs = Lookup(db);
  if (cs == nullptr || cs->detached) return;
  cs->open.clear();
  cs->detached = true;
  if (cs->user_cb != nullptr) {
    RealTraceV2(db, cs->user_mask, cs->user_cb, cs->user_ctx);
  } else {
    RealTraceV2(db, 0, nullptr, nullptr);
  }
}

bool IsInstrumented(sqlite3* db) {
  if (db == nullptr) return false;
  DbLock lock(db);
  ConnState* cs = Lookup(db);
  return cs != nullptr && !cs->detached;
}

int SetTraceCallback(sqlite3* db, unsigned mask, TraceFn callback, void* context) {
  if (db == nullptr) return RealTraceV2(db, mask, callback, context);
  DbLock lock(db);
  ConnState* cs = Lookup(db);
  if (cs == nullptr) return RealTraceV2(db, mask, callback, context);
  const bool none = mask == 0 || callback == nullptr;
  cs->user_mask = none ? 0 : mask;
  cs->user_cb = none ? nullptr : callback;
  cs->user_ctx = none ? nullptr : context;
  if (cs->detached) return RealTraceV2(db, mask, callback, context);
  return ApplyMask(cs);
}

}  // namespace otelweb::sqlite

// The target of -Wl,--wrap=sqlite3_trace_v2: the application's own calls.
extern "C" int __wrap_sqlite3_trace_v2(sqlite3* db, unsigned mask,
                                       int (*callback)(unsigned, void*, void*, void*),
                                       void* context) {
  return otelweb::sqlite::SetTraceCallback(db, mask, callback, context);
}
