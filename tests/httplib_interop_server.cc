// Peer for tests/js/httplib_server_interop.mjs: a TracedServer on 127.0.0.1
// (ephemeral port, printed as "PORT <n>") that records its spans in memory.
// GET /shutdown stops it; it then prints one line per span:
//   SPAN <kind> <trace id> <span id> <parent span id> <name>
// It exits on its own after 30 s whatever happens (bounded test).
#include <cstdio>
#include <thread>

#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/httplib/server.h"
#include "otelweb/httplib/client.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"

int main() {
  auto store = std::make_shared<otelweb::InMemorySpanStore>();
  otelweb::TracerProviderOptions po;
  po.processors.push_back(std::make_unique<otelweb::SimpleSpanProcessor>(
      std::make_unique<otelweb::InMemorySpanExporter>(store)));
  auto provider = std::make_shared<otelweb::TracerProvider>(std::move(po));

  otelweb::httplib::ServerOptions options;
  options.tracer_provider = provider;
  otelweb::httplib::TracedServer app(options);
  app.Get("/hello/:name", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("hello " + req.matches[1].str(), "text/plain");
  });
  app.Get("/shutdown", [&app](const httplib::Request&, httplib::Response& res) {
    res.set_content("bye", "text/plain");
    std::thread([&app] { app.stop(); }).detach();
  });
  int port = app.bind_to_any_port("127.0.0.1");
  std::printf("PORT %d\n", port);
  std::fflush(stdout);
  std::thread watchdog([&app] {
    for (int i = 0; i < 300 && !app.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (int i = 0; i < 3000 && app.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    app.stop();
  });
  app.listen_after_bind();
  watchdog.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // last logger calls
  for (const otelweb::SpanData* s : store->spans()) {
    std::string parent = s->parent_span_id().IsValid() ? s->parent_span_id().ToHex() : "-";
    std::printf("SPAN %s %s %s %s %.*s\n", std::string(otelweb::SpanKindName(s->kind())).c_str(),
                s->trace_id().ToHex().c_str(), s->span_id().ToHex().c_str(), parent.c_str(),
                static_cast<int>(s->name().size()), s->name().data());
  }
  std::fflush(stdout);
  return 0;
}
