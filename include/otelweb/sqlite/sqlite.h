// SQLite instrumentation (library otelweb_sqlite): one CLIENT span per
// statement execution, without changing the application's SQLite calls. What
// SQLite3Instrumentor().instrument() gives a Python program, for C and C++
// code using the sqlite3 C API.
//
//   int main() {
//     auto tracing = otelweb::InstallTracing({.service_name = "my-service"});
//     otelweb::sqlite::Install();            // before the first sqlite3_open*
//     sqlite3* db;
//     sqlite3_open("app.db", &db);           // traced from here on
//     ...
//   }
//
// How: Install() registers an auto-extension (sqlite3_auto_extension), so
// every connection opened afterwards gets a sqlite3_trace_v2 callback. A span
// starts when a statement starts running (its first sqlite3_step after
// prepare or reset; SQLITE_TRACE_STMT) and ends when it finishes
// (SQLITE_DONE, an error, sqlite3_reset or sqlite3_finalize of a partly
// stepped statement; SQLITE_TRACE_PROFILE). It is a child of the calling
// thread's current span (e.g. the HTTP server span of the request) and is not
// made current itself. Trigger sub-programs run inside their statement's span
// and produce no span of their own.
//
// Errors: SQLite reports a failing statement's error code to the trace
// callback only after the callback ran, so the details come from SQLite's
// error log (SQLITE_CONFIG_LOG), which can only be set before SQLite
// initializes: call Install() before anything opens a database. Otherwise a
// warning says so and failed statements end without ERROR status.
//
// sqlite3_trace_v2 has one slot per connection and no getter:
//   - to keep a trace callback of your own on an instrumented connection, set
//     it with SetTraceCallback() (same signature as sqlite3_trace_v2): both
//     run, yours after ours, each with its own event mask;
//   - or link your program with -Wl,--wrap=sqlite3_trace_v2 (CMake:
//     target_link_options(app PRIVATE -Wl,--wrap=sqlite3_trace_v2)): your
//     existing sqlite3_trace_v2 calls then go through SetTraceCallback
//     without a source change;
//   - a plain sqlite3_trace_v2 call (without the wrap) replaces the
//     instrumentation on that connection: its statements are no longer traced
//     (nothing breaks; spans in flight then end when the connection closes).
//
// Ownership: the instrumentation's state is process-wide. Per-connection state
// is owned by the connection (freed by sqlite3_close).
// Thread-safety: Install/Uninstall are meant for start-up and shut-down (the
// SQLite log callback can only be set before SQLite initializes; sqlite3_config
// is not thread-safe). Instrument/Uninstrument/SetTraceCallback may be called
// from any thread, as long as the connection is not being closed meanwhile.
// The trace callbacks are safe with connections used from many threads.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <string_view>

#include "otelweb/instrumentation.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::sqlite {

// Instrumentation scope name of the SQLite spans.
inline constexpr std::string_view kScopeName = "otelweb.sqlite";

// The advised buckets of db.client.operation.duration (seconds; semantic
// conventions, database metrics).
inline constexpr double kDbDurationBuckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};

struct Options {
  // Default: the global provider (otelweb::InstallTracing).
  std::shared_ptr<TracerProvider> tracer_provider{};
  // Receives db.client.operation.duration (s; one point per statement
  // execution, equal to its span's duration) with db.system.name=sqlite,
  // db.namespace, db.operation.name, db.query.summary ("SELECT items"; not
  // db.collection.name, which the conventions say not to parse out of query
  // text that may name several tables) and, for a failed execution,
  // error.type (SQLite's code name) and db.response.status_code. Statements that fail to prepare are
  // not executions and are not measured. Null: the global meter provider,
  // resolved again when it is replaced; nothing is recorded with the no-op
  // one.
  std::shared_ptr<metrics::MeterProvider> meter_provider{};

  // db.query.text: literals replaced by '?' (the default), the statement text
  // as written (it may hold personal data: opt-in only), or not recorded.
  // Values bound to parameters are never recorded.
  enum class QueryText { kSanitized, kRaw, kOff };
  QueryText query_text = QueryText::kSanitized;

  // A span per connection opened (named "connect", zero length: SQLite calls
  // extensions when the connection is ready).
  bool trace_connection_open = false;
  // A statement that fails to prepare (syntax error, no such table) never
  // runs; with this, the failure gets a zero-length ERROR span of its own.
  bool trace_prepare_errors = true;
  // db.response.returned_rows (one extra callback per row: off by default).
  bool count_rows = false;

  // Called when a statement's span has started, on the thread that runs it
  // (also for non-recording spans). An exception is caught and reported once.
  std::function<void(SpanRef span, sqlite3_stmt* stmt)> statement_hook;
  // SQLite's error log has one slot per process (SQLITE_CONFIG_LOG) which the
  // instrumentation takes; give your logger here and it is called too
  // (code = extended result code, message = SQLite's text).
  std::function<void(int code, const char* message)> log_callback;
  // A throwing statement_hook or log_callback is always caught (the statement
  // goes on); reported once (default) or every time (while developing a hook).
  instrumentation::HookExceptionPolicy hook_exceptions = instrumentation::HookExceptionPolicy::kReportOnce;
};

// Traces every connection opened from now on, and (again) those still
// attached from an earlier Install/Instrument. Calling it again replaces the
// options. Returns false if SQLite refused the auto-extension.
bool Install(Options options = {});
// Stops tracing everywhere: no new connection is attached, attached ones pass
// through (their callbacks stay installed and cost one atomic load per
// statement; Install() resumes them). Spans in flight still end.
void Uninstall();
bool IsInstalled();
// True if SQLite's error log is ours (errors get their name on the span).
bool ErrorDetailsAvailable();

// Attaches to a connection opened before Install() (or keeps attached).
// Statements already running when it is called get no span. False if SQLite
// refused (db null, or out of memory).
bool Instrument(sqlite3* db);
// Detaches from one connection: ends its spans in flight, gives the trace
// slot back to the callback set with SetTraceCallback (if any).
void Uninstrument(sqlite3* db);
bool IsInstrumented(sqlite3* db);

// sqlite3_trace_v2 that coexists with the instrumentation (see above). On a
// connection that is not attached it is exactly sqlite3_trace_v2.
int SetTraceCallback(sqlite3* db, unsigned mask, int (*callback)(unsigned, void*, void*, void*),
                     void* context);

}  // namespace otelweb::sqlite
