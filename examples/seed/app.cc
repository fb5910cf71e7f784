// The seed app, service A: the C++ port of the Flask app otelweb grew from.
//
//   GET /                -> "Hello, World!"
//   GET /items           -> the `items` table (SQLite, created on start) as JSON
//   GET /fetch-external  -> calls service B's /delay/<seconds> with a timeout and
//                           returns its JSON, or 500 with the error
//
// Tracing and logs: Install (service.name "seed-app"; every OTEL_* variable
// applies), TracedServer for the SERVER spans, otelweb::sqlite for the SQL
// spans, a traced HTTP client for the outgoing call (trace context goes to B
// in the traceparent header). A before-request step puts user.id on the
// request's span; /items wraps its JSON building in a manual child span.
// Logs go through spdlog and the otelweb sink: one line per request at info,
// the SQL failure at error; with the console exporter they print under their
// spans, with OTLP they are exported beside the spans. Warnings and errors
// also go to stderr as text with trace_id/span_id (the pattern flags).
//
// Environment: HOST (127.0.0.1), PORT (5000), BACKEND_URL
// (http://127.0.0.1:$BACKEND_PORT, BACKEND_PORT 5001), SEED_DB (seed.db),
// FETCH_TIMEOUT_MS (2000), SEED_SPANS_FILE (see seed_common.h).
// PORT=0 picks a free port; the line "seed-app listening on <port>" says which.
#include <otelweb/httplib/server.h>
#include <otelweb/httplib/client.h>
#include <otelweb/metrics/exporters.h>
#include <otelweb/metrics/metric_reader.h>
#include <otelweb/otelweb.h>
#include <otelweb/spdlog/pattern.h>
#include <otelweb/spdlog/sink.h>
#include <otelweb/sqlite/sqlite.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <cstdlib>

#include <chrono>
#include <memory>
#include <cstdio>
#include <string>
#include <vector>

#include "seed_common.h"
#include "seed_http_client.h"

namespace {

struct Item {
  int64_t id;
  std::string name;
};

// Creates the items table and its first rows (once per database file).
bool InitDb(const std::string& path) {
  auto span = otelweb::GetTracer("seed-app").StartSpan("init_db");
  otelweb::Scope scope = otelweb::MakeCurrent(span);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), sqlite3_errmsg(db));
    sqlite3_close(db);
    return false;
  }
  char* err = nullptr;
  int rc =
      sqlite3_exec(db,
                   "CREATE TABLE IF NOT EXISTS items ("
                   "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
                   "INSERT OR IGNORE INTO items (name) VALUES ('apple'), ('banana'), ('cherry');",
                   nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::fprintf(stderr, "init_db: %s\n", err != nullptr ? err : "?");
    span.SetStatus(otelweb::StatusCode::kError, err != nullptr ? err : "init_db failed");
  }
  sqlite3_free(err);
  sqlite3_close(db);
  return rc == SQLITE_OK;
}

// One connection per request, as the Flask app did with sqlite3.connect().
bool LoadItems(const std::string& path, std::vector<Item>* items, std::string* error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db);
    sqlite3_close(db);
    return false;
  }
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT id, name FROM items ORDER BY id", -1, &st, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    items->push_back(
        {sqlite3_column_int64(st, 0), reinterpret_cast<const char*>(sqlite3_column_text(st, 1))});
    rc = SQLITE_OK;
  }
  bool ok = rc == SQLITE_DONE;
  if (!ok) *error = sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return ok;
}

// The log exporter when nothing chose one: the console (log lines under
// their spans) when the traces go to the console too.
std::string DefaultLogsExporter() {
  auto set = [](const char* v) { return std::getenv(v) != nullptr && *std::getenv(v) != '\0'; };
  if (set("OTEL_LOGS_EXPORTER") || set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")) {
    return {};  // Install decides (the variable, or otlp)
  }
  const char* traces = std::getenv("OTEL_TRACES_EXPORTER");
  return traces == nullptr || std::string(traces).find("console") != std::string::npos ? "console" : "";
}

std::shared_ptr<spdlog::logger> MakeLogger() {
  auto text = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  text->set_level(spdlog::level::warn);
  auto logger = std::make_shared<spdlog::logger>(
      "seed-app", spdlog::sinks_init_list{otelweb::spdlog_bridge::MakeSink(), text});
  otelweb::spdlog_bridge::SetPattern(*logger, "%Y-%m-%dT%H:%M:%S.%e %l trace_id=%Q span_id=%J %v");
  return logger;
}

}  // namespace

int main() {
  // The console exporter (OTEL_TRACES_EXPORTER=console, the default) shows
  // this app's own key, user.id, after the HTTP and database keys.
  otelweb::ConsoleSpanExporterOptions console;
  console.highlight_keys.push_back("user.id");
  // Metrics (http.server.* of every request, exemplars naming the requests'
  // spans) with the traces' resource: per OTEL_METRICS_EXPORTER, and with
  // SEED_METRICS_FILE set, one table written there when the app stops
  // (scripts/demo prints it after the traces). Declared before `telemetry`:
  // the file outlives the last export.
  seed::MetricsFile metrics_file;
  otelweb::InstallOptions install;
  install.service_name = "seed-app";
  install.traces.console = console;
  install.logs.exporter_name = DefaultLogsExporter();
  if (FILE* f = metrics_file.Open(seed::Env("SEED_METRICS_FILE", ""))) {
    // A reader of its own (only the last export, at exit), so that
    // OTEL_METRICS_EXPORTER (e.g. otlp to otelweb-view) still applies.
    otelweb::metrics::PeriodicReaderOptions at_exit;
    at_exit.interval = std::chrono::hours(24);
    install.metrics.readers.push_back(std::make_shared<otelweb::metrics::PeriodicExportingMetricReader>(
        std::make_unique<otelweb::metrics::ConsoleMetricExporter>(
            otelweb::metrics::ConsoleMetricExporterOptions{.out = f}),
        at_exit));
  }
  auto telemetry = otelweb::Install(std::move(install));
  seed::SpansFile spans_file(telemetry.traces());
  auto log = MakeLogger();
  otelweb::sqlite::Options sql_options;
  sql_options.trace_connection_open = true;  // the seed's "database connection" span
  otelweb::sqlite::Install(sql_options);     // before the first sqlite3_open

  const std::string host = seed::Env("HOST", "127.0.0.1");
  const int port = seed::EnvInt("PORT", 5000);
  const std::string backend =
      seed::Env("BACKEND_URL",
                ("http://127.0.0.1:" + std::to_string(seed::EnvInt("BACKEND_PORT", 5001))).c_str());
  const std::string db_path = seed::Env("SEED_DB", "seed.db");
  const int timeout_ms = seed::EnvInt("FETCH_TIMEOUT_MS", 2000);
  if (!InitDb(db_path)) return 1;

  otelweb::httplib::TracedServer app;
  app.set_tcp_nodelay(true);  // cpp-httplib leaves Nagle on: ~40 ms per keep-alive response

  // The before-request step: runs after the instrumentation started the
  // request's span, so the span is current here.
  app.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    std::string user = req.get_header_value("X-User-ID");
    otelweb::GetCurrentSpan().SetAttribute("user.id", user.empty() ? "anonymous" : user);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  app.Get("/", [&log](const httplib::Request&, httplib::Response& res) {
    res.set_content("Hello, World!", "text/plain");
    log->info("GET / -> 200");
  });

  app.Get("/items", [&db_path, &log](const httplib::Request&, httplib::Response& res) {
    std::vector<Item> items;
    std::string error;
    if (!LoadItems(db_path, &items, &error)) {
      log->error("SELECT items failed: {}", error);
      log->info("GET /items -> 500");
      res.status = 500;
      res.set_content("{\"error\": \"" + seed::JsonEscape(error) + "\"}", "application/json");
      return;
    }
    // A block of work of our own, as a child span of the request.
    auto span = otelweb::GetTracer("seed-app").StartSpan("serialize items");
    span.SetAttribute("items.count", static_cast<int64_t>(items.size()));
    std::string body = "[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i != 0) body += ", ";
      body += "{\"id\": " + std::to_string(items[i].id) + ", \"name\": \"" +
              seed::JsonEscape(items[i].name) + "\"}";
    }
    body += "]";
    span.End();
    res.set_content(body, "application/json");
    log->info("GET /items -> 200 ({} items)", items.size());
  });

  app.Get("/fetch-external", [&backend, timeout_ms, &log](const httplib::Request& req,
                                                          httplib::Response& res) {
    std::string delay = req.has_param("delay") ? req.get_param_value("delay") : "1";
    if (delay.empty() || delay.size() > 8 ||
        delay.find_first_not_of("0123456789.") != std::string::npos) {
      res.status = 400;  // it goes into the backend's path: numbers only
      res.set_content("{\"error\": \"delay must be a number of seconds\"}", "application/json");
      return;
    }
    seed::FetchResult r =
        seed::Fetch(backend, "/delay/" + delay, std::chrono::milliseconds(timeout_ms));
    if (!r.error.empty()) {
      log->error("GET /fetch-external: backend call failed: {}", r.error);
      res.status = 500;
      res.set_content("{\"error\": \"" + seed::JsonEscape(r.error) + "\"}", "application/json");
      return;
    }
    if (r.status != 200) {
      res.status = 500;
      res.set_content("{\"error\": \"backend answered " + std::to_string(r.status) + "\"}",
                      "application/json");
      return;
    }
    res.set_content(r.body, "application/json");
    log->info("GET /fetch-external -> 200 (delay {} s)", delay);
  });

  seed::StopOnSignals(app);
  int bound = port == 0 ? app.bind_to_any_port(host) : (app.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "seed-app: cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::fprintf(stderr, "seed-app listening on %d (backend %s)\n", bound, backend.c_str());
  app.listen_after_bind();
  // Log records first, so that the console prints them under their spans
  // when tracing shuts down (spans_file) right after.
  (void)telemetry.logger_provider().ForceFlush(std::chrono::seconds(5));
  std::fprintf(stderr, "seed-app stopped\n");
  return 0;  // `telemetry` flushes and shuts down here
}
