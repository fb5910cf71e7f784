// Runs examples/grpc_echo_server and grpc_echo_client with OTLP/gRPC export
// to otelweb's test receiver and checks what arrived: the client's root span,
// its four CLIENT spans (Unary, ServerStream, ClientStream, Bidi) and the
// server's four SERVER spans, each the child of the matching client span in
// the root's trace; the status codes; and no span of the exporters' own
// Export calls (the OTLP channel is never instrumented).
//
//   otelweb_grpc_examples_check <grpc_echo_server> <grpc_echo_client>
//
// Exit 0 when every check passes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "receiver.h"

namespace {

int Fail(const std::string& why) {
  std::fprintf(stderr, "FAIL: %s\n", why.c_str());
  return 1;
}

std::string Attr(const opentelemetry::proto::trace::v1::Span& s, const std::string& key) {
  for (const auto& kv : s.attributes()) {
    if (kv.key() != key) continue;
    if (kv.value().has_int_value()) return std::to_string(kv.value().int_value());
    return kv.value().string_value();
  }
  return "<absent>";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <grpc_echo_server> <grpc_echo_client>\n", argv[0]);
    return 2;
  }
  otelweb::otlp::testing::Receiver rx;
  setenv("OTEL_TRACES_EXPORTER", "otlp", 1);
  setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint().c_str(), 1);
  setenv("OTEL_BSP_SCHEDULE_DELAY", "50", 1);
  setenv("OTEL_TRACES_SAMPLER", "always_on", 1);
  setenv("OTEL_METRICS_EXPORTER", "none", 1);
  setenv("OTEL_LOGS_EXPORTER", "none", 1);
  setenv("HOST", "127.0.0.1", 1);
  setenv("PORT", "0", 1);

  int out[2];
  if (pipe(out) != 0) return Fail("pipe");
  pid_t server = fork();
  if (server == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(argv[1], argv[1], nullptr);
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  int port = 0;
  if (std::sscanf(line.c_str(), "listening on %d", &port) != 1 || port <= 0) {
    kill(server, SIGKILL);
    return Fail("server printed \"" + line + "\", expected \"listening on PORT\"");
  }
  std::printf("server: %s\n", line.c_str());
  const std::string target = "127.0.0.1:" + std::to_string(port);
  setenv("TARGET", target.c_str(), 1);
  pid_t client = fork();
  if (client == 0) {
    execl(argv[2], argv[2], nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(client, &status, 0);
  kill(server, SIGTERM);
  int sstatus = 0;
  waitpid(server, &sstatus, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Fail("the client failed");
  if (!WIFEXITED(sstatus) || WEXITSTATUS(sstatus) != 0) return Fail("the server did not exit 0 on SIGTERM");
  if (!rx.WaitForSpans(9, std::chrono::seconds(10))) return Fail("fewer than 9 spans arrived");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  std::map<std::string, opentelemetry::proto::trace::v1::Span> client_spans, server_spans;
  opentelemetry::proto::trace::v1::Span root;
  int total = 0;
  for (const auto& req : rx.requests()) {
    for (const auto& rs : req.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) {
          ++total;
          if (s.name().find("TraceService/Export") != std::string::npos) return Fail("an export call was traced");
          if (s.name() == "grpc-echo-client") root = s;
          if (s.kind() == opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT) client_spans[s.name()] = s;
          if (s.kind() == opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER) server_spans[s.name()] = s;
        }
      }
    }
  }
  if (total != 9) return Fail("expected 9 spans, got " + std::to_string(total));
  if (root.name().empty()) return Fail("no root span grpc-echo-client");
  for (const char* m : {"Unary", "ServerStream", "ClientStream", "Bidi"}) {
    const std::string name = std::string("interop.v1.Echo/") + m;
    if (!client_spans.count(name) || !server_spans.count(name)) return Fail("missing spans of " + name);
    const auto& cs = client_spans[name];
    const auto& sv = server_spans[name];
    if (cs.trace_id() != root.trace_id() || cs.parent_span_id() != root.span_id())
      return Fail(name + ": client span is not a child of the root");
    if (sv.trace_id() != root.trace_id() || sv.parent_span_id() != cs.span_id())
      return Fail(name + ": server span is not a child of the client span");
    for (const auto* s : {&cs, &sv}) {
      if (Attr(*s, "rpc.system") != "grpc" || Attr(*s, "rpc.service") != "interop.v1.Echo" ||
          Attr(*s, "rpc.method") != m || Attr(*s, "rpc.grpc.status_code") != "0")
        return Fail(name + ": attributes");
    }
    std::printf("ok: %s client -> server\n", name.c_str());
  }
  return 0;
}
