// The demo's collector path: runs a command (scripts/demo) with OTLP export
// pointed at otelweb's test receiver on 127.0.0.1, then checks what arrived:
// both services' spans, GET /items with its SELECT, and service B's server
// span in the same trace as service A's outgoing call.
//
//   otelweb_seed_otlp_check <grpc|http/protobuf> <command> [args...]
//
// Exit 0 when every check passes; the command gets at most 120 s.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "receiver.h"

namespace {

std::string ServiceName(const opentelemetry::proto::resource::v1::Resource& r) {
  for (const auto& kv : r.attributes()) {
    if (kv.key() == "service.name") return kv.value().string_value();
  }
  return "";
}

int Fail(const std::string& why) {
  std::fprintf(stderr, "FAIL: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <grpc|http/protobuf> <command> [args...]\n", argv[0]);
    return 2;
  }
  const std::string protocol = argv[1];
  otelweb::otlp::testing::Receiver rx;
  const std::string endpoint = protocol == "grpc" ? rx.grpc_endpoint() : rx.http_base();
  setenv("OTEL_TRACES_EXPORTER", "otlp", 1);
  setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.c_str(), 1);
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.c_str(), 1);
  std::printf("receiver: %s %s\n", protocol.c_str(), endpoint.c_str());
  std::fflush(stdout);

  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execvp(argv[2], argv + 2);
    _exit(127);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Fail("the command did not finish within 120 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Fail("the command failed");

  // service -> span names, and trace ids per (service, name); the spans by
  // (trace id, span id) -> (service, name).
  std::map<std::string, std::multiset<std::string>> names;
  std::map<std::string, std::set<std::string>> traces;
  std::map<std::pair<std::string, std::string>, std::string> span_by_id;
  for (const auto& req : rx.requests()) {
    for (const auto& rs : req.resource_spans()) {
      const std::string svc = ServiceName(rs.resource());
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) {
          names[svc].insert(s.name());
          traces[svc + "|" + s.name()].insert(s.trace_id());
          span_by_id[{s.trace_id(), s.span_id()}] = svc + "|" + s.name();
        }
      }
    }
  }
  for (const auto& [svc, n] : names) std::printf("%s: %zu spans\n", svc.c_str(), n.size());
  if (names["seed-app"].count("GET /items") == 0) return Fail("no GET /items span from seed-app");
  if (names["seed-app"].count("SELECT items") == 0) return Fail("no SELECT items span from seed-app");
  if (names["seed-app"].count("GET /fetch-external") == 0) return Fail("no GET /fetch-external span");
  if (names["seed-backend"].count("GET /delay/:seconds") == 0) return Fail("no seed-backend server span");
  bool joined = false;
  for (const auto& t : traces["seed-backend|GET /delay/:seconds"]) {
    joined |= traces["seed-app|GET /fetch-external"].count(t) != 0;
  }
  if (!joined) return Fail("no seed-backend span shares a trace with GET /fetch-external");

  // Log records: seed-app logs "GET /items -> 200 (...)" at INFO inside the
  // GET /items server span; every record with a span id must name a span
  // that was exported, and the GET /items lines must name a GET /items span.
  int records = 0, correlated = 0, items_lines = 0;
  for (const auto& seen : rx.seen()) {
    if (seen.path != "/v1/logs" && seen.path != "/opentelemetry.proto.collector.logs.v1.LogsService/Export") continue;
    if (seen.gzip) return Fail("a logs export was gzip-compressed; the check expects none");
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
    if (!req.ParseFromString(seen.body)) return Fail("a logs export did not parse as ExportLogsServiceRequest");
    for (const auto& rl : req.resource_logs()) {
      if (ServiceName(rl.resource()) != "seed-app") continue;
      for (const auto& sl : rl.scope_logs()) {
        for (const auto& r : sl.log_records()) {
          ++records;
          const std::string body = r.body().string_value();
          if (r.span_id().empty()) continue;
          auto it = span_by_id.find({r.trace_id(), r.span_id()});
          if (it == span_by_id.end()) return Fail("log record \"" + body + "\" names a span that was not exported");
          ++correlated;
          if (body.rfind("GET /items -> ", 0) == 0) {
            if (it->second != "seed-app|GET /items") {
              return Fail("log record \"" + body + "\" is stamped with span " + it->second + ", not GET /items");
            }
            if (r.severity_number() != opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO &&
                r.severity_number() != opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR) {
              return Fail("log record \"" + body + "\" has severity " + std::to_string(r.severity_number()));
            }
            ++items_lines;
          }
        }
      }
    }
  }
  std::printf("seed-app: %d log records, %d stamped with an exported span, %d GET /items lines\n", records,
              correlated, items_lines);
  if (items_lines == 0) return Fail("no \"GET /items -> ...\" log record from seed-app arrived over OTLP");
  std::printf("ok: both services exported over OTLP %s, traces joined, logs correlated\n", protocol.c_str());
  return 0;
}
