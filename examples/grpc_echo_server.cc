// The interop.v1.Echo server (examples/proto/interop/v1/echo.proto), traced
// with otelweb_grpc: one InstrumentServer call on the builder; telemetry from
// the OTEL_* environment (otelweb::Install).
//
//   HOST=127.0.0.1 PORT=0 OTEL_TRACES_EXPORTER=console ./grpc_echo_server
//   -> prints "listening on <port>" (flushed) once serving; stops on SIGINT/SIGTERM.
//
// Behaviour of each call: examples/grpc_echo_service.h.
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "grpc_echo_service.h"
#include <otelweb/grpc/server.h>
#include <otelweb/otelweb.h>

int main() {
  // Stop signals are waited for by sigwait below (block them in every thread).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  otelweb::InstallOptions options;
  if (std::getenv("OTEL_SERVICE_NAME") == nullptr) options.service_name = "grpc-echo-server";
  auto telemetry = otelweb::Install(std::move(options));

  const char* host = std::getenv("HOST");
  const char* port = std::getenv("PORT");
  std::string address = std::string(host != nullptr && *host != '\0' ? host : "127.0.0.1") + ":" +
                        (port != nullptr && *port != '\0' ? port : "0");
  if (address.find(':') != address.rfind(':') && address.front() != '[') {  // a bare IPv6 HOST
    address = "[" + address.substr(0, address.rfind(':')) + "]" + address.substr(address.rfind(':'));
  }

  echo_example::EchoService service;
  ::grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(address, ::grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&service);
  otelweb::grpc::InstrumentServer(builder);  // every call gets a SERVER span
  std::unique_ptr<::grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound == 0) {
    std::fprintf(stderr, "grpc_echo_server: cannot listen on %s (set HOST and PORT to a free address)\n",
                 address.c_str());
    return 1;
  }
  std::printf("listening on %d\n", bound);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;  // `telemetry` flushes the spans as it goes
}
