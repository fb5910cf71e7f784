// otelweb-view: see traces in the browser with no collector (docs/view.md).
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "otelweb/graceful_stop.h"
#include "view/server.h"
#include "view/store.h"

namespace {

constexpr const char* kUsage = R"(usage: otelweb-view [options]

A local OTLP receiver with a web page: point OTLP exporters at it and open the
printed ui= address. The first line on stdout is
  ui=http://HOST:PORT grpc=HOST:PORT http=HOST:PORT

  --host HOST          address to bind (default 127.0.0.1)
  --ui-port PORT       web page and JSON API (default 16686; 0 = a free port)
  --grpc-port PORT     OTLP/gRPC (default 4317; 0 = a free port)
  --http-port PORT     OTLP/HTTP, /v1/traces /v1/logs /v1/metrics (default 4318; 0 = a free port)
  --db PATH            store in this SQLite file (default: in memory); reopen it later with --db PATH
  --max-db-mb N        size cap of the stored data in MiB, first-received traces pruned first (default 512)
  --max-request-mb N   largest OTLP request accepted, after decompression (default 32)
  --load FILE          store an OTLP JSON lines file (the otlp/file exporter's format) at start; repeatable
  --ui-dir DIR         serve the page's files from DIR (development: web/view/dist)
  --help               this text
Stop with Ctrl-C (SIGINT) or SIGTERM. More: docs/view.md
)";

bool ParsePort(const std::string& s, int* out) {
  int v = -1;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0 || v > 65535) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  otelweb::view::StoreOptions store_opt;
  otelweb::view::ServerOptions server_opt;
  std::vector<std::string> loads;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    size_t eq = arg.find('=');
    bool has_value = false;
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    static const char* const kFlags[] = {"--host", "--ui-port", "--grpc-port", "--http-port", "--db",
                                         "--max-db-mb", "--max-request-mb", "--load", "--ui-dir"};
    bool known = false;
    for (const char* f : kFlags) known = known || arg == f;
    if (!known) {
      std::fprintf(stderr, "otelweb-view: unknown option %s (try --help)\n", arg.c_str());
      return 2;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "otelweb-view: %s needs a value (try --help)\n", arg.c_str());
        return 2;
      }
      value = argv[++i];
    }
    auto bad = [&](const char* what) {
      std::fprintf(stderr, "otelweb-view: %s %s: %s (try --help)\n", arg.c_str(), value.c_str(), what);
      return 2;
    };
    if (arg == "--host") {
      server_opt.host = value;
    } else if (arg == "--ui-port") {
      if (!ParsePort(value, &server_opt.ui_port)) return bad("use a port number 0-65535");
    } else if (arg == "--grpc-port") {
      if (!ParsePort(value, &server_opt.grpc_port)) return bad("use a port number 0-65535");
    } else if (arg == "--http-port") {
      if (!ParsePort(value, &server_opt.http_port)) return bad("use a port number 0-65535");
    } else if (arg == "--db") {
      store_opt.path = value;
    } else if (arg == "--max-db-mb" || arg == "--max-request-mb") {
      int64_t mb = 0;
      auto r = std::from_chars(value.data(), value.data() + value.size(), mb);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || mb < 1 || mb > (int64_t(1) << 20)) {
        return bad("use a whole number of MiB, at least 1");
      }
      if (arg == "--max-db-mb") {
        store_opt.max_bytes = mb << 20;
      } else {
        if (mb > 1024) return bad("use at most 1024");
        server_opt.max_request_bytes = size_t(mb) << 20;
      }
    } else if (arg == "--load") {
      loads.push_back(value);
    } else if (arg == "--ui-dir") {
      server_opt.ui_dir = value;
    }
  }

  std::string error;
  auto store = otelweb::view::Store::Open(store_opt, &error);
  if (!store) {
    std::fprintf(stderr, "otelweb-view: %s\n", error.c_str());
    return 1;
  }
  for (const auto& file : loads) {
    size_t lines = 0;
    if (!otelweb::view::LoadOtlpJsonLines(store.get(), file, &error, &lines)) {
      std::fprintf(stderr, "otelweb-view: --load %s\n", error.c_str());
      return 1;
    }
    std::fprintf(stderr, "otelweb-view: loaded %zu requests from %s\n", lines, file.c_str());
  }
  auto server = otelweb::view::ViewServer::Start(store.get(), server_opt, &error);
  if (!server) {
    std::fprintf(stderr, "otelweb-view: %s\n", error.c_str());
    return 1;
  }
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  otelweb::StopGracefullyOnSignals([&] {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv.notify_all();
  });
  std::printf("%s\n", server->AddressLine().c_str());
  std::fflush(stdout);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  server->Stop();
  store->Flush(std::chrono::seconds(10));
  auto stats = store->Stats();
  std::fprintf(stderr, "otelweb-view: stopped (%lld traces, %lld spans stored%s)\n", (long long)stats.traces,
               (long long)stats.spans, store_opt.path.empty() ? ", in memory: now gone" : "");
  return 0;
}
