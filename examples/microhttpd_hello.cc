// A GNU libmicrohttpd server traced with otelweb_microhttpd: the plain MHD
// program you would write anyway, with MHD_start_daemon replaced by
// Instrumentation::StartDaemon and two optional calls in the handler.
//
//   ./example_microhttpd_hello [port] [max_requests]   (defaults: 8080, unlimited;
//                                                       port 0: any free port)
//   curl localhost:8080/hello/world
//
// Spans go where OTEL_TRACES_EXPORTER says (console by default) and are
// flushed when `tracing` goes out of scope.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <otelweb/microhttpd/server.h>
#include <otelweb/graceful_stop.h>
#include <otelweb/otelweb.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

namespace {

std::atomic<long> g_completed{0};

// An ordinary MHD access handler; the request's span is current while it runs.
MHD_Result Hello(void*, MHD_Connection* connection, const char* url, const char*, const char*,
                 const char*, size_t*, void**) {
  std::string_view path = url;
  unsigned int status = MHD_HTTP_NOT_FOUND;
  std::string body = "not found\n";
  if (path.rfind("/hello/", 0) == 0) {
    otelweb::microhttpd::SetRoute(connection, "/hello/:name");  // names the span
    status = MHD_HTTP_OK;
    body = "hello " + std::string(path.substr(7)) + "\n";
  }
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), body.data(), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, "Content-Type", "text/plain");
  // MHD_queue_response, plus response-header capture when configured.
  MHD_Result queued = otelweb::microhttpd::QueueResponse(connection, status, response);
  MHD_destroy_response(response);
  return queued;
}

// The app's own completion callback: still called (the instrumentation chains it).
void Completed(void*, MHD_Connection*, void**, MHD_RequestTerminationCode) { ++g_completed; }

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 8080;
  const long max_requests = argc > 2 ? std::atol(argv[2]) : -1;
  auto tracing = otelweb::InstallTracing({.service_name = "microhttpd-hello"});
  otelweb::microhttpd::Instrumentation instrumentation;  // options: excluded URLs, hooks...

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  MHD_OptionItem options[] = {
      {MHD_OPTION_SOCK_ADDR, 0, &addr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Completed), nullptr},
      {MHD_OPTION_END, 0, nullptr}};
  MHD_Daemon* daemon =
      instrumentation.StartDaemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr,
                                  nullptr, &Hello, nullptr, options);
  if (daemon == nullptr) {
    std::fprintf(stderr, "could not start the daemon on 127.0.0.1:%d (port in use?)\n", port);
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n",
              MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT)->port);
  std::fflush(stdout);
  // SIGTERM / Ctrl-C: leave the loop, stop the daemon, and `tracing` flushes
  // on the way out (otelweb/graceful_stop.h).
  std::atomic<bool> stopping{false};
  otelweb::StopGracefullyOnSignals([&stopping] { stopping.store(true); });
  while (!stopping.load() && (max_requests < 0 || g_completed.load() < max_requests)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  MHD_stop_daemon(daemon);  // before `instrumentation` goes out of scope
  return 0;
}
