// The seed app's service B: a stand-in for httpbin.org, so the demo's trace
// crosses two real services without leaving the machine.
//
//   GET /delay/<seconds>  -> waits (at most 10 s, fractions allowed), then
//                            answers like httpbin: {"args", "headers", "origin", "url"}
//   GET /                 -> "seed-backend"
//
// Its own process and service.name ("seed-backend"); the caller's trace
// continues here through the traceparent header. Environment: HOST
// (127.0.0.1), BACKEND_PORT (5001; 0 = any free port, announced as
// "seed-backend listening on <port>"), SEED_SPANS_FILE (see seed_common.h).
#include <otelweb/httplib/server.h>
#include <otelweb/httplib/client.h>
#include <otelweb/otelweb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "seed_common.h"

int main() {
  auto tracing = otelweb::InstallTracing({.service_name = "seed-backend"});
  seed::SpansFile spans_file(tracing);
  const std::string host = seed::Env("HOST", "127.0.0.1");
  const int port = seed::EnvInt("BACKEND_PORT", 5001);

  otelweb::httplib::TracedServer app;
  app.set_tcp_nodelay(true);  // cpp-httplib leaves Nagle on: ~40 ms per keep-alive response
  app.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("seed-backend", "text/plain");
  });
  app.Get("/delay/:seconds", [](const httplib::Request& req, httplib::Response& res) {
    const std::string arg = req.matches[1].str();
    char* end = nullptr;
    double seconds = std::strtod(arg.c_str(), &end);
    if (end == arg.c_str() || *end != '\0' || !(seconds >= 0)) {
      res.status = 400;
      res.set_content("{\"error\": \"delay must be a number of seconds\"}", "application/json");
      return;
    }
    if (seconds > 10) seconds = 10;  // httpbin's cap
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::string headers;
    for (const auto& [k, v] : req.headers) {
      if (k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" || k == "LOCAL_PORT")
        continue;
      if (!headers.empty()) headers += ", ";
      headers += "\"" + seed::JsonEscape(k) + "\": \"" + seed::JsonEscape(v) + "\"";
    }
    std::string body = "{\"args\": {}, \"headers\": {" + headers + "}, \"origin\": \"" +
                       seed::JsonEscape(req.remote_addr) + "\", \"url\": \"http://" +
                       seed::JsonEscape(req.get_header_value("Host")) + seed::JsonEscape(req.path) +
                       "\"}";
    res.set_content(body, "application/json");
  });

  seed::StopOnSignals(app);
  int bound = port == 0 ? app.bind_to_any_port(host) : (app.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "seed-backend: cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::fprintf(stderr, "seed-backend listening on %d\n", bound);
  app.listen_after_bind();
  std::fprintf(stderr, "seed-backend stopped\n");
  return 0;
}
